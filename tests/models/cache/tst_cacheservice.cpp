// CacheService over the Django column store and a real SQLite demo: cache on read, single flight,
// jobs (progress, coalescing, cancel), staleness and verification, coherence between services and
// two processes warming at once. Redis: tst_cacheserviceredis.

#include "servicefixture.h"

#include "cache/memorytier.h"
#include "cache/workertasks.h"
#include "staleness/changetracking.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QRegularExpression>
#include <QTest>

#include <cstdio>

#include <algorithm>
#include <atomic>
#include <functional>
#include <latch>
#include <mutex>
#include <thread>

namespace {

const EntryStatus *statusOf(const QList<EntryStatus> &statuses, qint64 pk)
{
    for (const EntryStatus &status : statuses) {
        if (status.pk == pk)
            return &status;
    }
    return nullptr;
}

QHash<qint64, QByteArray> storedDigests(const QString &path)
{
    QHash<qint64, QByteArray> digests;
    const QList<EntryInfo> infos = columnStore(path)->list().value();
    for (const EntryInfo &info : infos)
        digests.insert(info.pk, info.digest);
    return digests;
}

Status installTracking(const QString &path)
{
    auto database = Database::open(databaseConfig(path));
    if (!database)
        return database.error();
    return ChangeTracking::install(**database);
}

} // namespace

class TestCacheService : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();

    void getCachesOnRead();
    void impactMatchesTheTables();
    void singleFlight();
    void lookupsGoBeforeQueuedRefreshes();
    void refreshJobs();
    void refreshesInChunksAnswerEachFoo();
    void aRefreshNeverReplacesANewerKeptEntry();
    void refreshStaleFollowsTheChangedBaz();
    void refreshesCoalesce();
    void cancelledJobKeepsEntriesWhole();
    void destroyedMidRefresh();
    void invalidateRemoves();
    void statusStates();
    void replacedFileIsReadAnew();
    void olderSerializerVersionIsNeverServed();
    void verifyComparesWithLive();
    void servicesStayCoherent();
    void twoProcessesWarmAtOnce();

private:
    // Runs a job to its end on `service`; its summary.
    JobSummary run(CacheService &service, JobRecorder &recorder, int job);

    DemoFiles m_demo;
    QString m_path;
    QList<qint64> m_foos;
};

void TestCacheService::initTestCase()
{
    QVERIFY(m_demo.seed());
}

void TestCacheService::init()
{
    m_path = m_demo.fresh();
    m_foos = integers(m_path, QStringLiteral("SELECT id FROM api_foo ORDER BY id"));
    QVERIFY(m_foos.size() >= 10);
}

JobSummary TestCacheService::run(CacheService &, JobRecorder &recorder, int job)
{
    if (!recorder.wait(job))
        qWarning("job %d did not finish", job);
    return recorder.summary(job);
}

// The Foos a Baz, a Zab and a Bar reach, as the tables say; their bytes, as the store holds them
// (some cached, some not); a node that does not exist reaches nothing and says so.
void TestCacheService::impactMatchesTheTables()
{
    const qint64 baz = integers(m_path, QStringLiteral("SELECT l.baz_id FROM api_zab_bazs l JOIN api_zab z ON z.id = l.zab_id "
                                                       "JOIN api_bar b ON b.id = z.bar_id GROUP BY l.baz_id "
                                                       "ORDER BY count(DISTINCT b.foo_id) DESC, 1 LIMIT 1")).value(0);
    const QList<qint64> reached = integers(m_path, QStringLiteral("SELECT DISTINCT b.foo_id FROM api_zab_bazs l JOIN api_zab z "
                                                                  "ON z.id = l.zab_id JOIN api_bar b ON b.id = z.bar_id "
                                                                  "WHERE l.baz_id = %1 ORDER BY 1").arg(baz));
    QVERIFY(reached.size() >= 3);
    CacheService service(cacheConfig(m_path));
    JobRecorder recorder(service);
    run(service, recorder, service.refresh(reached.mid(0, 2))); // two of them cached
    const auto impact = service.impact(NodeLevel::Baz, baz);
    QVERIFY2(impact, qPrintable(why(impact)));
    QVERIFY(impact->nodeName.has_value());
    QCOMPARE(impact->pks(), reached);
    QCOMPARE(impact->uncached, int(reached.size()) - 2);
    const auto infos = columnStore(m_path)->list();
    QVERIFY(infos && infos->size() == 2);
    QCOMPARE(impact->bytes, infos->at(0).size + infos->at(1).size);
    QVERIFY2(impact->sentence().contains(QStringLiteral("is in %1 Foos").arg(reached.size())), qPrintable(impact->sentence()));

    const qint64 zab = integers(m_path, QStringLiteral("SELECT max(id) FROM api_zab")).value(0);
    const auto zabImpact = service.impact(NodeLevel::Zab, zab);
    QVERIFY(zabImpact);
    QCOMPARE(zabImpact->pks(), integers(m_path, QStringLiteral("SELECT b.foo_id FROM api_zab z JOIN api_bar b ON b.id = z.bar_id "
                                                              "WHERE z.id = %1").arg(zab)));
    const auto none = service.impact(NodeLevel::Bar, 987654321);
    QVERIFY(none && !none->nodeName && none->foos.isEmpty());
    QCOMPARE(none->sentence(), QStringLiteral("There is no Bar 987654321."));
}

