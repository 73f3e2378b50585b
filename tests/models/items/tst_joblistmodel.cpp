// The console's job list over a real CacheService and the small demo: rows named by the action
// that started them, progress to the end, one job cancelled while another runs on, the log line
// each one ends with, the Foos a queued refresh already covers, and the finished history's bound.

#include "cache/cacheservice.h"
#include "items/joblistmodel.h"
#include "treefixture.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

class TestJobListModel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void namedJobsRunToTheirEnd();
    void cancelOneJobOnly();
    void queuedRefreshesAreKnown();
    void finishedHistoryIsBounded();

private:
    CacheConfig config() const;
    QList<qint64> fooIds() const;

    QTemporaryDir m_dir;
    DemoDatabase m_demo;
};

void TestJobListModel::initTestCase()
{
    QVERIFY(m_demo.seed(m_dir, QStringLiteral("small")));
}

CacheConfig TestJobListModel::config() const
{
    CacheConfig config;
    config.database = m_demo.config;
    config.watch = false;
    return config;
}

QList<qint64> TestJobListModel::fooIds() const
{
    QList<qint64> ids;
    for (const auto &[id, name] : queryRows(*m_demo.database, QStringLiteral("SELECT id, name FROM api_foo ORDER BY id")))
        ids << id;
    return ids;
}

void TestJobListModel::namedJobsRunToTheirEnd()
{
    CacheService service(config());
    JobListModel jobs;
    QAbstractItemModelTester tester(&jobs, QAbstractItemModelTester::FailureReportingMode::QtTest);
    jobs.setService(&service);
    QSignalSpy running(&jobs, &JobListModel::runningChanged);
    QSignalSpy ended(&jobs, &JobListModel::jobEnded);
    const QList<qint64> pks = fooIds().mid(0, 5);
    service.holdWorkers(true);
    const int job = service.refresh(pks);
    jobs.nameJob(job, QStringLiteral("Refresh selected"));
    QCOMPARE(jobs.rowCount(), 1);
    QCOMPARE(running.size(), 1);
    QCOMPARE(running.last().at(0).toBool(), true);
    QCOMPARE(jobs.running(true), QList<int> { job });
    QTRY_COMPARE(jobs.title(job), QStringLiteral("Refresh selected: 5 Foos"));
    QCOMPARE(jobs.index(0, JobListModel::ProgressColumn).data().toString(), QStringLiteral("0 / 5"));
    QCOMPARE(jobs.index(0, JobListModel::OutcomeColumn).data().toString(), QStringLiteral("running"));
    QVERIFY2(jobs.summary().startsWith(QStringLiteral("Refresh selected 0 / 5")), qPrintable(jobs.summary()));
    service.holdWorkers(false);
    QVERIFY(ended.wait(15000));
    QCOMPARE(ended.last().at(0).toInt(), job);
    const QString line = ended.last().at(1).toString();
    QVERIFY2(line.startsWith(QStringLiteral("Refresh selected (job %1): 5 of 5 done in ").arg(job)), qPrintable(line));
    QCOMPARE(ended.last().at(2).toBool(), false);
    QCOMPARE(jobs.index(0, JobListModel::ProgressColumn).data().toString(), QStringLiteral("5 / 5"));
    QCOMPARE(jobs.index(0, JobListModel::ProgressColumn).data(JobListModel::FractionRole).toDouble(), 1.0);
    QVERIFY(!jobs.index(0, 0).data(JobListModel::RunningRole).toBool());
    QCOMPARE(running.last().at(0).toBool(), false);
    QVERIFY(jobs.summary().isEmpty());
    QCOMPARE(jobs.rowCount(), 1); // finished jobs stay until cleared
    jobs.clearFinished();
    QCOMPARE(jobs.rowCount(), 0);
}

