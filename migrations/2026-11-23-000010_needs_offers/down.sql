ALTER TABLE contact_requests DROP COLUMN need_id, DROP COLUMN offer_id;
DROP TABLE postings;
DROP FUNCTION dd_prefix_tsquery(text);
DROP FUNCTION dd_share(text[], text[]);
