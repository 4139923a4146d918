-- Introductions: one organization asks another to be introduced; on acceptance each side may
-- see the other's contact persons, and the two exchange messages. Every release of contact
-- persons is recorded, and every event leaves a notification for the other side's members.

CREATE TABLE contact_requests (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Order of creation, for paging (newest first).
    seq                  bigserial NOT NULL UNIQUE,
    from_organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    to_organization_id   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    created_by           uuid REFERENCES users (id) ON DELETE SET NULL,
    subject              text NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    message              text NOT NULL CHECK (length(message) BETWEEN 1 AND 5000),
    sector               text REFERENCES sectors (code),
    -- The crisis the request is about (its foreign key comes with the crises table).
    crisis_id            uuid,
    status               text NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'accepted', 'declined', 'withdrawn')),
    decided_by           uuid REFERENCES users (id) ON DELETE SET NULL,
    decided_at           timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (from_organization_id <> to_organization_id),
    CHECK ((status = 'pending') = (decided_at IS NULL))
);
-- One pending request per pair of organizations, whichever asked.
CREATE UNIQUE INDEX contact_requests_one_pending_idx
    ON contact_requests (least(from_organization_id, to_organization_id),
                         greatest(from_organization_id, to_organization_id))
    WHERE status = 'pending';
CREATE INDEX contact_requests_inbox_idx ON contact_requests (to_organization_id, seq);
CREATE INDEX contact_requests_outbox_idx ON contact_requests (from_organization_id, seq);
-- The daily cap counts an organization's recent requests.
CREATE INDEX contact_requests_recent_idx ON contact_requests (from_organization_id, created_at);

CREATE TABLE contact_request_messages (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Messages of one request are written one at a time (the request row is locked), so this
    -- order is also the order in which they became visible.
    seq                    bigserial NOT NULL UNIQUE,
    contact_request_id     uuid NOT NULL REFERENCES contact_requests (id) ON DELETE CASCADE,
    author_organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    author_user_id         uuid REFERENCES users (id) ON DELETE SET NULL,
    body                   text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    created_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_request_messages_thread_idx ON contact_request_messages (contact_request_id, seq);

-- A transactional outbox: written in the transaction of the event it reports, so nothing is
-- lost before it is delivered. Addressed to an organization (each member reads it);
-- `emailed_at` is for the e-mail sender that will deliver them.
CREATE TABLE notifications (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq                bigserial NOT NULL UNIQUE,
    organization_id    uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind               text NOT NULL CHECK (kind IN ('contact_request.received', 'contact_request.accepted',
                                                     'contact_request.declined', 'contact_request.withdrawn',
                                                     'message.received')),
    contact_request_id uuid REFERENCES contact_requests (id) ON DELETE CASCADE,
    message_id         uuid REFERENCES contact_request_messages (id) ON DELETE CASCADE,
    created_at         timestamptz NOT NULL DEFAULT now(),
    emailed_at         timestamptz
);
CREATE INDEX notifications_organization_idx ON notifications (organization_id, seq);
CREATE INDEX notifications_unsent_idx ON notifications (seq) WHERE emailed_at IS NULL;

-- Which member has read which notification.
CREATE TABLE notification_reads (
    notification_id uuid NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, notification_id)
);

-- Every time an organization's contact persons were shown outside it: to whom, when, and
-- through which accepted request (or as a moderator). Kept when the viewer's account goes.
CREATE TABLE contact_releases (
    id                      bigserial PRIMARY KEY,
    organization_id         uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    viewer_user_id          uuid REFERENCES users (id) ON DELETE SET NULL,
    viewer_organization_id  uuid REFERENCES organizations (id) ON DELETE SET NULL,
    contact_request_id      uuid REFERENCES contact_requests (id) ON DELETE SET NULL,
    as_moderator            boolean NOT NULL DEFAULT false,
    contact_ids             uuid[] NOT NULL,
    released_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_releases_organization_idx ON contact_releases (organization_id, id);
