CREATE TABLE IF NOT EXISTS member (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL,
	email text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS welcome_email (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	member_id uuid NOT NULL,
	address text NOT NULL,
	sent_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS member_history (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	member_id uuid NOT NULL,
	event_name text NOT NULL,
	changes jsonb NOT NULL,
	occurred_at timestamptz NOT NULL
);
