DELETE FROM login_failures WHERE scope = 'member_lookup';
ALTER TABLE login_failures DROP CONSTRAINT login_failures_scope_check;
ALTER TABLE login_failures ADD CONSTRAINT login_failures_scope_check
    CHECK (scope IN ('account', 'account_address', 'address', 'registration'));
DROP TABLE audit_log;
DROP TABLE verification_requests;
DROP TABLE organization_contacts;
DROP TABLE organization_members;
DROP TABLE organizations;
