DROP TABLE contact_releases;
DROP TABLE notification_reads;
DROP TABLE notifications;
DROP TABLE contact_request_messages;
DROP TABLE contact_requests;
