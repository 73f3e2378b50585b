#include "cache/redis/redisstore.h"
#include "cache/redis/rediswatcher.h"
#include "db/database.h"
#include "db/seeder.h"
#include "serialize/serializer.h"
#include "testredis.h"
#include "storecontract.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <atomic>
#include <thread>

namespace {

// A Foo body in the serializer's canonical form; `padding` makes it bigger (more Bars).
QByteArray fooBody(qint64 pk, int bars = 1)
{
    QByteArray body = "{\"name\":\"foo " + QByteArray::number(pk) + " Z\xC3\xBCrich \\\"q\\\"\",\"bar_set\":[";
    for (int i = 0; i < bars; ++i) {
        if (i)
            body += ',';
        body += "{\"name\":\"bar " + QByteArray::number(i) + "\",\"zab_set\":[{\"name\":\"zab\",\"bazs\":"
                "[{\"name\":\"baz " + QByteArray::number(pk * 31 + i) + "\"}]}]}";
    }
    return body + "]}";
}

EntryMetadata ourMetadata(qint64 changePosition = 77)
{
    EntryMetadata metadata;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    metadata.cachedAt = now.addMSecs(-(now.time().msec() % 7)); // some milliseconds, not always 0
    metadata.serializerVersion = Serializer::version;
    metadata.builtBy = builderName();
    metadata.buildMicros = 1234;
    metadata.changePosition = changePosition;
    return metadata;
}

std::unique_ptr<RedisStore> openStore(const QString &url, const QString &prefix = QStringLiteral("preserve:"))
{
    const auto config = RedisConfig::parse(url, prefix);
    if (!config) {
        qWarning("bad URL: %s", qPrintable(config.error().message));
        return {};
    }
    auto store = RedisStore::open(*config);
    if (!store) {
        qWarning("cannot open the store: %s", qPrintable(store.error().message));
        return {};
    }
    return std::move(store).value();
}

// Forwards connections to Redis and counts round trips: a client write that follows a server
// reply (or comes first) starts a new one. Runs on the test's event loop; the store must run on
// another thread.
class RoundTripProxy {
public:
    explicit RoundTripProxy(int upstreamPort)
        : m_upstreamPort(upstreamPort)
    {
        m_server.listen(QHostAddress::LocalHost, 0);
        QObject::connect(&m_server, &QTcpServer::newConnection, &m_server, [this] { accept(); });
    }
    int port() const { return m_server.serverPort(); }
    int roundTrips() const { return m_roundTrips; }

private:
    void accept()
    {
        while (QTcpSocket *client = m_server.nextPendingConnection()) {
            auto *upstream = new QTcpSocket(client);
            upstream->connectToHost(QHostAddress::LocalHost, quint16(m_upstreamPort));
            upstream->waitForConnected(2000);
            QObject::connect(client, &QTcpSocket::readyRead, client, [this, client, upstream] {
                if (!m_clientTurn.exchange(true))
                    ++m_roundTrips;
                upstream->write(client->readAll());
            });
            QObject::connect(upstream, &QTcpSocket::readyRead, client, [this, client, upstream] {
                m_clientTurn = false;
                client->write(upstream->readAll());
            });
        }
    }

    QTcpServer m_server;
    int m_upstreamPort;
    std::atomic_int m_roundTrips { 0 };
    std::atomic_bool m_clientTurn { false };
};

} // namespace

class TestRedisStore : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void parseConfig_data();
    void parseConfig();
    void parseConfigRejects_data();
    void parseConfigRejects();
    void keysAndChannel();
    void roundTrip();
    void missingAndRemove();
    void olderNeverOverNewer();
    void previousEntryAndRollback();
    void putReplacesForeignValue();
    void getManyIsOneRoundTrip();
    void listUsesScan();
    void foreignString();
    void foreignHash();
    void corrupt_data();
    void corrupt();
    void passwordDatabaseAndSocket();
    void prefixIsolation();
    void failsFastWhileDown();
    void killedMidCall();
    void idleConnectionClosedByServer();
    void watcherSeesOtherWriters();
    void watcherSurvivesRestart();
    void watcherStopsPromptly();
    void largestEntryTimings();

private:
    void startOrFail(TestRedis &redis);
    TestRedis m_redis;
};

void TestRedisStore::startOrFail(TestRedis &redis)
{
    QString error;
    if (!redis.start(&error))
        QFAIL(qPrintable(error));
}

void TestRedisStore::initTestCase()
{
    startOrFail(m_redis);
}

void TestRedisStore::parseConfig_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("socket");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("password");
    QTest::addColumn<int>("database");
    QTest::addColumn<QString>("description");

    QTest::addRow("full") << "redis://127.0.0.1:6379/0" << "127.0.0.1" << 6379 << "" << "" << "" << 0
                          << "redis://127.0.0.1:6379/0";
    QTest::addRow("host only") << "redis://cache.internal" << "cache.internal" << 6379 << "" << "" << "" << 0
                               << "redis://cache.internal:6379/0";
    QTest::addRow("trailing slash") << "redis://h:7000/" << "h" << 7000 << "" << "" << "" << 0 << "redis://h:7000/0";
    QTest::addRow("password") << "redis://:s3cret@h:6380/2" << "h" << 6380 << "" << "" << "s3cret" << 2
                              << "redis://h:6380/2";
    QTest::addRow("user and password") << "redis://alice:pw@h/3" << "h" << 6379 << "" << "alice" << "pw" << 3
                                       << "redis://alice@h:6379/3";
    QTest::addRow("escaped password") << "redis://:p%40ss%2Fw@h" << "h" << 6379 << "" << "" << "p@ss/w" << 0
                                      << "redis://h:6379/0";
    QTest::addRow("ipv6") << "redis://[::1]:7001/1" << "::1" << 7001 << "" << "" << "" << 1 << "redis://[::1]:7001/1";
    QTest::addRow("upper-case scheme") << "REDIS://h" << "h" << 6379 << "" << "" << "" << 0 << "redis://h:6379/0";
    QTest::addRow("socket") << "unix:///run/redis/redis.sock" << "127.0.0.1" << 6379 << "/run/redis/redis.sock"
                            << "" << "" << 0 << "unix:///run/redis/redis.sock";
    QTest::addRow("socket with db and password")
        << "unix:///tmp/r.sock?db=4&password=pw" << "127.0.0.1" << 6379 << "/tmp/r.sock" << "" << "pw" << 4
        << "unix:///tmp/r.sock?db=4";
}