void TestCacheService::getCachesOnRead()
{
    CacheService service(cacheConfig(m_path));
    const qint64 pk = m_foos[3];
    const QByteArray live = liveBody(m_path, pk);

    const auto first = service.get(pk);
    QVERIFY2(first, qPrintable(why(first)));
    QCOMPARE(first->outcome, Telemetry::Outcome::Miss);
    QVERIFY(!first->fromMemory);
    COMPARE_BODIES(first->entry->body, live);
    const auto stored = columnStore(m_path)->get(pk);
    QVERIFY2(stored && *stored, "the miss must have written the store");
    COMPARE_BODIES((*stored)->body, live);
    QCOMPARE((*stored)->digest, digestOf(live));

    const auto second = service.get(pk);
    QVERIFY2(second, qPrintable(why(second)));
    QCOMPARE(second->outcome, Telemetry::Outcome::Hit);
    QVERIFY(second->fromMemory);
    QCOMPARE(second->entry.get(), first->entry.get()); // the same shared entry, no copy

    service.memory().clear();
    const auto third = service.get(pk);
    QVERIFY2(third, qPrintable(why(third)));
    QCOMPARE(third->outcome, Telemetry::Outcome::Hit);
    QVERIFY(!third->fromMemory);
    COMPARE_BODIES(third->entry->body, live);

    const qint64 unknown = m_foos.last() + 1000;
    const auto missing = service.get(unknown);
    QVERIFY(!missing);
    QCOMPARE(missing.error().kind, Error::Kind::NotFound);
    QVERIFY(!service.memory().get(unknown));
    const auto nothing = columnStore(m_path)->get(unknown);
    QVERIFY(nothing && !*nothing);
    QCOMPARE(columnStore(m_path)->list()->size(), 1);
}

void TestCacheService::singleFlight()
{
    Telemetry telemetry;
    CacheService service(cacheConfig(m_path, 2), &telemetry);
    const qint64 pk = m_foos[0];
    constexpr int threads = 8;
    constexpr int requests = 50;
    std::mutex mutex;
    QList<EntryPtr> entries;
    QStringList errors;
    std::latch ready(threads);
    std::vector<std::thread> callers;
    for (int t = 0; t < threads; ++t) {
        callers.emplace_back([&, t] {
            ready.arrive_and_wait();
            for (int i = t; i < requests; i += threads) {
                service.getAsync(pk, [&](const Result<CacheService::Lookup> &result) {
                    std::lock_guard lock(mutex);
                    if (result)
                        entries << result->entry;
                    else
                        errors << result.error().message;
                });
            }
        });
    }
    for (auto &caller : callers)
        caller.join();
    const auto answered = [&] {
        std::lock_guard lock(mutex);
        return entries.size() + errors.size();
    };
    QTRY_COMPARE_WITH_TIMEOUT(answered(), requests, 10000);
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join(QLatin1Char('\n'))));
    for (const EntryPtr &entry : std::as_const(entries))
        QCOMPARE(entry.get(), entries.first().get());
    const auto db = telemetry.snapshot().stores.value(QStringLiteral("db"));
    QCOMPARE(db.requests[int(Telemetry::Outcome::Miss)], 1);
    QCOMPARE(db.requests[int(Telemetry::Outcome::Error)], 0);
    QCOMPARE(columnStore(m_path)->list()->size(), 1);
}

