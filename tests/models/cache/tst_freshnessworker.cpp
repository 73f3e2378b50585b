// The keep-fresh worker against real databases. Invariants: no lost refresh (after the worker has
// drained, every entry is fresh and byte-equal to live), no false fresh, changes to one Foo within
// the debounce window coalesce into one refresh. SQLite: one active worker per file (a standby takes
// over when it goes). PostgreSQL: workers share the work, each Foo refreshed by exactly one of them,
// and a worker killed with kill -9 mid-burst loses nothing (the others finish what it held).
#include "cache/freshnessworker.h"
#include "db/database.h"
#include "servicefixture.h"
#include "staleness/changetracking.h"
#include "testpostgres.h"
#include "testredis.h"

#include <QDeadlineTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <thread>
#include <vector>

namespace {

// Every Foo's entry is fresh and holds exactly the live body.
QString notFreshOrDifferent(CacheService &service, const QString &path)
{
    const auto statuses = service.status();
    if (!statuses)
        return statuses.error().message;
    auto store = columnStore(path);
    for (const EntryStatus &status : *statuses) {
        if (status.state != EntryState::Fresh)
            return QStringLiteral("Foo %1 is %2: %3").arg(status.pk).arg(entryStateName(status.state), status.reason);
        const auto entry = store->get(status.pk);
        if (!entry || !*entry || (*entry)->body != liveBody(path, status.pk))
            return QStringLiteral("Foo %1's entry is not the live body").arg(status.pk);
    }
    return {};
}

bool track(const QString &path)
{
    auto database = Database::open(databaseConfig(path));
    return database && ChangeTracking::install(**database).ok();
}

// `preserve worker` in a process of its own; waits for the lines it writes on stderr.
class WorkerProcess {
public:
    explicit WorkerProcess(const QString &url, const QStringList &options = {})
    {
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.start(preserveBinary(), QStringList { QStringLiteral("worker"), QStringLiteral("--db"), url } + options);
    }
    // SIGTERM, then the count of refreshes from the summary line the worker prints on its way out.
    int stopAndCountRefreshes()
    {
        m_process.terminate();
        if (!m_process.waitForFinished(20000) || m_process.exitCode() != 0)
            return -1;
        m_output += m_process.readAll();
        static const QRegularExpression summary(QStringLiteral("coalesced, (\\d+) refresh"));
        const auto match = summary.match(QString::fromUtf8(m_output));
        return match.hasMatch() ? match.captured(1).toInt() : -1;
    }
    ~WorkerProcess()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }
    bool waitFor(const QByteArray &text, int timeoutMs = 20000)
    {
        QDeadlineTimer deadline(timeoutMs);
        while (!m_output.contains(text) && !deadline.hasExpired() && m_process.state() != QProcess::NotRunning) {
            m_process.waitForReadyRead(int(qBound(qint64(1), deadline.remainingTime(), qint64(200))));
            m_output += m_process.readAll();
        }
        m_output += m_process.readAll();
        return m_output.contains(text);
    }
    QProcess &process() { return m_process; }
    QByteArray output() const { return m_output; }

private:
    QProcess m_process;
    QByteArray m_output;
};

} // namespace

