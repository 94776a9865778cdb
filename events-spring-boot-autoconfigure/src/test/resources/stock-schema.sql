CREATE TABLE IF NOT EXISTS stock (
	sku text PRIMARY KEY,
	qty integer NOT NULL
);