// A miss is a client waiting; a refresh job's items are background work. With one worker and a job
// of nine refreshes queued first, the lookup still runs first (it waited behind all nine).
void TestCacheService::lookupsGoBeforeQueuedRefreshes()
{
    CacheService service(cacheConfig(m_path, 1));
    JobRecorder recorder(service);
    service.holdWorkers(true);
    const int job = service.refresh(m_foos.mid(1, 9));
    QTRY_COMPARE(recorder[job].started, 9); // its nine refreshes are queued now
    QObject marker;
    int refreshedBeforeLookup = -1;
    std::atomic<bool> found { false };
    service.getAsync(m_foos[0], [&](const Result<CacheService::Lookup> &result) {
        found = bool(result);
        // Queued to this thread like the job's signals, so it arrives in the order things ran.
        QMetaObject::invokeMethod(&marker, [&] { refreshedBeforeLookup = int(recorder[job].refreshed.size()); }, Qt::QueuedConnection);
    });
    service.holdWorkers(false);
    run(service, recorder, job);
    QTRY_VERIFY(refreshedBeforeLookup >= 0);
    QCOMPARE(refreshedBeforeLookup, 0);
    QVERIFY(found);
    QCOMPARE(recorder[job].refreshed.size(), 9);
}

void TestCacheService::refreshJobs()
{
    CacheService service(cacheConfig(m_path));
    JobRecorder recorder(service);
    const QList<qint64> pks { m_foos[1], m_foos[4], m_foos[7] };
    const int job = service.refresh(pks);
    const JobSummary summary = run(service, recorder, job);
    QCOMPARE(recorder[job].started, 3);
    // Outcomes that arrive together are reported together: the count rises, strictly, to 3.
    const QList<int> progress = recorder[job].progress;
    QVERIFY(!progress.isEmpty());
    QCOMPARE(progress.last(), 3);
    QVERIFY(progress.first() >= 1);
    QVERIFY(std::adjacent_find(progress.cbegin(), progress.cend(), std::greater_equal<int>()) == progress.cend());
    auto refreshed = recorder[job].refreshed;
    std::sort(refreshed.begin(), refreshed.end());
    QCOMPARE(refreshed, pks);
    QCOMPARE(summary.total, 3);
    QCOMPARE(summary.done, 3);
    QCOMPARE(summary.failed, 0);
    QVERIFY(!summary.cancelled);
    auto store = columnStore(m_path);
    for (qint64 pk : pks) {
        COMPARE_BODIES(store->get(pk).value()->body, liveBody(m_path, pk));
        // The memory tier has what was written, gzip'd body included (GroupCommit made it).
        const EntryPtr kept = service.memory().get(pk);
        QVERIFY(kept);
        QVERIFY(!kept->gzip.isEmpty());
        QCOMPARE(gzipDecompress(kept->gzip), kept->body);
    }

    const int all = service.refreshAll();
    const JobSummary allSummary = run(service, recorder, all);
    QCOMPARE(allSummary.total, int(m_foos.size()));
    QCOMPARE(allSummary.done, int(m_foos.size()));
    QCOMPARE(recorder[all].progress.last(), int(m_foos.size()));
    const auto digests = storedDigests(m_path);
    QCOMPARE(digests.size(), m_foos.size());
    for (qint64 pk : std::as_const(m_foos))
        QCOMPARE(digests.value(pk), digestOf(liveBody(m_path, pk)));
}

