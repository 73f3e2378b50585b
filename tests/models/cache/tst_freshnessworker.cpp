// The keep-fresh worker against real databases. Invariants: no lost refresh (after the worker has
// drained, every entry is fresh and byte-equal to live), no false fresh, changes to one Foo within
// the debounce window coalesce into one refresh, one active worker per database (a standby takes
// over when it goes, kill -9 included, and finishes what it left).
#include "cache/freshnessworker.h"
#include "db/database.h"
#include "servicefixture.h"
#include "staleness/changetracking.h"
#include "testpostgres.h"

#include <QDeadlineTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>

#include <csignal>

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
    explicit WorkerProcess(const QString &url)
    {
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.start(preserveBinary(), { QStringLiteral("worker"), QStringLiteral("--db"), url });
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
    void killedWorkerLosesNothingOnPostgres();
    void prunesTheLogBehindEveryEntry();
    void hotFoosFirst();

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

// Two worker processes over one PostgreSQL: one active, one standby. The active one is killed with
// SIGKILL right after a change; the standby takes over (the advisory lock went with the session),
// catches up, and every entry ends fresh and equal to live.
void TestFreshnessWorker::killedWorkerLosesNothingOnPostgres()
{
    TestPostgres postgres;
    QString error;
    QVERIFY2(postgres.start(&error), qPrintable(error));
    QVERIFY2(postgres.createDatabase(QStringLiteral("kept"), &error), qPrintable(error));
    const QString url = postgres.url(QStringLiteral("kept"));
    const auto made = runReference({ QStringLiteral("make-db"), QStringLiteral("--db"), url });
    QVERIFY2(made.finished && made.exitCode == 0, qPrintable(describe(made)));
    const auto tracked = runProcess(preserveBinary(), { QStringLiteral("track"), QStringLiteral("install"), QStringLiteral("--db"), url });
    QVERIFY2(tracked.exitCode == 0, qPrintable(describe(tracked)));

    WorkerProcess first(url);
    QVERIFY2(first.waitFor("caught up"), first.output().constData());
    WorkerProcess second(url);
    QVERIFY2(second.waitFor("waiting as a standby"), second.output().constData());
    QVERIFY2(postgres.exec(QStringLiteral("kept"), QStringLiteral("UPDATE api_baz SET name = left(name, 40) || ' (renamed)'"), &error), qPrintable(error));
    ::kill(pid_t(first.process().processId()), SIGKILL);
    QVERIFY(first.process().waitForFinished(5000));
    QVERIFY2(second.waitFor("caught up", 10000), second.output().constData());
    QTRY_VERIFY_WITH_TIMEOUT(runProcess(preserveBinary(), { QStringLiteral("verify"), QStringLiteral("--db"), url }).exitCode == 0, 20000);
    const auto status = runProcess(preserveBinary(), { QStringLiteral("status"), QStringLiteral("--json"), QStringLiteral("--db"), url });
    for (const QJsonValue &row : QJsonDocument::fromJson(status.out).array())
        QVERIFY2(row[QLatin1String("state")].toString() == QLatin1String("fresh"), qPrintable(row[QLatin1String("reason")].toString()));
    second.process().terminate();
    QVERIFY(second.process().waitForFinished(20000));
    QCOMPARE(second.process().exitCode(), 0);
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
