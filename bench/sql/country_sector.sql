-- The statements GET /v1/organizations?origin_country=HTI&sector=health sends, in order, with
-- the values inlined: resolve the country code, expand the sector to its children, read the
-- page (limit 20, plus one to know whether more follow), count the total.
SELECT code, alpha2 FROM countries WHERE code = ANY('{HTI}') OR alpha2 = ANY('{HTI}');
SELECT code FROM sectors WHERE code = ANY('{health}') OR parent_code = ANY('{health}') ORDER BY code;
SELECT o.id, o.slug, o.name, o.acronym, o.kind, o.description, o.alternate_names, o.founded_year,
       o.residence_country, o.city, o.origin_countries, o.operating_countries, o.capabilities,
       o.languages, o.website, o.public_email, o.public_phone, o.identifiers, o.members_count,
       o.volunteers_count, o.challenges, o.interests, o.status, o.verification_status,
       o.verified_at, o.verified_until, o.version, o.created_at, o.updated_at, 0::float8 AS rank,
       CASE WHEN (o.verification_status = 'verified' AND o.verified_until > now()) THEN 0 ELSE 1 END AS unverified
  FROM organizations o
 WHERE o.status = 'published' AND o.origin_countries && '{HTI}' AND o.sectors && '{health,health-mhpss}'
 ORDER BY CASE WHEN (o.verification_status = 'verified' AND o.verified_until > now()) THEN 0 ELSE 1 END, o.name, o.id
 LIMIT 21;
SELECT count(*) AS count FROM organizations o
 WHERE o.status = 'published' AND o.origin_countries && '{HTI}' AND o.sectors && '{health,health-mhpss}';
