// The HTTP server under faults: the store or the database gone while serving, SIGTERM with a
// request under way, clients leaving mid-answer, stale-while-revalidate, two `preserve serve`
// processes over one Redis, many connections and the connection limit. Real servers throughout.
#include "httpfixture.h"
#include "testpostgres.h"
#include "testredis.h"

#include "staleness/changetracking.h"

#include <QLoggingCategory>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QTest>
#include <QThread>

namespace {

QByteArray getRequest(qint64 pk, bool close = false)
{
    return "GET /api/foos/" + QByteArray::number(pk) + "/ HTTP/1.1\r\nHost: x\r\n"
        + (close ? "Connection: close\r\n" : "") + "\r\n";
}

// Writes now: QTcpSocket otherwise sends only when the event loop runs or a wait is called.
bool send(QTcpSocket &socket, const QByteArray &bytes)
{
    socket.write(bytes);
    return socket.waitForBytesWritten(5000);
}

std::unique_ptr<QTcpSocket> connected(quint16 port)
{
    auto socket = std::make_unique<QTcpSocket>();
    socket->connectToHost(QHostAddress::LocalHost, port);
    return socket->waitForConnected(5000) ? std::move(socket) : nullptr;
}

QByteArray liveBody(const QString &path, qint64 pk)
{
    auto database = Database::open(DatabaseConfig::parse(path).value());
    if (!database)
        return {};
    auto body = Serializer(**database).foo(pk);
    return body ? *body : QByteArray();
}

QByteArray liveListBody(const QString &path)
{
    auto database = Database::open(DatabaseConfig::parse(path).value());
    if (!database)
        return {};
    auto body = Serializer(**database).list();
    return body ? *body : QByteArray();
}

Status execute(const QString &path, const QString &sql)
{
    auto database = Database::open(DatabaseConfig::parse(path).value());
    if (!database)
        return database.error();
    auto done = (*database)->run(sql);
    return done ? success() : Status(done.error());
}

// A cache service and a server over an existing database file, tuned per test.
struct Served {
    Served(const QString &databasePath, const CacheConfig &base, const HttpServerOptions &options = {})
        : config(base)
    {
        config.database = DatabaseConfig::parse(databasePath).value();
        service = std::make_unique<CacheService>(config);
        server = std::make_unique<HttpServer>(*service);
        const auto started = server->start(options);
        QVERIFY2(started, qPrintable(why(started)));
        ok = true;
    }
    HttpAnswer get(qint64 pk) { return get("/api/foos/" + QString::number(pk) + '/'); }
    HttpAnswer get(const QString &target)
    {
        return httpRequest(manager, QUrl(server->url().toString().chopped(1) + target));
    }
    bool healthy()
    {
        lastHealth = get(QStringLiteral("/healthz")).body;
        return lastHealth == "{\"status\":\"ok\"}";
    }
    qint64 refreshes(const QString &store = QStringLiteral("db"))
    {
        return service->telemetry().snapshot().stores.value(store).refreshes;
    }

    CacheConfig config;
    std::unique_ptr<CacheService> service;
    std::unique_ptr<HttpServer> server;
    QNetworkAccessManager manager;
    QByteArray lastHealth;
    bool ok = false;
};

// `preserve serve` in a process of its own, on a free port; url() is what it printed.
class ServeProcess {
public:
    ~ServeProcess()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }
    bool start(const QStringList &arguments, QString *error)
    {
        m_process.start(preserveBinary(), QStringList { QStringLiteral("serve"), QStringLiteral("--port"), QStringLiteral("0"),
                                                        QStringLiteral("--quiet") } + arguments);
        QByteArray out;
        const QRegularExpression serving(QStringLiteral("Serving (http://\\S+/)api/foos/"));
        QDeadlineTimer deadline(15000);
        while (!out.contains('\n') && !deadline.hasExpired() && m_process.state() != QProcess::NotRunning) {
            m_process.waitForReadyRead(int(qBound(qint64(1), deadline.remainingTime(), qint64(1000))));
            out += m_process.readAllStandardOutput();
        }
        const auto match = serving.match(QString::fromUtf8(out));
        if (!match.hasMatch()) {
            *error = QStringLiteral("no URL printed: %1 / %2").arg(QString::fromUtf8(out), QString::fromUtf8(m_process.readAllStandardError()));
            return false;
        }
        m_url = QUrl(match.captured(1));
        return true;
    }
    QUrl url(const QString &path) const { return QUrl(m_url.toString().chopped(1) + path); }
    quint16 port() const { return quint16(m_url.port()); }
    QProcess &process() { return m_process; }

private:
    QProcess m_process;
    QUrl m_url;
};

} // namespace

