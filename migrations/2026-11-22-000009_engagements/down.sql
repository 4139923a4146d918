DROP TRIGGER engagements_bump_discovery_generation ON engagements;
DROP AGGREGATE dd_array_cat_agg(anycompatiblearray);
DROP TABLE engagements;
