CREATE SCHEMA billing;
CREATE TABLE invoice (id bigint PRIMARY KEY, total integer NOT NULL);
CREATE TABLE billing.invoice (number text PRIMARY KEY, total integer NOT NULL);
CREATE TABLE billing.payment (id bigint PRIMARY KEY, amount integer NOT NULL, card_number text);
CREATE TABLE billing.ledger (
	id bigint NOT NULL,
	book text NOT NULL,
	amount integer NOT NULL,
	PRIMARY KEY (id, book)
) PARTITION BY LIST (book);
CREATE TABLE billing.ledger_main PARTITION OF billing.ledger FOR VALUES IN ('main');
