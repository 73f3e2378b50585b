#!/usr/bin/env python3
"""Freshness lag of `preserve worker`, end to end through Django: writes go through the real Django
ORM (the models of tests/drf/drf_reference.py), and the lag is commit -> Django's connection reads a
new pre_serialized for every Foo the write reaches (what the seed's view serves: its serializer
returns that column). Runs against a throw-away PostgreSQL cluster it starts on a free loopback port,
or a SQLite file; the data is the `preserve seed --scale` demo, copied into PostgreSQL.

  bench/bench_freshness_django.py [--engine postgresql|sqlite] [--scale medium] [--workers 1]
                                  [--seconds 120] [--rate 20] [--burst]

Steady mode: --rate single-row ORM writes per second for --seconds, mixed (Baz renames, Zab<->Baz
links added and removed, Bar inserts, Foo renames); prints p50/p90/p99/max of the lag.
--burst: (1) with no worker running, renames the Baz that reaches the most Foos and times
`preserve warm --stale-only` (the same Foos); (2) the same with the workers running, until Django
reads a new body for each of them; (3) one transaction that deletes 5,000 links and adds 5,000,
likewise. Prints the ratio worker/warm and, with --workers 2, each worker's refreshes: their sum
against the Foos reached counts refreshes done twice.
After every run: `preserve verify` and `preserve status` (their last lines). Not a test: it prints
figures. Needs the system python3 with python3-django, -djangorestframework, -psycopg2.
"""
import argparse
import glob
import hashlib
import importlib.util
import os
import pwd
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """initdb + pg_ctl in a temporary folder (as the postgres user when root), trust on loopback."""

    def __init__(self):
        self.bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        self.dir = tempfile.mkdtemp(prefix="preserve-bench-pg.")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.as_user = os.geteuid() == 0
        if self.as_user:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.run("initdb", "-D", self.data, "-U", "preserve", "--auth", "trust", "-E", "UTF8")
        self.run("pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-w", "start",
                 "-o", "-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200" % (self.port, self.dir))

    def run(self, tool, *args):
        command = [os.path.join(self.bin, tool)] + list(args)
        if self.as_user:
            command = ["runuser", "-u", "postgres", "--"] + command
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    def url(self, db):
        return "postgresql://preserve@127.0.0.1:%d/%s" % (self.port, db)

    def stop(self):
        self.run("pg_ctl", "-D", self.data, "-m", "immediate", "stop")
        shutil.rmtree(self.dir, True)


