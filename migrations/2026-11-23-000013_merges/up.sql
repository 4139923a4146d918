-- Merging duplicates: a moderator merges one organization into another (the survivor). The
-- merged one is archived for good and remembers its survivor, so that its id and slug keep
-- answering, with a permanent redirect.
ALTER TABLE organizations
    ADD COLUMN merged_into uuid REFERENCES organizations (id),
    -- Merged stays archived; nothing merges into itself.
    ADD CONSTRAINT organizations_merged_is_archived
        CHECK (merged_into IS NULL OR (status = 'archived' AND merged_into <> id));

-- A later merge of the survivor re-points the ones merged into it (one hop, never a chain).
CREATE INDEX organizations_merged_into_idx ON organizations (merged_into) WHERE merged_into IS NOT NULL;