// A job of many Foos is run in chunks that share a snapshot: a Foo that fails inside a chunk
// fails alone, every other is written as live serialized it, and all share one change position.
void TestCacheService::refreshesInChunksAnswerEachFoo()
{
    const auto installed = installTracking(m_path);
    QVERIFY2(installed, qPrintable(why(installed)));
    CacheService service(cacheConfig(m_path, 1));
    JobRecorder recorder(service);
    QList<qint64> pks;
    QSet<qint64> missing;
    const qint64 beyond = *std::max_element(m_foos.cbegin(), m_foos.cend()) + 1;
    for (qsizetype i = 0; i < 4 * m_foos.size(); ++i) {
        if (i % 4 == 2) {
            pks << m_foos[i / 4];
        } else {
            pks << beyond + i;
            missing << beyond + i;
        }
    }
    QVERIFY(pks.size() >= 40); // chunks of several Foos: pks / (8 per thread)
    const int job = service.refresh(pks);
    const JobSummary summary = run(service, recorder, job);
    QCOMPARE(summary.total, int(pks.size()));
    QCOMPARE(summary.done, int(m_foos.size()));
    QCOMPARE(summary.failed, int(missing.size()));
    const QList<qint64> failed = recorder[job].failed.keys();
    QCOMPARE(QSet<qint64>(failed.cbegin(), failed.cend()), missing);
    auto store = columnStore(m_path);
    QSet<qint64> positions;
    for (qint64 pk : std::as_const(m_foos)) {
        const EntryPtr entry = store->get(pk).value();
        QVERIFY(entry);
        COMPARE_BODIES(entry->body, liveBody(m_path, pk));
        positions << entry->changePosition;
    }
    QCOMPARE(positions.size(), 1);
    QVERIFY(*positions.cbegin() > 0);
}

// A refresh's entry reaches memory only if nothing newer was kept for its pk since it began: a
// lookup that served a newer body meanwhile must not be overwritten by an older one.
void TestCacheService::aRefreshNeverReplacesANewerKeptEntry()
{
    const CacheConfig config = cacheConfig(m_path);
    MemoryTier memory(1 << 20);
    Telemetry telemetry;
    const WorkerTasks tasks { config, memory, telemetry };
    const auto entry = [](qint64 pk, const char *body) { return makeEntry(pk, QByteArray(body), EntryMetadata {}); };

    const quint64 mark = memory.mark(); // the refresh begins
    memory.put(entry(1, "newer")); // a lookup keeps a newer body meanwhile
    tasks.refreshWritten(entry(1, "older"), success(), 0, mark);
    QCOMPARE(memory.get(1)->body, QByteArray("newer"));

    tasks.refreshWritten(entry(2, "refreshed"), success(), 0, memory.mark());
    QCOMPARE(memory.get(2)->body, QByteArray("refreshed"));
    tasks.refreshWritten(entry(3, "failed"), Error::io(QStringLiteral("disk full")), 0, memory.mark());
    QVERIFY(!memory.get(3));
}

void TestCacheService::refreshStaleFollowsTheChangedBaz()
{
    const auto installed = installTracking(m_path);
    QVERIFY2(installed, qPrintable(why(installed)));
    CacheService service(cacheConfig(m_path));
    JobRecorder recorder(service);
    QCOMPARE(run(service, recorder, service.refreshAll()).done, int(m_foos.size()));
    const int nothing = service.refreshStale();
    QCOMPARE(run(service, recorder, nothing).total, 0);

    const qint64 baz = bazOfSomeFoos(m_path, m_foos.size());
    QVERIFY(baz > 0);
    QCOMPARE(sqlExec(m_path, QStringLiteral("UPDATE api_baz SET name = 'renamed baz' WHERE id = %1").arg(baz)), QString());
    const int job = service.refreshStale();
    const JobSummary summary = run(service, recorder, job);
    auto refreshed = recorder[job].refreshed;
    std::sort(refreshed.begin(), refreshed.end());
    QCOMPARE(refreshed, foosReaching(m_path, baz));
    QCOMPARE(summary.done, int(refreshed.size()));
    for (qint64 pk : std::as_const(refreshed))
        COMPARE_BODIES(columnStore(m_path)->get(pk).value()->body, liveBody(m_path, pk));
}

