#!/usr/bin/python3
"""Reference implementation for Preserve's C++ tests: the real Django ORM + real DRF.

Run with Debian's system interpreter (python3-django 3.2, python3-djangorestframework 3.14,
python3-psycopg2 for PostgreSQL).  Self-contained: the Django app (models + migrations) is
generated in a temporary directory on every run, so nothing is ever written next to this
script or into the repository.

Sub-commands (see --help of each):
  make-db       migrate + fill a deterministic, nasty data set through the ORM
  render        print the exact bytes DRF's JSONRenderer produces for one Foo or the list
  sqlmigrate    print the DDL of the initial migration (sqlite or postgresql)
  count-queries print how many SQL queries DRF needs to serialize one Foo
  order-report  check whether DRF's nested lists come back in ascending id order
  serve         the real Django + DRF API over HTTP on 127.0.0.1 (reference for `preserve serve`)

--db is either a SQLite file path or postgresql://user:password@host:port/dbname
"""

import argparse
import atexit
import os
import random
import shutil
import sys
import time
import tempfile
from urllib.parse import parse_qsl, unquote, urlsplit

sys.dont_write_bytecode = True  # never leave __pycache__ anywhere

APP_MODULE = "preserve_drf_reference_app"

MODELS_PY = '''\
from django.db import models


class Foo(models.Model):
    name = models.CharField(max_length=50)
    pre_serialized = models.JSONField(blank=True, null=True)


class Bar(models.Model):
    foo = models.ForeignKey(Foo, on_delete=models.DO_NOTHING)
    name = models.CharField(max_length=50)


class Baz(models.Model):
    name = models.CharField(max_length=50)


class Zab(models.Model):
    bar = models.ForeignKey(Bar, on_delete=models.DO_NOTHING)
    name = models.CharField(max_length=50)
    bazs = models.ManyToManyField(Baz)
'''

APPS_PY = '''\
from django.apps import AppConfig


class PreserveReferenceConfig(AppConfig):
    name = {module!r}
    label = {label!r}
    default_auto_field = "django.db.models.AutoField"
'''


def die(msg, code=2):
    sys.stderr.write("drf_reference: %s\n" % msg)
    sys.exit(code)


# --------------------------------------------------------------------------------------------
# Django bootstrap
# --------------------------------------------------------------------------------------------

def database_settings(db):
    """Translate --db (SQLite path or postgresql:// URL) into a Django DATABASES entry."""
    if db is None:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    if db.startswith(("postgresql://", "postgres://")):
        u = urlsplit(db)
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            die("PostgreSQL URL given but psycopg2 is missing (apt-get install python3-psycopg2)")
        conf = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(u.path.lstrip("/")),
            "USER": unquote(u.username or ""),
            "PASSWORD": unquote(u.password or ""),
            "HOST": unquote(u.hostname or ""),
            "PORT": str(u.port or ""),
        }
        options = dict(parse_qsl(u.query))
        if options:
            conf["OPTIONS"] = options
        return conf
    if "://" in db:
        die("unsupported --db URL scheme: %r (use a SQLite path or postgresql://...)" % db)
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.abspath(db)}


