CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TYPE address AS (street text, zip text);
CREATE TABLE odd_shapes (
	id bigint PRIMARY KEY,
	"Display Name" text,
	"order-no" integer,
	total numeric(10, 2),
	doubled integer GENERATED ALWAYS AS ("order-no" * 2) STORED,
	feeling mood,
	home address,
	tags text[],
	valid int4range,
	payload bytea,
	body text
);
