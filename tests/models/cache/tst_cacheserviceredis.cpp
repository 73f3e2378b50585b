// CacheService over a real Redis (TestRedis): hits, bypass while Redis is down, jobs that fail
// cleanly and recover after a restart, Redis killed mid-refresh, two services kept coherent.

#include "servicefixture.h"
#include "testredis.h"

#include "cache/storeconfig.h"

#include <QElapsedTimer>
#include <QTest>

class TestCacheServiceRedis : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void hitsBypassAndRecovery();
    void killedMidRefresh();
    void servicesStayCoherent();
    void twoDatabasesShareOneRedis();

private:
    CacheConfig config(int workers = 1, bool watch = false) const;

    DemoFiles m_demo;
    QString m_path;
    QList<qint64> m_foos;
    std::unique_ptr<TestRedis> m_redis;
};

void TestCacheServiceRedis::initTestCase()
{
    QVERIFY(m_demo.seed());
}

void TestCacheServiceRedis::init()
{
    m_path = m_demo.fresh();
    m_foos = integers(m_path, QStringLiteral("SELECT id FROM api_foo ORDER BY id"));
    m_redis = std::make_unique<TestRedis>();
    QString error;
    QVERIFY2(m_redis->start(&error), qPrintable(error));
}

void TestCacheServiceRedis::cleanup()
{
    m_redis.reset();
}

CacheConfig TestCacheServiceRedis::config(int workers, bool watch) const
{
    CacheConfig config = cacheConfig(m_path, workers, watch);
    config.store = StoreConfig::parse(QStringLiteral("redis"), m_redis->url()).value();
    return config;
}

void TestCacheServiceRedis::hitsBypassAndRecovery()
{
    Telemetry telemetry;
    CacheService service(config(1), &telemetry);
    JobRecorder recorder(service);
    const int total = int(m_foos.size());
    int job = service.refreshAll();
    QVERIFY(recorder.wait(job));
    QCOMPARE(recorder.summary(job).done, total);
    QCOMPARE(m_redis->command({ QStringLiteral("DBSIZE") }), QByteArray::number(total));

    const qint64 pk = m_foos[5];
    const QByteArray live = liveBody(m_path, pk);
    service.memory().clear();
    const auto hit = service.get(pk);
    QVERIFY2(hit, qPrintable(why(hit)));
    QCOMPARE(hit->outcome, Telemetry::Outcome::Hit);
    QVERIFY(!hit->fromMemory);
    COMPARE_BODIES(hit->entry->body, live);

    // Redis gone: a read is served live (bypass), not an error.
    m_redis->kill();
    service.memory().clear();
    const auto bypass = service.get(pk);
    QVERIFY2(bypass, qPrintable(why(bypass)));
    QCOMPARE(bypass->outcome, Telemetry::Outcome::Bypass);
    COMPARE_BODIES(bypass->entry->body, live);
    QCOMPARE(telemetry.snapshot().stores.value(QStringLiteral("redis")).requests[int(Telemetry::Outcome::Bypass)], 1);

    job = service.refreshAll();
    QVERIFY(recorder.wait(job));
    const JobSummary down = recorder.summary(job);
    QCOMPARE(down.total, total);
    QCOMPARE(down.failed, total);
    QCOMPARE(down.done, 0);
    QVERIFY2(down.firstError.contains(QStringLiteral("unavailable")), qPrintable(down.firstError));

    // Back (empty, no persistence): the store reconnects after its backoff.
    QString error;
    QVERIFY2(m_redis->restart(&error), qPrintable(error));
    const auto refreshed = [&] {
        const int attempt = service.refresh({ pk });
        return recorder.wait(attempt) && recorder.summary(attempt).done == 1;
    };
    QTRY_VERIFY_WITH_TIMEOUT(refreshed(), 15000);
    job = service.refreshAll();
    QVERIFY(recorder.wait(job));
    QCOMPARE(recorder.summary(job).done, total);
    QCOMPARE(m_redis->command({ QStringLiteral("DBSIZE") }), QByteArray::number(total));
}