class TestHttpFaults : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();

    void redisKilledWhileServing();
    void databaseGoneWhileServing_data();
    void databaseGoneWhileServing();
    void postgresOutageIsBoundedAndRecovers_data();
    void postgresOutageIsBoundedAndRecovers();
    void serveBinaryStopsGracefullyOnSigterm();
    void clientsLeaveMidResponse();
    void clientLeavesWhileSuspendedOnAMiss();
    void staleWhileRevalidateRefreshesOnce();
    void twoProcessesOverOneRedisStayCoherent();
    void twoHundredKeepAliveClients();
    void connectionLimit();

private:
    QString copyOf(const QString &source);
    qint64 largestFoo(const QString &path);

    QTemporaryDir m_dir;
    QString m_small;  // pristine seeded demos; tests work on copies (warming writes the column)
    QString m_medium;
    int m_copies = 0;
    QString m_path; // this test's copy of the small demo
};

void TestHttpFaults::initTestCase()
{
    QLoggingCategory::setFilterRules(QStringLiteral("preserve.http.info=false\npreserve.http.warning=false\n"
                                                    "preserve.cache*=false\npreserve.tracking*=false"));
    QVERIFY(m_dir.isValid());
    m_small = m_dir.filePath(QStringLiteral("small.sqlite3"));
    m_medium = m_dir.filePath(QStringLiteral("medium.sqlite3"));
    const auto small = Seeder::write(m_small, *Seeder::scale(QStringLiteral("small")), QStringLiteral("api"));
    QVERIFY2(small, qPrintable(why(small)));
    const auto medium = Seeder::write(m_medium, *Seeder::scale(QStringLiteral("medium")), QStringLiteral("api"));
    QVERIFY2(medium, qPrintable(why(medium)));
}

void TestHttpFaults::init()
{
    m_path = copyOf(m_small);
}

QString TestHttpFaults::copyOf(const QString &source)
{
    const QString path = m_dir.filePath(QStringLiteral("copy-%1.sqlite3").arg(++m_copies));
    if (!QFile::copy(source, path))
        qFatal("cannot copy %s", qPrintable(source));
    return path;
}

qint64 TestHttpFaults::largestFoo(const QString &path)
{
    auto database = Database::open(DatabaseConfig::parse(path).value());
    auto rows = (*database)->run(QStringLiteral("SELECT b.foo_id FROM api_bar b JOIN api_zab z ON z.bar_id = b.id "
                                                "JOIN api_zab_bazs l ON l.zab_id = z.id GROUP BY b.foo_id "
                                                "ORDER BY count(*) DESC LIMIT 1"));
    return rows && (*rows)->next() ? (*rows)->integer(0) : 0;
}