void TestCacheService::refreshesCoalesce()
{
    Telemetry telemetry;
    CacheService service(cacheConfig(m_path, 2), &telemetry);
    JobRecorder recorder(service);
    const auto refreshes = [&] { return telemetry.snapshot().stores.value(QStringLiteral("db")).refreshes; };

    // Deterministic: both requests are queued before any worker may start.
    service.holdWorkers(true);
    const int first = service.refresh({ m_foos[2] });
    const int second = service.refresh({ m_foos[2] });
    QTRY_VERIFY(recorder[first].started == 1 && recorder[second].started == 1);
    service.holdWorkers(false);
    QCOMPARE(run(service, recorder, first).done, 1);
    QCOMPARE(run(service, recorder, second).done, 1);
    QCOMPARE(refreshes(), 1);

    // Back to back without the hook: at most one serialization each, both done.
    const int third = service.refresh({ m_foos[2] });
    const int fourth = service.refresh({ m_foos[2] });
    QCOMPARE(run(service, recorder, third).done, 1);
    QCOMPARE(run(service, recorder, fourth).done, 1);
    QVERIFY(refreshes() <= 3);

    // A cancelled job does not stop the refresh another job waits for; one nobody waits for is skipped.
    service.holdWorkers(true);
    const int cancelled = service.refresh({ m_foos[5], m_foos[6] });
    const int kept = service.refresh({ m_foos[5] });
    QTRY_VERIFY(recorder[cancelled].started == 2 && recorder[kept].started == 1);
    service.cancel(cancelled);
    const qint64 before = refreshes();
    service.holdWorkers(false);
    QCOMPARE(run(service, recorder, kept).done, 1);
    const JobSummary skipped = run(service, recorder, cancelled);
    QVERIFY(skipped.cancelled);
    QCOMPARE(skipped.done, 1); // m_foos[5], refreshed for `kept`
    QCOMPARE(refreshes(), before + 1);
    QVERIFY(!columnStore(m_path)->get(m_foos[6]).value());
}

void TestCacheService::cancelledJobKeepsEntriesWhole()
{
    CacheService service(cacheConfig(m_path, 1));
    JobRecorder recorder(service);
    QCOMPARE(run(service, recorder, service.refreshAll()).done, int(m_foos.size()));
    const auto before = storedDigests(m_path);
    QCOMPARE(sqlExec(m_path, QStringLiteral("UPDATE api_foo SET name = name || '!'")), QString());

    for (const bool atStart : { true, false }) {
        QObject context;
        int job = -1;
        connect(&service, &CacheService::jobStarted, &context, [&](int started) {
            if (atStart && started == job)
                service.cancel(job);
        });
        connect(&service, &CacheService::entryRefreshed, &context, [&](int refreshed) {
            if (!atStart && refreshed == job)
                service.cancel(job);
        });
        job = service.refreshAll();
        const JobSummary summary = run(service, recorder, job);
        QVERIFY(summary.cancelled);
        QCOMPARE(summary.total, int(m_foos.size()));
        QCOMPARE(summary.failed, 0);
        QVERIFY(summary.done < summary.total || !atStart);
        if (atStart)
            QCOMPARE(summary.done, 0);
        const auto after = columnStore(m_path)->list().value();
        QCOMPARE(after.size(), m_foos.size());
        for (const EntryInfo &info : after) {
            QVERIFY(!info.foreign && info.problem.isEmpty());
            const QByteArray live = digestOf(liveBody(m_path, info.pk));
            QVERIFY2(info.digest == before.value(info.pk) || info.digest == live, qPrintable(QString::number(info.pk)));
        }
    }
}

void TestCacheService::destroyedMidRefresh()
{
    auto service = std::make_unique<CacheService>(cacheConfig(m_path, 2));
    JobRecorder recorder(*service);
    QCOMPARE(run(*service, recorder, service->refreshAll()).done, int(m_foos.size()));
    const auto before = storedDigests(m_path);
    QCOMPARE(sqlExec(m_path, QStringLiteral("UPDATE api_foo SET name = name || '?'")), QString());
    QSignalSpy refreshed(service.get(), &CacheService::entryRefreshed);
    service->refreshAll();
    QVERIFY(refreshed.wait(10000));
    QElapsedTimer timer;
    timer.start();
    service.reset();
    QVERIFY2(timer.elapsed() < 2000, qPrintable(QString::number(timer.elapsed())));
    const QList<EntryInfo> after = columnStore(m_path)->list().value();
    for (const EntryInfo &info : after) {
        QVERIFY(!info.foreign && info.problem.isEmpty());
        QVERIFY(info.digest == before.value(info.pk) || info.digest == digestOf(liveBody(m_path, info.pk)));
    }
}

