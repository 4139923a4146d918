-- Pages in index order, and counts that are computed once per change rather than per request.

-- The default order is "verified first, then by name". Verification expires with time, so no
-- stored column can hold that order; instead a page is read as two name-ordered index walks,
-- the verified organizations first, then the others. Each index carries every column a filter
-- tests (INCLUDE), so the walk is index-only and stops after a page's worth of matches instead
-- of reading every match and sorting it.
DROP INDEX organizations_published_name_idx;
-- Superseded by the verified organizations' name index below; left in place, the planner took it
-- for filtered pages and read thousands of rows from the table to test the filters.
DROP INDEX organizations_published_verified_idx;
CREATE INDEX organizations_published_name_idx ON organizations (name, id)
    INCLUDE (verification_status, verified_until, kind, residence_country, origin_countries,
             operating_countries, sectors, support_types, languages, updated_at)
    WHERE status = 'published';
CREATE INDEX organizations_published_verified_name_idx ON organizations (name, id)
    INCLUDE (verified_until, kind, residence_country, origin_countries, operating_countries,
             sectors, support_types, languages, updated_at)
    WHERE status = 'published' AND verification_status = 'verified';

-- A counter that every change to organizations moves forward, in the changing transaction.
-- The server caches totals and facet counts per filter under the generation it read them at,
-- so a count is recomputed after any change (by any server process) and never served stale.
CREATE TABLE discovery_generation (
    only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    generation bigint NOT NULL
);
INSERT INTO discovery_generation (generation) VALUES (1);

CREATE FUNCTION dd_bump_discovery_generation() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE discovery_generation SET generation = generation + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER organizations_bump_discovery_generation
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION dd_bump_discovery_generation();
