// The DRF API without a socket: requests in, plain replies out (status, headers, body).
#include "api/apirouter.h"
#include "api/httpstatus.h"
#include "cache/cacheservice.h"
#include "db/database.h"
#include "db/seeder.h"
#include "json/jsonindenter.h"
#include "serialize/serializer.h"
#include "testsupport.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

#include <memory>
#include <mutex>

namespace {

// What a transport would hold for a deferred request.
class HeldReply : public ReplyLater {
public:
    void complete(Reply reply) override
    {
        std::lock_guard lock(m_mutex);
        if (!m_reply)
            m_reply = std::move(reply);
    }
    std::optional<Reply> reply()
    {
        std::lock_guard lock(m_mutex);
        return m_reply;
    }

private:
    std::mutex m_mutex;
    std::optional<Reply> m_reply;
};

HttpRequest get(const QByteArray &target, const QList<std::pair<QByteArray, QByteArray>> &headers = {})
{
    HttpRequest request;
    request.method = "GET";
    request.version = "HTTP/1.1";
    request.target = target;
    const qsizetype question = target.indexOf('?');
    request.path = question < 0 ? target : target.left(question);
    request.query = question < 0 ? QByteArray() : target.mid(question + 1);
    request.host = "testserver";
    request.hostHeaders = 1;
    for (const auto &[name, value] : headers) {
        if (name == "Accept")
            request.accept = value;
        else if (name == "Accept-Encoding")
            request.acceptEncoding = value;
        else if (name == "If-None-Match")
            request.ifNoneMatch = value;
    }
    return request;
}

} // namespace

