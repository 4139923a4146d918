-- Data protection: an account's personal data can be erased while the records that refer to
-- it (audit, contact releases, messages) keep its id as a pseudonym; owners confirm contact
-- persons' consent periodically.

-- Set when the account's e-mail, name and password hash were replaced (DELETE /v1/me). The
-- row stays so that what refers to it keeps a stable pseudonym; nothing can sign in as it.
ALTER TABLE users ADD COLUMN erased_at timestamptz;

-- When an owner last confirmed that the contact person's consent still holds.
ALTER TABLE organization_contacts ADD COLUMN consent_reviewed_at timestamptz;
