DROP AGGREGATE dd_array_cat_agg(anycompatiblearray);
DROP TABLE engagements;