void TestRedisStore::parseConfig()
{
    QFETCH(QString, url);
    const auto config = RedisConfig::parse(url, QStringLiteral("p:"));
    QVERIFY2(config, qPrintable(why(config)));
    QTEST(config->host, "host");
    QTEST(config->port, "port");
    QTEST(config->unixSocket, "socket");
    QTEST(config->user, "user");
    QTEST(config->password, "password");
    QTEST(config->database, "database");
    QTEST(config->description(), "description");
    QCOMPARE(config->prefix, QStringLiteral("p:"));
    if (!config->password.isEmpty())
        QVERIFY(!config->description().contains(config->password));
}

void TestRedisStore::parseConfigRejects_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("expected"); // part of the message

    QTest::addRow("empty") << "" << "not a valid Redis URL";
    QTest::addRow("no scheme") << "localhost:6379" << "scheme";
    QTest::addRow("http") << "http://h:6379" << "unsupported scheme \"http\"";
    QTest::addRow("tls") << "rediss://h:6380" << "TLS";
    QTest::addRow("port not a number") << "redis://:topsecret@h:abc/0" << "port must be a number";
    QTest::addRow("port zero") << "redis://h:0" << "port 0";
    QTest::addRow("port too big") << "redis://h:70000" << "port must be a number";
    QTest::addRow("not a url") << "redis://h h" << "not a valid Redis URL";
    QTest::addRow("db not a number") << "redis://h/cache" << "\"cache\"";
    QTest::addRow("negative db") << "redis://h/-1" << "\"-1\"";
    QTest::addRow("db path") << "redis://h/1/2" << "\"1/2\"";
    QTest::addRow("options") << "redis://h?db=1" << "no options";
    QTest::addRow("user without password") << "redis://alice@h" << "no password";
    QTest::addRow("socket without path") << "unix://" << "socket path";
    QTest::addRow("socket with host") << "unix://h/tmp/r.sock" << "not a host";
    QTest::addRow("socket bad db") << "unix:///tmp/r.sock?db=x&password=topsecret" << "\"x\"";
    QTest::addRow("socket unknown option") << "unix:///tmp/r.sock?color=red" << "\"color\"";
}

void TestRedisStore::parseConfigRejects()
{
    QFETCH(QString, url);
    QFETCH(QString, expected);
    const auto config = RedisConfig::parse(url);
    QVERIFY(!config);
    QCOMPARE(config.error().kind, Error::Kind::Invalid);
    QVERIFY2(config.error().message.contains(expected), qPrintable(config.error().message));
    QVERIFY2(!config.error().message.contains(QLatin1String("topsecret")), qPrintable(config.error().message));
}

void TestRedisStore::keysAndChannel()
{
    const auto config = RedisConfig::parse(QStringLiteral("redis://h"), QStringLiteral("app1:"));
    QVERIFY2(config, qPrintable(why(config)));
    QCOMPARE(config->key(42), QByteArray("app1:foo:42"));
    QCOMPARE(config->channel(), QByteArray("app1:changes"));
    const auto defaults = RedisConfig::parse(QStringLiteral("redis://h"));
    QVERIFY2(defaults, qPrintable(why(defaults)));
    QCOMPARE(defaults->key(-3), QByteArray("preserve:foo:-3"));
}

void TestRedisStore::roundTrip()
{
    auto writer = openStore(m_redis.url());
    auto reader = openStore(m_redis.url());
    QVERIFY(writer && reader);
    QCOMPARE(writer->kind(), QStringLiteral("redis"));
    const EntryMetadata metadata = ourMetadata(9001);
    const EntryPtr written = makeEntry(11, fooBody(11, 40), metadata);
    const Status put = writer->put(written);
    QVERIFY2(put, qPrintable(why(put)));

    const auto read = reader->get(11);
    QVERIFY2(read, qPrintable(why(read)));
    const EntryPtr entry = *read;
    QVERIFY(entry);
    QCOMPARE(entry->pk, 11);
    COMPARE_BODIES(entry->body, written->body);
    COMPARE_BODIES(gzipDecompress(entry->gzip), written->body);
    QCOMPARE(entry->gzip, written->gzip); // reused, not made again
    QCOMPARE(entry->digest, digestOf(written->body));
    QCOMPARE(entry->cachedAt, metadata.cachedAt);
    QCOMPARE(entry->cachedAt.time().msec(), metadata.cachedAt.time().msec());
    QCOMPARE(entry->serializerVersion, Serializer::version);
    QCOMPARE(entry->builtBy, metadata.builtBy);
    QCOMPARE(entry->buildMicros, 1234);
    QCOMPARE(entry->changePosition, 9001);
    QVERIFY(!entry->foreign);

    // One hash, with the metadata readable by anyone.
    QCOMPARE(m_redis.command({ QStringLiteral("TYPE"), QStringLiteral("preserve:foo:11") }), QByteArray("hash"));
    QCOMPARE(m_redis.command({ QStringLiteral("HGET"), QStringLiteral("preserve:foo:11"), QStringLiteral("cached_at") }),
             metadata.cachedAt.toString(Qt::ISODateWithMs).toLatin1());

    // A second put replaces everything.
    const EntryPtr second = makeEntry(11, fooBody(11, 2), ourMetadata(9002));
    QVERIFY(writer->put(second).ok());
    const auto again = reader->get(11);
    QVERIFY2(again && *again, qPrintable(why(again)));
    COMPARE_BODIES((*again)->body, second->body);
    QCOMPARE((*again)->changePosition, 9002);
}