// Two jobs; the first is cancelled from its row while the workers are held: it ends cancelled
// with nothing done, the second runs to its end.
void TestJobListModel::cancelOneJobOnly()
{
    CacheService service(config());
    JobListModel jobs;
    QAbstractItemModelTester tester(&jobs, QAbstractItemModelTester::FailureReportingMode::QtTest);
    jobs.setService(&service);
    QSignalSpy ended(&jobs, &JobListModel::jobEnded);
    const QList<qint64> pks = fooIds();
    service.holdWorkers(true);
    const int first = service.refresh(pks.mid(0, 4));
    jobs.nameJob(first, QStringLiteral("Refresh stale"));
    const int second = service.refresh(pks.mid(4, 3));
    jobs.nameJob(second, QStringLiteral("Refresh These"));
    QTRY_COMPARE(jobs.runningTotal(), 7);
    jobs.cancel(first);
    QCOMPARE(jobs.index(0, JobListModel::OutcomeColumn).data().toString(), QStringLiteral("cancelling…"));
    service.holdWorkers(false);
    QTRY_COMPARE_WITH_TIMEOUT(ended.size(), 2, 15000);
    QHash<int, QString> lines;
    for (const auto &arguments : std::as_const(ended))
        lines.insert(arguments.at(0).toInt(), arguments.at(1).toString());
    QVERIFY2(lines[first].startsWith(QStringLiteral("Refresh stale (job %1): cancelled: 0 of 4 done").arg(first)),
             qPrintable(lines[first]));
    QVERIFY2(lines[second].startsWith(QStringLiteral("Refresh These (job %1): 3 of 3 done").arg(second)), qPrintable(lines[second]));
    QVERIFY(jobs.running().isEmpty());
}

// The service tells which Foos wait in a refresh's queue (the console does not queue them again);
// a job nobody named is background work, which quitting does not ask about.
void TestJobListModel::queuedRefreshesAreKnown()
{
    CacheService service(config());
    JobListModel jobs;
    jobs.setService(&service);
    const QList<qint64> pks = fooIds().mid(0, 3);
    service.holdWorkers(true);
    QSignalSpy started(&service, &CacheService::jobStarted);
    const int job = service.refresh(pks);
    QVERIFY(started.wait(15000));
    const QHash<qint64, int> queued = service.queuedRefreshes();
    QCOMPARE(queued.size(), 3);
    for (const qint64 pk : pks)
        QCOMPARE(queued.value(pk), job);
    QCOMPARE(jobs.name(job), QStringLiteral("Background job"));
    QVERIFY(jobs.running(true).isEmpty());
    QCOMPARE(jobs.running(), QList<int> { job });
    service.cancel(job);
    QVERIFY(service.queuedRefreshes().isEmpty()); // a cancelled job's Foos may be asked for again
    QSignalSpy finished(&service, &CacheService::jobFinished);
    service.holdWorkers(false);
    QVERIFY(finished.wait(15000));
    QVERIFY(service.queuedRefreshes().isEmpty());
}

void TestJobListModel::finishedHistoryIsBounded()
{
    CacheService service(config());
    JobListModel jobs;
    QAbstractItemModelTester tester(&jobs, QAbstractItemModelTester::FailureReportingMode::QtTest);
    jobs.setService(&service);
    QSignalSpy ended(&jobs, &JobListModel::jobEnded);
    const int count = JobListModel::keptFinished + 3;
    for (int i = 0; i < count; ++i)
        jobs.nameJob(service.refresh({}), QStringLiteral("Refresh selected"));
    QTRY_COMPARE_WITH_TIMEOUT(ended.size(), count, 15000);
    QCOMPARE(jobs.rowCount(), JobListModel::keptFinished);
    // The oldest went first.
    QCOMPARE(jobs.index(0, 0).data(JobListModel::JobIdRole).toInt(), ended.at(3).at(0).toInt());
}

QTEST_GUILESS_MAIN(TestJobListModel)
#include "tst_joblistmodel.moc"