def setup_django(app_label, db=None, vendor=None, extra_settings=None):
    """Generate the app package in a temp dir, configure settings, django.setup(), and
    create the initial migration with the real `makemigrations`.  `extra_settings` (a dict)
    adds to or replaces the settings below (the `serve` command's project settings)."""
    if not app_label.isidentifier():
        die("--app-label must be a valid Python identifier: %r" % app_label)

    tmp = tempfile.mkdtemp(prefix="preserve-drf-ref-")
    atexit.register(shutil.rmtree, tmp, True)
    pkg = os.path.join(tmp, APP_MODULE)
    os.makedirs(os.path.join(pkg, "migrations"))
    for rel, text in (
        ("__init__.py", ""),
        ("apps.py", APPS_PY.format(module=APP_MODULE, label=app_label)),
        ("models.py", MODELS_PY),
        (os.path.join("migrations", "__init__.py"), ""),
    ):
        with open(os.path.join(pkg, rel), "w", encoding="utf-8") as f:
            f.write(text)
    sys.path.insert(0, tmp)

    if vendor == "postgresql" and db is None:
        # only used by `sqlmigrate --vendor postgresql` without --db (offline, see there)
        dbconf = {"ENGINE": "django.db.backends.postgresql", "NAME": "preserve_offline",
                  "HOST": "/nonexistent", "PORT": "1"}
    else:
        dbconf = database_settings(db)

    from django.conf import settings
    configured = dict(
        DEBUG=False,
        SECRET_KEY="preserve-drf-reference",
        INSTALLED_APPS=[APP_MODULE + ".apps.PreserveReferenceConfig"],
        DATABASES={"default": dbconf},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_TZ=True,
        TIME_ZONE="UTC",
        # keep DRF away from django.contrib.auth (not installed)
        REST_FRAMEWORK={
            "UNAUTHENTICATED_USER": None,
            "DEFAULT_AUTHENTICATION_CLASSES": [],
            "DEFAULT_PERMISSION_CLASSES": [],
        },
    )
    configured.update(extra_settings or {})
    settings.configure(**configured)
    import django
    django.setup()

    from django.core.management import call_command
    import warnings
    with warnings.catch_warnings():
        # makemigrations checks the migration history if it can connect; offline that is noise
        warnings.filterwarnings("ignore", message="Got an error checking a consistent",
                                category=RuntimeWarning)
        call_command("makemigrations", app_label, verbosity=0, interactive=False)
    if not os.path.exists(os.path.join(pkg, "migrations", "0001_initial.py")):
        die("makemigrations did not produce 0001_initial.py in %s" % pkg)
    return tmp


def get_models_and_serializers(app_label):
    from django.apps import apps
    from rest_framework import serializers

    Foo = apps.get_model(app_label, "Foo")
    Bar = apps.get_model(app_label, "Bar")
    Baz = apps.get_model(app_label, "Baz")
    Zab = apps.get_model(app_label, "Zab")

    class BazSerializer(serializers.ModelSerializer):
        class Meta:
            model = Baz
            fields = ("name",)

    class ZabSerializer(serializers.ModelSerializer):
        bazs = BazSerializer(many=True)

        class Meta:
            model = Zab
            fields = ("name", "bazs")

    class BarSerializer(serializers.ModelSerializer):
        zab_set = ZabSerializer(many=True)

        class Meta:
            model = Bar
            fields = ("name", "zab_set")

    class FooSerializer(serializers.ModelSerializer):
        bar_set = BarSerializer(many=True)

        class Meta:
            model = Foo
            fields = ("name", "bar_set")

    return {"Foo": Foo, "Bar": Bar, "Baz": Baz, "Zab": Zab, "FooSerializer": FooSerializer}


def render_bytes(data):
    from rest_framework.renderers import JSONRenderer
    return JSONRenderer().render(data)


def check_tables_exist(app_label):
    from django.db import connection
    names = set(connection.introspection.table_names())
    want = ["%s_%s" % (app_label, t) for t in ("foo", "bar", "baz", "zab", "zab_bazs")]
    missing = [t for t in want if t not in names]
    if missing:
        die("database has no table(s) %s (run make-db first / wrong --app-label?)"
            % ", ".join(missing))


# --------------------------------------------------------------------------------------------
# Data set
# --------------------------------------------------------------------------------------------

ALL_C0 = "".join(chr(i) for i in range(1, 32)) + "\x7f"   # 32 code points, no NUL (PG forbids it)

HARD_NAMES = [
    "",                                                   # empty
    'Quote "double" and \'single\'',
    "back\\slash \\n \\u2028 \\\\ literal",
    "tab\there",
    "new\nline",
    "cr\rand crlf\r\n",
    "bs\b ff\f",
    "ctl \x01 \x1f del \x7f nel \x85",
    "LS\u2028PS\u2029",
    "\u2028",
    "slash / </script> <b>&amp; 'x'",
    "Ünïcödé ñ ß € 中文 日本語 한국어 Ελληνικά кириллица",
    "emoji 😀 🎉 👍🏽 𝄞 (4-byte UTF-8)",
    "ZWJ 👩\u200d💻 flag 🇫🇷",
    "ABCDEFGHIJ" * 5,                                     # exactly 50 ASCII
    "😀" * 50,                                            # exactly 50 code points, 200 bytes
    "é" * 25 + "a" * 24 + "€",                            # exactly 50 code points, mixed widths
    "\"\\/<'\t\n" * 7 + "\u2028",                         # exactly 50, all escapes
    ALL_C0 + "0123456789" + "abcdefgh",                   # exactly 50, every control char
    " leading and trailing spaces ",
    "combining e\u0301 nbsp\u00a0 zwsp\u200b bom\ufeff",
    "null",
    "0",
    "{\"json\": [1, 2]}",
    "surrogate-range ok: \ud7ff \ue000 \uffff \U0010ffff",
]

