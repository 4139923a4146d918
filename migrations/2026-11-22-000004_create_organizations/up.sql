-- Organizations: diaspora organizations and humanitarian actors in one table, told apart by
-- `kind`; their members, their private contact persons, verification requests, and the audit
-- log of every change to them.
--
-- Codes that point at reference data (countries, languages, sectors, support types) are
-- validated by the application before they are written; arrays cannot carry foreign keys.
-- The short fixed lists (status, challenges, interests, roles, consent bases) are CHECKed here.

CREATE TABLE organizations (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Derived from the name at creation, never changed afterwards: links keep working.
    slug                text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 80),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    acronym             text CHECK (length(acronym) BETWEEN 1 AND 30),
    kind                text NOT NULL REFERENCES organization_kinds (code),
    description         text CHECK (length(description) <= 5000),
    alternate_names     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(alternate_names) = 'array'),
    founded_year        integer CHECK (founded_year BETWEEN 1800 AND 2200),
    residence_country   text REFERENCES countries (code),
    city                text CHECK (length(city) BETWEEN 1 AND 100),
    origin_countries    text[] NOT NULL DEFAULT '{}',
    operating_countries text[] NOT NULL DEFAULT '{}',
    capabilities        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(capabilities) = 'array'),
    languages           text[] NOT NULL DEFAULT '{}',
    website             text CHECK (length(website) <= 300),
    public_email        text CHECK (length(public_email) <= 254),
    public_phone        text CHECK (length(public_phone) <= 40),
    identifiers         jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(identifiers) = 'array'),
    members_count       integer CHECK (members_count >= 0),
    volunteers_count    integer CHECK (volunteers_count >= 0),
    challenges          text[] NOT NULL DEFAULT '{}' CHECK (challenges <@ ARRAY[
        'funding', 'access-to-affected-areas', 'coordination-with-actors', 'legal-regulatory',
        'logistics', 'security', 'visibility-recognition', 'capacity-training']),
    interests           text[] NOT NULL DEFAULT '{}' CHECK (interests <@ ARRAY[
        'partnerships', 'training', 'funding-opportunities', 'coordination-platforms',
        'emergency-preparedness', 'advocacy']),
    status              text NOT NULL DEFAULT 'draft'
                        CHECK (status IN ('draft', 'published', 'archived', 'suspended')),
    -- Set only by moderators (POST /v1/admin/organizations/{id}/verification). A verification
    -- past `verified_until` reads as `unverified`: the application compares it with now().
    verification_status text NOT NULL DEFAULT 'unverified'
                        CHECK (verification_status IN ('unverified', 'pending', 'verified', 'rejected')),
    verified_at         timestamptz,
    verified_until      timestamptz,
    -- Bumped on every change: the ETag, and what If-Match is compared with.
    version             integer NOT NULL DEFAULT 1,
    created_by          uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (verification_status <> 'verified' OR (verified_at IS NOT NULL AND verified_until IS NOT NULL))
);
CREATE INDEX organizations_status_idx ON organizations (status);
-- Country filters (counts per country now, discovery later) read these.
CREATE INDEX organizations_origin_countries_idx ON organizations USING gin (origin_countries);
CREATE INDEX organizations_operating_countries_idx ON organizations USING gin (operating_countries);
CREATE INDEX organizations_residence_country_idx ON organizations (residence_country);

CREATE TABLE organization_members (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Owners manage members; editors edit the profile.
    role            text NOT NULL CHECK (role IN ('owner', 'editor')),
    added_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_members_user_id_idx ON organization_members (user_id);

-- Named contact persons: personal data. Never part of a profile, a list or an export; read
-- only through /v1/organizations/{id}/contacts by those entitled to. Data protection asks why
-- each person is here (`purpose`) and on what basis (`consent_basis`).
CREATE TABLE organization_contacts (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role                text CHECK (length(role) BETWEEN 1 AND 100),
    email               text CHECK (length(email) <= 254),
    phone               text CHECK (length(phone) <= 40),
    languages           text[] NOT NULL DEFAULT '{}',
    consent_basis       text NOT NULL CHECK (consent_basis IN ('consent', 'legitimate-interest', 'public-role')),
    consent_obtained_at timestamptz,
    purpose             text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 500),
    version             integer NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organization_contacts_organization_id_idx ON organization_contacts (organization_id, created_at);

-- An owner's request for verification, and the moderator's decision on it.
CREATE TABLE verification_requests (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    requested_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    note            text CHECK (length(note) <= 2000),
    decision        text CHECK (decision IN ('approve', 'reject')),
    decided_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    decided_at      timestamptz,
    decision_note   text CHECK (length(decision_note) <= 2000),
    CHECK ((decision IS NULL) = (decided_at IS NULL))
);
-- At most one open request per organization.
CREATE UNIQUE INDEX verification_requests_open_idx ON verification_requests (organization_id)
    WHERE decision IS NULL;

-- Who did what, when: every profile change and every moderator action, written in the same
-- transaction as the change itself. Append-only; personal data (contact details) is not copied
-- here, only which contact changed.
CREATE TABLE audit_log (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    -- Whether the actor acted as a moderator (not merely is one).
    as_moderator    boolean NOT NULL DEFAULT false,
    action          text NOT NULL CHECK (action ~ '^[a-z]+(\.[a-z_]+)+$'),
    organization_id uuid REFERENCES organizations (id) ON DELETE SET NULL,
    -- The member, contact or request the action was about, if not the organization itself.
    subject_id      uuid,
    details         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_organization_idx ON audit_log (organization_id, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);

-- Adding a member by email reveals whether the email has an account: those lookups are
-- counted per signed-in account, like sign-in failures.
ALTER TABLE login_failures DROP CONSTRAINT login_failures_scope_check;
ALTER TABLE login_failures ADD CONSTRAINT login_failures_scope_check
    CHECK (scope IN ('account', 'account_address', 'address', 'registration', 'member_lookup'));
