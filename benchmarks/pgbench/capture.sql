-- The starter's capture with nothing to set (no subscriber, identity or trace): the same
-- two round trips, plus the trigger's audit insert.
\startpipeline
BEGIN;
INSERT INTO member (id, name, email, created_at) VALUES (gen_random_uuid(), 'name x', 'x@example.com', now());
\endpipeline
COMMIT;
