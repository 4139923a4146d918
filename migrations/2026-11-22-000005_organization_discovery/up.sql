-- Discovery: what GET /v1/organizations filters, searches and sorts on, kept in generated
-- columns so that every filter has an index and nothing can fall out of step with the profile.

-- unaccent() is STABLE (its dictionary could change), so it cannot back a generated column or an
-- index itself; naming the dictionary and declaring the wrapper IMMUTABLE is the usual idiom.
CREATE FUNCTION dd_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

-- Sectors and kinds of support of an organization's capabilities, as arrays (GIN-indexable).
CREATE FUNCTION dd_capability_sectors(jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT coalesce(array_agg(DISTINCT c->>'sector'), '{}') FROM jsonb_array_elements($1) c $$;

CREATE FUNCTION dd_capability_support_types(jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT coalesce(array_agg(DISTINCT t), '{}')
          FROM jsonb_array_elements($1) c, jsonb_array_elements_text(c->'support_types') t $$;

-- Text of a JSON array's objects' `key`, space-separated (alternate names, capability
-- descriptions).
CREATE FUNCTION dd_json_texts(jsonb, text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT coalesce(string_agg(e->>$2, ' '), '') FROM jsonb_array_elements($1) e $$;

ALTER TABLE organizations
    ADD COLUMN sectors text[] GENERATED ALWAYS AS (dd_capability_sectors(capabilities)) STORED,
    ADD COLUMN support_types text[] GENERATED ALWAYS AS (dd_capability_support_types(capabilities)) STORED,
    -- Full text in every language at once: the 'simple' configuration (no stemmer that would
    -- favour one language and mangle the others), accents removed, names weighted above
    -- descriptions.
    ADD COLUMN search_document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', dd_unaccent(name || ' ' || coalesce(acronym, ''))), 'A')
        || setweight(to_tsvector('simple', dd_unaccent(dd_json_texts(alternate_names, 'name'))), 'B')
        || setweight(to_tsvector('simple', dd_unaccent(coalesce(description, '') || ' '
                                                       || dd_json_texts(capabilities, 'description'))), 'C')
    ) STORED,
    -- Names for typo-tolerant (trigram) matching.
    ADD COLUMN name_search text GENERATED ALWAYS AS (
        lower(dd_unaccent(name || ' ' || coalesce(acronym, '') || ' ' || dd_json_texts(alternate_names, 'name')))
    ) STORED;

-- Only published organizations are ever listed: every discovery index is partial.
CREATE INDEX organizations_published_sectors_idx ON organizations USING gin (sectors) WHERE status = 'published';
CREATE INDEX organizations_published_support_types_idx ON organizations USING gin (support_types) WHERE status = 'published';
CREATE INDEX organizations_published_languages_idx ON organizations USING gin (languages) WHERE status = 'published';
CREATE INDEX organizations_published_search_idx ON organizations USING gin (search_document) WHERE status = 'published';
CREATE INDEX organizations_published_name_trgm_idx ON organizations USING gin (name_search gin_trgm_ops) WHERE status = 'published';
CREATE INDEX organizations_published_kind_idx ON organizations (kind, name, id) WHERE status = 'published';
CREATE INDEX organizations_published_name_idx ON organizations (name, id) WHERE status = 'published';
CREATE INDEX organizations_published_updated_idx ON organizations (updated_at, id) WHERE status = 'published';
CREATE INDEX organizations_published_created_idx ON organizations (created_at, id) WHERE status = 'published';
CREATE INDEX organizations_published_verified_idx ON organizations (verified_until) WHERE status = 'published' AND verification_status = 'verified';
