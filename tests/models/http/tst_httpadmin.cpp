// The admin endpoints (--token-file): what each accepts and says in Allow, OPTIONS, a read-only
// connection (403), Foos that do not exist (404, 400) and a database that is gone (500).
#include "httpfixture.h"

#include "db/reach.h"
#include "testredis.h"

#include <QFile>
#include <QLoggingCategory>
#include <QSignalSpy>
#include <QTest>

namespace {

const QByteArray token = "adm1n-token";
const QList<std::pair<QByteArray, QByteArray>> withToken { { "Authorization", "Bearer " + token },
                                                          { "Content-Type", "application/json" } };
const QList<std::pair<QByteArray, QByteArray>> withoutToken { { "Content-Type", "application/json" } };

HttpServerOptions adminOptions()
{
    HttpServerOptions options;
    options.adminToken = token;
    return options;
}

// A second service and server on the fixture's database, opened read-only (with Redis as the
// store when a URL is given).
struct ReadOnlyServer {
    explicit ReadOnlyServer(const HttpFixture &f, const QString &redisUrl = {})
    {
        CacheConfig config = f.config;
        config.database.readOnly = true;
        if (!redisUrl.isEmpty())
            config.store = StoreConfig::parse(QStringLiteral("redis"), redisUrl).value();
        service = std::make_unique<CacheService>(config);
        server = std::make_unique<HttpServer>(*service);
        const auto port = server->start(adminOptions());
        QVERIFY2(port, qPrintable(why(port)));
        ok = true;
    }
    QUrl url(const QString &target) const { return QUrl(server->url().toString().chopped(1) + target); }

    std::unique_ptr<CacheService> service;
    std::unique_ptr<HttpServer> server;
    bool ok = false;
};

} // namespace

