ALTER TABLE contact_requests DROP CONSTRAINT contact_requests_crisis_id_fkey;
DROP TABLE crises;