void TestCacheService::invalidateRemoves()
{
    CacheService service(cacheConfig(m_path));
    JobRecorder recorder(service);
    const qint64 pk = m_foos[1];
    QVERIFY(service.get(pk));
    QVERIFY(service.memory().get(pk));
    const JobSummary summary = run(service, recorder, service.invalidate({ pk }));
    QCOMPARE(summary.done, 1);
    QVERIFY(!service.memory().get(pk));
    QVERIFY(!columnStore(m_path)->get(pk).value());
    const auto statuses = service.status();
    QVERIFY2(statuses, qPrintable(why(statuses)));
    QCOMPARE(statusOf(*statuses, pk)->state, EntryState::Missing);
}

void TestCacheService::statusStates()
{
    CacheService service(cacheConfig(m_path));
    JobRecorder recorder(service);
    const auto states = [&](EntryState expected) {
        const auto statuses = service.status();
        if (!statuses)
            return statuses.error().message;
        for (const EntryStatus &status : *statuses) {
            if (status.state != expected)
                return QStringLiteral("Foo %1 is %2: %3").arg(status.pk).arg(entryStateName(status.state), status.reason);
        }
        return QString();
    };
    QCOMPARE(states(EntryState::Missing), QString());
    QCOMPARE(run(service, recorder, service.refreshAll()).done, int(m_foos.size()));
    QCOMPARE(states(EntryState::Unknown), QString());
    QVERIFY(installTracking(m_path));
    QCOMPARE(states(EntryState::Unknown), QString()); // cached before tracking: not proven fresh
    QCOMPARE(run(service, recorder, service.refreshAll()).done, int(m_foos.size()));
    QCOMPARE(states(EntryState::Fresh), QString());

    const qint64 baz = bazOfSomeFoos(m_path, m_foos.size());
    const QList<qint64> affected = foosReaching(m_path, baz);
    QCOMPARE(sqlExec(m_path, QStringLiteral("UPDATE api_baz SET name = 'moved' WHERE id = %1").arg(baz)), QString());
    const qint64 corrupt = *std::find_if(m_foos.cbegin(), m_foos.cend(), [&](qint64 pk) { return !affected.contains(pk); });
    const qint64 foreign = *std::find_if(m_foos.crbegin(), m_foos.crend(), [&](qint64 pk) { return !affected.contains(pk); });
    QVERIFY(corrupt != foreign);
    QCOMPARE(sqlExec(m_path, QStringLiteral("PRAGMA ignore_check_constraints = 1; UPDATE api_foo SET pre_serialized = "
                                            "'not json' WHERE id = %1").arg(corrupt)), QString());
    QCOMPARE(sqlExec(m_path, QStringLiteral("UPDATE api_foo SET pre_serialized = '{\"name\": \"x\", \"bar_set\": []}' "
                                            "WHERE id = %1").arg(foreign)), QString());
    const auto statuses = service.status();
    QVERIFY2(statuses, qPrintable(why(statuses)));
    for (const EntryStatus &status : *statuses) {
        const EntryState expected = status.pk == corrupt ? EntryState::Corrupt
            : status.pk == foreign                       ? EntryState::Foreign
            : affected.contains(status.pk)               ? EntryState::Stale
                                                         : EntryState::Fresh;
        QVERIFY2(status.state == expected, qPrintable(QStringLiteral("Foo %1 is %2: %3").arg(status.pk).arg(entryStateName(status.state), status.reason)));
        if (expected == EntryState::Stale)
            QVERIFY2(status.reason.contains(QStringLiteral("Baz %1").arg(baz)), qPrintable(status.reason));
    }
}

