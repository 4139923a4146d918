-- The count GET /v1/organizations?origin_country=HTI&sector=health runs when its cached total
-- is stale (after a change to organizations): every match is read once.
SELECT count(*) AS count FROM organizations o
 WHERE o.status = 'published' AND o.origin_countries && '{HTI}' AND o.sectors && '{health,health-mhpss}';
