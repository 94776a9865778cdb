CREATE TABLE IF NOT EXISTS member (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL,
	email text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS member_profile (
	member_id uuid NOT NULL,
	kind text NOT NULL,
	bio text,
	PRIMARY KEY (member_id, kind)
);
CREATE TABLE IF NOT EXISTS welcome_email (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	member_id uuid NOT NULL
);
CREATE TABLE IF NOT EXISTS note (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	body text
);
CREATE TABLE IF NOT EXISTS unkeyed (
	body text
);
CREATE TABLE IF NOT EXISTS price (
	id bigint PRIMARY KEY,
	amount numeric(20, 2) NOT NULL,
	units numeric(40, 0) NOT NULL,
	ratio double precision NOT NULL
);
CREATE TABLE IF NOT EXISTS document (
	id bigint PRIMARY KEY,
	big numeric,
	body jsonb
);
CREATE TABLE IF NOT EXISTS account (
	id bigint PRIMARY KEY,
	email text NOT NULL,
	status text NOT NULL DEFAULT 'NEW',
	password_hash text,
	national_id text,
	last_seen_at timestamptz
);
