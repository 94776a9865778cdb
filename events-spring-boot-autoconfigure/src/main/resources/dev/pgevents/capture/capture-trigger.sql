-- One of the three statement-level triggers of an audited table (INSERT, UPDATE, DELETE):
-- a trigger with transition tables serves one event only.
CREATE OR REPLACE TRIGGER ${trigger_name}
	AFTER ${operation} ON ${table}
	REFERENCING ${transition_tables}
	FOR EACH STATEMENT EXECUTE FUNCTION ${capture_function}(${arguments})
