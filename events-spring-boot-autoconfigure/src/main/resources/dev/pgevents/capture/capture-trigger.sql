-- One of the four triggers of an audited table (INSERT, UPDATE, DELETE, TRUNCATE):
-- statement-level, a trigger with transition tables serves one event only, and a TRUNCATE
-- trigger has none ({{referencing}} is empty for it). A partitioned table's INSERT, UPDATE
-- and DELETE triggers are row-level ({{level}} is ROW) and have none either.
CREATE OR REPLACE TRIGGER {{trigger_name}}
	AFTER {{operation}} ON {{table}}
	{{referencing}}
	FOR EACH {{level}} EXECUTE FUNCTION {{capture_function}}({{arguments}})
