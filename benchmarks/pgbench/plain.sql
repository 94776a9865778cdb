-- A plain transaction: one INSERT into a table without triggers. pgjdbc sends BEGIN with
-- the first statement, hence the pipeline: two round trips.
\startpipeline
BEGIN;
INSERT INTO member_plain (id, name, email, created_at) VALUES (gen_random_uuid(), 'name x', 'x@example.com', now());
\endpipeline
COMMIT;