// Invariant: no older body over a newer one (see the database column store's test of the same).
void TestRedisStore::olderNeverOverNewer()
{
    auto first = openStore(m_redis.url());
    auto second = openStore(m_redis.url());
    QVERIFY(first && second);
    const EntryPtr newer = makeEntry(21, fooBody(21, 3), ourMetadata(500));
    const EntryPtr older = makeEntry(21, fooBody(21, 1), ourMetadata(499));
    QVERIFY(first->put(newer).ok());
    const Status kept = second->put(older);
    QVERIFY2(kept, qPrintable(why(kept)));
    auto read = first->get(21);
    QVERIFY(read && *read);
    COMPARE_BODIES((*read)->body, newer->body);
    QCOMPARE((*read)->changePosition, 500);
    QVERIFY(first->put(makeEntry(22, fooBody(22), ourMetadata(7))).ok());
    m_redis.command({ QStringLiteral("SET"), QStringLiteral("preserve:foo:23"), QStringLiteral("{\"name\":\"foreign\",\"bar_set\":[]}") });
    auto positions = second->positions({ 21, 22, 23, 24 });
    QVERIFY2(positions, qPrintable(why(positions)));
    QCOMPARE(*positions, (QHash<qint64, qint64> { { 21, 500 }, { 22, 7 } }));
    const EntryPtr same = makeEntry(21, fooBody(21, 2), ourMetadata(500));
    QVERIFY(second->put(same).ok());
    COMPARE_BODIES(first->get(21).value()->body, same->body);
    const EntryPtr untracked = makeEntry(21, fooBody(21, 4), ourMetadata(-1));
    QVERIFY(second->put(untracked).ok());
    COMPARE_BODIES(first->get(21).value()->body, untracked->body);
    // Over a foreign string: replaced, as before.
    QVERIFY(second->put(makeEntry(23, fooBody(23), ourMetadata(1))).ok());
    QCOMPARE(first->get(23).value()->changePosition, 1);
}

void TestRedisStore::missingAndRemove()
{
    auto store = openStore(m_redis.url());
    QVERIFY(store);
    const auto missing = store->get(424242);
    QVERIFY2(missing, qPrintable(why(missing)));
    QVERIFY(!*missing);

    QVERIFY(store->put(makeEntry(12, fooBody(12), ourMetadata())).ok());
    QVERIFY(store->get(12).value());
    const Status removed = store->remove(12);
    QVERIFY2(removed, qPrintable(why(removed)));
    QVERIFY(!store->get(12).value());
    QCOMPARE(m_redis.command({ QStringLiteral("EXISTS"), QStringLiteral("preserve:foo:12") }), QByteArray("0"));
    QVERIFY2(store->remove(12), "removing a missing entry is no error");
    QVERIFY(!store->put(nullptr).ok());
}

void TestRedisStore::previousEntryAndRollback()
{
    auto store = openStore(m_redis.url());
    QVERIFY(store);
    const QString problem = checkPreviousEntries(*store, 31);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    // Kept outside the keys list() scans: one entry listed, not two.
    auto infos = store->list();
    QVERIFY2(infos, qPrintable(why(infos)));
    QCOMPARE(std::count_if(infos->cbegin(), infos->cend(), [](const EntryInfo &info) { return info.pk == 31; }), 1);
    QVERIFY(store->remove(31));
}

void TestRedisStore::putReplacesForeignValue()
{
    auto store = openStore(m_redis.url());
    QVERIFY(store);
    QVERIFY(!m_redis.command({ QStringLiteral("SET"), QStringLiteral("preserve:foo:13"), QStringLiteral("junk") }).isEmpty());
    QVERIFY(!m_redis.command({ QStringLiteral("RPUSH"), QStringLiteral("preserve:foo:14"), QStringLiteral("x") }).isEmpty());
    // Some other program's list at our key is replaced, and said (a foreign string is no surprise).
    QTest::ignoreMessage(QtWarningMsg, "preserve:foo:14 held a Redis list, not an entry: replaced by Foo 14's entry");
    for (const qint64 pk : { 13, 14 }) {
        const EntryPtr entry = makeEntry(pk, fooBody(pk), ourMetadata());
        const Status put = store->put(entry);
        QVERIFY2(put, qPrintable(why(put)));
        const auto read = store->get(pk);
        QVERIFY2(read && *read, qPrintable(why(read)));
        COMPARE_BODIES((*read)->body, entry->body);
        QVERIFY(!(*read)->foreign);
    }
}

