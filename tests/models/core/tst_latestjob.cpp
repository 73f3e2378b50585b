#include "core/latestjob.h"

#include <QScopeGuard>
#include <QSemaphore>
#include <QTest>
#include <QThreadPool>

#include <atomic>

class TestLatestJob : public QObject {
    Q_OBJECT

private slots:
    void startMakesEarlierTicketsStale();
    void jobsOfOneGenerationShareItsTicket();
    void invalidateMakesEveryTicketStale();
    void anotherThreadSeesTheChange();
    void queuedJobFindsItsTicketStale();
};

// A new generation drops the one before: only the newest ticket counts.
void TestLatestJob::startMakesEarlierTicketsStale()
{
    LatestJob jobs;
    const LatestJob::Ticket first = jobs.start();
    QVERIFY(jobs.isCurrent(first));
    const LatestJob::Ticket second = jobs.start();
    QVERIFY(second != first);
    QVERIFY(!jobs.isCurrent(first));
    QVERIFY(jobs.isCurrent(second));
    QCOMPARE(jobs.current(), second);
}

// current() starts nothing: the tree's batches of one reset all stay current together.
void TestLatestJob::jobsOfOneGenerationShareItsTicket()
{
    LatestJob jobs;
    const LatestJob::Ticket started = jobs.start();
    const LatestJob::Ticket a = jobs.current();
    const LatestJob::Ticket b = jobs.current();
    QCOMPARE(a, started);
    QCOMPARE(b, started);
    QVERIFY(jobs.isCurrent(a));
    QVERIFY(jobs.isCurrent(b));
}

// Nothing taken before invalidate() counts after it, not even the current generation's ticket, and
// tickets taken after it are current again.
void TestLatestJob::invalidateMakesEveryTicketStale()
{
    LatestJob jobs;
    const LatestJob::Ticket initial = jobs.current();
    const LatestJob::Ticket started = jobs.start();
    const LatestJob::Ticket shared = jobs.current();
    jobs.invalidate();
    QVERIFY(!jobs.isCurrent(initial));
    QVERIFY(!jobs.isCurrent(started));
    QVERIFY(!jobs.isCurrent(shared));
    const LatestJob::Ticket after = jobs.current();
    QVERIFY(after != started);
    QVERIFY(jobs.isCurrent(after));
    QVERIFY(jobs.isCurrent(jobs.start()));
}

// A pool thread that keeps asking, with no lock between the threads, sees the invalidation: the
// generation is an atomic, not a plain integer the compiler may keep in a register.
void TestLatestJob::anotherThreadSeesTheChange()
{
    LatestJob jobs;
    const LatestJob::Ticket ticket = jobs.start();
    std::atomic<bool> sawCurrent { false };
    std::atomic<bool> sawStale { false };
    std::atomic<bool> giveUp { false };
    QThreadPool pool;
    const auto stop = qScopeGuard([&] {
        giveUp = true; // a failed check returns early: the spinning job must end all the same
        pool.waitForDone();
    });
    pool.start([&] {
        while (!giveUp) {
            if (!jobs.isCurrent(ticket)) {
                sawStale = true;
                return;
            }
            sawCurrent = true;
        }
    });
    QTRY_VERIFY(sawCurrent);
    QVERIFY(!sawStale);
    jobs.invalidate();
    QTRY_VERIFY(sawStale);
}

// FooTreeLoader's case: a job queued behind another checks its ticket when its turn comes, and
// skips its work when the GUI thread started a new generation meanwhile.
void TestLatestJob::queuedJobFindsItsTicketStale()
{
    LatestJob jobs;
    QSemaphore gate;
    std::atomic<int> ran { 0 };
    std::atomic<int> skipped { 0 };
    QThreadPool pool;
    pool.setMaxThreadCount(1);
    const auto stop = qScopeGuard([&] {
        gate.release();
        pool.waitForDone();
    });
    const auto queue = [&](LatestJob::Ticket ticket) {
        pool.start([&, ticket] { (jobs.isCurrent(ticket) ? ran : skipped)++; });
    };
    pool.start([&] { gate.acquire(); }); // holds the only thread until released
    queue(jobs.start());
    queue(jobs.current());
    const LatestJob::Ticket newest = jobs.start();
    queue(newest);
    gate.release();
    QTRY_COMPARE(ran.load() + skipped.load(), 3);
    QCOMPARE(skipped.load(), 2);
    QCOMPARE(ran.load(), 1);
    QVERIFY(jobs.isCurrent(newest));
}

QTEST_GUILESS_MAIN(TestLatestJob)
#include "tst_latestjob.moc"