RANDOM_PIECES = [
    "a", "b", "z", "Q", " ", "-", "_", "1", "9", "é", "ß", "中", "ж", "😀", "🎉", "𝄞", '"', "\\",
    "/", "<", ">", "'", "&", "\t", "\n", "\r", "\b", "\f", "\x01", "\x1f", "\x7f", "\u2028",
    "\u2029", "\u00a0", "\x85",
]


def random_name(rng, prefix):
    body = "".join(rng.choice(RANDOM_PIECES) for _ in range(rng.randint(0, 30)))
    return (prefix + body)[:50]


def check_name(n):
    assert len(n) <= 50, (len(n), n)
    assert "\x00" not in n


def make_db(args):
    if not args.db.startswith(("postgresql://", "postgres://")):
        path = os.path.abspath(args.db)
        if os.path.exists(path) and os.path.getsize(path) > 0:
            if not args.force:
                die("%s exists; use --force to overwrite" % path)
            os.remove(path)
    setup_django(args.app_label, args.db)
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0, interactive=False)
    m = get_models_and_serializers(args.app_label)
    Foo, Bar, Baz, Zab = m["Foo"], m["Bar"], m["Baz"], m["Zab"]
    if Foo.objects.exists() or Bar.objects.exists() or Zab.objects.exists() or Baz.objects.exists():
        if not args.force:
            die("database already contains data; use --force (drops and re-migrates the app)")
        call_command("migrate", args.app_label, "zero", verbosity=0, interactive=False)
        call_command("migrate", verbosity=0, interactive=False)

    for n in HARD_NAMES:
        check_name(n)
    rng = random.Random(args.seed)

    with transaction.atomic():
        # ---- Baz pool (40). The first len(HARD_NAMES) get the hard names (all of them linked
        # below), one duplicate name, the rest random; 3 bazs stay unused.
        hard = list(HARD_NAMES)
        rng.shuffle(hard)
        baz_names = hard + ["dup baz name", "dup baz name"]
        while len(baz_names) < 40:
            baz_names.append(random_name(rng, "baz %d " % len(baz_names)))
        for n in baz_names:
            check_name(n)
        bazs = [Baz.objects.create(name=n) for n in baz_names]
        unused_bazs = set(rng.sample(range(len(hard) + 2, 40), 3))

        # ---- 8 Foos, created in order (ids 1..8 on a fresh db)
        foo_names = ["no bars", "one bar, no zabs", "one zab, no bazs"]
        hard = list(HARD_NAMES)
        rng.shuffle(hard)
        foo_names += hard[:5]
        foos = [Foo.objects.create(name=n) for n in foo_names]

        # ---- Bars: plan per foo, then create in shuffled order (ids interleaved across foos)
        bar_plan = []                      # list of (foo index, name)
        bar_plan.append((1, "the only bar (no zabs)"))
        bar_plan.append((2, "the only bar (one zab without bazs)"))
        hard = list(HARD_NAMES)
        rng.shuffle(hard)
        hi = 0
        for fi in range(3, 8):
            nbars = 4 if fi == 7 else rng.randint(1, 3)  # foo #8 is the big one
            for _ in range(nbars):
                name = hard[hi % len(hard)] if rng.random() < 0.7 else random_name(rng, "bar ")
                hi += 1
                bar_plan.append((fi, name))
        rng.shuffle(bar_plan)
        bars = []                          # (foo index, Bar)
        for fi, name in bar_plan:
            check_name(name)
            bars.append((fi, Bar.objects.create(foo=foos[fi], name=name)))

        # ---- Zabs: plan per bar, create in shuffled order across bars/foos
        zab_plan = []                      # list of (bar object, name, wants_bazs)
        hard = list(HARD_NAMES)
        rng.shuffle(hard)
        hi = 0
        for fi, bar in bars:
            if fi == 1:
                continue                   # bar without zabs
            if fi == 2:
                zab_plan.append((bar, "zab without bazs", False))
                continue
            nzabs = rng.randint(3, 5) if fi == 7 else rng.randint(1, 4)
            for _ in range(nzabs):
                name = hard[hi % len(hard)] if hi < len(hard) else random_name(rng, "zab ")
                hi += 1
                zab_plan.append((bar, name, True))
        rng.shuffle(zab_plan)
        zabs = []                          # (Zab, wants_bazs)
        for bar, name, wants in zab_plan:
            check_name(name)
            zabs.append((Zab.objects.create(bar=bar, name=name), wants))

        # ---- m2m links: choose a set per zab, then add one link at a time in a globally
        # shuffled order (so through-table ids follow neither zab nor baz id order).
        usable = [i for i in range(len(bazs)) if i not in unused_bazs]
        links = []
        with_bazs = [z for z, wants in zabs if wants]
        for z in with_bazs:
            k = rng.choice([1, 2, 3, 5, 6, 8])
            for bi in rng.sample(usable, k):
                links.append((z, bi))
        # every hard-named (and every non-unused) baz appears at least once
        covered = {bi for _, bi in links}
        for bi in usable:
            if bi not in covered:
                z = rng.choice(with_bazs)
                if (z, bi) not in links:
                    links.append((z, bi))
        rng.shuffle(links)
        for z, bi in links:
            z.bazs.add(bazs[bi])

    counts = (Foo.objects.count(), Bar.objects.count(), Zab.objects.count(), Baz.objects.count(),
              Zab.bazs.through.objects.count())
    sys.stderr.write(
        "make-db: %s (%s, app label %r, seed %d): %d foos, %d bars, %d zabs, %d bazs, "
        "%d zab-baz links\n" % ((args.db, connection.vendor, args.app_label, args.seed) + counts))

