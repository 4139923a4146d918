-- Accounts: people who sign in. Organizations and memberships come in their own migration.

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Normalised (trimmed, lower-cased) by the application; unique as stored.
    email         text NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    -- Argon2id PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash); never the password.
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    -- Granted and revoked with `diaspora-directory moderator add|remove`, never through the API.
    is_moderator  boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Refresh tokens are stored only as SHA-256 hashes. Each login starts a family; every refresh
-- marks the presented token used and adds the next one to the family. Presenting a used token
-- again means it was copied: the whole family is revoked.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id   uuid NOT NULL,
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);

-- Failed sign-ins, for throttling per account and per client address. Keys are SHA-256 hashes
-- (of the normalised email, of the address): the table needs to count, not to know who.
-- Rows older than the throttling window are deleted as new failures arrive.
CREATE TABLE login_failures (
    id        bigserial PRIMARY KEY,
    scope     text NOT NULL CHECK (scope IN ('account', 'address')),
    key_hash  bytea NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_lookup_idx ON login_failures (scope, key_hash, failed_at);
CREATE INDEX login_failures_failed_at_idx ON login_failures (failed_at);
