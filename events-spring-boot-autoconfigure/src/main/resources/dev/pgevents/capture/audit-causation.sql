-- The audit table's causation columns, for audit tables created before they existed (see
-- audit-table.sql): the event whose subscriber wrote the row, and how many subscriber calls
-- led to it. Null for a change no subscriber made.
ALTER TABLE {{audit_table}} ADD COLUMN IF NOT EXISTS caused_by bigint, ADD COLUMN IF NOT EXISTS chain_depth integer
