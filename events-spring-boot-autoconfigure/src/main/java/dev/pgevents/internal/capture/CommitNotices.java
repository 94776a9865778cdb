package dev.pgevents.internal.capture;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * The rows a transaction's commit sent back (see notice-function.sql): pgjdbc adds the
 * notices raised while {@code COMMIT} ran to the connection's warnings. The starter takes
 * its own and leaves the application's: it clears the warnings only when they are all its
 * own, as they are unless a trigger of the application raised one at commit.
 */
public final class CommitNotices {

	/** How each of the starter's notices begins. */
	public static final String PREFIX = "pgevents:";

	private CommitNotices() {
	}

	/**
	 * The last of a connection's warnings before its commit: the commit's follow it.
	 * @param connection the committing connection
	 * @return the last warning, or {@code null} when there is none
	 */
	static @Nullable SQLWarning last(Connection connection) {
		try {
			SQLWarning last = connection.getWarnings();
			while (last != null && last.getNextWarning() != null) {
				last = last.getNextWarning();
			}
			return last;
		}
		catch (SQLException ex) {
			return null; // closed: the commit fails
		}
	}

	/**
	 * Take the starter's notices that a commit added to a connection's warnings.
	 * @param connection the connection, just committed
	 * @param before its last warning before the commit ({@link #last})
	 * @return each notice's text after {@link #PREFIX}, in the order they came
	 */
	static List<String> take(Connection connection, @Nullable SQLWarning before) {
		List<String> notices = new ArrayList<>();
		try {
			SQLWarning warning = connection.getWarnings();
			boolean onlyOwn = before == null;
			if (before != null) {
				while (warning != null && warning != before) {
					warning = warning.getNextWarning();
				}
				warning = (warning != null) ? warning.getNextWarning() : null;
			}
			for (; warning != null; warning = warning.getNextWarning()) {
				String message = warning.getMessage();
				if (message != null && message.startsWith(PREFIX)) {
					notices.add(message.substring(PREFIX.length()));
				}
				else {
					onlyOwn = false;
				}
			}
			if (onlyOwn && !notices.isEmpty()) {
				connection.clearWarnings();
			}
		}
		catch (SQLException ex) {
			// closed since: the rows are looked up
		}
		return notices;
	}

}
