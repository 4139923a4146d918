DROP TABLE organization_kinds;
DROP TABLE support_types;
DROP TABLE sectors;
DROP TABLE languages;
DROP TABLE countries;
DROP EXTENSION IF EXISTS pg_trgm;
DROP EXTENSION IF EXISTS unaccent;