// The SQLite file replaced by another one (a restore, `mv new.sqlite3 db.sqlite3`) while the
// service runs: the store's connection still reads the old inode, so its bodies would be judged
// against the new file's tables. Status is either an error (unknown) or the new file's truth.
void TestCacheService::replacedFileIsReadAnew()
{
    QVERIFY(installTracking(m_path));
    CacheService service(cacheConfig(m_path));
    JobRecorder recorder(service);
    QCOMPARE(run(service, recorder, service.refreshAll()).done, int(m_foos.size()));
    const qint64 pk = integers(m_path, QStringLiteral("SELECT id FROM api_foo WHERE pre_serialized LIKE '%bar-%' LIMIT 1")).value(0);
    QVERIFY(pk > 0);
    const auto before = service.status();
    QVERIFY2(before, qPrintable(why(before)));
    QCOMPARE(statusOf(*before, pk)->state, EntryState::Fresh);

    const QString other = m_path + QStringLiteral(".restored");
    QVERIFY(QFile::copy(m_path, other));
    QCOMPARE(sqlExec(other, QStringLiteral("UPDATE api_foo SET pre_serialized = replace(pre_serialized, 'bar-', 'BAR-') "
                                           "WHERE id = %1").arg(pk)), QString());
    QVERIFY(::rename(QFile::encodeName(other).constData(), QFile::encodeName(m_path).constData()) == 0);
    auto after = service.status();
    for (int attempt = 0; !after && attempt < 3; ++attempt) // the first read may only see that the file changed
        after = service.status();
    QVERIFY2(after, qPrintable(why(after)));
    const EntryStatus *status = statusOf(*after, pk);
    QVERIFY(status);
    QVERIFY2(status->state == EntryState::Foreign,
             qPrintable(QStringLiteral("%1: %2").arg(entryStateName(status->state), status->reason)));
}

void TestCacheService::olderSerializerVersionIsNeverServed()
{
    CacheService service(cacheConfig(m_path));
    const qint64 pk = m_foos[2];
    const QByteArray live = liveBody(m_path, pk);
    EntryMetadata metadata;
    metadata.cachedAt = QDateTime::currentDateTimeUtc();
    metadata.serializerVersion = Serializer::version - 1;
    metadata.builtBy = QStringLiteral("an older preserve");
    const auto put = columnStore(m_path)->put(makeEntry(pk, live, metadata));
    QVERIFY2(put, qPrintable(why(put)));
    const auto statuses = service.status();
    QVERIFY2(statuses, qPrintable(why(statuses)));
    const EntryStatus *status = statusOf(*statuses, pk);
    QCOMPARE(status->state, EntryState::Stale);
    QVERIFY2(status->reason.contains(QStringLiteral("version")), qPrintable(status->reason));

    const auto got = service.get(pk);
    QVERIFY2(got, qPrintable(why(got)));
    QCOMPARE(got->outcome, Telemetry::Outcome::Miss);
    QCOMPARE(got->entry->serializerVersion, Serializer::version);
    COMPARE_BODIES(got->entry->body, live);
    QCOMPARE(columnStore(m_path)->get(pk).value()->serializerVersion, Serializer::version);
}