def copy_into_postgres(sqlite_path, url):
    """Django's migrate made the tables (make-db); the demo's rows replace its sample."""
    import psycopg2
    src = sqlite3.connect(sqlite_path)
    dst = psycopg2.connect(url)
    cur = dst.cursor()
    cur.execute("TRUNCATE api_zab_bazs, api_zab, api_bar, api_baz, api_foo")
    import io
    for table, cols in (("api_foo", "id, name"), ("api_baz", "id, name"), ("api_bar", "id, name, foo_id"),
                        ("api_zab", "id, name, bar_id"), ("api_zab_bazs", "id, zab_id, baz_id")):
        buf = io.StringIO()
        for row in src.execute("SELECT %s FROM %s" % (cols, table)):
            buf.write("\t".join(str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r") for v in row) + "\n")
        buf.seek(0)
        cur.copy_from(buf, table, columns=[c.strip() for c in cols.split(",")])
        cur.execute("SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT max(id) FROM %s))" % (table, table))
    dst.commit()
    cur.execute("ANALYZE")
    dst.commit()
    dst.close()


def postgres_cpu_seconds():
    """CPU time of every postgres process so far, closed backends included (the server's share)."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)
            if not fields[0].endswith("(postgres"):
                continue
            values = fields[1].split()
            # utime + stime, and cutime + cstime: the postmaster's reaped backends (a connection
            # that closed took its CPU time there)
            total += (int(values[11]) + int(values[12]) + int(values[13]) + int(values[14])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def load_reference():
    spec = importlib.util.spec_from_file_location("drf_reference", os.path.join(HERE, "..", "tests", "drf", "drf_reference.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Workers:
    def __init__(self, binary, db, n):
        self.processes, self.outputs = [], []
        for _ in range(n):
            process = subprocess.Popen([binary, "worker", "--db", db], stderr=subprocess.PIPE, text=True)
            lines = []
            while True:
                line = process.stderr.readline()
                lines.append(line)
                if "caught up" in line or not line:
                    break
            threading.Thread(target=lambda p=process, out=lines: out.extend(p.stderr), daemon=True).start()
            self.processes.append(process)
            self.outputs.append(lines)

    def stop(self):
        """Each worker's (refreshes, done by another worker), from its summary line."""
        counts = []
        for process, lines in zip(self.processes, self.outputs):
            process.terminate()
            process.wait()
            time.sleep(0.2)  # the reader thread takes the last lines
            summary = [l for l in lines if l.startswith("worker: ")]
            m = re.search(r"(\d+) refresh\(es\), (\d+) found fresh already", summary[-1] if summary else "")
            counts.append((int(m.group(1)), int(m.group(2))) if m else (-1, -1))
        return counts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--engine", default="postgresql", choices=("postgresql", "sqlite"))
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--burst", action="store_true")
    args = parser.parse_args()
    binary = os.path.join(os.path.abspath(args.build), "preserve")
    folder = tempfile.mkdtemp(prefix="preserve-bench-django.")
    demo = os.path.join(folder, "demo.sqlite3")
    subprocess.run([binary, "seed", "--scale", args.scale, "--out", demo], check=True, stdout=subprocess.DEVNULL)
    postgres = None
    db = demo
    if args.engine == "postgresql":
        postgres = Postgres()
        postgres.run("createdb", "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "preserve", "bench")
        db = postgres.url("bench")
        subprocess.run([sys.executable, os.path.join(HERE, "..", "tests", "drf", "drf_reference.py"), "make-db", "--db", db],
                       check=True, stdout=subprocess.DEVNULL)
        copy_into_postgres(demo, db)
    try:
        run(args, binary, db)
    finally:
        if postgres:
            postgres.stop()
        shutil.rmtree(folder, True)


def run(args, binary, db):
    for step in (["track", "install"], ["warm"]):
        subprocess.run([binary] + step + ["--db", db], check=True, stdout=subprocess.DEVNULL)
    reference = load_reference()
    reference.setup_django("api", db)
    models = reference.get_models_and_serializers("api")
    Foo, Bar, Baz, Zab = models["Foo"], models["Bar"], models["Baz"], models["Zab"]
    Link = Zab.bazs.through
    from django.db import connection, transaction
    postgres = db.startswith("postgresql")

    def reached(baz=None, zab=None, foo=None):
        if foo is not None:
            return {foo}
        if zab is not None:
            return set(Zab.objects.filter(pk=zab).values_list("bar__foo_id", flat=True))
        return set(Link.objects.filter(baz_id=baz).values_list("zab__bar__foo_id", flat=True).distinct())

    def served(foos):
        """Per Foo, a digest of the pre_serialized Django reads now (its own connection)."""
        if not foos:
            return {}
        with connection.cursor() as cur:
            marks = ",".join(["%s"] * len(foos))
            if postgres:
                cur.execute("SELECT id, md5(CAST(pre_serialized AS text)) FROM api_foo WHERE id IN (%s)" % marks, list(foos))
                return dict(cur.fetchall())
            cur.execute("SELECT id, pre_serialized FROM api_foo WHERE id IN (%s)" % marks, list(foos))
            return {pk: hashlib.md5((body or "").encode()).hexdigest() for pk, body in cur.fetchall()}

    def row_versions(foos):
        """PostgreSQL: each Foo row's xmin. A burst writes no Foo row, so a new xmin is the
        worker's write of pre_serialized; far cheaper to poll than hashing every body."""
        with connection.cursor() as cur:
            cur.execute("SELECT id, CAST(xmin AS text) FROM api_foo WHERE id IN (%s)" % ",".join(["%s"] * len(foos)), list(foos))
            return dict(cur.fetchall())

    def wait_all_new(before, started, timeout=600):
        """`before`: served() or, on PostgreSQL, row_versions() of the Foos, taken before the write."""
        probe = row_versions if postgres else served
        remaining = dict(before)
        while remaining and time.monotonic() - started < timeout:
            now = probe(set(remaining))
            for foo in [f for f, old in remaining.items() if now.get(f) != old]:
                del remaining[foo]
            if remaining:
                time.sleep(0.005)
        return time.monotonic() - started, len(remaining)

    rng = random.Random(7)
    label = "%s %s" % ("PostgreSQL" if postgres else "SQLite", args.scale)
    if args.burst:
        top = Link.objects.values("baz_id").annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("zab__bar__foo_id", distinct=True)).order_by("-n")[0]
        baz = top["baz_id"]
        foos = reached(baz=baz)
        links = list(Link.objects.values_list("id", "zab_id", "baz_id")[:5000])
        free = []
        existing = set(Link.objects.values_list("zab_id", "baz_id"))
        zabs = list(Zab.objects.values_list("id", flat=True)[:5000])
        bazs = list(Baz.objects.values_list("id", flat=True))
        for zab in zabs:
            pair = (zab, rng.choice(bazs))
            if pair not in existing:
                free.append(pair)
                existing.add(pair)
        touched = set(Zab.objects.filter(pk__in=[l[1] for l in links] + [p[0] for p in free]).values_list("bar__foo_id", flat=True))

        def rename(n):
            Baz.objects.filter(pk=baz).update(name="burst-%d" % n)

        def migrate(n):
            with transaction.atomic():
                if n % 2:
                    Link.objects.filter(id__in=[l[0] for l in links]).delete()
                    Link.objects.bulk_create([Link(zab_id=z, baz_id=b) for z, b in free])
                else:
                    Link.objects.filter(zab_id__in=[p[0] for p in free], baz_id__in=[p[1] for p in free]).delete()
                    Link.objects.bulk_create([Link(id=i, zab_id=z, baz_id=b) for i, z, b in links])

        for name, write, affected in (("rename of the Baz in the most Foos", rename, foos),
                                      ("one transaction of 10,000 link writes", migrate, touched)):
            write(1)
            started, pg_before = time.monotonic(), postgres_cpu_seconds()
            before_children = os.times()
            subprocess.run([binary, "warm", "--stale-only", "--db", db], check=True, stdout=subprocess.DEVNULL)
            warm = time.monotonic() - started
            after_children = os.times()
            pg_cpu = postgres_cpu_seconds() - pg_before
            preserve_cpu = (after_children.children_user - before_children.children_user
                            + after_children.children_system - before_children.children_system)
            if postgres and affected:
                print("%s, %s: warm of %d Foos %.2f s = %.1f Foos/s; CPU per Foo: preserve %.1f ms, PostgreSQL %.1f ms"
                      % (label, name, len(affected), warm, len(affected) / warm, preserve_cpu * 1000 / len(affected),
                         pg_cpu * 1000 / len(affected)))
            workers = Workers(binary, db, args.workers)
            before = row_versions(affected) if postgres else served(affected)
            write(2)
            took, missed = wait_all_new(before, time.monotonic())
            counts = workers.stop()
            print("%s, burst: %s reaches %d Foos: warm --stale-only %.2f s, %d worker(s) %.2f s (%.2fx)%s; refreshes per worker %s"
                  % (label, name, len(affected), warm, args.workers, took, took / warm if warm else 0,
                     ", %d never new" % missed if missed else "", ", ".join("%d (+%d found fresh)" % c for c in counts)))
    else:
        workers = Workers(binary, db, args.workers)
        lags, pending, lock = [], [], threading.Lock()
        done = threading.Event()

        def poll():
            """One query a round over every Foo some pending write waits for (a query per write
            would cost the database more, the longer the queue, than the worker it measures)."""
            deadline = None
            while not done.is_set() or pending:
                if done.is_set():
                    deadline = deadline or time.monotonic() + 120
                    if time.monotonic() > deadline:
                        print("%d write(s) never served new within 120 s" % len(pending))
                        break
                with lock:
                    waiting = list(pending)
                if waiting:
                    now = served(set().union(*(before.keys() for _, before in waiting)))
                    seen = time.monotonic()
                    for item in waiting:
                        committed, before = item
                        if all(now.get(f) != old for f, old in before.items()):
                            lags.append(seen - committed)
                            with lock:
                                pending.remove(item)
                time.sleep(0.005)
            connection.close()

        poller = threading.Thread(target=poll)
        poller.start()
        last_link = Link.objects.order_by("-id").values_list("id", flat=True)[0]

        def random_link():
            """(zab, baz) of a link at a random id (ORDER BY random() over 850,000 rows would cost
            the database more than the writes it picks)."""
            while True:
                found = Link.objects.filter(id__gte=rng.randint(1, last_link)).order_by("id").values_list("zab_id", "baz_id")[:1]
                if found:
                    return found[0]

        foo_ids = list(Foo.objects.values_list("id", flat=True))
        zab_ids = list(Zab.objects.values_list("id", flat=True))
        baz_ids = list(Baz.objects.values_list("id", flat=True))
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < args.seconds:
            due = start + n / args.rate
            if time.monotonic() < due:
                time.sleep(due - time.monotonic())
            kind = n % 5
            if kind == 0:  # Baz rename: save() of one instance
                baz = random_link()[1]
                affected = reached(baz=baz)
                obj = Baz.objects.get(pk=baz)
                obj.name = "baz-lag-%d" % n
                write = obj.save
            elif kind == 1:  # link added: m2m add
                zab = Zab.objects.get(pk=rng.choice(zab_ids))
                baz = rng.choice(baz_ids)
                affected = reached(zab=zab.pk)
                write = lambda zab=zab, baz=baz: zab.bazs.add(baz)
            elif kind == 2:  # link removed: m2m remove
                link = random_link()
                zab = Zab.objects.get(pk=link[0])
                affected = reached(zab=zab.pk)
                write = lambda zab=zab, baz=link[1]: zab.bazs.remove(baz)
            elif kind == 3:  # Bar inserted
                foo = rng.choice(foo_ids)
                affected = {foo}
                write = lambda foo=foo, n=n: Bar.objects.create(name="bar-lag-%d" % n, foo_id=foo)
            else:  # Foo rename
                obj = Foo.objects.get(pk=rng.choice(foo_ids))
                obj.name = "foo-lag-%d" % n
                affected = {obj.pk}
                write = lambda obj=obj: obj.save(update_fields=["name"])
            before = served(affected)
            write()
            committed = time.monotonic()
            if before:
                with lock:
                    pending.append((committed, before))
            n += 1
        done.set()
        poller.join(timeout=120)
        counts = workers.stop()
        lags.sort()
        if len(lags) > 2:
            q = statistics.quantiles(lags, n=100)
            print("%s, %d worker(s), %d ORM writes at %.0f/s over %.0f s: lag p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms (%d measured); refreshes per worker %s"
                  % (label, args.workers, n, args.rate, args.seconds, q[49] * 1000, q[89] * 1000, q[98] * 1000, lags[-1] * 1000,
                     len(lags), ", ".join("%d (+%d found fresh)" % c for c in counts)))
    connection.close()
    verify = subprocess.run([binary, "verify", "--db", db], capture_output=True, text=True)
    print("after the run: verify: %s" % (verify.stdout.strip().splitlines() or ["(no output)"])[-1])
    status = subprocess.run([binary, "status", "--db", db], capture_output=True, text=True)
    print("status: %s" % " / ".join(status.stdout.strip().splitlines()[-2:]))


if __name__ == "__main__":
    sys.exit(main())
