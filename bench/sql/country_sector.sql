-- The statements GET /v1/organizations?origin_country=HTI&sector=health sends in steady state,
-- in order, with the values inlined: read the discovery generation, then the page in index
-- order (limit 20, plus one to know whether more follow): the verified organizations' walk,
-- which fills this page (the others' walk runs only when it does not). Country codes and the sector tree
-- are held in memory (read once per process); the total is served from the count cache while
-- no organization changes (the count after a change: bench/sql/country_sector_count.sql).
SELECT generation FROM discovery_generation;
SELECT o.id, o.slug, o.name, o.acronym, o.kind, o.description, o.alternate_names, o.founded_year,
       o.residence_country, o.city, o.origin_countries, o.operating_countries, o.capabilities,
       o.languages, o.website, o.public_email, o.public_phone, o.identifiers, o.members_count,
       o.volunteers_count, o.challenges, o.interests, o.status, o.verification_status,
       o.verified_at, o.verified_until, o.version, o.created_at, o.updated_at, 0::float8 AS rank,
       0 AS unverified
  FROM (SELECT o.id, o.name FROM organizations o
         WHERE o.status = 'published' AND coalesce(o.origin_countries, '{}') && '{HTI}'
           AND coalesce(o.sectors, '{}') && '{health,health-mhpss}'
           AND (o.verification_status = 'verified' AND o.verified_until > now())
         ORDER BY o.name, o.id LIMIT 21) AS k
  JOIN organizations o ON o.id = k.id
 ORDER BY k.name, k.id;