void TestRedisStore::getManyIsOneRoundTrip()
{
    const QString prefix = QStringLiteral("many:");
    auto store = openStore(m_redis.url(), prefix);
    QVERIFY(store);
    QList<qint64> pks;
    for (qint64 pk = 1; pk <= 100; ++pk) {
        QVERIFY(store->put(makeEntry(pk, fooBody(pk, int(pk % 7) + 1), ourMetadata(pk))).ok());
        pks << pk;
    }

    RoundTripProxy proxy(m_redis.port());
    const qint64 callsBefore = m_redis.commandCalls("hgetall");
    std::atomic_bool done { false };
    int roundTrips = -1;
    Result<QHash<qint64, EntryPtr>> result = Error::invalid(QStringLiteral("not run"));
    std::thread worker([&] {
        auto proxied = openStore(QStringLiteral("redis://127.0.0.1:%1").arg(proxy.port()), prefix);
        if (proxied) {
            const int before = proxy.roundTrips();
            result = proxied->getMany(pks);
            roundTrips = proxy.roundTrips() - before;
        }
        done = true;
    });
    QTRY_VERIFY_WITH_TIMEOUT(done, 10000);
    worker.join();
    QVERIFY2(result, qPrintable(why(result)));
    QCOMPARE(result->size(), 100);
    QCOMPARE(roundTrips, 1);
    QCOMPARE(m_redis.commandCalls("hgetall") - callsBefore, 100);
    for (qint64 pk : pks) {
        const EntryPtr entry = result->value(pk);
        QVERIFY(entry);
        COMPARE_BODIES(entry->body, fooBody(pk, int(pk % 7) + 1));
        QCOMPARE(entry->changePosition, pk);
    }

    // Missing pks and repeats are left out; an empty request is no error.
    const auto some = store->getMany({ 5, 5, 1000, 7 });
    QVERIFY2(some, qPrintable(why(some)));
    QCOMPARE(some->keys().size(), 2);
    QVERIFY(some->contains(5) && some->contains(7));
    const auto none = store->getMany({});
    QVERIFY2(none && none->isEmpty(), qPrintable(why(none)));
}

void TestRedisStore::listUsesScan()
{
    const QString prefix = QStringLiteral("list[1]*:"); // glob characters must not widen SCAN's MATCH
    auto store = openStore(m_redis.url(), prefix);
    auto neighbour = openStore(m_redis.url(), QStringLiteral("list[1]x:"));
    QVERIFY(store && neighbour);
    constexpr int count = 2500;
    for (qint64 pk = count; pk >= 1; --pk) {
        const Status put = store->put(makeEntry(pk, fooBody(pk, int(pk % 3) + 1), ourMetadata(pk)));
        QVERIFY2(put, qPrintable(why(put)));
    }
    QVERIFY(neighbour->put(makeEntry(99999, fooBody(1), ourMetadata())).ok());
    const QString key = prefix + QStringLiteral("foo:");
    QVERIFY(!m_redis.command({ QStringLiteral("SET"), key + QStringLiteral("3000"), QStringLiteral("{\"name\":null,\"bar_set\":[]}") }).isEmpty());
    QVERIFY(!m_redis.command({ QStringLiteral("HSET"), key + QStringLiteral("3001"), QStringLiteral("digest"), QStringLiteral("x") }).isEmpty());
    QVERIFY(!m_redis.command({ QStringLiteral("SADD"), key + QStringLiteral("3002"), QStringLiteral("x") }).isEmpty());
    QVERIFY(!m_redis.command({ QStringLiteral("SET"), key + QStringLiteral("notapk"), QStringLiteral("x") }).isEmpty());
    QVERIFY(!m_redis.command({ QStringLiteral("SET"), key + QStringLiteral("007"), QStringLiteral("x") }).isEmpty());

    const qint64 scansBefore = m_redis.commandCalls("scan");
    const qint64 keysBefore = m_redis.commandCalls("keys");
    QElapsedTimer timer;
    timer.start();
    const auto listed = store->list();
    const qint64 elapsed = timer.elapsed();
    QVERIFY2(listed, qPrintable(why(listed)));
    QCOMPARE(listed->size(), count + 3);
    QVERIFY2(m_redis.commandCalls("scan") - scansBefore >= 2, "SCAN with COUNT 1000 takes several pages");
    QCOMPARE(m_redis.commandCalls("keys"), keysBefore);
    qInfo("list() of %d entries: %lld ms", count, elapsed);

    for (qsizetype i = 0; i < count; ++i) {
        const EntryInfo &info = listed->at(i);
        const qint64 pk = i + 1;
        QCOMPARE(info.pk, pk);
        const QByteArray body = fooBody(pk, int(pk % 3) + 1);
        QCOMPARE(info.size, body.size());
        QCOMPARE(info.digest, digestOf(body));
        QCOMPARE(info.changePosition, pk);
        QCOMPARE(info.serializerVersion, Serializer::version);
        QVERIFY(info.cachedAt.isValid());
        QVERIFY(!info.foreign);
        QVERIFY(info.problem.isEmpty());
    }
    const EntryInfo &foreign = listed->at(count);
    QCOMPARE(foreign.pk, 3000);
    QVERIFY(foreign.foreign);
    QVERIFY(foreign.problem.isEmpty());
    QCOMPARE(foreign.size, qint64(strlen("{\"name\":null,\"bar_set\":[]}")));
    QCOMPARE(listed->at(count + 1).pk, 3001);
    QVERIFY2(listed->at(count + 1).problem.contains(QLatin1String("no body")), qPrintable(listed->at(count + 1).problem));
    QCOMPARE(listed->at(count + 2).pk, 3002);
    QVERIFY2(listed->at(count + 2).problem.contains(QLatin1String("set")), qPrintable(listed->at(count + 2).problem));
}

void TestRedisStore::foreignString()
{
    auto store = openStore(m_redis.url());
    QVERIFY(store);
    QVERIFY(!m_redis.command({ QStringLiteral("SET"), QStringLiteral("preserve:foo:7"),
                               QStringLiteral("{\"bar_set\": [], \"name\": \"x\"}") })
                 .isEmpty());
    const auto read = store->get(7);
    QVERIFY2(read, qPrintable(why(read)));
    QVERIFY(*read);
    const Entry &entry = **read;
    QVERIFY(entry.foreign);
    COMPARE_BODIES(entry.body, QByteArray("{\"name\":\"x\",\"bar_set\":[]}"));
    QCOMPARE(entry.digest, digestOf(entry.body));
    COMPARE_BODIES(gzipDecompress(entry.gzip), entry.body);
    QVERIFY(!entry.cachedAt.isValid());
    QCOMPARE(entry.serializerVersion, 0);

    // Already canonical: the same bytes; and getMany finds foreign entries too.
    QVERIFY(!m_redis.command({ QStringLiteral("SET"), QStringLiteral("preserve:foo:8"),
                               QStringLiteral("{\"name\":\"y\",\"bar_set\":[]}") })
                 .isEmpty());
    const auto many = store->getMany({ 7, 8 });
    QVERIFY2(many, qPrintable(why(many)));
    QCOMPARE(many->size(), 2);
    QVERIFY(many->value(8)->foreign);
    COMPARE_BODIES(many->value(8)->body, QByteArray("{\"name\":\"y\",\"bar_set\":[]}"));

    // The bytes as Redis holds them, not canonical: what Save Cached Body writes.
    const auto stored = store->storedBytes(7);
    QVERIFY2(stored && *stored, qPrintable(why(stored)));
    QCOMPARE(**stored, QByteArray("{\"bar_set\": [], \"name\": \"x\"}"));
    QVERIFY(store->keepsBytes());
    const auto none = store->storedBytes(404);
    QVERIFY2(none && !*none, qPrintable(why(none)));
}