void TestCacheServiceRedis::killedMidRefresh()
{
    CacheService service(config(1));
    JobRecorder recorder(service);
    QObject context;
    int job = -1;
    connect(&service, &CacheService::entryRefreshed, &context, [&](int refreshed) {
        if (refreshed != job || !m_redis->isRunning())
            return;
        // Held so that the kill lands between two items of this job, not after all of them.
        service.holdWorkers(true);
        m_redis->kill();
        service.holdWorkers(false);
    });
    job = service.refreshAll();
    QVERIFY(recorder.wait(job));
    const JobSummary summary = recorder.summary(job);
    QCOMPARE(summary.total, int(m_foos.size()));
    QVERIFY(summary.done >= 1);
    QVERIFY2(summary.failed >= 1, "the kill came after every item");
    QCOMPARE(summary.done + summary.failed, summary.total);
    QVERIFY(!summary.cancelled);
    QVERIFY2(summary.firstError.contains(QStringLiteral("unavailable")), qPrintable(summary.firstError));
    QCOMPARE(recorder[job].failed.size(), summary.failed);
    // The service still answers, from the database.
    service.memory().clear();
    const auto got = service.get(m_foos.last());
    QVERIFY2(got, qPrintable(why(got)));
    QCOMPARE(got->outcome, Telemetry::Outcome::Bypass);
}

void TestCacheServiceRedis::servicesStayCoherent()
{
    CacheService a(config(2, true));
    const auto watching = a.startWatching();
    QVERIFY2(watching, qPrintable(why(watching)));
    CacheService b(config(2));
    JobRecorder recorder(b);
    const qint64 pk = m_foos[3];
    QVERIFY(a.get(pk));
    const EntryPtr cached = a.memory().get(pk);
    QVERIFY(cached);
    QCOMPARE(sqlExec(m_path, QStringLiteral("UPDATE api_foo SET name = 'shared redis' WHERE id = %1").arg(pk)), QString());
    const int job = b.refresh({ pk });
    QVERIFY(recorder.wait(job));
    QCOMPARE(recorder.summary(job).done, 1);
    QElapsedTimer timer;
    timer.start();
    QTRY_VERIFY_WITH_TIMEOUT(a.memory().get(pk) != cached, 2000);
    QVERIFY(timer.elapsed() < 2000);
    const auto got = a.get(pk);
    QVERIFY2(got, qPrintable(why(got)));
    COMPARE_BODIES(got->entry->body, liveBody(m_path, pk));
}

// Two databases (same pks, other names) behind one Redis with the default prefix: each store sees
// its own entries, never the other's body.
void TestCacheServiceRedis::twoDatabasesShareOneRedis()
{
    const QString other = m_demo.fresh();
    QVERIFY(sqlExec(other, QStringLiteral("UPDATE api_foo SET name = 'the other database''s' WHERE id = %1").arg(m_foos.first())).isEmpty());
    CacheConfig second = config(1);
    second.database = databaseConfig(other);
    for (const CacheConfig &each : { config(1), second }) {
        CacheService service(each);
        JobRecorder recorder(service);
        const int job = service.refreshAll();
        QVERIFY(recorder.wait(job));
        QCOMPARE(recorder.summary(job).done, int(m_foos.size()));
    }
    QCOMPARE(m_redis->command({ QStringLiteral("DBSIZE") }), QByteArray::number(2 * m_foos.size()));
    for (const QString &path : { m_path, other }) {
        auto store = openStore(config(1).store, databaseConfig(path));
        QVERIFY2(store, qPrintable(why(store)));
        const auto entry = (*store)->get(m_foos.first());
        QVERIFY2(entry && *entry, "no entry");
        QCOMPARE((*entry)->body, liveBody(path, m_foos.first()));
    }
    QVERIFY(liveBody(m_path, m_foos.first()) != liveBody(other, m_foos.first()));
}

QTEST_GUILESS_MAIN(TestCacheServiceRedis)
#include "tst_cacheserviceredis.moc"
