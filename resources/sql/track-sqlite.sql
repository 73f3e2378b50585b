-- Preserve change tracking for SQLite. A template: ChangeTracking::install() replaces
--   {log}, {foo}, {bar}, {zab}, {baz}, {links}  quoted table names (the log, then Django's tables)
--   {track}                                     the trigger name prefix preserve_track_<label>
--   {log_index}                                 the name of the log's index on foo_id
-- The app label was checked to be an identifier, so names built from it are safe inside quotes.
-- Sections start at "-- @name"; statements end with ";" as sqlite3_complete() sees them.
--
-- Every trigger writes one log row per affected Foo.

-- REPLACE, INSERT OR REPLACE and UPDATE OR REPLACE delete the row they collide with without
-- firing its delete trigger (unless recursive_triggers is on in the writer's connection, which
-- Preserve does not control). The *_rep_* triggers run BEFORE the statement, while that row still
-- exists, and log the Foos it reaches. A plain insert with a new id finds no row: one index lookup. Updates compare values (IS NOT), so an
-- UPDATE that only writes pre_serialized (the cache itself, by Preserve or by Django's save(),
-- which writes every column) is not a change, and neither is writing a value back unchanged.

-- @drop-triggers
DROP TRIGGER IF EXISTS "{track}_foo_ins";
DROP TRIGGER IF EXISTS "{track}_foo_upd";
DROP TRIGGER IF EXISTS "{track}_foo_del";
DROP TRIGGER IF EXISTS "{track}_bar_ins";
DROP TRIGGER IF EXISTS "{track}_bar_upd";
DROP TRIGGER IF EXISTS "{track}_bar_del";
DROP TRIGGER IF EXISTS "{track}_zab_ins";
DROP TRIGGER IF EXISTS "{track}_zab_upd";
DROP TRIGGER IF EXISTS "{track}_zab_del";
DROP TRIGGER IF EXISTS "{track}_baz_upd";
DROP TRIGGER IF EXISTS "{track}_baz_del";
DROP TRIGGER IF EXISTS "{track}_zab_bazs_ins";
DROP TRIGGER IF EXISTS "{track}_zab_bazs_upd";
DROP TRIGGER IF EXISTS "{track}_zab_bazs_del";
DROP TRIGGER IF EXISTS "{track}_bar_rep_ins";
DROP TRIGGER IF EXISTS "{track}_bar_rep_upd";
DROP TRIGGER IF EXISTS "{track}_zab_rep_ins";
DROP TRIGGER IF EXISTS "{track}_zab_rep_upd";
DROP TRIGGER IF EXISTS "{track}_baz_rep_ins";
DROP TRIGGER IF EXISTS "{track}_baz_rep_upd";
DROP TRIGGER IF EXISTS "{track}_zab_bazs_rep_ins";
DROP TRIGGER IF EXISTS "{track}_zab_bazs_rep_upd";
DROP TRIGGER IF EXISTS "{track}_log_del";

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
    "started_at" text NOT NULL,
    "seen_at" text NOT NULL
);

