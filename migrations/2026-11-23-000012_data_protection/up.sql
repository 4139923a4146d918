-- Data protection: an account's personal data can be erased while the records that refer to
-- it (audit, contact releases, messages) keep its id as a pseudonym; owners confirm contact
-- persons' consent periodically.

-- Set when the account's e-mail, name and password hash were replaced (DELETE /v1/me). The
-- row stays so that what refers to it keeps a stable pseudonym; nothing can sign in as it.
ALTER TABLE users ADD COLUMN erased_at timestamptz;

-- When an owner last confirmed that the contact person's consent still holds.
ALTER TABLE organization_contacts ADD COLUMN consent_reviewed_at timestamptz;

-- Retention: when an organization was archived, so that its contact persons can be purged a
-- period later (`purge`). Kept by a trigger, whichever code archives it.
ALTER TABLE organizations ADD COLUMN archived_at timestamptz;
UPDATE organizations SET archived_at = updated_at WHERE status = 'archived';

CREATE FUNCTION dd_organization_archived_at() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'archived' THEN
        IF TG_OP = 'INSERT' OR OLD.status <> 'archived' THEN
            NEW.archived_at := now();
        END IF;
    ELSE
        NEW.archived_at := NULL;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER organizations_archived_at
    BEFORE INSERT OR UPDATE OF status ON organizations
    FOR EACH ROW EXECUTE FUNCTION dd_organization_archived_at();

CREATE INDEX organizations_archived_at_idx ON organizations (archived_at) WHERE status = 'archived';
-- The purge finds old requests that were never accepted.
CREATE INDEX contact_requests_created_idx ON contact_requests (created_at) WHERE status <> 'accepted';
CREATE INDEX refresh_families_expires_idx ON refresh_families (expires_at);
