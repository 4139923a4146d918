-- Crises: the emergencies organizations coordinate around. Moderators register them; everyone
-- reads them. Named as humanitarian tools name them: a GLIDE number and hazard code, and the
-- affected countries in ISO 3166-1 alpha-3.
CREATE TABLE crises (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Order of registration, for paging (newest first).
    seq         bigserial NOT NULL UNIQUE,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    glide       text UNIQUE CHECK (glide ~ '^[A-Z]{2}-[0-9]{4}-[0-9]{6}-[A-Z]{3}$'),
    hazard      text NOT NULL CHECK (hazard ~ '^[A-Z]{2}$'),
    countries   text[] NOT NULL CHECK (cardinality(countries) BETWEEN 1 AND 30),
    started_on  date NOT NULL,
    ended_on    date CHECK (ended_on >= started_on),
    status      text NOT NULL CHECK (status IN ('active', 'closed')),
    description text,
    version     integer NOT NULL DEFAULT 1,
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crises_countries_idx ON crises USING gin (countries);
CREATE INDEX crises_status_idx ON crises (status, seq);

-- A contact request may name the crisis it is about.
ALTER TABLE contact_requests
    ADD CONSTRAINT contact_requests_crisis_id_fkey
    FOREIGN KEY (crisis_id) REFERENCES crises (id) ON DELETE SET NULL;