class TestFreshnessWorker : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QVERIFY(m_demo.seed()); }

    void refusesWithoutTracking()
    {
        const QString path = m_demo.fresh();
        CacheService service(cacheConfig(path));
        FreshnessWorker worker(service, {});
        const Status started = worker.start();
        QVERIFY(!started);
        QVERIFY2(started.error().message.contains(QLatin1String("preserve track install")), qPrintable(started.error().message));
    }

    // Catches up on what is stale, then follows: a Baz rename refreshes exactly the Foos that reach
    // it, and ten commits to one Foo within the debounce window are one refresh.
    void followsAndCoalesces()
    {
        const QString path = m_demo.fresh();
        QVERIFY(track(path));
        CacheService service(cacheConfig(path));
        FreshnessOptions options;
        options.debounceMs = 400;
        options.maxDelayMs = 10000;
        FreshnessWorker worker(service, options);
        QSignalSpy batches(&worker, &FreshnessWorker::batchFinished);
        QSignalSpy caughtUp(&worker, &FreshnessWorker::caughtUp);
        QVERIFY(worker.start());
        QVERIFY(worker.stats().active);
        QVERIFY(caughtUp.wait(20000));
        QVERIFY2(notFreshOrDifferent(service, path).isEmpty(), qPrintable(notFreshOrDifferent(service, path)));

        const qint64 baz = bazOfSomeFoos(path, 3);
        const QList<qint64> reached = foosReaching(path, baz);
        const qint64 before = worker.stats().refreshed;
        QVERIFY(sqlExec(path, QStringLiteral("UPDATE api_baz SET name = 'renamed by the test' WHERE id = %1").arg(baz)).isEmpty());
        QVERIFY(batches.wait(20000));
        QCOMPARE(worker.stats().refreshed - before, qint64(reached.size()));
        QVERIFY2(notFreshOrDifferent(service, path).isEmpty(), qPrintable(notFreshOrDifferent(service, path)));

        const qint64 foo = reached.first();
        const qint64 beforeBurst = worker.stats().refreshed;
        // A client renaming it ten times, a commit every 60 ms: each within the debounce of the last.
        int written = 0;
        QTimer writer;
        writer.setInterval(60);
        connect(&writer, &QTimer::timeout, this, [&] {
            if (written < 10)
                sqlExec(path, QStringLiteral("UPDATE api_foo SET name = 'burst %1' WHERE id = %2").arg(written++).arg(foo));
        });
        writer.start();
        QVERIFY(batches.wait(20000));
        QCOMPARE(written, 10);
        QCOMPARE(worker.stats().refreshed - beforeBurst, qint64(1));
        QVERIFY2(worker.stats().coalesced >= 1, qPrintable(QString::number(worker.stats().coalesced)));
        QVERIFY2(notFreshOrDifferent(service, path).isEmpty(), qPrintable(notFreshOrDifferent(service, path)));
    }

    // Two workers on one SQLite file: one is active, the other waits; when the active one stops,
    // the standby takes over and refreshes what changed meanwhile.
    void workersShareABurstOnPostgres();
    void survivesAPostgresRestart();
    void redisDownAndBack();
    void killedWorkerLosesNothingOnPostgres();
    void prunesTheLogBehindEveryEntry();
    void hotFoosFirst();

    // SQLite with writers of its own: two threads commit renames of different Bazs and Foos, forty
    // each, while the worker refreshes (and so takes the write lock between them). Invariants: no
    // write fails for long (busy timeout), no lost refresh: once the writers are done and the
    // worker drained, every entry is fresh and byte-equal to live.
    void concurrentWritersOnSqlite()
    {
        const QString path = m_demo.fresh();
        QVERIFY(track(path));
        CacheService service(cacheConfig(path));
        FreshnessWorker worker(service, {});
        QSignalSpy caughtUp(&worker, &FreshnessWorker::caughtUp);
        QVERIFY(worker.start());
        QVERIFY(caughtUp.wait(20000));
        const QList<qint64> bazs = integers(path, QStringLiteral("SELECT DISTINCT baz_id FROM api_zab_bazs ORDER BY baz_id LIMIT 2"));
        QCOMPARE(bazs.size(), 2);
        std::atomic<int> failures { 0 };
        std::atomic<int> running { 2 };
        std::vector<std::thread> writers;
        for (int w = 0; w < 2; ++w) {
            writers.emplace_back([&, w] {
                for (int i = 0; i < 40; ++i) {
                    const QString sql = i % 2 ? QStringLiteral("UPDATE api_baz SET name = 'writer %1 #%2' WHERE id = %3").arg(w).arg(i).arg(bazs[w])
                                              : QStringLiteral("UPDATE api_foo SET name = 'writer %1 #%2' WHERE id = %3").arg(w).arg(i).arg(w + 1);
                    if (!sqlExec(path, sql).isEmpty())
                        ++failures;
                }
                --running;
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(running.load(), 0, 60000); // the event loop (and the worker) runs meanwhile
        for (std::thread &writer : writers)
            writer.join();
        QCOMPARE(failures.load(), 0);
        QTRY_VERIFY2_WITH_TIMEOUT(notFreshOrDifferent(service, path).isEmpty(), qPrintable(notFreshOrDifferent(service, path)), 30000);
    }

    void standbyTakesOverOnSqlite()
    {
        const QString path = m_demo.fresh();
        QVERIFY(track(path));
        CacheService first(cacheConfig(path));
        CacheService second(cacheConfig(path));
        FreshnessWorker active(first, {});
        FreshnessWorker standby(second, {});
        QSignalSpy tookOver(&standby, &FreshnessWorker::becameActive);
        QVERIFY(active.start());
        QVERIFY(standby.start());
        QVERIFY(active.stats().active);
        QVERIFY(!standby.stats().active);
        QSignalSpy stopped(&active, &FreshnessWorker::finished);
        active.stop();
        QVERIFY(stopped.wait(20000) || stopped.count() == 1);
        QVERIFY(sqlExec(path, QStringLiteral("UPDATE api_baz SET name = 'while nobody led' WHERE id = %1").arg(bazOfSomeFoos(path, 2))).isEmpty());
        QVERIFY(tookOver.wait(5000));
        QTRY_VERIFY2_WITH_TIMEOUT(notFreshOrDifferent(second, path).isEmpty(), qPrintable(notFreshOrDifferent(second, path)), 20000);
    }

private:
    DemoFiles m_demo;
};

namespace {

// A throw-away PostgreSQL with the demo database, tracked and warm.
struct TrackedPostgres {
    TestPostgres postgres;
    QString url;
    QString error;
    bool start()
    {
        if (!postgres.start(&error) || !postgres.createDatabase(QStringLiteral("kept"), &error))
            return false;
        url = postgres.url(QStringLiteral("kept"));
        for (const auto &result : { runReference({ QStringLiteral("make-db"), QStringLiteral("--db"), url }),
                                    runProcess(preserveBinary(), { QStringLiteral("track"), QStringLiteral("install"), QStringLiteral("--db"), url }),
                                    runProcess(preserveBinary(), { QStringLiteral("warm"), QStringLiteral("--db"), url }) }) {
            if (!result.finished || result.exitCode != 0) {
                error = describe(result);
                return false;
            }
        }
        return true;
    }
    qint64 foos()
    {
        const auto status = runProcess(preserveBinary(), { QStringLiteral("status"), QStringLiteral("--json"), QStringLiteral("--db"), url });
        return QJsonDocument::fromJson(status.out).array().size();
    }
    // Every entry fresh and equal to live: verify finds no difference and status calls all fresh.
    QString notAllFresh()
    {
        const auto verified = runProcess(preserveBinary(), { QStringLiteral("verify"), QStringLiteral("--db"), url });
        if (verified.exitCode != 0)
            return QStringLiteral("verify: ") + describe(verified);
        const auto status = runProcess(preserveBinary(), { QStringLiteral("status"), QStringLiteral("--json"), QStringLiteral("--db"), url });
        for (const QJsonValue &row : QJsonDocument::fromJson(status.out).array()) {
            if (row[QLatin1String("state")].toString() != QLatin1String("fresh"))
                return QStringLiteral("Foo %1 is %2: %3").arg(row[QLatin1String("pk")].toInteger()).arg(row[QLatin1String("state")].toString(), row[QLatin1String("reason")].toString());
        }
        return {};
    }
};

} // namespace

// Two worker processes over one PostgreSQL share a burst (one transaction renames every Baz and
// every Foo, so it reaches every Foo, some through many rows): no
// refresh is lost and none is done twice, the refreshes of both add up to the Foos the burst
// reached, exactly.
void TestFreshnessWorker::workersShareABurstOnPostgres()
{
    TrackedPostgres db;
    QVERIFY2(db.start(), qPrintable(db.error));
    WorkerProcess first(db.url); // the defaults: each claims about two Foos per thread at a time
    WorkerProcess second(db.url);
    QVERIFY2(first.waitFor("caught up"), first.output().constData());
    QVERIFY2(second.waitFor("caught up"), second.output().constData());
    QString error;
    QVERIFY2(db.postgres.exec(QStringLiteral("kept"), QStringLiteral("BEGIN; UPDATE api_baz SET name = left(name, 40) || ' (burst)'; "
                                                                          "UPDATE api_foo SET name = left(name, 40) || ' (burst)'; COMMIT;"), &error), qPrintable(error));
    QTRY_VERIFY2_WITH_TIMEOUT(db.notAllFresh().isEmpty(), qPrintable(db.notAllFresh()), 30000);
    const int one = first.stopAndCountRefreshes();
    const int other = second.stopAndCountRefreshes();
    QVERIFY2(one > 0 && other > 0, qPrintable(QStringLiteral("%1 + %2: both should have taken a share\n%3\n%4")
                                                    .arg(one).arg(other).arg(QString::fromUtf8(first.output()), QString::fromUtf8(second.output()))));
    QCOMPARE(qint64(one + other), db.foos());
}

// Two worker processes over one PostgreSQL; one is killed with SIGKILL in the middle of a burst,
// holding the locks of the Foos it was refreshing. The server drops them with its session; the
// other worker refreshes those too, and every entry ends fresh and equal to live.
void TestFreshnessWorker::killedWorkerLosesNothingOnPostgres()
{
    TrackedPostgres db;
    QVERIFY2(db.start(), qPrintable(db.error));
    const QStringList small { QStringLiteral("--batch"), QStringLiteral("2"), QStringLiteral("--debounce"), QStringLiteral("0") };
    WorkerProcess first(db.url, small);
    WorkerProcess second(db.url, small);
    QVERIFY2(first.waitFor("caught up"), first.output().constData());
    QVERIFY2(second.waitFor("caught up"), second.output().constData());
    QString error;
    QVERIFY2(db.postgres.exec(QStringLiteral("kept"), QStringLiteral("UPDATE api_baz SET name = left(name, 40) || ' (renamed)'"), &error), qPrintable(error));
    QVERIFY2(first.waitFor("refreshed 2 Foo(s)"), first.output().constData()); // mid-burst: more are pending
    ::kill(pid_t(first.process().processId()), SIGKILL);
    QVERIFY(first.process().waitForFinished(5000));
    QTRY_VERIFY2_WITH_TIMEOUT(db.notAllFresh().isEmpty(), qPrintable(db.notAllFresh()), 30000);
    QVERIFY(second.stopAndCountRefreshes() > 0);
}

// PostgreSQL restarts under a running worker (every connection cut): it reconnects, its LISTEN too,
// and a change after the restart is refreshed. Invariant: no lost refresh.
void TestFreshnessWorker::survivesAPostgresRestart()
{
    TrackedPostgres db;
    QVERIFY2(db.start(), qPrintable(db.error));
    WorkerProcess worker(db.url);
    QVERIFY2(worker.waitFor("caught up"), worker.output().constData());
    QString error;
    QVERIFY2(db.postgres.pause(&error), qPrintable(error));
    QVERIFY2(db.postgres.restart(&error), qPrintable(error));
    QVERIFY2(db.postgres.exec(QStringLiteral("kept"), QStringLiteral("UPDATE api_baz SET name = left(name, 40) || ' (restart)'"), &error),
             qPrintable(error));
    QTRY_VERIFY2_WITH_TIMEOUT(db.notAllFresh().isEmpty(), qPrintable(db.notAllFresh()), 30000);
    QCOMPARE(worker.process().state(), QProcess::Running);
    QVERIFY2(worker.stopAndCountRefreshes() > 0, worker.output().constData());
}

// The store (Redis) goes away while changes come: the refreshes fail and are tried again; when
// Redis is back every entry ends fresh. Invariants: no lost refresh, no false fresh meanwhile.
void TestFreshnessWorker::redisDownAndBack()
{
    TestRedis redis;
    QString error;
    QVERIFY2(redis.start(&error), qPrintable(error));
    const QString path = m_demo.fresh();
    QVERIFY(track(path));
    CacheConfig config = cacheConfig(path);
    config.store = StoreConfig::parse(QStringLiteral("redis"), redis.url()).value();
    CacheService service(config);
    FreshnessWorker worker(service, {});
    QSignalSpy caughtUp(&worker, &FreshnessWorker::caughtUp);
    QVERIFY(worker.start());
    QVERIFY(caughtUp.wait(20000));
    redis.stop();
    const qint64 baz = bazOfSomeFoos(path, 3);
    QVERIFY(sqlExec(path, QStringLiteral("UPDATE api_baz SET name = 'while Redis was down' WHERE id = %1").arg(baz)).isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(worker.stats().errors > 0, 20000);
    QVERIFY(!service.status()); // the store is down: no state at all, never "fresh"
    QVERIFY2(redis.restart(&error), qPrintable(error));
    const auto allFresh = [&] {
        const auto statuses = service.status();
        if (!statuses)
            return false;
        return std::all_of(statuses->cbegin(), statuses->cend(), [](const EntryStatus &s) { return s.state == EntryState::Fresh; });
    };
    QTRY_VERIFY_WITH_TIMEOUT(allFresh(), 30000);
    for (const qint64 foo : foosReaching(path, baz)) {
        auto stored = service.get(foo);
        QVERIFY(stored);
        QCOMPARE(stored->entry->body, liveBody(path, foo));
    }
}

// The log is pruned up to the oldest position an entry reflects, and not past the margin: with a
// margin of a minute nothing goes; with none, the rows every entry reflects go, and a change after
// that is still seen.
void TestFreshnessWorker::prunesTheLogBehindEveryEntry()
{
    const QString path = m_demo.fresh();
    QVERIFY(track(path));
    const auto logRows = [&path] { return integers(path, QStringLiteral("SELECT count(*) FROM preserve_changes_api WHERE foo_id IS NOT NULL")).value(0); };
    for (const int margin : { 60000, 0 }) {
        QVERIFY(sqlExec(path, QStringLiteral("UPDATE api_baz SET name = 'pruned %1' WHERE id = %2").arg(margin).arg(bazOfSomeFoos(path, 3))).isEmpty());
        QVERIFY(logRows() > 0);
        CacheService service(cacheConfig(path));
        FreshnessOptions options;
        options.pruneEveryMs = 0;
        options.pruneMarginMs = margin;
        options.once = true;
        FreshnessWorker worker(service, options);
        QSignalSpy finished(&worker, &FreshnessWorker::finished);
        QVERIFY(worker.start());
        QVERIFY(finished.wait(20000));
        QVERIFY2(notFreshOrDifferent(service, path).isEmpty(), qPrintable(notFreshOrDifferent(service, path)));
        if (margin > 0) {
            QCOMPARE(worker.stats().prunedThrough, qint64(0));
            QVERIFY(logRows() > 0);
        }
    }
    QTRY_COMPARE(logRows(), qint64(0));
    // Tracking goes on after the prune: a change is stale until refreshed.
    QVERIFY(sqlExec(path, QStringLiteral("UPDATE api_foo SET name = 'after the prune' WHERE id = 1")).isEmpty());
    CacheService service(cacheConfig(path));
    const auto statuses = service.status();
    QVERIFY(statuses);
    QCOMPARE(statuses->first().state, EntryState::Stale);
}

// With hotFirst (the serving process's worker), a Foo clients read lately (in the memory tier) is
// refreshed before one nobody read, when more are due than a batch takes.
void TestFreshnessWorker::hotFoosFirst()
{
    const QString path = m_demo.fresh();
    QVERIFY(track(path));
    CacheService service(cacheConfig(path));
    FreshnessOptions options;
    options.hotFirst = true;
    options.batchSize = 1;
    FreshnessWorker worker(service, options);
    QSignalSpy batches(&worker, &FreshnessWorker::batchFinished);
    QSignalSpy caughtUp(&worker, &FreshnessWorker::caughtUp);
    QVERIFY(worker.start());
    QVERIFY(caughtUp.wait(20000));
    batches.clear(); // the catch-up's
    const qint64 baz = bazOfSomeFoos(path, 100);
    const QList<qint64> reached = foosReaching(path, baz);
    QVERIFY(reached.size() >= 2);
    const qint64 hot = reached.last(); // not first by pk or by anything but the reading
    service.memory().clear();
    QVERIFY(service.get(hot));
    QSignalSpy refreshed(&service, &CacheService::entryRefreshed);
    QVERIFY(sqlExec(path, QStringLiteral("UPDATE api_baz SET name = 'hot first' WHERE id = %1").arg(baz)).isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(batches.count(), int(reached.size()), 20000);
    QCOMPARE(refreshed.first().at(1).toLongLong(), hot);
}

QTEST_GUILESS_MAIN(TestFreshnessWorker)
#include "tst_freshnessworker.moc"
