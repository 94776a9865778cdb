package dev.pgevents;

import org.jspecify.annotations.Nullable;

/**
 * Tells who is making the changes of a transaction, asked at its first audited write (not
 * when it begins); recorded with every row change as {@link Event#identityId()}. The
 * auto-configured resolver uses Spring Security's current authentication name when Spring
 * Security is present; define a bean of this type to replace it.
 */
@FunctionalInterface
public interface IdentityResolver {

	/**
	 * Return the identity of the current caller.
	 * @return the identity id, or {@code null} when there is none
	 */
	@Nullable String currentIdentityId();

}
