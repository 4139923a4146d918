-- The change feed: every create, update and delete of a public entity (organizations, crises,
-- engagements, needs and offers), written by triggers in the transaction that makes the
-- change, so that none is missed whichever code (or SQL) makes it.
--
-- Readers page by (txid, seq) and only read rows whose transaction id is below the oldest
-- transaction still running (pg_snapshot_xmin): a transaction that started writing earlier but
-- commits later cannot slip in behind a reader's cursor, which a sequence alone would allow.
CREATE TABLE changes (
    seq        bigserial PRIMARY KEY,
    txid       xid8 NOT NULL DEFAULT pg_current_xact_id(),
    entity     text NOT NULL CHECK (entity IN ('organization', 'crisis', 'engagement', 'need', 'offer')),
    entity_id  uuid NOT NULL,
    op         text NOT NULL CHECK (op IN ('create', 'update', 'delete')),
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_position_idx ON changes (txid, seq);

-- Organizations: public while published. Becoming public is a create, ceasing to be (archived,
-- suspended, back to draft) a delete, and the organization's engagements and postings appear
-- or disappear with it.
CREATE FUNCTION dd_organization_changes() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    was_public boolean := TG_OP <> 'INSERT' AND OLD.status = 'published';
    is_public  boolean := TG_OP <> 'DELETE' AND NEW.status = 'published';
    op         text;
BEGIN
    IF was_public AND is_public THEN
        IF OLD IS DISTINCT FROM NEW THEN
            INSERT INTO changes (entity, entity_id, op) VALUES ('organization', NEW.id, 'update');
        END IF;
        RETURN NULL;
    ELSIF is_public THEN
        op := 'create';
    ELSIF was_public THEN
        op := 'delete';
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO changes (entity, entity_id, op)
        VALUES ('organization', coalesce(NEW.id, OLD.id), op);
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO changes (entity, entity_id, op)
            SELECT 'engagement', e.id, op FROM engagements e WHERE e.organization_id = NEW.id
            ORDER BY e.seq;
        INSERT INTO changes (entity, entity_id, op)
            SELECT p.side, p.id, op FROM postings p WHERE p.organization_id = NEW.id
            ORDER BY p.seq;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER organizations_changes
    AFTER INSERT OR UPDATE OR DELETE ON organizations
    FOR EACH ROW EXECUTE FUNCTION dd_organization_changes();

-- A published organization deleted outright (no API does it; SQL might) takes its engagements
-- and postings with it through ON DELETE CASCADE, and by then their trigger can no longer see
-- that it was public: write their tombstones before the rows go.
CREATE FUNCTION dd_organization_deleted() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'published' THEN
        INSERT INTO changes (entity, entity_id, op)
            SELECT 'engagement', e.id, 'delete' FROM engagements e WHERE e.organization_id = OLD.id
            ORDER BY e.seq;
        INSERT INTO changes (entity, entity_id, op)
            SELECT p.side, p.id, 'delete' FROM postings p WHERE p.organization_id = OLD.id
            ORDER BY p.seq;
    END IF;
    RETURN OLD;
END $$;

CREATE TRIGGER organizations_deleted_changes
    BEFORE DELETE ON organizations
    FOR EACH ROW EXECUTE FUNCTION dd_organization_deleted();

-- Crises are always public.
CREATE FUNCTION dd_crisis_changes() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD IS NOT DISTINCT FROM NEW THEN
        RETURN NULL;
    END IF;
    INSERT INTO changes (entity, entity_id, op)
        VALUES ('crisis', coalesce(NEW.id, OLD.id),
                CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END);
    RETURN NULL;
END $$;

CREATE TRIGGER crises_changes
    AFTER INSERT OR UPDATE OR DELETE ON crises
    FOR EACH ROW EXECUTE FUNCTION dd_crisis_changes();

-- Engagements and postings are public while their organization is published. One moved to
-- another organization (a merge) is deleted from the old one's view and created in the new.
CREATE FUNCTION dd_child_changes() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    -- TG_ARGV[0]: 'engagement', or 'posting' (then its side names it).
    entity     text := CASE TG_ARGV[0] WHEN 'posting' THEN to_jsonb(coalesce(NEW, OLD))->>'side'
                           ELSE TG_ARGV[0] END;
    was_public boolean;
    is_public  boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD IS NOT DISTINCT FROM NEW THEN
        RETURN NULL;
    END IF;
    -- Share-lock the organizations first: a status change (which takes a stronger lock) then
    -- waits for this transaction, and its cascade sees this row; or this waits for it, and
    -- reads the status it committed. Without the lock, a need added while its organization
    -- is being published could be listed by neither.
    PERFORM 1 FROM organizations o
      WHERE o.id IN (OLD.organization_id, NEW.organization_id)
      ORDER BY o.id FOR SHARE;
    was_public := TG_OP <> 'INSERT' AND EXISTS (
        SELECT 1 FROM organizations o WHERE o.id = OLD.organization_id AND o.status = 'published');
    is_public := TG_OP <> 'DELETE' AND EXISTS (
        SELECT 1 FROM organizations o WHERE o.id = NEW.organization_id AND o.status = 'published');
    IF was_public OR is_public THEN
        INSERT INTO changes (entity, entity_id, op)
            VALUES (entity, coalesce(NEW.id, OLD.id),
                    CASE WHEN was_public AND is_public THEN 'update'
                         WHEN is_public THEN 'create' ELSE 'delete' END);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER engagements_changes
    AFTER INSERT OR UPDATE OR DELETE ON engagements
    FOR EACH ROW EXECUTE FUNCTION dd_child_changes('engagement');
CREATE TRIGGER postings_changes
    AFTER INSERT OR UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION dd_child_changes('posting');

-- GET /v1/stats lists active crises, and is cached under the discovery generation (000006):
-- crises move it forward too.
CREATE TRIGGER crises_bump_discovery_generation
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON crises
    FOR EACH STATEMENT EXECUTE FUNCTION dd_bump_discovery_generation();
