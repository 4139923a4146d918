-- Needs and offers: what an organization needs in a place (typically a humanitarian actor) or
-- can give there (typically a diaspora organization). One table, `side` telling which, because
-- both carry the same fields and are matched against each other.

-- A search text as a tsquery: accents removed first, then split into words of letters and
-- digits, each quoted and matched as a prefix. Tokenising after unaccent matters: unaccent
-- turns some letters into tsquery syntax (`ʻ` into `'`, `⑴` into `(1)`). IMMUTABLE so that
-- PostgreSQL folds it to a constant when planning.
CREATE FUNCTION dd_prefix_tsquery(text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT to_tsquery('simple', coalesce(
              (SELECT string_agg(quote_literal(w) || ':*', ' & ')
                 FROM regexp_split_to_table(lower(dd_unaccent($1)), '[^[:alnum:]]+') AS w
                WHERE w <> ''), '')) $$;

-- The share of `wanted` that `have` holds, from 0 to 1 (0 when nothing is wanted): a coarse
-- match score in SQL, so that the best candidates are the ones scored exactly.
CREATE FUNCTION dd_share(have text[], wanted text[]) RETURNS float8
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN coalesce(cardinality(wanted), 0) = 0 THEN 0::float8
                      ELSE cardinality(ARRAY(SELECT unnest(have) INTERSECT SELECT unnest(wanted)))::float8
                           / cardinality(wanted) END $$;

CREATE TABLE postings (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Order of posting, for paging (newest first).
    seq             bigserial NOT NULL UNIQUE,
    side            text NOT NULL CHECK (side IN ('need', 'offer')),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    crisis_id       uuid REFERENCES crises (id) ON DELETE SET NULL,
    country         text NOT NULL CHECK (country ~ '^[A-Z]{3}$'),
    -- An admin-1 name or P-code, as the organization gives it.
    admin1          text CHECK (length(admin1) BETWEEN 1 AND 100),
    sectors         text[] NOT NULL CHECK (cardinality(sectors) BETWEEN 1 AND 16),
    support_types   text[] NOT NULL DEFAULT '{}' CHECK (cardinality(support_types) <= 11),
    languages       text[] NOT NULL DEFAULT '{}' CHECK (cardinality(languages) <= 30),
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description     text NOT NULL CHECK (length(description) BETWEEN 1 AND 5000),
    -- Free text: "200 hygiene kits", "3 Creole-speaking psychologists, 10 h a week".
    quantity        text CHECK (length(quantity) BETWEEN 1 AND 200),
    -- As stored; an open posting whose valid_until has passed reads as expired.
    status          text NOT NULL CHECK (status IN ('open', 'fulfilled', 'withdrawn', 'expired')),
    -- The last day (UTC) on which the posting holds.
    valid_until     date,
    search_document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', dd_unaccent(title)), 'A')
        || setweight(to_tsvector('simple', dd_unaccent(description || ' ' || coalesce(quantity, ''))), 'B')
    ) STORED,
    version         integer NOT NULL DEFAULT 1,
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- Lists walk (side, seq) newest first; the other filters have their own indexes.
CREATE INDEX postings_side_seq_idx ON postings (side, seq);
CREATE INDEX postings_organization_idx ON postings (organization_id, side, seq);
CREATE INDEX postings_crisis_idx ON postings (crisis_id, side, status);
CREATE INDEX postings_country_idx ON postings (country, side, seq);
CREATE INDEX postings_sectors_idx ON postings USING gin (sectors);
CREATE INDEX postings_support_types_idx ON postings USING gin (support_types);
CREATE INDEX postings_languages_idx ON postings USING gin (languages);
CREATE INDEX postings_search_idx ON postings USING gin (search_document);
-- Behind the foreign keys: erasing an account nulls its postings' created_by.
CREATE INDEX postings_created_by_idx ON postings (created_by);

-- A contact request may cite the need and the offer it follows from (a match).
ALTER TABLE contact_requests
    ADD COLUMN need_id uuid REFERENCES postings (id) ON DELETE SET NULL,
    ADD COLUMN offer_id uuid REFERENCES postings (id) ON DELETE SET NULL;
-- Removing a posting nulls the requests that cite it.
CREATE INDEX contact_requests_need_idx ON contact_requests (need_id);
CREATE INDEX contact_requests_offer_idx ON contact_requests (offer_id);
