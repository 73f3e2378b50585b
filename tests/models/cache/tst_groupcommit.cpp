// GroupCommit: which entries go out together, and that none is left behind; WorkerPool's idle
// hook, which flushes what waits.
#include "cache/entry.h"
#include "cache/groupcommit.h"
#include "cache/workerpool.h"

#include <QTest>

#include <atomic>
#include <functional>
#include <utility>
#include <thread>

namespace {

// Records each putMany as one batch of pks.
class RecordingStore final : public CacheStore {
public:
    QString kind() const override { return QStringLiteral("test"); }
    QString description() const override { return QStringLiteral("recording store"); }
    Result<EntryPtr> get(qint64) override { return Error::notFound(QStringLiteral("none")); }
    Result<QHash<qint64, EntryPtr>> getMany(const QList<qint64> &) override { return QHash<qint64, EntryPtr>(); }
    Status put(const EntryPtr &entry) override { return putMany({ entry }).first(); }
    QList<Status> putMany(const QList<EntryPtr> &entries) override
    {
        QList<qint64> pks;
        for (const EntryPtr &entry : entries)
            pks << entry->pk;
        batches << pks;
        written += entries;
        if (duringWrite) {
            auto hook = std::exchange(duringWrite, nullptr);
            hook();
        }
        return QList<Status>(entries.size(), success());
    }
    Status remove(qint64) override { return success(); }
    Result<QList<EntryInfo>> list() override { return QList<EntryInfo>(); }
    Result<EntryPtr> previous(qint64) override { return Error::notFound(QStringLiteral("none")); }
    Status rollback(qint64) override { return success(); }

    QList<QList<qint64>> batches;
    QList<EntryPtr> written; // every entry, as putMany got it
    // Runs once, inside the next putMany: what another thread does while this one writes.
    std::function<void()> duringWrite;
};

EntryPtr entry(qint64 pk, qsizetype bytes = 10)
{
    auto made = std::make_shared<Entry>();
    made->pk = pk;
    made->body = QByteArray(bytes, 'x');
    return made;
}

} // namespace

class TestGroupCommit : public QObject {
    Q_OBJECT

private slots:
    void loneWriteGoesOutAtOnce()
    {
        GroupCommit commit;
        RecordingStore store;
        int done = 0;
        commit.submit(store, entry(1), [&](const Status &status, const EntryPtr &) { done += status.ok(); });
        QCOMPARE(store.batches, QList<QList<qint64>>({ { 1 } }));
        QCOMPARE(done, 1);
        QCOMPARE(commit.pending(), size_t(0));
    }

    void waitingEntriesGoOutWithTheFirstThatMayNot()
    {
        GroupCommit commit;
        RecordingStore store;
        int done = 0;
        const auto count = [&](const Status &status, const EntryPtr &) { done += status.ok(); };
        commit.submit(store, entry(1), count, true);
        commit.submit(store, entry(2), count, true);
        QVERIFY(store.batches.isEmpty());
        QCOMPARE(done, 0);
        QCOMPARE(commit.pending(), size_t(2));
        commit.submit(store, entry(3), count, false);
        QCOMPARE(store.batches, QList<QList<qint64>>({ { 1, 2, 3 } }));
        QCOMPARE(done, 3);
    }

    void flushWritesWhatWaits()
    {
        GroupCommit commit;
        RecordingStore store;
        commit.flush(store); // nothing pending: no empty batch
        QVERIFY(store.batches.isEmpty());
        commit.submit(store, entry(7), [](const Status &, const EntryPtr &) {}, true);
        commit.flush(store);
        QCOMPARE(store.batches, QList<QList<qint64>>({ { 7 } }));
        QCOMPARE(commit.pending(), size_t(0));
    }

    void aFullBatchGoesOutWithoutBeingAsked()
    {
        GroupCommit commit;
        RecordingStore store;
        for (qint64 pk = 1; pk <= qint64(GroupCommit::maxEntries) + 1; ++pk)
            commit.submit(store, entry(pk), [](const Status &, const EntryPtr &) {}, true);
        QCOMPARE(store.batches.size(), 1);
        QCOMPARE(store.batches.first().size(), qsizetype(GroupCommit::maxEntries));
        QCOMPARE(commit.pending(), size_t(1));

        RecordingStore bytes;
        GroupCommit big;
        big.submit(bytes, entry(1, GroupCommit::maxBytes / 2), [](const Status &, const EntryPtr &) {}, true);
        QVERIFY(bytes.batches.isEmpty());
        big.submit(bytes, entry(2, GroupCommit::maxBytes / 2), [](const Status &, const EntryPtr &) {}, true);
        QCOMPARE(bytes.batches, QList<QList<qint64>>({ { 1, 2 } }));
    }

    // What arrives while a batch is being written and may wait is not written on its own right
    // after it: that made two busy workers commit one entry at a time.
    void entriesArrivingDuringAWriteMayWait()
    {
        GroupCommit commit;
        RecordingStore store;
        const auto ignore = [](const Status &, const EntryPtr &) {};
        store.duringWrite = [&] { commit.submit(store, entry(2), ignore, true); };
        commit.submit(store, entry(1), ignore, false);
        QCOMPARE(store.batches, QList<QList<qint64>>({ { 1 } }));
        QCOMPARE(commit.pending(), size_t(1));
        commit.submit(store, entry(3), ignore, true);
        QCOMPARE(commit.pending(), size_t(2));
        commit.flush(store);
        QCOMPARE(store.batches, QList<QList<qint64>>({ { 1 }, { 2, 3 } }));
    }