// The store (Redis) dies while serving: what is in memory stays a HIT, the rest is served live
// (BYPASS, the serializer's bytes), /healthz says degraded; once Redis is back (after the store's
// reconnect backoff) misses are stored again.
void TestHttpFaults::redisKilledWhileServing()
{
    TestRedis redis;
    QString error;
    QVERIFY2(redis.start(&error), qPrintable(error));
    CacheConfig config;
    config.store = StoreConfig::parse(QStringLiteral("redis"), redis.url()).value();
    config.watch = false;
    Served s(m_path, config);
    QVERIFY(s.ok);
    QCOMPARE(s.get(3).header("X-Cache"), QByteArray("MISS"));
    s.service->memory().clear();
    const HttpAnswer fromStore = s.get(3);
    QCOMPARE(fromStore.header("X-Cache"), QByteArray("HIT"));
    COMPARE_BODIES(fromStore.body, liveBody(m_path, 3));
    QCOMPARE(s.get(QStringLiteral("/healthz")).body, QByteArray("{\"status\":\"ok\"}"));

    redis.kill();
    QCOMPARE(s.get(3).header("X-Cache"), QByteArray("HIT")); // still in memory
    for (qint64 pk : { 5, 6 }) {
        const HttpAnswer bypass = s.get(pk);
        QCOMPARE(bypass.status, 200);
        QCOMPARE(bypass.header("X-Cache"), QByteArray("BYPASS"));
        COMPARE_BODIES(bypass.body, liveBody(m_path, pk));
    }
    const HttpAnswer degraded = s.get(QStringLiteral("/healthz"));
    QCOMPARE(degraded.status, 200);
    QVERIFY2(degraded.body.startsWith("{\"reason\":\"store: ") && degraded.body.endsWith(",\"status\":\"degraded\"}"),
             degraded.body.constData());

    QVERIFY2(redis.restart(&error), qPrintable(error));
    // Each service worker has its own connection and backoff: wait until misses are stored again,
    // then until a lookup that skips memory is answered by Redis.
    const auto outcomeSkippingMemory = [&s](qint64 pk) {
        s.service->memory().remove(pk);
        return s.get(pk).header("X-Cache");
    };
    // Each probe is a request that may land on another worker: asked once per step (see eventually).
    QVERIFY(eventually([&] { return outcomeSkippingMemory(8) != "BYPASS"; }, 15000));
    QCOMPARE(s.get(8).header("X-Cache"), QByteArray("HIT"));
    QVERIFY(eventually([&] { return outcomeSkippingMemory(8) == "HIT"; }, 15000)); // it was written to Redis
    COMPARE_BODIES(s.get(8).body, liveBody(m_path, 8));
    // The health check runs on the live pool, whose connections reconnect on their own backoff (up
    // to 5 s each): on a loaded machine that took longer than 15 s in 2 of 15 runs.
    const bool healthy = eventually([&] { return s.healthy(); }, 30000);
    QVERIFY2(healthy, s.lastHealth.constData());
}

// The database goes away while serving: cached entries are still served, an uncached pk is a 500
// with DRF's generic body, /healthz tells; when the file is back, misses work again. With the
// column store the entries live in the database too (so only memory answers, and health is 503);
// with Redis the store answers and the server is "degraded".
void TestHttpFaults::databaseGoneWhileServing_data()
{
    QTest::addColumn<bool>("redis");
    QTest::addRow("column store") << false;
    QTest::addRow("redis store") << true;
}

void TestHttpFaults::databaseGoneWhileServing()
{
    QFETCH(bool, redis);
    TestRedis server;
    CacheConfig config;
    config.watch = false;
    if (redis) {
        QString error;
        QVERIFY2(server.start(&error), qPrintable(error));
        config.store = StoreConfig::parse(QStringLiteral("redis"), server.url()).value();
    }
    HttpServerOptions options;
    options.liveWorkers = 1; // /healthz always on the worker whose connections were open before
    Served s(m_path, config, options);
    QVERIFY(s.ok);
    const QByteArray two = liveBody(m_path, 2);
    const QByteArray four = liveBody(m_path, 4);
    QCOMPARE(s.get(2).header("X-Cache"), QByteArray("MISS"));
    QCOMPARE(s.get(4).header("X-Cache"), QByteArray("MISS"));
    QCOMPARE(s.get(QStringLiteral("/healthz")).status, 200); // the health worker's connection is open too
    if (redis)
        s.service->memory().remove(4); // 4 is then only in Redis

    // Connections already open keep reading a file renamed away (its inode lives on): to be gone for
    // them too, its content goes as well. A copy brings it back later.
    const QString backup = m_path + QStringLiteral(".backup");
    const QString gone = m_path + QStringLiteral(".gone");
    QVERIFY(QFile::copy(m_path, backup));
    QVERIFY(QFile::rename(m_path, gone));
    QVERIFY(QFile::resize(gone, 0));

    const HttpAnswer cached = s.get(2);
    QCOMPARE(cached.status, 200);
    QCOMPARE(cached.header("X-Cache"), QByteArray("HIT"));
    COMPARE_BODIES(cached.body, two);
    if (redis) {
        const HttpAnswer stored = s.get(4);
        QCOMPARE(stored.status, 200);
        QCOMPARE(stored.header("X-Cache"), QByteArray("HIT"));
        COMPARE_BODIES(stored.body, four);
    }
    for (int round = 0; round < 3; ++round) { // on every worker, whether its connection was open or not
        const HttpAnswer uncached = s.get(9);
        QCOMPARE(uncached.status, 500);
        QCOMPARE(uncached.body, QByteArray("{\"detail\":\"A server error occurred.\"}"));
    }
    const HttpAnswer health = s.get(QStringLiteral("/healthz"));
    QCOMPARE(health.status, redis ? 200 : 503);
    QVERIFY2(health.body.contains(redis ? "\"status\":\"degraded\"" : "\"status\":\"unavailable\"")
                 && health.body.contains("database: "),
             health.body.constData());
    QCOMPARE(s.get(2).header("X-Cache"), QByteArray("HIT"));

    QVERIFY(QFile::copy(backup, m_path));
    QVERIFY(eventually([&] { return s.get(9).status == 200; }, 10000));
    COMPARE_BODIES(s.get(9).body, liveBody(m_path, 9));
    const bool healthy = eventually([&] { return s.healthy(); }, 10000);
    QVERIFY2(healthy, s.lastHealth.constData());
}

