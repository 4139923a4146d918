DROP INDEX refresh_families_expires_idx;
DROP INDEX contact_requests_created_idx;
DROP TRIGGER organizations_archived_at ON organizations;
DROP FUNCTION dd_organization_archived_at();
ALTER TABLE organizations DROP COLUMN archived_at;
ALTER TABLE organization_contacts DROP COLUMN consent_reviewed_at;
ALTER TABLE users DROP COLUMN erased_at;
