DROP INDEX organizations_merged_into_idx;
ALTER TABLE organizations DROP CONSTRAINT organizations_merged_is_archived;
ALTER TABLE organizations DROP COLUMN merged_into;