    // ... but one that may not wait, or a flush asked for meanwhile, is written by the writer.
    void theWriterWritesWhatMustGoOut()
    {
        const auto ignore = [](const Status &, const EntryPtr &) {};
        {
            GroupCommit commit;
            RecordingStore store;
            store.duringWrite = [&] {
                commit.submit(store, entry(2), ignore, true);
                commit.submit(store, entry(3), ignore, false);
            };
            commit.submit(store, entry(1), ignore, false);
            QCOMPARE(store.batches, QList<QList<qint64>>({ { 1 }, { 2, 3 } }));
            QCOMPARE(commit.pending(), size_t(0));
        }
        {
            GroupCommit commit;
            RecordingStore store;
            store.duringWrite = [&] {
                commit.submit(store, entry(2), ignore, true);
                commit.flush(store); // another worker running dry
            };
            commit.submit(store, entry(1), ignore, false);
            QCOMPARE(store.batches, QList<QList<qint64>>({ { 1 }, { 2 } }));
            QCOMPARE(commit.pending(), size_t(0));
        }
    }

    // An entry without its gzip'd body is written with it, and `done` gets it so: compressed by a
    // waiting reader through help(), one entry a call, or else by the writer.
    void entriesAreWrittenWithTheirGzip()
    {
        GroupCommit commit;
        RecordingStore store;
        QList<EntryPtr> done;
        const auto keep = [&](const Status &status, const EntryPtr &written) {
            QVERIFY(status.ok());
            done << written;
        };
        QVERIFY(!commit.help()); // nothing pending
        commit.submit(store, entry(1, 3000), keep, true);
        commit.submit(store, entry(2, 5000), keep, true);
        commit.submit(store, entry(3, 7000), keep, true);
        QCOMPARE(commit.withoutGzip(), size_t(3));
        QVERIFY(commit.help());
        QCOMPARE(commit.withoutGzip(), size_t(2));
        QVERIFY(commit.help());
        QCOMPARE(commit.withoutGzip(), size_t(1));
        commit.flush(store); // the third by the writer
        QCOMPARE(store.batches, QList<QList<qint64>>({ { 1, 2, 3 } }));
        QCOMPARE(done.size(), 3);
        for (qsizetype i = 0; i < 3; ++i) {
            QCOMPARE(store.written[i], done[i]);
            QVERIFY(!done[i]->gzip.isEmpty());
            QCOMPARE(gzipDecompress(done[i]->gzip), done[i]->body);
        }
        QVERIFY(!commit.help());
        // One that comes with its gzip keeps it.
        auto ready = std::make_shared<Entry>(*entry(4));
        ready->gzip = gzipCompress(ready->body);
        const EntryPtr given = ready;
        commit.submit(store, given, keep, false);
        QCOMPARE(store.written.last(), given);
    }

    // Two threads submitting and flushing as workers do: every entry is written exactly once.
    void noEntryIsLostOrWrittenTwice()
    {
        GroupCommit commit;
        std::atomic<int> done { 0 };
        QList<qint64> written[2];
        const auto worker = [&](int index) {
            RecordingStore store;
            for (qint64 i = 0; i < 500; ++i) {
                commit.submit(store, entry(index * 1000 + i), [&](const Status &, const EntryPtr &written) {
                    done += gzipDecompress(written->gzip) == written->body ? 1 : 1000000; // each with its own gzip
                }, i % 7 != 0);
            }
            commit.flush(store);
            for (const auto &batch : store.batches)
                written[index] += batch;
        };
        std::atomic<bool> over { false };
        std::atomic<int> helped { 0 };
        std::thread helper([&] { // a reader waiting for a lock, helping all the while
            while (!over)
                helped += commit.help();
        });
        std::thread first(worker, 0);
        std::thread second(worker, 1);
        first.join();
        second.join();
        over = true;
        helper.join();
        qInfo("the helper compressed %d of the 1,000 entries", helped.load());
        QList<qint64> all = written[0] + written[1];
        std::sort(all.begin(), all.end());
        QCOMPARE(all.size(), 1000);
        QCOMPARE(std::adjacent_find(all.begin(), all.end()), all.end());
        QCOMPARE(done.load(), 1000);
        QCOMPARE(commit.pending(), size_t(0));
    }

    // The hook runs after the last queued task, never while tasks wait, once per worker that runs
    // dry; the connections cannot be opened here, which a task and the hook must both survive.
    void idleHookRunsWhenNothingIsQueued()
    {
        std::atomic<int> finished { 0 };
        std::atomic<int> idleCalls { 0 };
        std::atomic<bool> idleTooEarly { false };
        {
            auto database = DatabaseConfig::parse(QStringLiteral("/nonexistent/preserve-test.sqlite3"));
            QVERIFY(database.ok());
            WorkerPool pool(*database, StoreConfig {}, 2);
            pool.setWhenIdle([&](WorkerContext &) {
                ++idleCalls;
                if (pool.queued() > 0)
                    idleTooEarly = true;
            });
            pool.setHeld(true);
            for (int i = 0; i < 50; ++i)
                pool.post([&](WorkerContext &) { ++finished; });
            pool.setHeld(false);
            QTRY_COMPARE(finished.load(), 50);
            QTRY_VERIFY(idleCalls.load() >= 1);
        }
        QVERIFY(!idleTooEarly);
        QVERIFY(idleCalls.load() <= 50);
    }
};

QTEST_GUILESS_MAIN(TestGroupCommit)
#include "tst_groupcommit.moc"
