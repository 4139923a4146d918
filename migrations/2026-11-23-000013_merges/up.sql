-- Merging duplicates: a moderator merges one organization into another (the survivor). The
-- merged one is archived for good and remembers its survivor, so that its id and slug keep
-- answering, with a permanent redirect.
ALTER TABLE organizations
    ADD COLUMN merged_into uuid REFERENCES organizations (id),
    -- Whether it was public when merged: only then do its id and slug lead to the survivor
    -- (a draft's would tell outsiders it existed).
    ADD COLUMN merged_was_public boolean NOT NULL DEFAULT false,
    -- Merged stays archived; nothing merges into itself.
    ADD CONSTRAINT organizations_merged_is_archived
        CHECK (merged_into IS NULL OR (status = 'archived' AND merged_into <> id));

-- A later merge of the survivor re-points the ones merged into it (one hop, never a chain).
CREATE INDEX organizations_merged_into_idx ON organizations (merged_into) WHERE merged_into IS NOT NULL;

-- Nothing new may point at a merged organization. A write that checked the organization before
-- a merge committed, and writes after, fails here (check_violation on the pseudo-constraint
-- `organization_not_merged`, which the API answers with 409) instead of stranding a row on an
-- organization nobody can reach. TG_ARGV names the organization columns to check.
--
-- The organization is read FOR SHARE: a merge in progress (it holds the row FOR NO KEY UPDATE)
-- is waited for, and what it committed is read. Contact requests name two organizations: their
-- writer locks both in id order first (so the locks here are already held and two requests
-- cannot deadlock); the merge changes one column of a request, and only a changed column is
-- checked.
CREATE FUNCTION dd_refuse_merged_organization() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    col    text;
    target uuid;
    merged uuid;
BEGIN
    FOREACH col IN ARRAY TG_ARGV LOOP
        target := (to_jsonb(NEW) ->> col)::uuid;
        IF TG_OP = 'UPDATE' AND target IS NOT DISTINCT FROM (to_jsonb(OLD) ->> col)::uuid THEN
            CONTINUE;
        END IF;
        SELECT o.merged_into INTO merged FROM organizations o WHERE o.id = target FOR SHARE;
        IF merged IS NOT NULL THEN
            RAISE EXCEPTION 'organization % was merged into %', target, merged
                USING ERRCODE = 'check_violation', CONSTRAINT = 'organization_not_merged';
        END IF;
    END LOOP;
    RETURN NEW;
END $$;

CREATE TRIGGER organization_members_not_merged
    BEFORE INSERT OR UPDATE OF organization_id ON organization_members
    FOR EACH ROW EXECUTE FUNCTION dd_refuse_merged_organization('organization_id');
CREATE TRIGGER organization_contacts_not_merged
    BEFORE INSERT OR UPDATE OF organization_id ON organization_contacts
    FOR EACH ROW EXECUTE FUNCTION dd_refuse_merged_organization('organization_id');
CREATE TRIGGER verification_requests_not_merged
    BEFORE INSERT OR UPDATE OF organization_id ON verification_requests
    FOR EACH ROW EXECUTE FUNCTION dd_refuse_merged_organization('organization_id');
CREATE TRIGGER engagements_not_merged
    BEFORE INSERT OR UPDATE OF organization_id ON engagements
    FOR EACH ROW EXECUTE FUNCTION dd_refuse_merged_organization('organization_id');
CREATE TRIGGER postings_not_merged
    BEFORE INSERT OR UPDATE OF organization_id ON postings
    FOR EACH ROW EXECUTE FUNCTION dd_refuse_merged_organization('organization_id');
-- A release of contact persons is recorded against the organization whose persons they are:
-- a view that raced a merge fails (and shows nothing) rather than leave its record where the
-- survivor's owners would never see it.
CREATE TRIGGER contact_releases_not_merged
    BEFORE INSERT OR UPDATE OF organization_id ON contact_releases
    FOR EACH ROW EXECUTE FUNCTION dd_refuse_merged_organization('organization_id');
CREATE TRIGGER contact_requests_not_merged
    BEFORE INSERT OR UPDATE OF from_organization_id, to_organization_id ON contact_requests
    FOR EACH ROW EXECUTE FUNCTION dd_refuse_merged_organization('from_organization_id', 'to_organization_id');