-- @install
-- AUTOINCREMENT: ids are never reused, even after prune() removed the newest rows, so a
-- position stays a position. foo_id NULL marks "tracking installed" (the log is complete after it).
CREATE TABLE IF NOT EXISTS {log} (
    "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "foo_id" bigint NULL,
    "reason" text NOT NULL,
    "changed_at" text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS "{log_index}" ON {log} ("foo_id");

CREATE TRIGGER "{track}_foo_ins" AFTER INSERT ON {foo} BEGIN
    INSERT INTO {log} (foo_id, reason) VALUES (NEW.id, 'Foo ' || NEW.id || ' inserted');
END;
CREATE TRIGGER "{track}_foo_upd" AFTER UPDATE OF id, name ON {foo}
WHEN OLD.id IS NOT NEW.id OR OLD.name IS NOT NEW.name BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT f, 'Foo ' || NEW.id || ' updated' FROM (SELECT OLD.id AS f UNION SELECT NEW.id);
END;
CREATE TRIGGER "{track}_foo_del" AFTER DELETE ON {foo} BEGIN
    INSERT INTO {log} (foo_id, reason) VALUES (OLD.id, 'Foo ' || OLD.id || ' deleted');
END;

CREATE TRIGGER "{track}_bar_ins" AFTER INSERT ON {bar} BEGIN
    INSERT INTO {log} (foo_id, reason) VALUES (NEW.foo_id, 'Bar ' || NEW.id || ' inserted');
END;
-- A Bar moved from one Foo to another changes both.
CREATE TRIGGER "{track}_bar_upd" AFTER UPDATE ON {bar}
WHEN OLD.id IS NOT NEW.id OR OLD.foo_id IS NOT NEW.foo_id OR OLD.name IS NOT NEW.name BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT f, 'Bar ' || NEW.id || ' updated' FROM (SELECT OLD.foo_id AS f UNION SELECT NEW.foo_id);
END;
CREATE TRIGGER "{track}_bar_del" AFTER DELETE ON {bar} BEGIN
    INSERT INTO {log} (foo_id, reason) VALUES (OLD.foo_id, 'Bar ' || OLD.id || ' deleted');
END;

-- A Zab whose Bar is already gone (deleted first in the same transaction) logs nothing: that
-- Bar's own deletion logged its Foo.
CREATE TRIGGER "{track}_zab_ins" AFTER INSERT ON {zab} BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT b.foo_id, 'Zab ' || NEW.id || ' inserted' FROM {bar} AS b WHERE b.id = NEW.bar_id;
END;
CREATE TRIGGER "{track}_zab_upd" AFTER UPDATE ON {zab}
WHEN OLD.id IS NOT NEW.id OR OLD.bar_id IS NOT NEW.bar_id OR OLD.name IS NOT NEW.name BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT DISTINCT b.foo_id, 'Zab ' || NEW.id || ' updated' FROM {bar} AS b WHERE b.id IN (OLD.bar_id, NEW.bar_id);
END;
CREATE TRIGGER "{track}_zab_del" AFTER DELETE ON {zab} BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT b.foo_id, 'Zab ' || OLD.id || ' deleted' FROM {bar} AS b WHERE b.id = OLD.bar_id;
END;

-- A new Baz reaches no Foo until it is linked (the link's trigger logs that), so no insert trigger.
CREATE TRIGGER "{track}_baz_upd" AFTER UPDATE ON {baz}
WHEN OLD.id IS NOT NEW.id OR OLD.name IS NOT NEW.name BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT DISTINCT b.foo_id, 'Baz ' || OLD.id || ' updated'
    FROM {links} AS l JOIN {zab} AS z ON z.id = l.zab_id JOIN {bar} AS b ON b.id = z.bar_id
    WHERE l.baz_id IN (OLD.id, NEW.id);
END;
-- Django deletes the links first (their triggers log the Foos); a raw DELETE that leaves them
-- behind is caught here.
CREATE TRIGGER "{track}_baz_del" AFTER DELETE ON {baz} BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT DISTINCT b.foo_id, 'Baz ' || OLD.id || ' deleted'
    FROM {links} AS l JOIN {zab} AS z ON z.id = l.zab_id JOIN {bar} AS b ON b.id = z.bar_id
    WHERE l.baz_id = OLD.id;
END;

CREATE TRIGGER "{track}_zab_bazs_ins" AFTER INSERT ON {links} BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT b.foo_id, 'link Zab ' || NEW.zab_id || ' -> Baz ' || NEW.baz_id || ' inserted'
    FROM {zab} AS z JOIN {bar} AS b ON b.id = z.bar_id WHERE z.id = NEW.zab_id;
END;
CREATE TRIGGER "{track}_zab_bazs_upd" AFTER UPDATE ON {links}
WHEN OLD.id IS NOT NEW.id OR OLD.zab_id IS NOT NEW.zab_id OR OLD.baz_id IS NOT NEW.baz_id BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT DISTINCT b.foo_id, 'link Zab ' || NEW.zab_id || ' -> Baz ' || NEW.baz_id || ' updated'
    FROM {zab} AS z JOIN {bar} AS b ON b.id = z.bar_id WHERE z.id IN (OLD.zab_id, NEW.zab_id);
END;
CREATE TRIGGER "{track}_zab_bazs_del" AFTER DELETE ON {links} BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT b.foo_id, 'link Zab ' || OLD.zab_id || ' -> Baz ' || OLD.baz_id || ' deleted'
    FROM {zab} AS z JOIN {bar} AS b ON b.id = z.bar_id WHERE z.id = OLD.zab_id;
END;

-- The row a REPLACE would delete silently: same id (and, for links, the same Zab and Baz).
CREATE TRIGGER "{track}_bar_rep_ins" BEFORE INSERT ON {bar} BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT b.foo_id, 'Bar ' || b.id || ' replaced' FROM {bar} AS b WHERE b.id = NEW.id;
END;
CREATE TRIGGER "{track}_bar_rep_upd" BEFORE UPDATE ON {bar} WHEN OLD.id IS NOT NEW.id BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT b.foo_id, 'Bar ' || b.id || ' replaced' FROM {bar} AS b WHERE b.id = NEW.id;
END;
CREATE TRIGGER "{track}_zab_rep_ins" BEFORE INSERT ON {zab} BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT b.foo_id, 'Zab ' || z.id || ' replaced' FROM {zab} AS z JOIN {bar} AS b ON b.id = z.bar_id
    WHERE z.id = NEW.id;
END;
CREATE TRIGGER "{track}_zab_rep_upd" BEFORE UPDATE ON {zab} WHEN OLD.id IS NOT NEW.id BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT b.foo_id, 'Zab ' || z.id || ' replaced' FROM {zab} AS z JOIN {bar} AS b ON b.id = z.bar_id
    WHERE z.id = NEW.id;
END;
-- A Baz replaced keeps its links (they name its id): every Foo that reaches the id changes.
CREATE TRIGGER "{track}_baz_rep_ins" BEFORE INSERT ON {baz} BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT DISTINCT b.foo_id, 'Baz ' || NEW.id || ' replaced'
    FROM {links} AS l JOIN {zab} AS z ON z.id = l.zab_id JOIN {bar} AS b ON b.id = z.bar_id
    WHERE l.baz_id = NEW.id;
END;
CREATE TRIGGER "{track}_baz_rep_upd" BEFORE UPDATE ON {baz} WHEN OLD.id IS NOT NEW.id BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT DISTINCT b.foo_id, 'Baz ' || NEW.id || ' replaced'
    FROM {links} AS l JOIN {zab} AS z ON z.id = l.zab_id JOIN {bar} AS b ON b.id = z.bar_id
    WHERE l.baz_id = NEW.id;
END;
CREATE TRIGGER "{track}_zab_bazs_rep_ins" BEFORE INSERT ON {links} BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT DISTINCT b.foo_id, 'link Zab ' || l.zab_id || ' -> Baz ' || l.baz_id || ' replaced'
    FROM {links} AS l JOIN {zab} AS z ON z.id = l.zab_id JOIN {bar} AS b ON b.id = z.bar_id
    WHERE l.id = NEW.id OR (l.zab_id = NEW.zab_id AND l.baz_id = NEW.baz_id);
END;
CREATE TRIGGER "{track}_zab_bazs_rep_upd" BEFORE UPDATE ON {links}
WHEN OLD.id IS NOT NEW.id OR OLD.zab_id IS NOT NEW.zab_id OR OLD.baz_id IS NOT NEW.baz_id BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT DISTINCT b.foo_id, 'link Zab ' || l.zab_id || ' -> Baz ' || l.baz_id || ' replaced'
    FROM {links} AS l JOIN {zab} AS z ON z.id = l.zab_id JOIN {bar} AS b ON b.id = z.bar_id
    WHERE l.id <> OLD.id AND (l.id = NEW.id OR (l.zab_id = NEW.zab_id AND l.baz_id = NEW.baz_id));
END;

-- Log rows deleted by anyone but prune() (which deletes only at or below the position recorded in
-- its 'pruned through N' marker, and only restart markers older than the newest) would hide changes:
-- a restart marker makes every body built before it unknown. One marker per statement: none is added
-- while the newest row already is one.
CREATE TRIGGER "{track}_log_del" AFTER DELETE ON {log}
WHEN (OLD.foo_id IS NOT NULL
      AND OLD.id > coalesce((SELECT max(CAST(substr(reason, 16) AS INTEGER)) FROM {log}
                             WHERE foo_id IS NULL AND reason LIKE 'pruned through %'), 0))
  OR (OLD.foo_id IS NULL AND OLD.reason NOT LIKE 'pruned through %'
      AND OLD.id > coalesce((SELECT max(id) FROM {log} WHERE foo_id IS NULL
                             AND reason NOT LIKE 'pruned through %'), 0))
BEGIN
    INSERT INTO {log} (foo_id, reason)
    SELECT NULL, 'log rows deleted by hand'
    WHERE NOT EXISTS (SELECT 1 FROM {log} WHERE id = (SELECT max(id) FROM {log})
                      AND reason = 'log rows deleted by hand');
END;
