package dev.pgevents.autoconfigure;

import org.jspecify.annotations.Nullable;

import dev.pgevents.IdentityResolver;

import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;

/**
 * The name of Spring Security's current authentication, if any and not anonymous.
 */
final class SecurityIdentityResolver implements IdentityResolver {

	@Override
	public @Nullable String currentIdentityId() {
		Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
		if (authentication == null || !authentication.isAuthenticated()
				|| authentication instanceof AnonymousAuthenticationToken) {
			return null;
		}
		return authentication.getName();
	}

}
