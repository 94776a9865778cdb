-- The ledger's row_key, for ledgers created before it existed (see delivery-table.sql).
ALTER TABLE {{delivery_table}} ADD COLUMN IF NOT EXISTS row_key text
