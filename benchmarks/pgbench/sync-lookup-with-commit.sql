-- Hypothetical: the lookup read inside the transaction and sent with COMMIT (three round
-- trips). The JDBC API cannot send them together without taking over the commit.
\set n random(1, 2000000000)
\startpipeline
BEGIN;
SELECT set_config('pgevents.scope', md5(:n::text)::uuid::text, true), set_config('pgevents.identity', '', true), set_config('pgevents.trace', '', true), set_config('pgevents.span', '', true);
\endpipeline
INSERT INTO member (id, name, email, created_at) VALUES (gen_random_uuid(), 'name x', 'x@example.com', now());
\startpipeline
SELECT id, table_name, op, data::text, previous_data::text, identity_id, trace_id, span_id, created_at, lease_token FROM keel_audit WHERE scope_id = md5(:n::text)::uuid AND event_processed_at IS NULL AND id > 0 ORDER BY id LIMIT 1000;
COMMIT;
\endpipeline
