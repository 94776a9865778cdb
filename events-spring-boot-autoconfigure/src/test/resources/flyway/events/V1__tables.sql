CREATE TABLE account (id bigint PRIMARY KEY, email text NOT NULL, password_hash text);
CREATE TABLE invoice (id bigint PRIMARY KEY, total integer NOT NULL);
