package dev.pgevents.internal.capture;

import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;

/**
 * A table name taken from configuration, validated once so it can be quoted into SQL.
 *
 * @param schema the schema, or {@code null} for the first schema of the search path
 * @param name the unqualified name
 */
record SqlIdentifier(@Nullable String schema, String name) {

	private static final Pattern PART = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

	/**
	 * Parse {@code [schema.]name}, lower case, as PostgreSQL folds unquoted names.
	 * @param property the configuration key the value came from, named in the error
	 * @param value the value
	 * @return the identifier
	 * @throws InvalidConfigurationPropertyValueException when the value is not an
	 * identifier
	 */
	static SqlIdentifier parse(String property, String value) {
		String[] parts = value.split("\\.", -1);
		if (parts.length > 2 || !PART.matcher(parts[0]).matches()
				|| (parts.length == 2 && !PART.matcher(parts[1]).matches())) {
			throw new InvalidConfigurationPropertyValueException(property, value,
					"Use a lower-case SQL identifier, optionally schema-qualified: letters a-z, digits and "
							+ "underscores, not starting with a digit, at most 63 characters (for example "
							+ "'keel_audit' or 'audit.keel_audit')");
		}
		return (parts.length == 2) ? new SqlIdentifier(parts[0], parts[1]) : new SqlIdentifier(null, parts[0]);
	}

	/**
	 * Quote the name, qualified with {@code defaultSchema} when it has no schema of its
	 * own.
	 * @param defaultSchema the schema to use when none was given
	 * @return {@code "schema"."name"}
	 */
	String qualified(String defaultSchema) {
		return quote((this.schema != null) ? this.schema : defaultSchema) + "." + quote(this.name);
	}

	/**
	 * The identifier of a companion object, named after this one.
	 * @param suffix appended to the name
	 * @return the companion's identifier, in the same schema
	 */
	SqlIdentifier withSuffix(String suffix) {
		return new SqlIdentifier(this.schema, this.name + suffix);
	}

	static String quote(String identifier) {
		return '"' + identifier.replace("\"", "\"\"") + '"';
	}

	/**
	 * A string as an SQL literal.
	 * @param text the string
	 * @return it in single quotes, with its own single quotes doubled
	 */
	static String literal(String text) {
		return "'" + text.replace("'", "''") + "'";
	}

	@Override
	public String toString() {
		return (this.schema != null) ? this.schema + "." + this.name : this.name;
	}

}
