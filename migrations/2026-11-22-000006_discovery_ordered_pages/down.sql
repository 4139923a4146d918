DROP TRIGGER organizations_bump_discovery_generation ON organizations;
DROP FUNCTION dd_bump_discovery_generation();
DROP TABLE discovery_generation;
DROP INDEX organizations_published_verified_name_idx;
DROP INDEX organizations_published_name_idx;
CREATE INDEX organizations_published_name_idx ON organizations (name, id) WHERE status = 'published';
CREATE INDEX organizations_published_verified_idx ON organizations (verified_until)
    WHERE status = 'published' AND verification_status = 'verified';
