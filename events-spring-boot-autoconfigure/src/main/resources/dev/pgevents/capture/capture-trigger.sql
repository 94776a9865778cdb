-- One of the four statement-level triggers of an audited table (INSERT, UPDATE, DELETE,
-- TRUNCATE): a trigger with transition tables serves one event only, and a TRUNCATE
-- trigger has none (${referencing} is empty for it).
CREATE OR REPLACE TRIGGER ${trigger_name}
	AFTER ${operation} ON ${table}
	${referencing}
	FOR EACH STATEMENT EXECUTE FUNCTION ${capture_function}(${arguments})
