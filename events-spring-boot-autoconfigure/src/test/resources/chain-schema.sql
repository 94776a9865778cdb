CREATE TABLE IF NOT EXISTS counter (
	id integer PRIMARY KEY,
	n integer NOT NULL
);
CREATE TABLE IF NOT EXISTS purchase (
	id bigint PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS invoice (
	id bigint PRIMARY KEY,
	purchase_id bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_entry (
	id bigint PRIMARY KEY,
	invoice_id bigint NOT NULL
);
