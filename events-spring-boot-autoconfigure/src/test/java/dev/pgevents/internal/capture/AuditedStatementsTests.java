package dev.pgevents.internal.capture;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class AuditedStatementsTests {

	private final AuditedStatements statements = AuditedStatements
		.naming(List.of(table("member", false), table("billing.invoice", false), table("orders", true)));

	@Test
	void statementsThatNameAnAuditedTableAndMayWriteIt() {
		assertThat(this.statements.mayWrite("insert into member (id) values (?)")).isTrue();
		assertThat(this.statements.mayWrite("UPDATE \"member\" SET name = ?")).isTrue();
		assertThat(this.statements.mayWrite("DELETE FROM public.Member WHERE id = ?")).isTrue();
		assertThat(this.statements.mayWrite("  -- a comment\n  merge into billing.invoice i using x on true")).isTrue();
		assertThat(
				this.statements.mayWrite("WITH m AS (INSERT INTO member DEFAULT VALUES RETURNING id) SELECT id FROM m"))
			.isTrue();
		assertThat(this.statements.mayWrite("COPY member FROM STDIN")).isTrue();
		assertThat(this.statements.mayWrite("/* select */ INSERT INTO invoice VALUES (1)")).isTrue();
	}

	@Test
	void queriesAndStatementsOfOtherTables() {
		assertThat(this.statements.mayWrite("SELECT * FROM member")).isFalse();
		assertThat(this.statements.mayWrite(" (select id from member) union (select id from member)")).isFalse();
		assertThat(this.statements.mayWrite("/* c */ -- d\n values ((select 1 from member))")).isFalse();
		assertThat(this.statements.mayWrite("INSERT INTO member_profile VALUES (1)")).isFalse();
		assertThat(this.statements.mayWrite("INSERT INTO old_member VALUES (1)")).isFalse();
		assertThat(this.statements.mayWrite("UPDATE members$ SET x = 1")).isFalse();
		assertThat(this.statements.mayWrite("INSERT INTO note VALUES (1)")).isFalse();
		assertThat(this.statements.mayWrite("INSERT INTO order_eu VALUES (1)")).isFalse();
	}

	@Test
	void statementsThatNameAPartitionOfAPartitionedTable() {
		assertThat(this.statements.mayWrite("INSERT INTO orders VALUES (1)")).isTrue();
		assertThat(this.statements.mayWrite("INSERT INTO orders_2026 VALUES (1)")).isTrue();
		assertThat(this.statements.mayWrite("UPDATE eu_orders SET x = 1")).isTrue();
	}

	private static AuditedTable table(String name, boolean partitioned) {
		return new AuditedTable(name, name, List.of("id"), List.of("id"), List.of(), partitioned, false);
	}

}
