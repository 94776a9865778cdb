package dev.pgevents.internal.support;

/**
 * A startup check that failed: what is wrong, and how to fix it. Spring Boot prints the
 * two as the description and the action of its "APPLICATION FAILED TO START" report.
 */
public class StartupFailure extends IllegalStateException {

	private final String description;

	private final String action;

	/**
	 * Create the failure.
	 * @param description what is wrong, naming the method, property, table or object
	 * @param action how to fix it
	 */
	public StartupFailure(String description, String action) {
		super(description + ". " + action);
		this.description = description;
		this.action = action;
	}

	/**
	 * Create the failure.
	 * @param description what is wrong, naming the method, property, table or object
	 * @param action how to fix it
	 * @param cause what the check ran into
	 */
	public StartupFailure(String description, String action, Throwable cause) {
		super(description + ". " + action, cause);
		this.description = description;
		this.action = action;
	}

	/**
	 * What is wrong.
	 * @return the description
	 */
	public String description() {
		return this.description;
	}

	/**
	 * How to fix it.
	 * @return the action
	 */
	public String action() {
		return this.action;
	}

}