namespace {

// Requests sent at once (QNetworkAccessManager keeps six connections to a host); each answer with
// the milliseconds it took.
QList<std::pair<HttpAnswer, qint64>> concurrently(QNetworkAccessManager &manager, const QList<QUrl> &urls)
{
    QElapsedTimer timer;
    timer.start();
    QList<QNetworkReply *> replies;
    QList<qint64> done(urls.size(), -1);
    for (qsizetype i = 0; i < urls.size(); ++i) {
        QNetworkRequest request(urls.at(i));
        request.setRawHeader("Accept-Encoding", "identity");
        QNetworkReply *reply = manager.get(request);
        QObject::connect(reply, &QNetworkReply::finished, reply, [&done, &timer, i] { done[i] = timer.elapsed(); });
        replies << reply;
    }
    QDeadlineTimer deadline(60000);
    while (std::any_of(done.cbegin(), done.cend(), [](qint64 ms) { return ms < 0; }) && !deadline.hasExpired())
        QTest::qWait(10);
    QList<std::pair<HttpAnswer, qint64>> answers;
    for (qsizetype i = 0; i < replies.size(); ++i) {
        HttpAnswer answer;
        answer.status = replies.at(i)->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        answer.body = replies.at(i)->readAll();
        answers.append({ answer, done.at(i) });
        replies.at(i)->deleteLater();
    }
    return answers;
}

} // namespace

// PostgreSQL stops under load and comes back. While it is down, every answer comes within
// --timeout (memory hits as ever, the rest an error) and /healthz is not ok; once it accepts
// connections again, misses are served within about a second: reconnects back off to 1 s at most,
// and a worker does not try again for every request meanwhile.
void TestHttpFaults::postgresOutageIsBoundedAndRecovers_data()
{
    QTest::addColumn<bool>("frozen");
    QTest::addRow("stopped (connections refused)") << false;
    QTest::addRow("frozen (nothing answers)") << true;
}

void TestHttpFaults::postgresOutageIsBoundedAndRecovers()
{
    QFETCH(bool, frozen);
    TestPostgres postgres;
    QString error;
    QVERIFY2(postgres.start(&error), qPrintable(error));
    QVERIFY2(postgres.createDatabase(QStringLiteral("outage"), &error), qPrintable(error));
    const auto made = runReference({ QStringLiteral("make-db"), QStringLiteral("--db"), postgres.url(QStringLiteral("outage")) });
    QVERIFY2(made.finished && made.exitCode == 0, qPrintable(describe(made)));
    CacheConfig config;
    HttpServerOptions options;
    options.timeoutSeconds = 2;
    Served s(postgres.url(QStringLiteral("outage")), config, options);
    QVERIFY(s.ok);
    const auto thaw = qScopeGuard([&postgres] { postgres.thaw(); }); // before the server's workers join
    QCOMPARE(s.get(1).status, 200);
    QCOMPARE(s.get(1).header("X-Cache"), QByteArray("HIT"));
    QVERIFY(s.healthy());

    QVERIFY2(frozen ? postgres.freeze(&error) : postgres.pause(&error), qPrintable(error));
    for (int round = 0; round < 3; ++round) {
        QList<QUrl> urls;
        for (int pk = 2; pk < 7; ++pk) // six at once: as many connections as the client opens
            urls << QUrl(s.server->url().toString() + QStringLiteral("api/foos/%1/").arg(pk + 5 * round));
        urls << QUrl(s.server->url().toString() + QStringLiteral("api/foos/1/"));
        for (const auto &[answer, ms] : concurrently(s.manager, urls)) {
            QVERIFY2(ms <= options.timeoutSeconds * 1000 + 500, qPrintable(QStringLiteral("%1 ms: %2").arg(ms).arg(QString::fromUtf8(answer.body))));
            QVERIFY2(answer.status == 200 || answer.status == 500 || answer.status == 503, answer.body.constData());
        }
    }
    QCOMPARE(s.get(1).status, 200); // memory still answers
    QVERIFY(!s.healthy());
    QVERIFY2(s.lastHealth.contains("database") || s.lastHealth.contains("temporarily unavailable"), s.lastHealth.constData());

    if (frozen)
        postgres.thaw();
    else
        QVERIFY2(postgres.restart(&error), qPrintable(error));
    QElapsedTimer back;
    back.start();
    QVERIFY(eventually([&] { return s.get(5).status == 200; }, 8000));
    const bool healthy = eventually([&] { return s.healthy(); }, 8000);
    QVERIFY2(healthy, s.lastHealth.constData());
    qInfo("served a miss %lld ms after PostgreSQL accepted connections again", back.elapsed());
}