void TestRedisStore::foreignHash()
{
    auto store = openStore(m_redis.url());
    QVERIFY(store);
    const QString key = QStringLiteral("preserve:foo:9");
    // Our entry, then someone else changes the body behind the digest's back.
    QVERIFY(store->put(makeEntry(9, fooBody(9), ourMetadata())).ok());
    QVERIFY(!m_redis.command({ QStringLiteral("HSET"), key, QStringLiteral("body"),
                               QStringLiteral("{\"bar_set\":[],\"name\":\"edited\"}") })
                 .isEmpty());
    auto read = store->get(9);
    QVERIFY2(read && *read, qPrintable(why(read)));
    QVERIFY((*read)->foreign);
    COMPARE_BODIES((*read)->body, QByteArray("{\"name\":\"edited\",\"bar_set\":[]}"));
    // list() says so too, without reading the body: the server checks it against body_sha1. An
    // entry nobody touched is not foreign.
    QVERIFY(store->put(makeEntry(8, fooBody(8), ourMetadata())).ok());
    const auto listed = store->list();
    QVERIFY2(listed, qPrintable(why(listed)));
    QHash<qint64, bool> foreign;
    for (const EntryInfo &info : *listed)
        foreign.insert(info.pk, info.foreign);
    QCOMPARE(foreign.value(9, false), true);
    QCOMPARE(foreign.value(8, true), false);
    const auto stored = store->storedBytes(9);
    QVERIFY2(stored && *stored, qPrintable(why(stored)));
    QCOMPARE(**stored, QByteArray("{\"bar_set\":[],\"name\":\"edited\"}"));
    QCOMPARE((*read)->digest, digestOf((*read)->body));
    COMPARE_BODIES(gzipDecompress((*read)->gzip), (*read)->body);

    // A hash in our layout written by someone who computed the digest but no seal: accepted as ours.
    const QByteArray body = fooBody(10);
    QVERIFY(!m_redis.command({ QStringLiteral("HSET"), QStringLiteral("preserve:foo:10"), QStringLiteral("body"),
                               QString::fromUtf8(body), QStringLiteral("digest"), QString::fromLatin1(digestOf(body)),
                               QStringLiteral("version"), QStringLiteral("1"), QStringLiteral("cached_at"),
                               QStringLiteral("2024-05-06T07:08:09.123Z") })
                 .isEmpty());
    read = store->get(10);
    QVERIFY2(read && *read, qPrintable(why(read)));
    QVERIFY(!(*read)->foreign);
    COMPARE_BODIES((*read)->body, body);
    COMPARE_BODIES(gzipDecompress((*read)->gzip), body); // no gzip stored: made
    QCOMPARE((*read)->cachedAt, QDateTime(QDate(2024, 5, 6), QTime(7, 8, 9, 123), Qt::UTC));
}

void TestRedisStore::corrupt_data()
{
    QTest::addColumn<QStringList>("setup"); // redis-cli arguments; %1 is the key
    QTest::addColumn<QString>("expected");   // part of the message
    QTest::addColumn<QString>("listProblem"); // what list() says, empty when it cannot tell

    QTest::addRow("string, not json") << QStringList { "SET", "%1", "not json" } << "" << "";
    QTest::addRow("string, wrong shape") << QStringList { "SET", "%1", "{\"name\": 1, \"bar_set\": []}" } << "name"
                                         << "";
    QTest::addRow("string, an array") << QStringList { "SET", "%1", "[1,2]" } << "" << "";
    QTest::addRow("hash without body") << QStringList { "HSET", "%1", "digest", "abc" } << "no body field"
                                       << "no body field";
    QTest::addRow("hash, body not json") << QStringList { "HSET", "%1", "body", "{broken", "digest", "abc" } << ""
                                         << "";
    QTest::addRow("a list") << QStringList { "RPUSH", "%1", "a" } << "neither a hash nor a string"
                            << "list";
}

void TestRedisStore::corrupt()
{
    QFETCH(QStringList, setup);
    QFETCH(QString, expected);
    QFETCH(QString, listProblem);
    const QString prefix = QStringLiteral("corrupt%1:").arg(QTest::currentDataTag()).remove(QLatin1Char(' '));
    auto store = openStore(m_redis.url(), prefix);
    QVERIFY(store);
    QVERIFY(store->put(makeEntry(1, fooBody(1), ourMetadata())).ok());
    const QString key = prefix + QStringLiteral("foo:2");
    for (QString &argument : setup)
        argument.replace(QStringLiteral("%1"), key);
    QString error;
    m_redis.command(setup, 0, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));

    const auto read = store->get(2);
    QVERIFY(!read);
    QCOMPARE(read.error().kind, Error::Kind::Corrupt);
    QVERIFY2(read.error().message.contains(key), qPrintable(read.error().message));
    QVERIFY2(read.error().message.contains(expected), qPrintable(read.error().message));

    const auto many = store->getMany({ 1, 2 });
    QVERIFY2(many, qPrintable(why(many)));
    QCOMPARE(many->keys(), QList<qint64> { 1 });

    const auto listed = store->list();
    QVERIFY2(listed, qPrintable(why(listed)));
    QCOMPARE(listed->size(), 2);
    QCOMPARE(listed->at(1).pk, 2);
    if (!listProblem.isEmpty())
        QVERIFY2(listed->at(1).problem.contains(listProblem), qPrintable(listed->at(1).problem));

    // A put repairs it.
    QVERIFY(store->put(makeEntry(2, fooBody(2), ourMetadata())).ok());
    QVERIFY(store->get(2).ok());
}

