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

-- A session: one sign-in and the chain of refresh tokens it rotates through. Revoking the
-- family (sign-out, or a used token presented again, i.e. copied) ends every token of it.
-- Rotation and revocation both lock this row, so neither can miss a token the other is
-- creating. A family also ends `expires_at` after sign-in, however often it is refreshed.
CREATE TABLE refresh_families (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX refresh_families_user_id_idx ON refresh_families (user_id);

-- Refresh tokens are stored only as SHA-256 hashes. Every refresh marks the presented token
-- used and adds the next one to its family.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    family_id   uuid NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);

-- Throttling counters: failed sign-ins per account, per account and address, per address, and
-- registrations per address. Keys are SHA-256 hashes (of the normalised email, the address
-- or both), not the values themselves. Rows older than the window are deleted as new ones
-- arrive.
CREATE TABLE login_failures (
    id        bigserial PRIMARY KEY,
    scope     text NOT NULL CHECK (scope IN ('account', 'account_address', 'address', 'registration')),
    key_hash  bytea NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_lookup_idx ON login_failures (scope, key_hash, failed_at);
CREATE INDEX login_failures_failed_at_idx ON login_failures (failed_at);
