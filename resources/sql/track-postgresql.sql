-- Preserve change tracking for PostgreSQL. A template: ChangeTracking::install() replaces
--   {log}, {foo}, {bar}, {zab}, {baz}, {links}  quoted table names (the log, then Django's tables)
--   {track}                                     the trigger/function name prefix preserve_track_<label>
--   {log_index}, {xid_index}                    the names of the log's indexes
--   {channel}                                   the NOTIFY channel preserve_changes_<label>
-- The app label was checked to be an identifier, so names built from it are safe inside quotes.
-- Sections start at "-- @name"; statements end with ";" at the end of a line outside $$ bodies.
--
-- One function per table, shared by its insert/update/delete triggers (TG_OP tells which): it
-- logs one row per affected Foo and NOTIFYs that Foo's id (NOTIFY drops identical payloads within
-- a transaction). Row triggers see NEW and OLD as NULL where they do not apply (PostgreSQL 11+),
-- so (NEW.x), (OLD.x) lists both sides and NULLs drop out.
--
-- Positions on PostgreSQL are transaction ids, not log ids: ids are taken when a row is written
-- but become visible at commit, out of order, so "max(id) a snapshot sees" could hide a smaller
-- id committed later. xid (the writer's txid_current()) against a reader's snapshot xmin cannot.
--
-- SECURITY DEFINER: Django's own (possibly less privileged) role fires these triggers and must
-- not need rights on the log. search_path is pinned to the installer's, so the names resolve
-- to the same tables whoever writes.

-- @drop-triggers
DROP TRIGGER IF EXISTS "{track}_foo_ins" ON {foo};
DROP TRIGGER IF EXISTS "{track}_foo_upd" ON {foo};
DROP TRIGGER IF EXISTS "{track}_foo_del" ON {foo};
DROP TRIGGER IF EXISTS "{track}_bar_ins" ON {bar};
DROP TRIGGER IF EXISTS "{track}_bar_upd" ON {bar};
DROP TRIGGER IF EXISTS "{track}_bar_del" ON {bar};
DROP TRIGGER IF EXISTS "{track}_zab_ins" ON {zab};
DROP TRIGGER IF EXISTS "{track}_zab_upd" ON {zab};
DROP TRIGGER IF EXISTS "{track}_zab_del" ON {zab};
DROP TRIGGER IF EXISTS "{track}_baz_upd" ON {baz};
DROP TRIGGER IF EXISTS "{track}_baz_del" ON {baz};
DROP TRIGGER IF EXISTS "{track}_zab_bazs_ins" ON {links};
DROP TRIGGER IF EXISTS "{track}_zab_bazs_upd" ON {links};
DROP TRIGGER IF EXISTS "{track}_zab_bazs_del" ON {links};
DROP TRIGGER IF EXISTS "{track}_foo_trunc" ON {foo};
DROP TRIGGER IF EXISTS "{track}_bar_trunc" ON {bar};
DROP TRIGGER IF EXISTS "{track}_zab_trunc" ON {zab};
DROP TRIGGER IF EXISTS "{track}_baz_trunc" ON {baz};
DROP TRIGGER IF EXISTS "{track}_zab_bazs_trunc" ON {links};
DO $$
BEGIN
    IF to_regclass('{log}') IS NOT NULL THEN
        DROP TRIGGER IF EXISTS "{track}_log_del" ON {log};
        DROP TRIGGER IF EXISTS "{track}_log_trunc" ON {log};
    END IF;
END
$$;
DROP FUNCTION IF EXISTS "{track}_truncated"();
DROP FUNCTION IF EXISTS "{track}_log"();
DROP FUNCTION IF EXISTS "{track}_foo"();
DROP FUNCTION IF EXISTS "{track}_bar"();
DROP FUNCTION IF EXISTS "{track}_zab"();
DROP FUNCTION IF EXISTS "{track}_baz"();
DROP FUNCTION IF EXISTS "{track}_zab_bazs"();

-- @drop-log
DROP TABLE IF EXISTS {log};
DROP TABLE IF EXISTS {workers};

-- @workers
-- Keep-fresh workers' heartbeats (ChangeTracking::beat), one row per worker process.
CREATE TABLE IF NOT EXISTS {workers} (
    "worker" text NOT NULL PRIMARY KEY,
    "host" text NOT NULL,
    "pid" bigint NOT NULL,
    "active" integer NOT NULL,
    "queued" bigint NOT NULL,
    "lag_ms" bigint NOT NULL,
    "refreshed" bigint NOT NULL,
    "errors" bigint NOT NULL,
    "started_at" timestamptz NOT NULL,
    "seen_at" timestamptz NOT NULL
);

-- @install
-- foo_id NULL marks "tracking installed" (the log is complete after it).
CREATE TABLE IF NOT EXISTS {log} (
    "id" bigserial PRIMARY KEY,
    "foo_id" bigint NULL,
    "reason" text NOT NULL,
    "changed_at" timestamptz NOT NULL DEFAULT now(),
    "xid" bigint NOT NULL DEFAULT txid_current()
);
CREATE INDEX IF NOT EXISTS "{log_index}" ON {log} ("foo_id");
CREATE INDEX IF NOT EXISTS "{xid_index}" ON {log} ("xid");

CREATE OR REPLACE FUNCTION "{track}_foo"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    changed record;
BEGIN
    FOR changed IN
        INSERT INTO {log} (foo_id, reason)
        SELECT DISTINCT v.f, 'Foo ' || coalesce(NEW.id, OLD.id)
            || CASE TG_OP WHEN 'INSERT' THEN ' inserted' WHEN 'UPDATE' THEN ' updated' ELSE ' deleted' END
        FROM (VALUES (NEW.id), (OLD.id)) AS v (f) WHERE v.f IS NOT NULL
        RETURNING foo_id
    LOOP
        PERFORM pg_notify('{channel}', changed.foo_id::text);
    END LOOP;
    RETURN NULL;
END
$$;

-- A Bar moved from one Foo to another changes both.
CREATE OR REPLACE FUNCTION "{track}_bar"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    changed record;
BEGIN
    FOR changed IN
        INSERT INTO {log} (foo_id, reason)
        SELECT DISTINCT v.f, 'Bar ' || coalesce(NEW.id, OLD.id)
            || CASE TG_OP WHEN 'INSERT' THEN ' inserted' WHEN 'UPDATE' THEN ' updated' ELSE ' deleted' END
        FROM (VALUES (NEW.foo_id), (OLD.foo_id)) AS v (f) WHERE v.f IS NOT NULL
        RETURNING foo_id
    LOOP
        PERFORM pg_notify('{channel}', changed.foo_id::text);
    END LOOP;
    RETURN NULL;
END
$$;

-- A Zab whose Bar is already gone (deleted first in the same transaction) logs nothing: that
-- Bar's own deletion logged its Foo.
CREATE OR REPLACE FUNCTION "{track}_zab"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    changed record;
BEGIN
    FOR changed IN
        INSERT INTO {log} (foo_id, reason)
        SELECT DISTINCT b.foo_id, 'Zab ' || coalesce(NEW.id, OLD.id)
            || CASE TG_OP WHEN 'INSERT' THEN ' inserted' WHEN 'UPDATE' THEN ' updated' ELSE ' deleted' END
        FROM {bar} AS b WHERE b.id IN (NEW.bar_id, OLD.bar_id)
        RETURNING foo_id
    LOOP
        PERFORM pg_notify('{channel}', changed.foo_id::text);
    END LOOP;
    RETURN NULL;
END
$$;

-- Every Foo that reaches the Baz through a link. A new Baz reaches none until linked (the link's
-- trigger logs that), so there is no insert trigger.
CREATE OR REPLACE FUNCTION "{track}_baz"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    changed record;
BEGIN
    FOR changed IN
        INSERT INTO {log} (foo_id, reason)
        SELECT DISTINCT b.foo_id, 'Baz ' || OLD.id
            || CASE TG_OP WHEN 'UPDATE' THEN ' updated' ELSE ' deleted' END
        FROM {links} AS l JOIN {zab} AS z ON z.id = l.zab_id JOIN {bar} AS b ON b.id = z.bar_id
        WHERE l.baz_id IN (OLD.id, NEW.id)
        RETURNING foo_id
    LOOP
        PERFORM pg_notify('{channel}', changed.foo_id::text);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION "{track}_zab_bazs"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    changed record;
BEGIN
    FOR changed IN
        INSERT INTO {log} (foo_id, reason)
        SELECT DISTINCT b.foo_id, 'link Zab ' || coalesce(NEW.zab_id, OLD.zab_id)
            || ' -> Baz ' || coalesce(NEW.baz_id, OLD.baz_id)
            || CASE TG_OP WHEN 'INSERT' THEN ' inserted' WHEN 'UPDATE' THEN ' updated' ELSE ' deleted' END
        FROM {zab} AS z JOIN {bar} AS b ON b.id = z.bar_id WHERE z.id IN (NEW.zab_id, OLD.zab_id)
        RETURNING foo_id
    LOOP
        PERFORM pg_notify('{channel}', changed.foo_id::text);
    END LOOP;
    RETURN NULL;
END
$$;

-- Updates compare values, so an UPDATE that only writes pre_serialized (the cache itself, by
-- Preserve or by Django's save(), which writes every column) is not a change.
CREATE TRIGGER "{track}_foo_ins" AFTER INSERT ON {foo} FOR EACH ROW EXECUTE FUNCTION "{track}_foo"();
CREATE TRIGGER "{track}_foo_upd" AFTER UPDATE ON {foo} FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION "{track}_foo"();
CREATE TRIGGER "{track}_foo_del" AFTER DELETE ON {foo} FOR EACH ROW EXECUTE FUNCTION "{track}_foo"();
CREATE TRIGGER "{track}_bar_ins" AFTER INSERT ON {bar} FOR EACH ROW EXECUTE FUNCTION "{track}_bar"();
CREATE TRIGGER "{track}_bar_upd" AFTER UPDATE ON {bar} FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.foo_id IS DISTINCT FROM NEW.foo_id
          OR OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION "{track}_bar"();
CREATE TRIGGER "{track}_bar_del" AFTER DELETE ON {bar} FOR EACH ROW EXECUTE FUNCTION "{track}_bar"();
CREATE TRIGGER "{track}_zab_ins" AFTER INSERT ON {zab} FOR EACH ROW EXECUTE FUNCTION "{track}_zab"();
CREATE TRIGGER "{track}_zab_upd" AFTER UPDATE ON {zab} FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.bar_id IS DISTINCT FROM NEW.bar_id
          OR OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION "{track}_zab"();
CREATE TRIGGER "{track}_zab_del" AFTER DELETE ON {zab} FOR EACH ROW EXECUTE FUNCTION "{track}_zab"();
CREATE TRIGGER "{track}_baz_upd" AFTER UPDATE ON {baz} FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION "{track}_baz"();
CREATE TRIGGER "{track}_baz_del" AFTER DELETE ON {baz} FOR EACH ROW EXECUTE FUNCTION "{track}_baz"();
CREATE TRIGGER "{track}_zab_bazs_ins" AFTER INSERT ON {links} FOR EACH ROW EXECUTE FUNCTION "{track}_zab_bazs"();
CREATE TRIGGER "{track}_zab_bazs_upd" AFTER UPDATE ON {links} FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.zab_id IS DISTINCT FROM NEW.zab_id
          OR OLD.baz_id IS DISTINCT FROM NEW.baz_id)
    EXECUTE FUNCTION "{track}_zab_bazs"();
CREATE TRIGGER "{track}_zab_bazs_del" AFTER DELETE ON {links} FOR EACH ROW EXECUTE FUNCTION "{track}_zab_bazs"();

-- TRUNCATE (Django's flush, a data reload) fires no row triggers: every Foo left is marked, and
-- Foos that went with it have no row, so nothing can call their entries fresh.
CREATE OR REPLACE FUNCTION "{track}_truncated"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    changed record;
BEGIN
    FOR changed IN
        INSERT INTO {log} (foo_id, reason) SELECT f.id, TG_TABLE_NAME || ' truncated' FROM {foo} AS f
        RETURNING foo_id
    LOOP
        PERFORM pg_notify('{channel}', changed.foo_id::text);
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER "{track}_foo_trunc" AFTER TRUNCATE ON {foo} FOR EACH STATEMENT EXECUTE FUNCTION "{track}_truncated"();
CREATE TRIGGER "{track}_bar_trunc" AFTER TRUNCATE ON {bar} FOR EACH STATEMENT EXECUTE FUNCTION "{track}_truncated"();
CREATE TRIGGER "{track}_zab_trunc" AFTER TRUNCATE ON {zab} FOR EACH STATEMENT EXECUTE FUNCTION "{track}_truncated"();
CREATE TRIGGER "{track}_baz_trunc" AFTER TRUNCATE ON {baz} FOR EACH STATEMENT EXECUTE FUNCTION "{track}_truncated"();
CREATE TRIGGER "{track}_zab_bazs_trunc" AFTER TRUNCATE ON {links} FOR EACH STATEMENT EXECUTE FUNCTION "{track}_truncated"();

-- Log rows deleted (or the log truncated) by anyone but prune() would hide changes. prune() deletes
-- only change rows at or below the position in its 'pruned through N' marker and restart markers
-- older than the newest; anything else adds a restart marker (one per transaction), which makes
-- every body built before it unknown.
CREATE OR REPLACE FUNCTION "{track}_log"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.reason LIKE 'pruned through %' THEN
            RETURN NULL;
        END IF;
        IF OLD.foo_id IS NOT NULL AND OLD.xid <= (SELECT coalesce(max(substr(reason, 16)::bigint), -1)
                FROM {log} WHERE foo_id IS NULL AND reason LIKE 'pruned through %') THEN
            RETURN NULL;
        END IF;
        IF OLD.foo_id IS NULL AND OLD.id < (SELECT coalesce(max(id), 0) FROM {log}
                WHERE foo_id IS NULL AND reason NOT LIKE 'pruned through %') THEN
            RETURN NULL;
        END IF;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM {log} WHERE foo_id IS NULL AND reason = 'log rows deleted by hand'
                   AND xid = txid_current()) THEN
        INSERT INTO {log} (foo_id, reason) VALUES (NULL, 'log rows deleted by hand');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER "{track}_log_del" AFTER DELETE ON {log} FOR EACH ROW EXECUTE FUNCTION "{track}_log"();
CREATE TRIGGER "{track}_log_trunc" AFTER TRUNCATE ON {log} FOR EACH STATEMENT EXECUTE FUNCTION "{track}_log"();

-- Fire in every session, also with session_replication_role = replica (pg_restore, logical
-- replication), where ordinary triggers stay silent. Only the tables' owner may say so.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT tg.tgrelid::regclass AS tab, tg.tgname FROM pg_catalog.pg_trigger AS tg
             WHERE tg.tgname LIKE '{track}%' AND NOT tg.tgisinternal
    LOOP
        BEGIN
            EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', t.tab, t.tgname);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'trigger % stays ENABLE (not ALWAYS): %', t.tgname, SQLERRM;
        END;
    END LOOP;
END
$$;