# --------------------------------------------------------------------------------------------
# render / count-queries / sqlmigrate
# --------------------------------------------------------------------------------------------

def render(args):
    setup_django(args.app_label, args.db)
    check_tables_exist(args.app_label)
    m = get_models_and_serializers(args.app_label)
    Foo, FooSerializer = m["Foo"], m["FooSerializer"]
    started = time.perf_counter()
    if args.list:
        data = FooSerializer(Foo.objects.order_by("pk"), many=True).data
    else:
        try:
            foo = Foo.objects.get(pk=args.pk)
        except Foo.DoesNotExist:
            sys.stderr.write("drf_reference: no Foo with pk %d\n" % args.pk)
            sys.exit(3)
        data = FooSerializer(foo).data
    out = render_bytes(data)
    if args.time:
        # Serialization and rendering only, without Python's and Django's start-up (for bench/).
        sys.stderr.write("seconds=%.6f bytes=%d\n" % (time.perf_counter() - started, len(out)))
    if args.out:
        with open(args.out, "wb") as f:
            f.write(out)
    else:
        sys.stdout.buffer.write(out)
        sys.stdout.buffer.flush()


def count_queries(args):
    setup_django(args.app_label, args.db)
    check_tables_exist(args.app_label)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    m = get_models_and_serializers(args.app_label)
    Foo, FooSerializer = m["Foo"], m["FooSerializer"]
    try:
        foo = Foo.objects.get(pk=args.pk)     # not counted: only what DRF does afterwards
    except Foo.DoesNotExist:
        sys.stderr.write("drf_reference: no Foo with pk %d\n" % args.pk)
        sys.exit(3)
    with CaptureQueriesContext(connection) as ctx:
        render_bytes(FooSerializer(foo).data)
    print(len(ctx.captured_queries))
    if args.verbose:
        for q in ctx.captured_queries:
            sys.stderr.write(q["sql"] + "\n")


