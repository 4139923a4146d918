DROP TABLE audit_log;
DROP TABLE verification_requests;
DROP TABLE organization_contacts;
DROP TABLE organization_members;
DROP TABLE organizations;
