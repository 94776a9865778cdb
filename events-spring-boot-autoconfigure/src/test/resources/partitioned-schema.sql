CREATE TABLE orders (
	id bigint NOT NULL,
	region text NOT NULL,
	status text NOT NULL,
	PRIMARY KEY (id, region)
) PARTITION BY LIST (region);
CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('eu');
CREATE TABLE orders_us PARTITION OF orders FOR VALUES IN ('us');