class TestHttpAdmin : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QLoggingCategory::setFilterRules(QStringLiteral("preserve.http.info=false\npreserve.http.warning=false")); }

    void allowAndOptions_data()
    {
        QTest::addColumn<QString>("target");
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<bool>("authorized");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("allow");
        QTest::addColumn<QByteArray>("body"); // empty: not compared
        const QByteArray refresh = "POST, OPTIONS";
        const QByteArray cache = "DELETE, OPTIONS";
        const QByteArray status = "GET, HEAD, OPTIONS";
        const auto metadata = [](const char *name) {
            return QByteArray("{\"name\":\"") + name + "\",\"description\":\"\",\"renders\":[\"application/json\"],"
                                                       "\"parses\":[\"application/json\",\"application/x-www-form-urlencoded\",\"multipart/form-data\"]}";
        };
        const QByteArray noCredentials = "{\"detail\":\"Authentication credentials were not provided.\"}";
        QTest::addRow("refresh OPTIONS") << "/api/foos/5/refresh/" << QByteArray("OPTIONS") << true << 200 << refresh << metadata("Refresh");
        QTest::addRow("refresh OPTIONS without token") << "/api/foos/5/refresh/" << QByteArray("OPTIONS") << false << 401 << refresh << noCredentials;
        QTest::addRow("refresh POST") << "/api/foos/5/refresh/" << QByteArray("POST") << true << 202 << refresh << QByteArray();
        QTest::addRow("refresh POST without token") << "/api/foos/5/refresh/" << QByteArray("POST") << false << 401 << refresh << noCredentials;
        QTest::addRow("refresh DELETE") << "/api/foos/5/refresh/" << QByteArray("DELETE") << true << 405 << refresh
                                        << QByteArray("{\"detail\":\"Method \\\"DELETE\\\" not allowed.\"}");
        QTest::addRow("refresh GET") << "/api/foos/5/refresh/" << QByteArray("GET") << true << 405 << refresh << QByteArray();
        QTest::addRow("cache OPTIONS") << "/api/foos/5/cache/" << QByteArray("OPTIONS") << true << 200 << cache << metadata("Cache");
        QTest::addRow("cache DELETE") << "/api/foos/5/cache/" << QByteArray("DELETE") << true << 202 << cache << QByteArray();
        QTest::addRow("cache DELETE without token") << "/api/foos/5/cache/" << QByteArray("DELETE") << false << 401 << cache << noCredentials;
        QTest::addRow("cache POST") << "/api/foos/5/cache/" << QByteArray("POST") << true << 405 << cache << QByteArray();
        QTest::addRow("refresh-many OPTIONS") << "/api/refresh/" << QByteArray("OPTIONS") << true << 200 << refresh << metadata("Refresh");
        QTest::addRow("refresh-many without token") << "/api/refresh/" << QByteArray("POST") << false << 401 << refresh << noCredentials;
        QTest::addRow("refresh-many PUT") << "/api/refresh/" << QByteArray("PUT") << true << 405 << refresh << QByteArray();
        QTest::addRow("status OPTIONS") << "/api/status/" << QByteArray("OPTIONS") << true << 200 << status << metadata("Status");
        QTest::addRow("status without token") << "/api/status/" << QByteArray("GET") << false << 401 << status << noCredentials;
        QTest::addRow("status POST") << "/api/status/" << QByteArray("POST") << true << 405 << status << QByteArray();
        QTest::addRow("impact OPTIONS") << "/api/impact/baz/3/" << QByteArray("OPTIONS") << true << 200 << status << metadata("Impact");
        QTest::addRow("impact without token") << "/api/impact/baz/3/" << QByteArray("GET") << false << 401 << status << noCredentials;
        QTest::addRow("impact POST") << "/api/impact/zab/3/" << QByteArray("POST") << true << 405 << status << QByteArray();
        QTest::addRow("impact of nothing") << "/api/impact/bar/987654/" << QByteArray("GET") << true << 404 << status
                                           << QByteArray("{\"detail\":\"Not found.\"}");
    }

    // POST /api/foos/<pk>/rollback/: the entry the last refresh replaced comes back (its state said),
    // a second one undoes the first; a Foo without a previous entry is a 404; the other methods 405.
    void rollback()
    {
        HttpFixture f(adminOptions());
        QVERIFY(f.ok);
        const auto first = f.service->get(5); // cached on read
        QVERIFY(first);
        const QByteArray before = first->entry->body;
        {
            auto database = Database::open(f.config.database);
            QVERIFY(database);
            auto rename = (*database)->prepare(QStringLiteral("UPDATE api_foo SET name = 'renamed for rollback' WHERE id = 5"));
            QVERIFY(rename && (*rename)->exec());
        }
        QSignalSpy finished(f.service.get(), &CacheService::jobFinished);
        f.service->refresh({ 5 });
        QVERIFY(finished.wait(10000));
        QVERIFY(f.get(QStringLiteral("/api/foos/5/"), withoutToken).body.contains("renamed for rollback"));
        const HttpAnswer rolled = f.get(QStringLiteral("/api/foos/5/rollback/"), withToken, "POST");
        QCOMPARE(rolled.status, 200);
        QVERIFY2(rolled.body.startsWith("{\"pk\":5,\"reason\":") && rolled.body.contains("\"rolled_back\":true"),
                 rolled.body.constData());
        QCOMPARE(f.get(QStringLiteral("/api/foos/5/"), withoutToken).body, before); // the memory tier dropped it
        QCOMPARE(f.get(QStringLiteral("/api/foos/5/rollback/"), withToken, "POST").status, 200);
        QVERIFY(f.get(QStringLiteral("/api/foos/5/"), withoutToken).body.contains("renamed for rollback"));
        const HttpAnswer none = f.get(QStringLiteral("/api/foos/6/rollback/"), withToken, "POST");
        QCOMPARE(none.status, 404);
        QVERIFY2(none.body.contains("no previous entry"), none.body.constData());
        QCOMPARE(f.get(QStringLiteral("/api/foos/5/rollback/"), withToken, "GET").status, 405);
        QCOMPARE(f.get(QStringLiteral("/api/foos/5/rollback/"), withoutToken, "POST").status, 401);
        QCOMPARE(f.get(QStringLiteral("/api/foos/5/rollback"), withToken, "POST").status, 301);
    }

    // GET /api/impact/<level>/<id>/: what `preserve impact --json` prints, for each level; malformed
    // paths are 404s, a missing slash a redirect, as DRF's router does.
    void impact()
    {
        HttpFixture f(adminOptions());
        QVERIFY(f.ok);
        for (const char *level : { "bar", "zab", "baz" }) {
            const auto expected = f.service->impact(*nodeLevelNamed(QString::fromLatin1(level)), 2);
            QVERIFY2(expected && expected->nodeName, level);
            const HttpAnswer answer = f.get(QStringLiteral("/api/impact/%1/2/").arg(QLatin1String(level)), withToken);
            QCOMPARE(answer.status, 200);
            QCOMPARE(answer.header("Content-Type"), QByteArray("application/json"));
            // The same answer, but for the time it took.
            const auto withoutTime = [](QByteArray json) { return json.left(json.indexOf(",\"seconds\":")); };
            QCOMPARE(withoutTime(answer.body), withoutTime(expected->toJson()));
        }
        const auto baz = f.service->impact(NodeLevel::Baz, 2);
        QVERIFY(baz && !baz->foos.isEmpty());
        QVERIFY(f.get(QStringLiteral("/api/impact/baz/2/"), withToken).body.contains("\"count\":" + QByteArray::number(baz->foos.size())));
        QCOMPARE(f.get(QStringLiteral("/api/impact/baz/2"), withToken).status, 301);
        for (const char *bad : { "/api/impact/qux/2/", "/api/impact/baz/x/", "/api/impact/baz/2/more/", "/api/impact/baz/-1/",
                                 "/api/impact/" })
            QVERIFY2(f.get(QString::fromLatin1(bad), withToken).status == 404, bad);
    }
    void allowAndOptions()
    {
        QFETCH(QString, target);
        QFETCH(QByteArray, method);
        QFETCH(bool, authorized);
        QFETCH(int, status);
        QFETCH(QByteArray, allow);
        QFETCH(QByteArray, body);
        HttpFixture f(adminOptions());
        QVERIFY(f.ok);
        const QByteArray payload = target == QLatin1String("/api/refresh/") ? "{\"pks\":[1]}" : "";
        const HttpAnswer answer = f.get(target, authorized ? withToken : withoutToken, method, payload);
        QCOMPARE(answer.status, status);
        QCOMPARE(answer.header("Allow"), allow);
        QCOMPARE(answer.header("Content-Type"), QByteArray("application/json"));
        if (!body.isEmpty())
            QCOMPARE(answer.body, body);
        if (status == 202)
            QVERIFY2(answer.body.startsWith("{\"job\":"), answer.body.constData());
    }

    void readOnlyRefuses_data()
    {
        QTest::addColumn<QString>("target");
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("payload");
        QTest::addColumn<QByteArray>("allow");
        QTest::addColumn<bool>("redis");
        for (const bool redis : { false, true }) {
            const char *store = redis ? "redis" : "column";
            QTest::addRow("%s: refresh", store) << "/api/foos/7/refresh/" << QByteArray("POST") << QByteArray() << QByteArray("POST, OPTIONS") << redis;
            QTest::addRow("%s: refresh many", store) << "/api/refresh/" << QByteArray("POST") << QByteArray("{\"pks\":[1,2]}") << QByteArray("POST, OPTIONS") << redis;
            QTest::addRow("%s: refresh stale", store) << "/api/refresh/" << QByteArray("POST") << QByteArray("{\"stale\":true}") << QByteArray("POST, OPTIONS") << redis;
            QTest::addRow("%s: invalidate", store) << "/api/foos/5/cache/" << QByteArray("DELETE") << QByteArray() << QByteArray("DELETE, OPTIONS") << redis;
            QTest::addRow("%s: invalidate unknown pk", store) << "/api/foos/9999/cache/" << QByteArray("DELETE") << QByteArray() << QByteArray("DELETE, OPTIONS") << redis;
        }
    }
    void readOnlyRefuses()
    {
        QFETCH(QString, target);
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, payload);
        QFETCH(QByteArray, allow);
        QFETCH(bool, redis);
        TestRedis server;
        QString error;
        if (redis)
            QVERIFY2(server.start(&error), qPrintable(error));
        HttpFixture f(adminOptions());
        QVERIFY(f.ok);
        ReadOnlyServer readOnly(f, redis ? server.url() : QString());
        QVERIFY(readOnly.ok);
        QSignalSpy started(readOnly.service.get(), &CacheService::jobStarted);
        const HttpAnswer refused = httpRequest(f.manager, readOnly.url(target), method, withToken, payload);
        QCOMPARE(refused.status, 403);
        QCOMPARE(refused.body, QByteArray("{\"detail\":\"The server's connection is read-only: no refresh or invalidation.\"}"));
        QCOMPARE(refused.header("Allow"), allow);
        QCOMPARE(started.count(), 0);
        // Without the token it is still 401 first, as DRF authenticates before it checks permissions.
        QCOMPARE(httpRequest(f.manager, readOnly.url(target), method, withoutToken, payload).status, 401);

        // Reading stays allowed: the status and a live body.
        const HttpAnswer status = httpRequest(f.manager, readOnly.url(QStringLiteral("/api/status/")), "GET", withToken);
        QCOMPARE(status.status, 200);
        QVERIFY2(status.body.startsWith("[{\""), status.body.left(200).constData());
        const HttpAnswer skip = httpRequest(f.manager, readOnly.url(QStringLiteral("/api/foos/4/?cache=skip")), "GET", withToken);
        QCOMPARE(skip.status, 200);
        QCOMPARE(skip.header("X-Cache"), QByteArray("BYPASS"));
        COMPARE_BODIES(skip.body, f.live(4));
        QCOMPARE(started.count(), 0);
        if (redis) { // a miss is served live and kept in memory; read-only means no writes anywhere
            const HttpAnswer miss = httpRequest(f.manager, readOnly.url(QStringLiteral("/api/foos/6/")));
            QCOMPARE(miss.status, 200);
            COMPARE_BODIES(miss.body, f.live(6));
            QCOMPARE(server.command({ QStringLiteral("DBSIZE") }), QByteArray("0"));
        }
    }

    void unknownFoos_data()
    {
        QTest::addColumn<QString>("target");
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("payload");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("allow");
        const QByteArray notFound = "{\"detail\":\"Not found.\"}";
        QTest::addRow("refresh") << "/api/foos/9999/refresh/" << QByteArray("POST") << QByteArray() << 404 << notFound << QByteArray("POST, OPTIONS");
        QTest::addRow("refresh pk 0") << "/api/foos/0/refresh/" << QByteArray("POST") << QByteArray() << 404 << notFound << QByteArray("POST, OPTIONS");
        QTest::addRow("invalidate") << "/api/foos/9999/cache/" << QByteArray("DELETE") << QByteArray() << 404 << notFound << QByteArray("DELETE, OPTIONS");
        QTest::addRow("refresh many, one unknown") << "/api/refresh/" << QByteArray("POST") << QByteArray("{\"pks\":[1,99999]}") << 400
                                                   << QByteArray("{\"pks\":[\"Invalid pk \\\"99999\\\" - object does not exist.\"]}")
                                                   << QByteArray("POST, OPTIONS");
        QTest::addRow("refresh many, two unknown") << "/api/refresh/" << QByteArray("POST") << QByteArray("{\"pks\":[99998,2,99999,99998]}") << 400
                                                   << QByteArray("{\"pks\":[\"Invalid pk \\\"99998\\\" - object does not exist.\","
                                                                 "\"Invalid pk \\\"99999\\\" - object does not exist.\"]}")
                                                   << QByteArray("POST, OPTIONS");
    }
    void unknownFoos()
    {
        QFETCH(QString, target);
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, payload);
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, allow);
        HttpFixture f(adminOptions());
        QVERIFY(f.ok);
        QSignalSpy started(f.service.get(), &CacheService::jobStarted);
        const HttpAnswer answer = f.get(target, withToken, method, payload);
        QCOMPARE(answer.status, status);
        QCOMPARE(answer.body, body);
        QCOMPARE(answer.header("Allow"), allow);
        QCOMPARE(started.count(), 0);
    }

    // libmicrohttpd's copy of a value ends at a NUL: the token followed by "\0junk" must not match.
    void tokenWithANulIsNoMatch()
    {
        HttpFixture f(adminOptions());
        QVERIFY(f.ok);
        const QByteArray head = "GET /api/status/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " + token;
        const QByteArray plain = rawRequest(f.port(), head + "\r\n\r\n");
        QCOMPARE(statusOf(plain), 200);
        for (const QByteArray &tail : { QByteArray("\0junk", 5), QByteArray("\0", 1) }) {
            const QByteArray raw = rawRequest(f.port(), head + tail + "\r\nAccept: */*\r\n\r\n");
            QVERIFY2(statusOf(raw) == 400 || statusOf(raw) == 401, raw.constData());
            const QByteArray last = rawRequest(f.port(), head + tail + "\r\n\r\n");
            QVERIFY2(statusOf(last) == 400 || statusOf(last) == 401 || tail.size() == 1, last.constData());
        }
    }

    void existingFoosStartJobs()
    {
        // The check on the worker lets real pks through: the refresh lands in memory (a HIT after).
        HttpFixture f(adminOptions());
        QVERIFY(f.ok);
        QSignalSpy finished(f.service.get(), &CacheService::jobFinished);
        const HttpAnswer many = f.get(QStringLiteral("/api/refresh/"), withToken, "POST", "{\"pks\":[20,3]}");
        QCOMPARE(many.status, 202);
        QVERIFY(finished.wait(10000));
        QCOMPARE(finished.first().first().value<JobSummary>().done, 2);
        QCOMPARE(f.get(QStringLiteral("/api/foos/20/")).header("X-Cache"), QByteArray("HIT"));
        const HttpAnswer invalidate = f.get(QStringLiteral("/api/foos/20/cache/"), withToken, "DELETE");
        QCOMPARE(invalidate.status, 202);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 10000);
        QCOMPARE(finished.last().first().value<JobSummary>().done, 1);
    }

    void databaseGoneIsAServerError()
    {
        // No worker has opened the database yet; with the file gone the existence check cannot run.
        HttpFixture f(adminOptions());
        QVERIFY(f.ok);
        QVERIFY(QFile::remove(f.path));
        QSignalSpy started(f.service.get(), &CacheService::jobStarted);
        const HttpAnswer answer = f.get(QStringLiteral("/api/foos/3/refresh/"), withToken, "POST");
        QCOMPARE(answer.status, 500);
        QCOMPARE(answer.body, QByteArray("{\"detail\":\"A server error occurred.\"}"));
        QCOMPARE(started.count(), 0);
    }
};

QTEST_GUILESS_MAIN(TestHttpAdmin)
#include "tst_httpadmin.moc"
