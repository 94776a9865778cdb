package dev.pgevents;

import java.util.UUID;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A subscriber of {@code member.created} that records each delivery in the table
 * {@code delivered}, outside any transaction, so that a test can compare what was
 * committed with what was delivered, across processes.
 */
class DeliveredMembers {

	/** The committed members never delivered. */
	static final String UNDELIVERED = "SELECT count(*) FROM member m "
			+ "WHERE NOT EXISTS (SELECT FROM delivered d WHERE d.member_id = m.id)";

	/** The deliveries beyond the first of each member. */
	static final String TWICE = "SELECT coalesce(sum(n - 1), 0) FROM "
			+ "(SELECT count(*) AS n FROM delivered GROUP BY member_id) c";

	private final JdbcTemplate jdbc;

	DeliveredMembers(JdbcTemplate jdbc) {
		this.jdbc = jdbc;
	}

	/**
	 * Create the table the deliveries are recorded in.
	 * @param jdbc the database, with the table {@code member}
	 */
	static void createTable(JdbcTemplate jdbc) {
		jdbc.execute("CREATE TABLE delivered (member_id uuid NOT NULL)");
	}

	/**
	 * A count.
	 * @param jdbc the database
	 * @param sql a query of one number
	 * @return the number
	 */
	static long count(JdbcTemplate jdbc, String sql) {
		Long count = jdbc.queryForObject(sql, Long.class);
		return (count != null) ? count : 0;
	}

	@EventSubscriber("member.created")
	void record(Event event) {
		this.jdbc.update("INSERT INTO delivered (member_id) VALUES (?)", UUID.fromString(event.target().id()));
	}

}