void TestRedisStore::passwordDatabaseAndSocket()
{
    TestRedis secured(QStringLiteral("pw-Xy7"));
    startOrFail(secured);
    auto store = openStore(secured.url(3));
    QVERIFY(store);
    QVERIFY(!store->description().contains(QLatin1String("pw-Xy7")));
    QVERIFY(store->put(makeEntry(1, fooBody(1), ourMetadata())).ok());
    QCOMPARE(secured.command({ QStringLiteral("EXISTS"), QStringLiteral("preserve:foo:1") }, 3), QByteArray("1"));
    QCOMPARE(secured.command({ QStringLiteral("EXISTS"), QStringLiteral("preserve:foo:1") }, 0), QByteArray("0"));
    auto otherDatabase = openStore(secured.url(0));
    QVERIFY(otherDatabase);
    QVERIFY(!otherDatabase->get(1).value());

    // Through the unix socket, with the password and database as options.
    auto local = openStore(QStringLiteral("unix://%1?db=3&password=pw-Xy7").arg(secured.socketPath()));
    QVERIFY(local);
    const auto viaSocket = local->get(1);
    QVERIFY2(viaSocket && *viaSocket, qPrintable(why(viaSocket)));

    const QList<QString> refused { QStringLiteral("redis://:wrong-pw@127.0.0.1:%1/3").arg(secured.port()),
                                   QStringLiteral("redis://127.0.0.1:%1").arg(secured.port()),
                                   QStringLiteral("redis://:pw-Xy7@127.0.0.1:%1/99").arg(secured.port()) };
    for (const QString &url : refused) {
        const auto opened = RedisStore::open(RedisConfig::parse(url).value());
        QVERIFY(!opened);
        QCOMPARE(opened.error().kind, Error::Kind::Invalid);
        QVERIFY2(opened.error().message.contains(QStringLiteral("127.0.0.1:%1").arg(secured.port())),
                 qPrintable(opened.error().message));
        QVERIFY2(!opened.error().message.contains(QLatin1String("wrong-pw")), qPrintable(opened.error().message));
    }
}

void TestRedisStore::prefixIsolation()
{
    auto first = openStore(m_redis.url(), QStringLiteral("iso-a:"));
    auto second = openStore(m_redis.url(), QStringLiteral("iso-b:"));
    QVERIFY(first && second);
    QVERIFY(first->put(makeEntry(1, fooBody(100), ourMetadata())).ok());
    QVERIFY(second->put(makeEntry(1, fooBody(200), ourMetadata())).ok());
    QVERIFY(second->put(makeEntry(2, fooBody(201), ourMetadata())).ok());
    COMPARE_BODIES(first->get(1).value()->body, fooBody(100));
    COMPARE_BODIES(second->get(1).value()->body, fooBody(200));
    QVERIFY(!first->get(2).value());
    QCOMPARE(first->list().value().size(), 1);
    QCOMPARE(second->list().value().size(), 2);
    QVERIFY(first->remove(1).ok());
    QVERIFY(second->get(1).value());
}

void TestRedisStore::failsFastWhileDown()
{
    TestRedis redis;
    startOrFail(redis);
    auto store = openStore(redis.url());
    QVERIFY(store);
    QVERIFY(store->put(makeEntry(1, fooBody(1), ourMetadata())).ok());
    const int port = redis.port();
    redis.kill();

    const auto first = store->get(1);
    QVERIFY(!first);
    QCOMPARE(first.error().kind, Error::Kind::Unavailable);
    const QString expected = QStringLiteral("Redis at 127.0.0.1:%1 is unavailable: ").arg(port);
    QVERIFY2(first.error().message.startsWith(expected), qPrintable(first.error().message));
    QVERIFY2(first.error().message.endsWith(QLatin1String("(retrying in 0.1 s)")), qPrintable(first.error().message));

    // Something listens on the port now: a reconnect storm would show up as connections.
    QTcpServer listener;
    QVERIFY(listener.listen(QHostAddress::LocalHost, quint16(port)));
    QElapsedTimer timer;
    timer.start();
    const EntryPtr entry = makeEntry(2, fooBody(2), ourMetadata());
    const auto unavailable = [](const auto &result) {
        return !result && result.error().kind == Error::Kind::Unavailable;
    };
    for (int i = 0; i < 33; ++i) {
        QVERIFY(unavailable(store->get(1)));
        QVERIFY(unavailable(store->put(entry)));
        QVERIFY(unavailable(store->getMany({ 1, 2 })));
    }
    const qint64 elapsed = timer.elapsed();
    QVERIFY2(elapsed < 50, qPrintable(QStringLiteral("99 calls took %1 ms").arg(elapsed)));
    qInfo("99 calls while Redis is down: %.3f ms", timer.nsecsElapsed() / 1e6);
    QVERIFY2(!listener.waitForNewConnection(0), "the store tried to connect during its backoff");
    listener.close();

    QString error;
    QVERIFY2(redis.restart(&error), qPrintable(error));
    // Back after the backoff; the restarted server lost everything (no persistence).
    QTRY_VERIFY_WITH_TIMEOUT(store->get(1).ok(), 6000);
    QVERIFY(!store->get(1).value());
    QVERIFY(store->put(makeEntry(1, fooBody(1), ourMetadata())).ok());
    QVERIFY(store->get(1).value());

    // The backoff starts again from 100 ms after a success.
    redis.kill();
    const auto later = store->list();
    QVERIFY(!later);
    QVERIFY2(later.error().message.endsWith(QLatin1String("(retrying in 0.1 s)")), qPrintable(later.error().message));
}

