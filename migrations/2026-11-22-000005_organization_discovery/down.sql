ALTER TABLE organizations
    DROP COLUMN name_search,
    DROP COLUMN search_document,
    DROP COLUMN support_types,
    DROP COLUMN sectors;
DROP FUNCTION dd_json_texts(jsonb, text);
DROP FUNCTION dd_capability_support_types(jsonb);
DROP FUNCTION dd_capability_sectors(jsonb);
DROP FUNCTION dd_unaccent(text);
