#!/usr/bin/env python3
"""Freshness lag of `preserve worker`: a write commits, then what Django serves (the Foo's
pre_serialized column) is polled until the new bytes are there, for every Foo the write reaches.

  bench/bench_freshness.py [--build DIR] [--seconds S] [--rate N] [--scale medium] [--db URL]

Without --db a demo SQLite database of --scale is written to a temporary folder; with a
postgresql:// URL the database must already hold Django's tables and data (tests/drf/drf_reference.py
make-db writes them). Writes are single-row statements through sqlite3/psycopg2 (what the ORM sends
for save() and m2m add/remove), --rate per second (default 20) for --seconds (default 120), mixed:
Baz renames, links added and removed, Bar inserts, Foo renames. Prints p50/p90/p99/max of the lag
(commit -> the last reached Foo's column holds a new body), then checks `preserve verify`.
Not a test: it prints figures.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def connect(db):
    if db.startswith("postgresql://"):
        import psycopg2
        conn = psycopg2.connect(db)
        conn.autocommit = True
        return conn, "%s"
    import sqlite3
    conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    return conn, "?"


def rows(conn, sql, params=()):
    cur = conn.cursor()
    cur.execute(sql, params)
    result = cur.fetchall()
    cur.close()
    return result


def reached(conn, p, baz=None, zab=None, bar=None, foo=None):
    if foo is not None:
        return [foo]
    if bar is not None:
        return [r[0] for r in rows(conn, "SELECT foo_id FROM api_bar WHERE id = %s" % p, (bar,))]
    if zab is not None:
        return [r[0] for r in rows(conn, "SELECT b.foo_id FROM api_zab z JOIN api_bar b ON b.id = z.bar_id WHERE z.id = %s" % p, (zab,))]
    return [r[0] for r in rows(conn, "SELECT DISTINCT b.foo_id FROM api_zab_bazs l JOIN api_zab z ON z.id = l.zab_id "
                                     "JOIN api_bar b ON b.id = z.bar_id WHERE l.baz_id = %s" % p, (baz,))]


def columns(conn, p, foos):
    if not foos:
        return {}
    marks = ",".join([p] * len(foos))
    return {r[0]: r[1] for r in rows(conn, "SELECT id, CAST(pre_serialized AS TEXT) FROM api_foo WHERE id IN (%s)" % marks, tuple(foos))}


def one_write(conn, p, rng, n):
    """Picks one single-row write: the Foos it reaches (their column must change) and a function
    that commits it."""
    kind = n % 5
    if kind == 0:  # Baz rename
        baz = rows(conn, "SELECT baz_id FROM api_zab_bazs ORDER BY random() LIMIT 1")[0][0]
        foos = reached(conn, p, baz=baz)
        sql, params = "UPDATE api_baz SET name = %s WHERE id = %s" % (p, p), ("baz-lag-%d" % n, baz)
    elif kind == 1:  # link added
        zab = rows(conn, "SELECT id FROM api_zab ORDER BY random() LIMIT 1")[0][0]
        baz = rows(conn, "SELECT id FROM api_baz WHERE id NOT IN (SELECT baz_id FROM api_zab_bazs WHERE zab_id = %s) "
                         "ORDER BY random() LIMIT 1" % p, (zab,))[0][0]
        foos = reached(conn, p, zab=zab)
        sql, params = "INSERT INTO api_zab_bazs (zab_id, baz_id) VALUES (%s, %s)" % (p, p), (zab, baz)
    elif kind == 2:  # link removed
        link, zab = rows(conn, "SELECT id, zab_id FROM api_zab_bazs ORDER BY random() LIMIT 1")[0]
        foos = reached(conn, p, zab=zab)
        sql, params = "DELETE FROM api_zab_bazs WHERE id = %s" % p, (link,)
    elif kind == 3:  # Bar inserted
        foo = rows(conn, "SELECT id FROM api_foo ORDER BY random() LIMIT 1")[0][0]
        foos = [foo]
        sql, params = "INSERT INTO api_bar (name, foo_id) VALUES (%s, %s)" % (p, p), ("bar-lag-%d" % n, foo)
    else:  # Foo rename
        foo = rows(conn, "SELECT id FROM api_foo ORDER BY random() LIMIT 1")[0][0]
        foos = [foo]
        sql, params = "UPDATE api_foo SET name = %s WHERE id = %s" % (p, p), ("foo-lag-%d" % n, foo)

    def commit():
        cur = conn.cursor()
        cur.execute(sql, params)
        cur.close()
    return foos, commit


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build"))
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--db")
    args = parser.parse_args()
    binary = os.path.join(os.path.abspath(args.build), "preserve")
    db = args.db
    if not db:
        db = os.path.join(tempfile.mkdtemp(prefix="preserve-bench-freshness."), "demo.sqlite3")
        subprocess.run([binary, "seed", "--scale", args.scale, "--out", db], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([binary, "track", "install", "--db", db], check=True, stdout=subprocess.DEVNULL)
    worker = subprocess.Popen([binary, "worker", "--db", db], stderr=subprocess.PIPE, text=True)
    while "caught up" not in worker.stderr.readline():
        pass
    threading.Thread(target=lambda: [None for _ in worker.stderr], daemon=True).start()

    writer, p = connect(db)
    rng = random.Random(7)
    lags, pending, lock = [], [], threading.Lock()
    done = threading.Event()

    def poll():
        reader, _ = connect(db)  # a connection per thread (sqlite3 wants it so)
        deadline = None
        while not done.is_set() or pending:
            if done.is_set():
                deadline = deadline or time.monotonic() + 30
                if time.monotonic() > deadline:
                    print("%d write(s) never reached the column within 30 s" % len(pending))
                    return
            with lock:
                waiting = list(pending)
            for item in waiting:
                committed, before = item
                now_columns = columns(reader, p, list(before))
                if all(now_columns.get(foo) != old for foo, old in before.items()):
                    lags.append(time.monotonic() - committed)
                    with lock:
                        pending.remove(item)
            time.sleep(0.002)

    poller = threading.Thread(target=poll)
    poller.start()
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < args.seconds:
        due = start + n / args.rate
        if time.monotonic() < due:
            time.sleep(due - time.monotonic())
        foos, commit = one_write(writer, p, rng, n)
        before = columns(writer, p, foos)  # the bodies before the write
        commit()
        committed = time.monotonic()
        if before:
            with lock:
                pending.append((committed, before))
        n += 1
    done.set()
    poller.join(timeout=60)
    worker.terminate()
    worker.wait()
    lags.sort()
    if lags:
        q = statistics.quantiles(lags, n=100)
        print("%s, %d writes at %.0f/s over %.0f s: lag p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms (%d measured)"
              % ("PostgreSQL" if db.startswith("postgresql") else "SQLite " + args.scale, n, args.rate, args.seconds,
                 q[49] * 1000, q[89] * 1000, q[98] * 1000, lags[-1] * 1000, len(lags)))
    verify = subprocess.run([binary, "verify", "--db", db], capture_output=True, text=True)
    print("after the run: %s" % (verify.stdout.strip().splitlines() or ["(no output)"])[-1])
    status = subprocess.run([binary, "status", "--db", db], capture_output=True, text=True)
    print("status: %s" % status.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