class TestApiRouter : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    CacheConfig m_config;
    std::unique_ptr<CacheService> m_service;
    std::unique_ptr<ApiRouter> m_router;

    // The reply of `router`, now or (deferred) once a worker completed it; ApiRouter::finish applied.
    static Reply answerFrom(ApiRouter &router, const HttpRequest &request, bool *deferred = nullptr)
    {
        std::shared_ptr<HeldReply> held;
        const ApiCall call { request, [&held] { return held = std::make_shared<HeldReply>(); } };
        auto reply = router.route(call);
        if (deferred)
            *deferred = !reply;
        if (!reply) {
            [&] { QVERIFY(held); QTRY_VERIFY_WITH_TIMEOUT(held->reply().has_value(), 20000); }();
            reply = held ? held->reply() : std::nullopt;
        }
        return reply ? ApiRouter::finish(request, *reply) : Reply {};
    }
    Reply answer(const HttpRequest &request, bool *deferred = nullptr) { return answerFrom(*m_router, request, deferred); }

    // A paged router (pageSize 5, the Foo ids looked at on every request) over a copy of the
    // demo file at `path`.
    struct PagedApi {
        PagedApi(const CacheConfig &base, const QString &path)
            : config(withDatabase(base, path))
            , service(config)
            , router(service, options(), [] { return QByteArray(); })
        {
        }
        static CacheConfig withDatabase(CacheConfig config, const QString &path)
        {
            config.database = DatabaseConfig::parse(path).value();
            return config;
        }
        static ApiOptions options()
        {
            ApiOptions options;
            options.pageSize = 5;
            options.pksTrustMs = 0;
            return options;
        }
        Reply ask(const QByteArray &target, const QList<std::pair<QByteArray, QByteArray>> &headers = {})
        {
            return answerFrom(router, get(target, headers));
        }
        CacheConfig config;
        CacheService service;
        ApiRouter router;
    };
    // A statement run and committed by a connection of its own, as Django's would be.
    static bool foreignSql(const QString &path, const QByteArray &sql)
    {
        sqlite3 *other = nullptr;
        const auto close = qScopeGuard([&other] { sqlite3_close(other); });
        if (sqlite3_open_v2(QFile::encodeName(path).constData(), &other, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
            return false;
        sqlite3_busy_timeout(other, 10000); // a worker may be reading
        return sqlite3_exec(other, sql.constData(), nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    // A consistent copy of the demo file (the fixture's connections stay open).
    QString copyOfDemo(const QString &name)
    {
        const QString path = m_dir.filePath(name);
        QFile::remove(path);
        const QByteArray into = "VACUUM INTO '" + QFile::encodeName(path).replace('\'', "''") + "'";
        return foreignSql(m_dir.filePath(QStringLiteral("demo.sqlite3")), into) ? path : QString();
    }
    // preserve_api_foo_id_reads_total in /metrics; -1 when it is missing.
    static int idReads(PagedApi &api)
    {
        const QByteArray metrics = api.ask("/metrics").payload();
        const QByteArray name = "\npreserve_api_foo_id_reads_total ";
        const qsizetype at = metrics.indexOf(name);
        if (at < 0)
            return -1;
        const qsizetype from = at + name.size();
        bool ok = false;
        const int reads = metrics.mid(from, metrics.indexOf('\n', from) - from).toInt(&ok);
        return ok ? reads : -1;
    }
    // Waits for the refresh of `pks` through `service`.
    static bool refreshed(CacheService &service, const QList<qint64> &pks)
    {
        QSignalSpy finished(&service, &CacheService::jobFinished);
        service.refresh(pks);
        return finished.wait(20000);
    }

    QByteArray live(qint64 pk)
    {
        auto database = Database::open(m_config.database);
        Serializer serializer(**database);
        return serializer.foo(pk).value();
    }

private slots:
    void initTestCase()
    {
        const QString path = m_dir.filePath(QStringLiteral("demo.sqlite3"));
        const auto written = Seeder::write(path, *Seeder::scale(QStringLiteral("small")), QStringLiteral("api"));
        QVERIFY2(written, qPrintable(why(written)));
        m_config.database = DatabaseConfig::parse(path).value();
        m_config.watch = false;
        m_service = std::make_unique<CacheService>(m_config);
        ApiOptions options;
        options.cacheControl = "max-age=5";
        m_router = std::make_unique<ApiRouter>(*m_service, options, [] { return QByteArray("transport_lines 7\n"); });
    }

    void missIsDeferredThenHitIsImmediateAndShared()
    {
        bool deferred = false;
        const Reply miss = answer(get("/api/foos/1/"), &deferred);
        QVERIFY(deferred); // nothing in memory yet: answered from a worker
        QCOMPARE(miss.status, HttpStatus::Ok);
        QCOMPARE(miss.cache, QByteArray("MISS"));
        QCOMPARE(miss.payload(), live(1));
        QCOMPARE(miss.header("content-type"), QByteArray("application/json"));
        QCOMPARE(miss.header("Cache-Control"), QByteArray("max-age=5"));
        QCOMPARE(miss.header("X-Cache"), QByteArray("MISS"));
        QVERIFY(miss.header("ETag").startsWith('"'));
        QVERIFY(!miss.reusable);

        const Reply hit = answer(get("/api/foos/1/"), &deferred);
        QVERIFY(!deferred);
        QCOMPARE(hit.cache, QByteArray("HIT"));
        QVERIFY(hit.reusable);
        const EntryPtr entry = m_service->getFromMemory(1);
        QVERIFY(entry);
        QCOMPARE(static_cast<const void *>(hit.payload().constData()), static_cast<const void *>(entry->body.constData())); // the entry's bytes, not a copy
        QCOMPARE(hit.bodyBytes(), entry->body.size());
        QCOMPARE(hit.header("ETag"), miss.header("ETag"));
    }

    void conditionalAndGzip()
    {
        const Reply plain = answer(get("/api/foos/2/"));
        const Reply gzip = answer(get("/api/foos/2/", { { "Accept-Encoding", "gzip" } }));
        QCOMPARE(gzip.status, HttpStatus::Ok);
        QCOMPARE(gzip.header("Content-Encoding"), QByteArray("gzip"));
        QCOMPARE(gzip.payload(), m_service->getFromMemory(2)->gzip);
        QVERIFY(gzip.header("ETag").endsWith("-gzip\""));
        QCOMPARE(plain.header("Content-Encoding"), QByteArray());

        const Reply notModified = answer(get("/api/foos/2/", { { "If-None-Match", plain.header("ETag") } }));
        QCOMPARE(notModified.status, HttpStatus::NotModified);
        QCOMPARE(notModified.bodyBytes(), 0);
        QCOMPARE(notModified.contentLength(), plain.bodyBytes()); // what the 200 would have sent
        QCOMPARE(notModified.header("Content-Type"), QByteArray());
        QCOMPARE(notModified.header("Vary"), QByteArray("Accept, Accept-Encoding"));
        QCOMPARE(notModified.header("ETag"), plain.header("ETag"));
    }

    void indentedRendering()
    {
        const Reply compact = answer(get("/api/foos/3/"));
        const Reply indented = answer(get("/api/foos/3/", { { "Accept", "application/json; indent=2" } }));
        QCOMPARE(indented.status, HttpStatus::Ok);
        QCOMPARE(indented.indent, 2);
        QCOMPARE(indented.length, JsonIndenter::measure(compact.payload(), 2));
        QVERIFY(indented.length > compact.bodyBytes());
        QCOMPARE(indented.header("ETag"), compact.header("ETag").chopped(1) + "-indent2\"");
        QVERIFY(!indented.reusable);
        const Reply again = answer(get("/api/foos/3/", { { "Accept", "application/json; indent=2" },
                                                         { "If-None-Match", indented.header("ETag") } }));
        QCOMPARE(again.status, HttpStatus::NotModified);
        QCOMPARE(again.contentLength(), indented.length);
    }

    void routingAnswersAsDjango()
    {
        const Reply slash = answer(get("/api/foos?page=2"));
        QCOMPARE(slash.status, HttpStatus::MovedPermanently);
        QCOMPARE(slash.header("Location"), QByteArray("/api/foos/?page=2"));
        const Reply missing = answer(get("/api/foos/999999/"));
        QCOMPARE(missing.status, HttpStatus::NotFound);
        QCOMPARE(missing.payload(), QByteArray("{\"detail\":\"Not found.\"}"));
        QCOMPARE(answer(get("/api/foos/+1/")).status, HttpStatus::NotFound);
        HttpRequest post = get("/api/foos/1/");
        post.method = "POST";
        const Reply refused = answer(post);
        QCOMPARE(refused.status, HttpStatus::MethodNotAllowed);
        QCOMPARE(refused.header("Allow"), QByteArray("GET, HEAD, OPTIONS"));
        QCOMPARE(refused.payload(), QByteArray("{\"detail\":\"Method \\\"POST\\\" not allowed.\"}"));
        QCOMPARE(answer(get("/api/foos/1/", { { "Accept", "text/html" } })).status, HttpStatus::NotAcceptable);
        QCOMPARE(answer(get("/api/refresh/")).status, HttpStatus::NotFound); // no admin token: no admin routes
    }

    void listSplicesTheEntries()
    {
        const Reply list = answer(get("/api/foos/"));
        QCOMPARE(list.status, HttpStatus::Ok);
        auto database = Database::open(m_config.database);
        Serializer serializer(**database);
        QCOMPARE(list.payload(), serializer.list().value());
        bool deferred = true;
        const Reply kept = answer(get("/api/foos/"), &deferred);
        QVERIFY(!deferred); // every entry still the memory tier's: answered on the spot
        QCOMPARE(static_cast<const void *>(kept.payload().constData()), static_cast<const void *>(list.payload().constData()));
        QCOMPARE(kept.cache, QByteArray("HIT"));
        // A request the kept list cannot answer on the spot (no gzip copy yet) goes to a worker,
        // which finds the same entries: the list is not spliced again, and its gzip copy stays.
        const Reply gzip = answer(get("/api/foos/", { { "Accept-Encoding", "gzip" } }), &deferred);
        QVERIFY(deferred);
        QCOMPARE(gzipDecompress(gzip.payload()), list.payload());
        const Reply gzipAgain = answer(get("/api/foos/", { { "Accept-Encoding", "gzip" } }));
        QCOMPARE(static_cast<const void *>(gzipAgain.payload().constData()), static_cast<const void *>(gzip.payload().constData()));
        const Reply plain = answer(get("/api/foos/"));
        QCOMPARE(static_cast<const void *>(plain.payload().constData()), static_cast<const void *>(list.payload().constData())); // not spliced again
    }

    // A list longer than half the memory tier is spliced into a temporary file: the same bytes and
    // ETag, sent from the file, its gzip copy a file too; kept (not re-written) while its entries
    // stay the same; and the store's answers read after it spilled are not kept in the tier.
    void aListLongerThanMemoryHoldsIsSentFromAFile()
    {
        const Reply held = answer(get("/api/foos/")); // the router above: all of it in memory
        QVERIFY(!held.file);
        const QByteArray body = held.payload();
        qint64 entryBytes = 0;
        for (qint64 pk = 1; pk <= 20; ++pk)
            entryBytes += m_service->getFromMemory(pk)->bytes();
        CacheConfig config = m_config;
        config.memoryBytes = entryBytes + 64; // every entry fits, half of it does not hold the list
        QVERIFY(config.memoryBytes / 2 < body.size());
        CacheService service(config);
        ApiOptions options;
        options.cacheControl = "max-age=5";
        options.listChunk = 3;
        ApiRouter router(service, options, [] { return QByteArray(); });
        const auto ask = [&router](const HttpRequest &request) { return answerFrom(router, request); };

        const Reply list = ask(get("/api/foos/"));
        QCOMPARE(list.status, HttpStatus::Ok);
        QVERIFY(list.file);
        QVERIFY(list.payload().isEmpty());
        QCOMPARE(list.file->readAll().value(), body);
        QCOMPARE(list.contentLength(), body.size());
        QCOMPARE(list.header("ETag"), held.header("ETag"));
        QCOMPARE(list.cache, QByteArray("HIT"));
        QVERIFY2(service.memory().stats().entries < 20, "entries read after the spill are not kept");

        const Reply again = ask(get("/api/foos/"));
        QCOMPARE(again.file.get(), list.file.get()); // the same entries: the same file

        const Reply gzip = ask(get("/api/foos/", { { "Accept-Encoding", "gzip" } }));
        QVERIFY(gzip.gzip && gzip.file);
        QCOMPARE(gzipDecompress(gzip.file->readAll().value()), body);
        QCOMPARE(gzip.contentLength(), gzip.file->size());

        const Reply notModified = ask(get("/api/foos/", { { "If-None-Match", list.header("ETag") } }));
        QCOMPARE(notModified.status, HttpStatus::NotModified);
        QCOMPARE(notModified.contentLength(), body.size());

        const Reply indented = ask(get("/api/foos/", { { "Accept", "application/json; indent=2" } }));
        QCOMPARE(indented.status, HttpStatus::Ok);
        QCOMPARE(indented.indent, 2);
        QCOMPARE(indented.length, JsonIndenter::measure(body, 2));
    }

    // No temporary file to be had: the list is held in memory as before, the same bytes.
    void aListWithNoPlaceForItsFileIsHeldInMemory()
    {
        const QByteArray body = answer(get("/api/foos/")).payload();
        CacheConfig config = m_config;
        config.memoryBytes = 16 * 1024;
        QVERIFY(config.memoryBytes / 2 < body.size());
        CacheService service(config);
        ApiRouter router(service, ApiOptions {}, [] { return QByteArray(); });
        const QByteArray before = qgetenv("TMPDIR");
        qputenv("TMPDIR", "/nonexistent-preserve-dir");
        const auto restore = qScopeGuard([&before] { qputenv("TMPDIR", before); });
        std::shared_ptr<HeldReply> later;
        const HttpRequest request = get("/api/foos/");
        const ApiCall call { request, [&later] { return later = std::make_shared<HeldReply>(); } };
        QVERIFY(!router.route(call));
        QTRY_VERIFY_WITH_TIMEOUT(later->reply().has_value(), 20000);
        const Reply list = *later->reply();
        QCOMPARE(list.status, HttpStatus::Ok);
        QVERIFY(!list.file);
        QCOMPARE(list.payload(), body);
    }

    // A page reads every Foo id again only when a commit other than this process's cache writes
    // came in between (pksTrustMs 0: every request asks). Refreshes leave the ids be; a Foo added
    // or deleted by another connection is on the very next page.
    void pagesReadTheFooIdsAgainOnlyAfterOtherCommits()
    {
        const QString path = copyOfDemo(QStringLiteral("pages.sqlite3"));
        QVERIFY(!path.isEmpty());
        PagedApi api(m_config, path);
        const auto count = [&api] {
            const Reply page = api.ask("/api/foos/?page=1");
            return page.status == HttpStatus::Ok ? QJsonDocument::fromJson(page.payload()).object().value(QStringLiteral("count")).toInt(-1) : -1;
        };
        const auto idReads = [&api] { return TestApiRouter::idReads(api); };

        QTRY_COMPARE_WITH_TIMEOUT(idReads(), 1, 20000); // read as the router starts
        const int foos = count();
        QVERIFY(foos > 5);
        QCOMPARE(idReads(), 1); // nothing committed since
        QCOMPARE(api.ask("/api/foos/?page=2").status, HttpStatus::Ok);
        QCOMPARE(idReads(), 1);

        QVERIFY(refreshed(api.service, { 1, 2, 3 })); // commits to the cache column and its side table
        QCOMPARE(count(), foos);
        QCOMPARE(idReads(), 1);

        QVERIFY(foreignSql(path, "INSERT INTO api_foo (id, name) VALUES (100000, 'added elsewhere')"));
        QCOMPARE(count(), foos + 1);
        QCOMPARE(idReads(), 2);
        QVERIFY(foreignSql(path, "DELETE FROM api_foo WHERE id = 100000"));
        QCOMPARE(count(), foos);
        QCOMPARE(idReads(), 3);
        // Another connection's commit that leaves api_foo alone still counts: nothing tells which
        // tables it wrote.
        QVERIFY(foreignSql(path, "UPDATE api_baz SET name = name || '!' WHERE id = 1"));
        QCOMPARE(count(), foos);
        QCOMPARE(idReads(), 4);
    }

    // In WAL mode the file's header counts no commits: the ids are read for every page, as the
    // one-second rule (0 here) says, and a Foo added shows on the next page.
    void walFilesReadTheFooIdsForEveryPage()
    {
        const QString path = copyOfDemo(QStringLiteral("wal.sqlite3"));
        QVERIFY(!path.isEmpty());
        QVERIFY(foreignSql(path, "PRAGMA journal_mode = WAL"));
        PagedApi api(m_config, path);
        const auto count = [&api] {
            const Reply page = api.ask("/api/foos/?page=1");
            return page.status == HttpStatus::Ok ? QJsonDocument::fromJson(page.payload()).object().value(QStringLiteral("count")).toInt(-1) : -1;
        };
        const int foos = count();
        QVERIFY(foos > 5);
        QTRY_VERIFY_WITH_TIMEOUT(idReads(api) >= 2, 20000); // the router's own read, and the page's
        const int reads = idReads(api);
        QCOMPARE(count(), foos);
        QCOMPARE(idReads(api), reads + 1);
        QVERIFY(foreignSql(path, "INSERT INTO api_foo (id, name) VALUES (100000, 'added elsewhere')"));
        QCOMPARE(count(), foos + 1);
        QCOMPARE(idReads(api), reads + 2);
    }

    // A page's ETag is made from its frame and its entries' digests, not by hashing its bytes: it
    // still changes with any of them, and names the same bytes the same way.
    void pageETagsFollowTheirBytes()
    {
        const QString path = copyOfDemo(QStringLiteral("etags.sqlite3"));
        QVERIFY(!path.isEmpty());
        PagedApi api(m_config, path);
        const Reply first = api.ask("/api/foos/?page=1");
        QCOMPARE(first.status, HttpStatus::Ok);
        const QByteArray tag = first.header("ETag");
        QVERIFY(!tag.isEmpty());
        const Reply again = api.ask("/api/foos/?page=1");
        QCOMPARE(again.payload(), first.payload());
        QCOMPARE(again.header("ETag"), tag);
        QCOMPARE(api.ask("/api/foos/?page=1", { { "If-None-Match", tag } }).status, HttpStatus::NotModified);
        QVERIFY(api.ask("/api/foos/?page=2").header("ETag") != tag);

        // Another Foo: the count, so the frame, changes; the results do not.
        QVERIFY(foreignSql(path, "INSERT INTO api_foo (id, name) VALUES (100000, 'added elsewhere')"));
        const Reply counted = api.ask("/api/foos/?page=1");
        QVERIFY(counted.payload() != first.payload());
        const QByteArray countedTag = counted.header("ETag");
        QVERIFY(countedTag != tag);
        QCOMPARE(api.ask("/api/foos/?page=1", { { "If-None-Match", tag } }).status, HttpStatus::Ok);

        // A result: Foo 1 renamed, then refreshed.
        QVERIFY(foreignSql(path, "UPDATE api_foo SET name = 'renamed' WHERE id = 1"));
        QVERIFY(refreshed(api.service, { 1 }));
        const Reply renamed = api.ask("/api/foos/?page=1");
        QVERIFY(renamed.payload().contains("\"renamed\""));
        QVERIFY(renamed.header("ETag") != countedTag);
        QVERIFY(renamed.header("ETag") != tag);
        QCOMPARE(api.ask("/api/foos/?page=1", { { "If-None-Match", countedTag } }).status, HttpStatus::Ok);
    }

    void metricsCarryTheTransportsLines()
    {
        const Reply metrics = answer(get("/metrics"));
        QCOMPARE(metrics.status, HttpStatus::Ok);
        QVERIFY(metrics.header("Content-Type").startsWith("text/plain"));
        QVERIFY(metrics.payload().contains("transport_lines 7\n"));
        QVERIFY(metrics.payload().contains("preserve_cache_"));
    }

    void cleanupTestCase()
    {
        m_router.reset();
        m_service.reset();
    }
};

QTEST_GUILESS_MAIN(TestApiRouter)
#include "tst_apirouter.moc"