// The server closes a connection we hold but are not using (a restart, Redis's own `timeout` for
// idle clients): the next call connects again and answers, instead of failing, and failing fast
// for the backoff after it.
void TestRedisStore::idleConnectionClosedByServer()
{
    TestRedis redis;
    startOrFail(redis);
    auto store = openStore(redis.url());
    QVERIFY(store);
    QVERIFY(store->put(makeEntry(1, fooBody(1), ourMetadata())).ok());
    QString error;
    const QByteArray killed = redis.command({ QStringLiteral("CLIENT"), QStringLiteral("KILL"), QStringLiteral("TYPE"), QStringLiteral("normal") }, 0, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(killed, QByteArray("1")); // ours; redis-cli skips itself
    const auto connections = [&redis] { return redis.info("total_connections_received", QStringLiteral("stats")).toInt(); };
    const int before = connections();
    for (int call = 0; call < 3; ++call) {
        const auto got = store->get(1);
        QVERIFY2(got, qPrintable(why(got)));
        QVERIFY(got.value());
        QCOMPARE(got.value()->body, fooBody(1));
    }
    QCOMPARE(connections(), before + 2); // ours, once, and the redis-cli asking
}

void TestRedisStore::killedMidCall()
{
    TestRedis redis;
    startOrFail(redis);
    auto store = openStore(redis.url());
    QVERIFY(store);
    QList<qint64> pks;
    for (qint64 pk = 1; pk <= 100; ++pk) {
        QVERIFY(store->put(makeEntry(pk, fooBody(pk, 300), ourMetadata())).ok());
        pks << pk;
    }
    // Frozen, the server has the request (or it sits in the socket) but never answers; killed, it
    // closes the connection under the blocked call.
    const auto killDuring = [&](const std::function<bool()> &call) {
        redis.freeze();
        std::atomic_bool started { false };
        std::atomic_bool failed { false };
        std::atomic_bool done { false };
        std::thread worker([&] {
            started = true;
            failed = !call();
            done = true;
        });
        QTRY_VERIFY(started);
        QElapsedTimer timer;
        timer.start();
        redis.kill();
        QTRY_VERIFY_WITH_TIMEOUT(done, 5000);
        worker.join();
        QVERIFY(failed);
        QVERIFY2(timer.elapsed() < 1500, "the call waited for its timeout instead of seeing the connection close");
    };
    Result<QHash<qint64, EntryPtr>> many = QHash<qint64, EntryPtr>();
    killDuring([&] {
        many = store->getMany(pks);
        return many.ok();
    });
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(many.error().kind, Error::Kind::Unavailable);
    QString error;
    QVERIFY2(redis.restart(&error), qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(store->get(1).ok(), 6000);

    // Killed mid-put of a body bigger than the socket buffers: a write to a dead peer (SIGPIPE
    // ignored) is an error, not the end of the program, and the old entry stays.
    QVERIFY(store->put(makeEntry(1, fooBody(1), ourMetadata())).ok());
    Status put = success();
    const EntryPtr big = makeEntry(1, fooBody(1, 60000), ourMetadata());
    killDuring([&] {
        put = store->put(big);
        return put.ok();
    });
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(put.error().kind, Error::Kind::Unavailable);
    QVERIFY2(redis.restart(&error), qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(store->put(makeEntry(1, fooBody(1), ourMetadata())).ok(), 6000);
}

void TestRedisStore::watcherSeesOtherWriters()
{
    const auto config = RedisConfig::parse(m_redis.url(), QStringLiteral("watched:")).value();
    auto watcher = createRedisWatcher(config);
    QSignalSpy changed(watcher.get(), &StoreWatcher::entriesChanged);
    QSignalSpy unavailable(watcher.get(), &StoreWatcher::unavailable);
    QSignalSpy ready(watcher.get(), &StoreWatcher::ready);
    const Status started = watcher->start();
    QVERIFY2(started, qPrintable(why(started)));
    QVERIFY(ready.wait(5000)); // subscribed

    auto writer = openStore(m_redis.url(), QStringLiteral("watched:"));
    auto elsewhere = openStore(m_redis.url(), QStringLiteral("unwatched:"));
    QVERIFY(writer && elsewhere);
    QVERIFY(elsewhere->put(makeEntry(4, fooBody(4), ourMetadata())).ok());
    QVERIFY(writer->put(makeEntry(5, fooBody(5), ourMetadata())).ok());
    QVERIFY(changed.wait(2000));
    QCOMPARE(changed.takeFirst().at(0).value<QList<qint64>>(), QList<qint64> { 5 });
    QVERIFY(writer->remove(6).ok());
    QTRY_COMPARE_WITH_TIMEOUT(changed.size(), 1, 2000);
    QCOMPARE(changed.takeFirst().at(0).value<QList<qint64>>(), QList<qint64> { 6 });
    QVERIFY(unavailable.isEmpty());
    watcher->stop();
    watcher->stop();
}

void TestRedisStore::watcherSurvivesRestart()
{
    TestRedis redis;
    startOrFail(redis);
    const auto config = RedisConfig::parse(redis.url()).value();
    auto watcher = createRedisWatcher(config);
    QSignalSpy changed(watcher.get(), &StoreWatcher::entriesChanged);
    QSignalSpy everything(watcher.get(), &StoreWatcher::everythingChanged);
    QSignalSpy unavailable(watcher.get(), &StoreWatcher::unavailable);
    QSignalSpy available(watcher.get(), &StoreWatcher::available);
    QVERIFY(watcher->start().ok());

    redis.kill();
    QVERIFY(unavailable.wait(3000));
    QVERIFY2(unavailable.first().at(0).toString().contains(QLatin1String("unavailable")),
             qPrintable(unavailable.first().at(0).toString()));
    QString error;
    QVERIFY2(redis.restart(&error), qPrintable(error));
    QTRY_COMPARE_WITH_TIMEOUT(available.size(), 1, 8000);
    QTRY_COMPARE_WITH_TIMEOUT(everything.size(), 1, 1000);
    QCOMPARE(unavailable.size(), 1); // said once, not once per retry

    auto writer = openStore(redis.url());
    QVERIFY(writer);
    QVERIFY(writer->put(makeEntry(3, fooBody(3), ourMetadata())).ok());
    QTRY_COMPARE_WITH_TIMEOUT(changed.size(), 1, 2000);
    QCOMPARE(changed.first().at(0).value<QList<qint64>>(), QList<qint64> { 3 });

    // Starting against a dead server is an error, and the watcher keeps trying.
    redis.kill();
    auto late = createRedisWatcher(config);
    QSignalSpy lateAvailable(late.get(), &StoreWatcher::available);
    const Status lateStart = late->start();
    QVERIFY(!lateStart);
    QCOMPARE(lateStart.error().kind, Error::Kind::Unavailable);
    QVERIFY2(redis.restart(&error), qPrintable(error));
    QTRY_COMPARE_WITH_TIMEOUT(lateAvailable.size(), 1, 8000);
}

void TestRedisStore::watcherStopsPromptly()
{
    TestRedis redis;
    startOrFail(redis);
    const auto config = RedisConfig::parse(redis.url()).value();
    // Connected and idle, blocked in its read.
    auto watcher = createRedisWatcher(config);
    QVERIFY(watcher->start().ok());
    QElapsedTimer timer;
    timer.start();
    watcher->stop();
    QVERIFY2(timer.elapsed() < 1000, qPrintable(QStringLiteral("stop took %1 ms").arg(timer.elapsed())));

    // Connected to a server that stopped answering.
    watcher = createRedisWatcher(config);
    QVERIFY(watcher->start().ok());
    redis.freeze();
    timer.restart();
    watcher.reset(); // the destructor stops
    QVERIFY2(timer.elapsed() < 1000, qPrintable(QStringLiteral("stop took %1 ms").arg(timer.elapsed())));

    // Waiting between attempts to reach a dead server.
    redis.kill();
    watcher = createRedisWatcher(config);
    QVERIFY(!watcher->start().ok());
    timer.restart();
    watcher->stop();
    QVERIFY2(timer.elapsed() < 1000, qPrintable(QStringLiteral("stop took %1 ms").arg(timer.elapsed())));
}

void TestRedisStore::largestEntryTimings()
{
    // The largest Foo of the `medium` demo database (1.85 MB), as the serializer writes it.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("medium.sqlite3"));
    const auto written = Seeder::write(path, Seeder::scale(QStringLiteral("medium")).value(), QStringLiteral("api"));
    QVERIFY2(written, qPrintable(why(written)));
    auto database = Database::open(DatabaseConfig::parse(path).value());
    QVERIFY2(database, qPrintable(why(database)));
    Serializer serializer(**database);
    const auto ids = (*database)->fooIds();
    QVERIFY2(ids, qPrintable(why(ids)));
    QList<EntryPtr> entries;
    EntryPtr largest;
    for (qint64 pk : *ids) {
        auto body = serializer.foo(pk);
        QVERIFY2(body, qPrintable(why(body)));
        entries << makeEntry(pk, std::move(body).value(), ourMetadata());
        if (!largest || entries.last()->body.size() > largest->body.size())
            largest = entries.last();
    }

    auto store = openStore(m_redis.url(), QStringLiteral("bench:"));
    QVERIFY(store);
    QElapsedTimer timer;
    timer.start();
    for (const EntryPtr &entry : entries)
        QVERIFY(store->put(entry).ok());
    const qint64 putAll = timer.elapsed();

    constexpr int rounds = 21;
    QList<qint64> micros;
    for (int i = 0; i < rounds; ++i) {
        timer.restart();
        const auto read = store->get(largest->pk);
        micros << timer.nsecsElapsed() / 1000;
        QVERIFY2(read && *read, qPrintable(why(read)));
        QCOMPARE((*read)->body.size(), largest->body.size());
    }
    std::sort(micros.begin(), micros.end());

    QList<qint64> pks = *ids;
    QList<qint64> manyMicros;
    qint64 manyBytes = 0;
    for (int i = 0; i < 5; ++i) {
        timer.restart();
        const auto many = store->getMany(pks);
        manyMicros << timer.nsecsElapsed() / 1000;
        QVERIFY2(many && many->size() == pks.size(), qPrintable(why(many)));
        manyBytes = 0;
        for (const EntryPtr &entry : *many)
            manyBytes += entry->body.size();
    }
    std::sort(manyMicros.begin(), manyMicros.end());
    qInfo("put of all %lld medium entries: %lld ms", qint64(entries.size()), putAll);
    qInfo("get() of the largest entry (%lld bytes, gzip %lld): median %.2f ms, best %.2f ms (target <= 2 ms)",
          qint64(largest->body.size()), qint64(largest->gzip.size()), micros[rounds / 2] / 1000.0,
          micros.first() / 1000.0);
    qInfo("getMany() of %lld entries (%.1f MB of bodies): median %.1f ms", qint64(pks.size()), manyBytes / 1e6,
          manyMicros[2] / 1000.0);
}

QTEST_GUILESS_MAIN(TestRedisStore)
#include "tst_redisstore.moc"