def order_report(args):
    """Does DRF's (unordered) related-manager iteration come back in ascending id order?

    DRF's ListSerializer iterates `manager.all()`, which has no ORDER BY; the order is whatever
    the database's plan yields.  Replays exactly those querysets, checks that the names match
    DRF's real output, and compares the id order with ascending id / through-table id order."""
    setup_django(args.app_label, args.db)
    check_tables_exist(args.app_label)
    m = get_models_and_serializers(args.app_label)
    Foo, Zab, FooSerializer = m["Foo"], m["Zab"], m["FooSerializer"]
    Through = Zab.bazs.through
    stats = {"bar_set": [0, 0], "zab_set": [0, 0], "bazs": [0, 0], "bazs==through": [0, 0]}

    def tally(key, ok):
        stats[key][0 if ok else 1] += 1

    for foo in Foo.objects.order_by("pk"):
        drf = FooSerializer(foo).data
        bars = list(foo.bar_set.all())
        assert [b.name for b in bars] == [d["name"] for d in drf["bar_set"]]
        ids = [b.pk for b in bars]
        tally("bar_set", ids == sorted(ids))
        for bar, dbar in zip(bars, drf["bar_set"]):
            zabs = list(bar.zab_set.all())
            assert [z.name for z in zabs] == [d["name"] for d in dbar["zab_set"]]
            ids = [z.pk for z in zabs]
            tally("zab_set", ids == sorted(ids))
            for zab, dzab in zip(zabs, dbar["zab_set"]):
                bazs = list(zab.bazs.all())
                assert [b.name for b in bazs] == [d["name"] for d in dzab["bazs"]]
                ids = [b.pk for b in bazs]
                through = list(Through.objects.filter(zab=zab).order_by("pk")
                               .values_list("baz_id", flat=True))
                asc = ids == sorted(ids)
                tally("bazs", asc)
                tally("bazs==through", ids == through)
                if args.verbose or (not asc and len(ids) > 1):
                    sys.stdout.write("zab %d: DRF baz ids %s, through-id order %s\n"
                                     % (zab.pk, ids, through))
    for key, (ok, bad) in stats.items():
        what = "same as through-table id order" if key == "bazs==through" else "ascending id"
        sys.stdout.write("%-14s %3d lists in %s, %3d not\n" % (key, ok, what, bad))


def sqlmigrate(args):
    vendor = args.vendor
    if args.db:
        dbvendor = "postgresql" if args.db.startswith(("postgresql://", "postgres://")) else "sqlite"
        if vendor and vendor != dbvendor:
            die("--vendor %s contradicts --db" % vendor)
        vendor = dbvendor
    vendor = vendor or "sqlite"
    setup_django(args.app_label, args.db, vendor=vendor)
    from django.core.management import call_command
    from django.db import connection

    if vendor == "postgresql" and not args.db:
        # Offline: Django's sqlmigrate wants a live connection only to (a) read the
        # django_migrations table and (b) open a transaction around the collected SQL.
        # Neither changes the generated DDL; emulate both without connecting.
        from django.db.migrations.recorder import MigrationRecorder
        MigrationRecorder.has_table = lambda self: False
        connection.features.can_rollback_ddl = False
        import io
        buf = io.StringIO()
        call_command("sqlmigrate", args.app_label, "0001", stdout=buf)
        sys.stdout.write("BEGIN;\n" + buf.getvalue() + "COMMIT;\n")
    else:
        call_command("sqlmigrate", args.app_label, "0001")


# --------------------------------------------------------------------------------------------
# serve: the real Django + DRF stack over HTTP (the reference for the built-in server)
# --------------------------------------------------------------------------------------------

URLCONF_MODULE = "preserve_drf_reference_urls"

# What `django-admin startproject` (3.2) lists, minus the middleware that needs contrib apps
# and their tables: SessionMiddleware (django.contrib.sessions), AuthenticationMiddleware
# (django.contrib.auth + contenttypes), MessageMiddleware (django.contrib.messages).
# CsrfViewMiddleware stays: it needs no table, and DRF's views are csrf_exempt anyway.
SERVE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]


def serve_settings(args):
    rest = {
        "UNAUTHENTICATED_USER": None,
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        # DRF's default parsers (JSON, form, multipart): what an API that does not set them has.
    }
    if args.page_size:
        rest["DEFAULT_PAGINATION_CLASS"] = "rest_framework.pagination.PageNumberPagination"
        rest["PAGE_SIZE"] = args.page_size
    return {
        "ALLOWED_HOSTS": ["*"],
        "ROOT_URLCONF": URLCONF_MODULE,
        "MIDDLEWARE": SERVE_MIDDLEWARE,
        "REST_FRAMEWORK": rest,
    }


def install_urlconf(app_label):
    """api/foos/ and api/foos/<pk>/ as explicit paths (a DefaultRouter would add an API root).
    The suffixes are the ones a router passes, so OPTIONS names the views as a router would."""
    import types
    from django.urls import path
    from rest_framework import viewsets

    m = get_models_and_serializers(app_label)
    Foo, FooSerializer = m["Foo"], m["FooSerializer"]

    class FooViewSet(viewsets.ReadOnlyModelViewSet):
        queryset = Foo.objects.order_by("pk")
        serializer_class = FooSerializer

    FooViewSet.__doc__ = None   # no description in OPTIONS, as a view without a docstring
    module = types.ModuleType(URLCONF_MODULE)
    module.urlpatterns = [
        path("api/foos/", FooViewSet.as_view({"get": "list"}, suffix="List", detail=False)),
        path("api/foos/<pk>/", FooViewSet.as_view({"get": "retrieve"}, suffix="Instance",
                                                   detail=True)),
    ]
    sys.modules[URLCONF_MODULE] = module


