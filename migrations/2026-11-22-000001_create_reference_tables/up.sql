-- Reference data: read-only lists every other table points at.
-- Rows for countries and languages are generated into the next migration;
-- the short, curated lists (sectors, support types, organization kinds) live here,
-- each with the source it was taken from.

-- unaccent lets "cote" find "Côte d'Ivoire"; pg_trgm backs typo-tolerant search later.
-- Both are trusted extensions (PostgreSQL >= 13): a database owner may create them.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE countries (
    code                text PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),   -- ISO 3166-1 alpha-3
    alpha2              text NOT NULL UNIQUE CHECK (alpha2 ~ '^[A-Z]{2}$'),
    numeric             text NOT NULL UNIQUE CHECK (numeric ~ '^[0-9]{3}$'),
    name                text NOT NULL,                                  -- ISO English short name
    official_name       text,
    common_name         text,
    region              text,                                           -- UN M49 region (NULL: Antarctica)
    sub_region          text,                                           -- UN M49 sub-region
    intermediate_region text                                            -- UN M49 intermediate region
);

CREATE TABLE languages (
    code             text PRIMARY KEY CHECK (code ~ '^[a-z]{2,3}$'),    -- ISO 639-1 if any, else 639-3
    alpha3           text NOT NULL UNIQUE CHECK (alpha3 ~ '^[a-z]{3}$'),  -- 639-3 (639-2 for collective bh)
    name             text NOT NULL,                                     -- ISO 639-3 reference name
    alternate_names  text[] NOT NULL DEFAULT '{}',                      -- other ISO 639-2 names
    is_macrolanguage boolean NOT NULL DEFAULT false
);

CREATE TABLE sectors (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9-]*$'),
    parent_code text REFERENCES sectors (code),
    name        text NOT NULL,
    hdx_code    text UNIQUE,   -- HDX / HXL "global coordination group" code, e.g. HEA, PRO-GBV
    position    integer NOT NULL
);
CREATE INDEX sectors_parent_code_idx ON sectors (parent_code);

CREATE TABLE support_types (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9-]*$'),
    name        text NOT NULL,
    description text NOT NULL,
    position    integer NOT NULL
);

CREATE TABLE organization_kinds (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9-]*$'),
    name        text NOT NULL,
    iati_code   text NOT NULL,   -- IATI OrganisationType codelist
    hdx_code    text,            -- HDX "organization types" code (used by HXL #org+type)
    position    integer NOT NULL
);

-- Sector taxonomy: the 11 IASC global clusters and the four areas of responsibility of the
-- Global Protection Cluster. HDX codes and names from HDX's "Global Coordination Groups"
-- dataset (data.humdata.org/dataset/global-coordination-groups-beta), as used by HDX HAPI.
-- health-mhpss (mental health and psychosocial support, coordinated by the IASC MHPSS
-- Reference Group inside the Health cluster) has no HDX code of its own: NULL, not invented.
INSERT INTO sectors (code, parent_code, name, hdx_code, position) VALUES
('cccm',                         NULL,         'Camp Coordination and Camp Management', 'CCM',     10),
('early-recovery',               NULL,         'Early Recovery',                        'ERY',     20),
('education',                    NULL,         'Education',                             'EDU',     30),
('emergency-telecommunications', NULL,         'Emergency Telecommunications',          'TEL',     40),
('food-security',                NULL,         'Food Security',                         'FSC',     50),
('health',                       NULL,         'Health',                                'HEA',     60),
('logistics',                    NULL,         'Logistics',                             'LOG',     70),
('nutrition',                    NULL,         'Nutrition',                             'NUT',     80),
('protection',                   NULL,         'Protection',                            'PRO',     90),
('shelter',                      NULL,         'Emergency Shelter and NFI',             'SHL',    100),
('wash',                         NULL,         'Water Sanitation Hygiene',              'WSH',    110),
('health-mhpss',                 'health',     'Mental Health and Psychosocial Support', NULL,     61),
('protection-child',             'protection', 'Child Protection',                      'PRO-CPN', 91),
('protection-gbv',               'protection', 'Gender Based Violence',                 'PRO-GBV', 92),
('protection-hlp',               'protection', 'Housing, Land and Property',            'PRO-HLP', 93),
('protection-mine-action',       'protection', 'Mine Action',                           'PRO-MIN', 94);

-- Kinds of support a diaspora organization or an actor can give: the list of the API
-- contract, drawn from IOM's Framework for Diaspora Engagement in Humanitarian Assistance.
INSERT INTO support_types (code, name, description, position) VALUES
('funding',                    'Funding',                       'Money: remittances, pooled funds, grants, crowdfunding.', 10),
('in-kind',                    'In-kind donations',             'Goods: medical supplies, food kits, hygiene kits, equipment.', 20),
('professional-expertise',     'Professional expertise',        'Doctors, engineers, psychologists, lawyers and other professionals.', 30),
('volunteers',                 'Volunteers',                    'People who can deploy or help remotely.', 40),
('translation-interpretation', 'Translation and interpretation', 'Language support for responders and affected people.', 50),
('tutoring-education',         'Tutoring and education',        'Teachers and tutors, in person or online.', 60),
('telehealth-helpline',        'Telehealth and helplines',      'Online medical consultations, psychosocial helplines.', 70),
('local-knowledge-networks',   'Local knowledge and networks',  'Knowledge of the ground, contacts with local communities and authorities.', 80),
('information-advocacy',       'Information and advocacy',      'Countering misinformation, raising awareness, advocacy.', 90),
('logistics-transport',        'Logistics and transport',       'Shipping, customs, warehousing, last-mile delivery.', 100),
('training-capacity-building', 'Training and capacity building', 'Training local partners and volunteers.', 110);

-- Organization kinds. iati_code: IATI OrganisationType codelist (IATI Standard 2.03):
-- 10 Government, 21 International NGO, 22 National NGO, 40 Multilateral, 60 Foundation,
-- 70 Private Sector, 80 Academic, Training and Research, 90 Other. IATI has no diaspora,
-- Red Cross / Red Crescent or faith-based type: a diaspora association is a civil-society
-- organisation registered where it is based (22); the Movement's bodies publish to IATI as
-- international NGOs (21); faith-based groups as the NGOs they are (22).
-- hdx_code: HDX "Organization Types" dataset (data.humdata.org/dataset/organization-types-beta).
INSERT INTO organization_kinds (code, name, iati_code, hdx_code, position) VALUES
('diaspora-organization',  'Diaspora organization',         '22', '441', 10),
('international-ngo',      'International NGO',             '21', '437', 20),
('national-ngo',           'National NGO',                  '22', '441', 30),
('un-agency',              'UN agency',                     '40', '447', 40),
('government',             'Government',                    '10', '435', 50),
('red-cross-red-crescent', 'Red Cross / Red Crescent',      '21', '445', 60),
('private-sector',         'Private sector',                '70', '444', 70),
('academic',               'Academic, training and research', '80', '431', 80),
('faith-based',            'Faith-based organization',      '22', '446', 90),
('foundation',             'Foundation',                    '60', '433', 100),
('other',                  'Other',                         '90', '443', 110);
