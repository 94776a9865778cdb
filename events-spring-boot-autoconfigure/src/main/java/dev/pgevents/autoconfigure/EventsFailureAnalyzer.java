package dev.pgevents.autoconfigure;

import dev.pgevents.internal.support.StartupFailure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Reports a failed startup check of the events as Spring Boot's "APPLICATION FAILED TO
 * START" block, with what is wrong and how to fix it, instead of a stack trace.
 */
final class EventsFailureAnalyzer extends AbstractFailureAnalyzer<StartupFailure> {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, StartupFailure cause) {
		return new FailureAnalysis(cause.description() + ".", cause.action() + ".", cause);
	}

}
