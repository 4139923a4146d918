ALTER TABLE organization_contacts DROP COLUMN consent_reviewed_at;
ALTER TABLE users DROP COLUMN erased_at;
