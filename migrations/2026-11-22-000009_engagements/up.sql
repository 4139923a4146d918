-- Engagements: who does what where in a crisis (the 3W). An organization's members declare
-- what it does (sectors, kinds of support), where (a country of the crisis, optionally an
-- admin-1 area) and when.
CREATE TABLE engagements (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Order of declaration, for paging.
    seq             bigserial NOT NULL UNIQUE,
    crisis_id       uuid NOT NULL REFERENCES crises (id) ON DELETE CASCADE,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    sectors         text[] NOT NULL CHECK (cardinality(sectors) BETWEEN 1 AND 16),
    support_types   text[] NOT NULL DEFAULT '{}' CHECK (cardinality(support_types) <= 11),
    country         text NOT NULL CHECK (country ~ '^[A-Z]{3}$'),
    -- An admin-1 name or P-code, as the organization gives it.
    admin1          text CHECK (length(admin1) BETWEEN 1 AND 100),
    description     text CHECK (length(description) <= 2000),
    status          text NOT NULL CHECK (status IN ('planned', 'ongoing', 'completed')),
    started_on      date,
    ended_on        date CHECK (ended_on >= started_on),
    version         integer NOT NULL DEFAULT 1,
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX engagements_crisis_idx ON engagements (crisis_id, seq);
CREATE INDEX engagements_organization_idx ON engagements (organization_id);
CREATE INDEX engagements_sectors_idx ON engagements USING gin (sectors);

-- Concatenates arrays across rows (the 3W merges an organization's kinds of support).
CREATE AGGREGATE dd_array_cat_agg(anycompatiblearray) (
    SFUNC = array_cat,
    STYPE = anycompatiblearray,
    INITCOND = '{}'
);

-- Discovery's `crisis` filter reads engagements: its cached counts must follow their changes
-- too (see 000006).
CREATE TRIGGER engagements_bump_discovery_generation
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON engagements
    FOR EACH STATEMENT EXECUTE FUNCTION dd_bump_discovery_generation();