def serve(args):
    setup_django(args.app_label, args.db, extra_settings=serve_settings(args))
    check_tables_exist(args.app_label)
    install_urlconf(args.app_label)

    import socketserver
    from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer
    from django.core.wsgi import get_wsgi_application

    class HeadStrippingHandler(ServerHandler):
        # wsgiref (like Django's runserver in 3.2) would send the body on HEAD; every production
        # WSGI server (gunicorn, uWSGI, mod_wsgi) drops it and keeps the headers, as RFC 9110 asks.
        def write(self, data):
            if self.environ.get("REQUEST_METHOD") == "HEAD":
                if not self.headers_sent:
                    self.send_headers()
                return
            super().write(data)

    class RequestHandler(WSGIRequestHandler):
        def handle(self):
            # WSGIRequestHandler.handle, with the handler class above
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.send_error(414)
                return
            if not self.parse_request():
                return
            handler = HeadStrippingHandler(self.rfile, self.wfile, self.get_stderr(),
                                           self.get_environ(), multithread=True)
            handler.request_handler = self
            handler.run(self.server.get_app())

        def log_message(self, format, *log_args):
            if args.verbose:
                super().log_message(format, *log_args)

    class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
        daemon_threads = True
        allow_reuse_address = True

    server = ThreadingWSGIServer(("127.0.0.1", args.port), RequestHandler)
    server.set_app(get_wsgi_application())
    # Tests stop the server with SIGTERM: exit through SystemExit, so that the `finally` below and
    # setup_django's atexit (which removes the generated app's temporary directory) run.
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.stdout.write("ready http://127.0.0.1:%d/\n" % server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


# --------------------------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(
        description="Reference output of the real Django ORM + DRF for Preserve's tests.",
        epilog="--db: SQLite file path or postgresql://user:password@host:port/dbname")
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp, db_required=True):
        sp.add_argument("--db", required=db_required,
                        help="SQLite file path or postgresql://user:password@host:port/dbname")
        sp.add_argument("--app-label", default="api", help="Django app label (default: api)")

    sp = sub.add_parser("make-db", help="migrate and fill a deterministic test data set")
    common(sp)
    sp.add_argument("--seed", type=int, default=1)
    sp.add_argument("--force", action="store_true",
                    help="SQLite: delete an existing file; PG: migrate the app to zero first")
    sp.set_defaults(func=make_db)

    sp = sub.add_parser("render", help="exact DRF JSONRenderer bytes for one Foo or the list")
    common(sp)
    g = sp.add_mutually_exclusive_group(required=True)
    g.add_argument("--pk", type=int)
    g.add_argument("--list", action="store_true")
    sp.add_argument("--out", help="write to this file instead of stdout")
    sp.add_argument("--time", action="store_true",
                    help="print seconds spent serializing and rendering to stderr")
    sp.set_defaults(func=render)

    sp = sub.add_parser("sqlmigrate", help="DDL of the initial migration")
    common(sp, db_required=False)
    sp.add_argument("--vendor", choices=("sqlite", "postgresql"))
    sp.set_defaults(func=sqlmigrate)

    sp = sub.add_parser("count-queries", help="number of SQL queries DRF needs for one Foo")
    common(sp)
    sp.add_argument("--pk", type=int, required=True)
    sp.add_argument("-v", "--verbose", action="store_true", help="print the SQL to stderr")
    sp.set_defaults(func=count_queries)

    sp = sub.add_parser("order-report",
                        help="check whether DRF's nested lists come back in ascending id order")
    common(sp)
    sp.add_argument("-v", "--verbose", action="store_true")
    sp.set_defaults(func=order_report)

    sp = sub.add_parser("serve", help="serve api/foos/ and api/foos/<pk>/ with real Django + DRF")
    common(sp)
    sp.add_argument("--port", type=int, required=True,
                    help="port on 127.0.0.1 (0: any free one; the line 'ready URL' names it)")
    sp.add_argument("--page-size", type=int, default=0,
                    help="PageNumberPagination with this PAGE_SIZE (default: no pagination)")
    sp.add_argument("-v", "--verbose", action="store_true", help="log each request to stderr")
    sp.set_defaults(func=serve)

    args = p.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
