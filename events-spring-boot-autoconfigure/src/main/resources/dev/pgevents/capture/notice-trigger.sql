-- The deferred constraint trigger that sends a transaction's rows back at commit (see
-- notice-function.sql). Its condition is evaluated as each row is written, not at commit:
-- rows without a scope, and those written once the transaction counted too many, queue
-- nothing. A constraint trigger cannot be replaced, hence the check.
DO $trigger$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_trigger
			WHERE tgrelid OPERATOR(pg_catalog.=) {{audit_table_literal}}::pg_catalog.regclass
			AND tgname OPERATOR(pg_catalog.=) 'pgevents_notice') THEN
		CREATE CONSTRAINT TRIGGER pgevents_notice AFTER INSERT ON {{audit_table}}
			DEFERRABLE INITIALLY DEFERRED
			FOR EACH ROW
			WHEN (NEW.scope_id IS NOT NULL
				AND pg_catalog.current_setting('pgevents.noticed', true) IS DISTINCT FROM '-1')
			EXECUTE FUNCTION {{notice_function}}();
	END IF;
END
$trigger$