void TestCacheService::verifyComparesWithLive()
{
    CacheService service(cacheConfig(m_path));
    JobRecorder recorder(service);
    QCOMPARE(run(service, recorder, service.refreshAll()).done, int(m_foos.size()));
    const int clean = service.verify({});
    QCOMPARE(run(service, recorder, clean).done, int(m_foos.size()));
    QCOMPARE(recorder[clean].verified.size(), m_foos.size());
    for (const Verification &verification : std::as_const(recorder[clean].verified)) {
        QVERIFY(verification.identical);
        QCOMPARE(verification.summary, QStringLiteral("identical"));
    }

    const qint64 baz = bazOfSomeFoos(m_path, m_foos.size());
    const QList<qint64> affected = foosReaching(m_path, baz);
    QCOMPARE(sqlExec(m_path, QStringLiteral("UPDATE api_baz SET name = 'verified' WHERE id = %1").arg(baz)), QString());
    const int changed = service.verify({});
    QCOMPARE(run(service, recorder, changed).failed, 0);
    const QRegularExpression changes(QStringLiteral("^\\d+ changes?$"));
    for (auto it = recorder[changed].verified.cbegin(); it != recorder[changed].verified.cend(); ++it) {
        QCOMPARE(!it->identical, affected.contains(it.key()));
        if (!it->identical)
            QVERIFY2(changes.match(it->summary).hasMatch(), qPrintable(it->summary));
    }
    // The verdict shows in status() without change tracking.
    const auto statuses = service.status();
    QVERIFY2(statuses, qPrintable(why(statuses)));
    QCOMPARE(statusOf(*statuses, affected.first())->state, EntryState::Stale);

    QCOMPARE(run(service, recorder, service.invalidate({ m_foos[0] })).done, 1);
    const int missing = service.verify({ m_foos[0] });
    const JobSummary summary = run(service, recorder, missing);
    QCOMPARE(summary.failed, 1);
    QVERIFY2(recorder[missing].failed.value(m_foos[0]).contains(QStringLiteral("no cache entry")),
             qPrintable(recorder[missing].failed.value(m_foos[0])));
    QVERIFY(recorder[missing].verified.isEmpty());

    // In one chunk (one worker, many pks): a missing entry, a corrupt one and good ones each get
    // their own answer.
    CacheService single(cacheConfig(m_path, 1));
    JobRecorder singleRecorder(single);
    QCOMPARE(sqlExec(m_path, QStringLiteral("UPDATE api_foo SET pre_serialized = '[1]' WHERE id = %1").arg(m_foos[1])), QString());
    QList<qint64> pks;
    for (int round = 0; round < 4; ++round)
        pks += m_foos;
    const int mixed = single.verify(pks);
    const JobSummary mixedSummary = run(single, singleRecorder, mixed);
    QCOMPARE(mixedSummary.total, int(pks.size()));
    QCOMPARE(mixedSummary.failed, 8);
    QVERIFY2(singleRecorder[mixed].failed.value(m_foos[0]).contains(QStringLiteral("no cache entry")),
             qPrintable(singleRecorder[mixed].failed.value(m_foos[0])));
    QVERIFY2(!singleRecorder[mixed].failed.value(m_foos[1]).isEmpty()
                 && !singleRecorder[mixed].failed.value(m_foos[1]).contains(QStringLiteral("no cache entry")),
             qPrintable(singleRecorder[mixed].failed.value(m_foos[1])));
    QCOMPARE(singleRecorder[mixed].verified.size(), m_foos.size() - 2);
    for (qint64 pk : std::as_const(m_foos).mid(2))
        QCOMPARE(singleRecorder[mixed].verified.value(pk).identical, !affected.contains(pk));
}

void TestCacheService::servicesStayCoherent()
{
    CacheService a(cacheConfig(m_path, 2, true));
    const auto watching = a.startWatching();
    QVERIFY2(watching, qPrintable(why(watching)));
    CacheService b(cacheConfig(m_path));
    JobRecorder recorder(b);
    const qint64 pk = m_foos[4];
    QVERIFY(a.get(pk));
    const EntryPtr cached = a.memory().get(pk);
    QVERIFY(cached);
    QSignalSpy changed(&a, &CacheService::entriesChanged);
    QCOMPARE(sqlExec(m_path, QStringLiteral("UPDATE api_foo SET name = 'coherent' WHERE id = %1").arg(pk)), QString());
    QCOMPARE(run(b, recorder, b.refresh({ pk })).done, 1);
    const QByteArray live = liveBody(m_path, pk);
    QElapsedTimer timer;
    timer.start();
    // A's own earlier write may be reported too; what counts is that the old copy leaves memory.
    QTRY_VERIFY_WITH_TIMEOUT(a.memory().get(pk) != cached, 2000);
    QVERIFY(timer.elapsed() < 2000);
    QVERIFY(!changed.isEmpty());
    const auto got = a.get(pk);
    QVERIFY2(got, qPrintable(why(got)));
    COMPARE_BODIES(got->entry->body, live);
}

void TestCacheService::twoProcessesWarmAtOnce()
{
    // Both start from entries that exist, so each replaces what the other may be writing.
    QVERIFY(installTracking(m_path));
    const QStringList arguments { QStringLiteral("warm"), QStringLiteral("--db"), m_path };
    const auto results = runInParallel({ { preserveBinary(), arguments }, { preserveBinary(), arguments } });
    for (const ProcessResult &result : results)
        QVERIFY2(result.finished && result.exitCode == 0, qPrintable(describe(result)));
    auto store = columnStore(m_path);
    for (qint64 pk : std::as_const(m_foos)) {
        const auto entry = store->get(pk);
        QVERIFY2(entry && *entry, qPrintable(QString::number(pk)));
        QVERIFY(!(*entry)->foreign);
        COMPARE_BODIES((*entry)->body, liveBody(m_path, pk));
    }
}

QTEST_GUILESS_MAIN(TestCacheService)
#include "tst_cacheservice.moc"
