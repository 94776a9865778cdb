package dev.pgevents.internal.dispatch;

/**
 * The dispatches in progress, and whether new ones may begin: what a graceful stop waits
 * for once it lets no new one begin.
 */
final class InFlight {

	private int count;

	private volatile boolean open;

	/**
	 * Let dispatches begin.
	 */
	synchronized void open() {
		this.open = true;
	}

	/**
	 * Let no further dispatch begin.
	 */
	synchronized void close() {
		this.open = false;
	}

	boolean isOpen() {
		return this.open;
	}

	/**
	 * Begin a dispatch, unless closed; a dispatch begun must {@link #end()}.
	 * @return whether it may begin
	 */
	synchronized boolean begin() {
		if (!this.open) {
			return false;
		}
		this.count++;
		return true;
	}

	synchronized void end() {
		if (--this.count == 0) {
			notifyAll();
		}
	}

	/**
	 * Wait until no dispatch is in progress.
	 */
	synchronized void awaitNone() {
		try {
			while (this.count > 0) {
				wait();
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