// `preserve serve` on SIGTERM: stops accepting, lets the request under way finish (a 20.7 MB list
// the client reads slowly, so it is still being sent when the signal arrives), exits 0.
void TestHttpFaults::serveBinaryStopsGracefullyOnSigterm()
{
    const QString path = copyOf(m_medium);
    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start({ QStringLiteral("--db"), path }, &error), qPrintable(error));
    QNetworkAccessManager manager;
    const QByteArray list = liveListBody(path);
    const HttpAnswer warm = httpRequest(manager, serve.url(QStringLiteral("/api/foos/")));
    QCOMPARE(warm.status, 200);
    COMPARE_BODIES(warm.body, list);
    const HttpAnswer detail = httpRequest(manager, serve.url(QStringLiteral("/api/foos/3/")));
    COMPARE_BODIES(detail.body, liveBody(path, 3));

    QTcpSocket slow;
    slow.setReadBufferSize(64 * 1024); // Qt stops reading, the kernel's buffers fill, the server waits
    slow.connectToHost(QHostAddress::LocalHost, serve.port());
    QVERIFY(slow.waitForConnected(5000));
    QVERIFY(send(slow, "GET /api/foos/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    QVERIFY(slow.waitForReadyRead(10000)); // under way
    QByteArray stderrText;
    serve.process().terminate();
    QTRY_VERIFY_WITH_TIMEOUT((stderrText += serve.process().readAllStandardError()).contains("Stopping"), 10000);
    QCOMPARE(serve.process().state(), QProcess::Running); // waiting for our request
    // "Stopping" is printed just before the listening socket closes.
    QTRY_COMPARE(rawRequest(serve.port(), "GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
                 QByteArray("connect failed"));

    slow.setReadBufferSize(0);
    const RawAnswer answer = readAnswer(slow, 20000);
    QVERIFY(answer.complete);
    QCOMPARE(answer.status, 200);
    COMPARE_BODIES(answer.body, list);
    QVERIFY(serve.process().waitForFinished(10000));
    QCOMPARE(serve.process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(serve.process().exitCode(), 0);
}

// 50 clients read 64 KB of the largest body (1.85 MB) and leave: the server stays up, serves the
// whole body after, and forgets those connections.
void TestHttpFaults::clientsLeaveMidResponse()
{
    const QString path = copyOf(m_medium);
    Served s(path, CacheConfig {});
    QVERIFY(s.ok);
    const qint64 pk = largestFoo(path);
    const QByteArray live = liveBody(path, pk);
    QVERIFY2(live.size() > 1024 * 1024, qPrintable(QString::number(live.size())));
    QCOMPARE(s.get(pk).header("X-Cache"), QByteArray("MISS"));
    for (int i = 0; i < 50; ++i) {
        auto socket = connected(s.server->port());
        QVERIFY(socket);
        socket->setReadBufferSize(64 * 1024);
        QVERIFY(send(*socket, getRequest(pk, i % 2 == 0))); // half of them keep-alive
        qint64 received = 0;
        while (received < 64 * 1024 && socket->waitForReadyRead(10000))
            received += socket->readAll().size();
        QVERIFY(received >= 64 * 1024);
        socket->abort();
    }
    const HttpAnswer after = s.get(pk);
    QCOMPARE(after.status, 200);
    QCOMPARE(after.header("X-Cache"), QByteArray("HIT"));
    COMPARE_BODIES(after.body, live);
    s.manager.clearConnectionCache();
    QByteArray metrics;
    QTRY_VERIFY2_WITH_TIMEOUT((metrics = rawRequest(s.server->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                                  .contains("preserve_http_connections_open 1\n"),
                              metrics.constData(), 10000);
}

// A client that leaves while its request is suspended on a miss: no crash, and the entry the miss
// built is cached all the same.
void TestHttpFaults::clientLeavesWhileSuspendedOnAMiss()
{
    Served s(m_path, CacheConfig {});
    QVERIFY(s.ok);
    s.service->holdWorkers(true);
    auto socket = connected(s.server->port());
    QVERIFY(socket);
    QVERIFY(send(*socket, getRequest(11)));
    QTRY_VERIFY_WITH_TIMEOUT(s.get(QStringLiteral("/metrics")).body.contains("preserve_http_requests_waiting 1\n"), 10000);
    socket->abort();
    s.service->holdWorkers(false);
    QTRY_VERIFY_WITH_TIMEOUT(s.service->memory().get(11) != nullptr, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(s.get(QStringLiteral("/metrics")).body.contains("preserve_http_requests_waiting 0\n"), 10000);
    const HttpAnswer hit = s.get(11);
    QCOMPARE(hit.header("X-Cache"), QByteArray("HIT"));
    COMPARE_BODIES(hit.body, liveBody(m_path, 11));
}

// Stale-while-revalidate: a Baz renamed under tracking makes its Foo's entry stale. 10 parallel
// requests get the old body marked STALE and start one refresh; a request that comes while that
// refresh is queued is STALE too and must not start a second one; then the new body is a HIT.
// One service worker, held at chosen moments, makes the order of lookups and refresh certain.
void TestHttpFaults::staleWhileRevalidateRefreshesOnce()
{
    {
        auto database = Database::open(DatabaseConfig::parse(m_path).value());
        QVERIFY2(database, qPrintable(why(database)));
        const auto installed = ChangeTracking::install(**database);
        QVERIFY2(installed, qPrintable(why(installed)));
    }
    CacheConfig config;
    config.watch = false;
    config.staleWhileRevalidate = true;
    config.workers = 1;
    Served s(m_path, config);
    QVERIFY(s.ok);
    const qint64 pk = 6;
    const QByteArray old = s.get(pk).body;
    COMPARE_BODIES(old, liveBody(m_path, pk));
    QCOMPARE(s.get(pk).header("X-Cache"), QByteArray("HIT"));
    const Status renamed = execute(m_path, QStringLiteral("UPDATE api_baz SET name = 'renamed under tracking' WHERE id = "
                                                          "(SELECT l.baz_id FROM api_zab_bazs l JOIN api_zab z ON z.id = l.zab_id "
                                                          "JOIN api_bar b ON b.id = z.bar_id WHERE b.foo_id = 6 LIMIT 1)"));
    QVERIFY2(renamed, qPrintable(why(renamed)));
    const QByteArray fresh = liveBody(m_path, pk);
    QVERIFY(fresh != old);
    s.service->memory().clear(); // the store is consulted (and the change log says the entry is stale)

    QSignalSpy started(s.service.get(), &CacheService::jobStarted);
    QSignalSpy finished(s.service.get(), &CacheService::jobFinished);
    // Blocking polls: this thread's events (the queued refresh request) wait until we let them run.
    const auto waitingRequests = [&s](int count) {
        const QByteArray expected = "preserve_http_requests_waiting " + QByteArray::number(count) + '\n';
        for (QDeadlineTimer deadline(10000); !deadline.hasExpired();) {
            if (rawRequest(s.server->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").contains(expected))
                return true;
        }
        return false;
    };
    const auto expectStale = [&](std::vector<std::unique_ptr<QTcpSocket>> &sockets) {
        for (auto &socket : sockets) {
            const RawAnswer answer = readAnswer(*socket);
            QVERIFY(answer.complete);
            QCOMPARE(answer.header("X-Cache"), QByteArray("STALE"));
            COMPARE_BODIES(answer.body, old);
        }
    };
    std::vector<std::unique_ptr<QTcpSocket>> parallel;
    s.service->holdWorkers(true);
    for (int i = 0; i < 10; ++i) {
        parallel.push_back(connected(s.server->port()));
        QVERIFY(parallel.back());
        QVERIFY(send(*parallel.back(), getRequest(pk, true)));
    }
    QVERIFY(waitingRequests(10));
    s.service->holdWorkers(false);
    expectStale(parallel); // one lookup for all ten (single flight); it asked for a refresh

    std::vector<std::unique_ptr<QTcpSocket>> late;
    s.service->holdWorkers(true);
    late.push_back(connected(s.server->port()));
    QVERIFY(late.back());
    QVERIFY(send(*late.back(), getRequest(pk, true)));
    QVERIFY(waitingRequests(1)); // its lookup is queued first ...
    QTRY_COMPARE(started.count(), 1); // ... the refresh right behind it (workers still held)
    s.service->holdWorkers(false);
    expectStale(late);
    // The refresh finishes on the worker (no event of this thread needed); the late request's ask
    // for a refresh is still queued here, to be handled once the fresh entry is in place.
    for (QDeadlineTimer deadline(10000); s.refreshes() < 1 && !deadline.hasExpired();)
        QThread::yieldCurrentThread();
    QCOMPARE(s.refreshes(), 1);
    // Every refresh asked for is a job now: asked (queued call), started (another queued call).
    for (int hop = 0; hop < 3; ++hop)
        QCoreApplication::sendPostedEvents();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), started.count(), 10000);
    QCOMPARE(s.refreshes(), 1); // the late request's ask found the fresh entry: no second refresh
    const HttpAnswer after = s.get(pk);
    QCOMPARE(after.header("X-Cache"), QByteArray("HIT"));
    COMPARE_BODIES(after.body, fresh);
}

// Two `preserve serve` processes over one Redis: a refresh through one is seen by the other
// (Redis pub/sub drops its memory copy) within 2 s.
void TestHttpFaults::twoProcessesOverOneRedisStayCoherent()
{
    TestRedis redis;
    QString error;
    QVERIFY2(redis.start(&error), qPrintable(error));
    const QString tokenFile = m_dir.filePath(QStringLiteral("token"));
    {
        QFile file(tokenFile);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("two-process-token\n");
    }
    const QStringList arguments { QStringLiteral("--db"), m_path, QStringLiteral("--store"), QStringLiteral("redis"),
                                  QStringLiteral("--redis"), redis.url(), QStringLiteral("--token-file"), tokenFile };
    ServeProcess a;
    ServeProcess b;
    QVERIFY2(a.start(arguments, &error), qPrintable(error));
    QVERIFY2(b.start(arguments, &error), qPrintable(error));
    QVERIFY(a.port() != b.port());
    QNetworkAccessManager manager;
    const QByteArray old = liveBody(m_path, 4);
    for (ServeProcess *serve : { &a, &b }) {
        httpRequest(manager, serve->url(QStringLiteral("/api/foos/4/")));
        const HttpAnswer hit = httpRequest(manager, serve->url(QStringLiteral("/api/foos/4/")));
        QCOMPARE(hit.header("X-Cache"), QByteArray("HIT"));
        COMPARE_BODIES(hit.body, old);
    }
    const Status renamed = execute(m_path, QStringLiteral("UPDATE api_foo SET name = 'renamed by process test' WHERE id = 4"));
    QVERIFY2(renamed, qPrintable(why(renamed)));
    const QByteArray fresh = liveBody(m_path, 4);
    COMPARE_BODIES(httpRequest(manager, b.url(QStringLiteral("/api/foos/4/"))).body, old); // B's memory, as expected

    const HttpAnswer refresh = httpRequest(manager, a.url(QStringLiteral("/api/foos/4/refresh/")), "POST",
                                           { { "Authorization", "Bearer two-process-token" } });
    QCOMPARE(refresh.status, 202);
    QTRY_VERIFY_WITH_TIMEOUT(httpRequest(manager, b.url(QStringLiteral("/api/foos/4/"))).body == fresh, 3000);
    COMPARE_BODIES(httpRequest(manager, a.url(QStringLiteral("/api/foos/4/"))).body, fresh);
}

// 200 clients at once, each with a keep-alive connection doing two GETs of one cached detail.
void TestHttpFaults::twoHundredKeepAliveClients()
{
    Served s(m_path, CacheConfig {});
    QVERIFY(s.ok);
    const QByteArray live = liveBody(m_path, 2);
    QCOMPARE(s.get(2).status, 200);
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    for (int i = 0; i < 200; ++i) {
        sockets.push_back(std::make_unique<QTcpSocket>());
        sockets.back()->connectToHost(QHostAddress::LocalHost, s.server->port());
    }
    for (int round = 0; round < 2; ++round) {
        for (auto &socket : sockets) {
            QVERIFY(socket->state() == QAbstractSocket::ConnectedState || socket->waitForConnected(5000));
            QVERIFY(send(*socket, getRequest(2)));
        }
        for (auto &socket : sockets) {
            const RawAnswer answer = readAnswer(*socket);
            QVERIFY(answer.complete);
            QCOMPARE(answer.status, 200);
            QCOMPARE(answer.header("X-Cache"), QByteArray("HIT"));
            QVERIFY(answer.body == live);
        }
    }
    const QByteArray metrics = rawRequest(s.server->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const QRegularExpression open(QStringLiteral("preserve_http_connections_open (\\d+)\n"));
    QVERIFY2(open.match(QString::fromLatin1(metrics)).captured(1).toInt() >= 201, metrics.constData()); // all at once
}

// --max-connections 8: a 9th connection is not served while 8 are busy with a request (nothing is
// accepted: it waits in the kernel's queue, see HttpServerOptions::maxConnections), and is served
// as soon as one of them closes. Idle connections (kept alive after an answer, or open with nothing
// sent) make room for it at once: the idlest is closed, as nginx does.
void TestHttpFaults::connectionLimit()
{
    HttpServerOptions options;
    options.maxConnections = 8;
    Served s(m_path, CacheConfig {}, options);
    QVERIFY(s.ok);
    const QByteArray live = liveBody(m_path, 1);
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    for (int i = 0; i < 8; ++i) {
        sockets.push_back(connected(s.server->port()));
        QVERIFY(sockets.back());
        QVERIFY(send(*sockets.back(), getRequest(1)));
        const RawAnswer answer = readAnswer(*sockets.back());
        QCOMPARE(answer.status, 200);
        COMPARE_BODIES(answer.body, live);
    }
    {
        QTcpSocket waiting;
        waiting.connectToHost(QHostAddress::LocalHost, s.server->port());
        QVERIFY(waiting.waitForConnected(5000));
        QVERIFY(send(waiting, getRequest(1)));
        const RawAnswer reclaimed = readAnswer(waiting); // within readAnswer's wait, far below --timeout
        QVERIFY(reclaimed.complete);
        COMPARE_BODIES(reclaimed.body, live);
    }
    sockets.clear();
    // Now eight busy ones: each has sent its request line and waits to send the rest.
    for (int i = 0; i < 8; ++i) {
        sockets.push_back(connected(s.server->port()));
        QVERIFY(sockets.back());
        QVERIFY(send(*sockets.back(), "GET /api/foos/1/ HTTP/1.1\r\n"));
    }
    // All eight are open (the first eight are gone) and have their request line in.
    QTRY_VERIFY(s.server->openConnections() == 8 && s.server->idleConnections() == 0);
    QTcpSocket ninth;
    ninth.connectToHost(QHostAddress::LocalHost, s.server->port());
    QVERIFY(ninth.waitForConnected(5000)); // the kernel's backlog
    QVERIFY(send(ninth, getRequest(1)));
    QVERIFY(!ninth.waitForReadyRead(300)); // bounded: proves nothing answers while 8 are open
    QCOMPARE(ninth.state(), QAbstractSocket::ConnectedState);
    sockets.front()->close();
    const RawAnswer answer = readAnswer(ninth);
    QVERIFY(answer.complete);
    COMPARE_BODIES(answer.body, live);
    sockets.clear();
    QCOMPARE(s.get(1).status, 200);
}

QTEST_GUILESS_MAIN(TestHttpFaults)
#include "tst_httpfaults.moc"
