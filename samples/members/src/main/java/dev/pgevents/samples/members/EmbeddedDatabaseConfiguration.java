package dev.pgevents.samples.members;

import java.io.IOException;

import javax.sql.DataSource;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Without {@code spring.datasource.url}, the sample runs on an embedded PostgreSQL (real
 * PostgreSQL binaries, started in a temporary directory and stopped with the app).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnExpression("'${spring.datasource.url:}'.isEmpty()")
class EmbeddedDatabaseConfiguration {

	/**
	 * Stopped by the context, after everything that uses it (the starter's relay and
	 * ledger writer included), not by a JVM shutdown hook of its own that would race the
	 * context's stop and leave them to fail against a stopped server.
	 */
	@Bean(destroyMethod = "close")
	EmbeddedPostgres embeddedPostgres() throws IOException {
		return EmbeddedPostgres.builder().setRegisterShutdownHook(false).start();
	}

	@Bean
	DataSource dataSource(EmbeddedPostgres postgres) {
		return postgres.getPostgresDatabase();
	}

}
