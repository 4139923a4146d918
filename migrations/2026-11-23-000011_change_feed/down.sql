DROP TRIGGER crises_bump_discovery_generation ON crises;
DROP TRIGGER postings_changes ON postings;
DROP TRIGGER engagements_changes ON engagements;
DROP FUNCTION dd_child_changes();
DROP TRIGGER crises_changes ON crises;
DROP FUNCTION dd_crisis_changes();
DROP TRIGGER organizations_changes ON organizations;
DROP FUNCTION dd_organization_changes();
DROP TABLE changes;
