#include "cache/entry.h"
#include "cache/memorytier.h"

#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTest>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace {

// An entry of exactly `bodyBytes + gzipBytes` bytes: gzip and digest are given, not computed, so
// that the byte accounting under test is exact.
EntryPtr sized(qint64 pk, qsizetype bodyBytes, qsizetype gzipBytes = 0, char fill = 'x')
{
    return makeEntry(pk, QByteArray(bodyBytes, fill), QByteArray(gzipBytes, 'z'), QByteArray("digest"), {});
}

// A body shaped like a real one (DRF JSON), about `bytes` long.
QByteArray jsonBody(qsizetype bytes)
{
    QByteArray body = "{\"id\":1,\"bars\":[";
    for (int i = 0; body.size() < bytes; ++i)
        body += "{\"id\":" + QByteArray::number(i) + ",\"name\":\"bar " + QByteArray::number(i * 7919 % 1000)
            + "\",\"zabs\":[]},";
    body.chop(1);
    body += "]}";
    return body;
}

QList<qint64> keptAmong(MemoryTier &tier, const QList<qint64> &pks)
{
    QList<qint64> kept;
    for (const qint64 pk : pks) {
        if (tier.get(pk))
            kept.append(pk);
    }
    return kept;
}

} // namespace

class TestMemoryTier : public QObject {
    Q_OBJECT

private slots:
    void missThenHit();
    void sharesTheEntry();
    void lruOrder_data();
    void lruOrder();
    void replaceAdjustsBytes();
    void evictionCounts();
    void oversizeEntryIsNotKept();
    void shrinkingEvicts();
    void removeAndClear();
    void putIfUnchanged_data();
    void putIfUnchanged();
    void evictedEntryLivesWhileHeld();
    void concurrentUse();
    void hitCost();
};

void TestMemoryTier::missThenHit()
{
    MemoryTier tier(1000);
    QVERIFY(!tier.get(7));
    tier.put(nullptr); // ignored
    const EntryPtr entry = sized(7, 100, 20);
    tier.put(entry);
    const EntryPtr got = tier.get(7);
    QVERIFY(got);
    QCOMPARE(got->pk, 7);
    QVERIFY(!tier.get(8));
    const MemoryTier::Stats stats = tier.stats();
    QCOMPARE(stats.hits, 1);
    QCOMPARE(stats.misses, 2);
    QCOMPARE(stats.entries, 1);
    QCOMPARE(stats.bytes, 120);
    QCOMPARE(stats.capacity, 1000);
    QCOMPARE(stats.evictions, 0);
}

void TestMemoryTier::sharesTheEntry()
{
    MemoryTier tier(16 << 20);
    const EntryPtr entry = makeEntry(1, jsonBody(100000), {});
    QVERIFY(!entry->gzip.isEmpty());
    const char *body = entry->body.constData();
    const long ownersBefore = entry.use_count();
    tier.put(entry);
    QCOMPARE(entry.use_count(), ownersBefore + 1); // the tier holds the pointer, not a copy

    const EntryPtr first = tier.get(1);
    const EntryPtr second = tier.get(1);
    QCOMPARE(first.get(), entry.get());
    QCOMPARE(second.get(), entry.get());
    QCOMPARE(first->body.constData(), body);
    QCOMPARE(second->gzip.constData(), entry->gzip.constData());
    QCOMPARE(entry.use_count(), ownersBefore + 3);
}

void TestMemoryTier::lruOrder_data()
{
    QTest::addColumn<QList<qint64>>("touched"); // get() before the fourth entry arrives
    QTest::addColumn<qint64>("evicted");
    QTest::addRow("untouched: oldest goes") << QList<qint64> {} << qint64(1);
    QTest::addRow("oldest read: next goes") << QList<qint64> { 1 } << qint64(2);
    QTest::addRow("two oldest read") << QList<qint64> { 1, 2 } << qint64(3);
    QTest::addRow("read newest first") << QList<qint64> { 3, 1, 2 } << qint64(3);
    QTest::addRow("miss changes nothing") << QList<qint64> { 9, 2, 3 } << qint64(1);
}

void TestMemoryTier::lruOrder()
{
    QFETCH(QList<qint64>, touched);
    QFETCH(qint64, evicted);
    MemoryTier tier(300);
    for (const qint64 pk : { 1, 2, 3 })
        tier.put(sized(pk, 100));
    for (const qint64 pk : touched)
        tier.get(pk);
    tier.put(sized(4, 100));

    QCOMPARE(tier.stats().evictions, 1);
    QList<qint64> expected { 1, 2, 3, 4 };
    expected.removeOne(evicted);
    QCOMPARE(keptAmong(tier, { 1, 2, 3, 4 }), expected);
}

void TestMemoryTier::replaceAdjustsBytes()
{
    MemoryTier tier(300);
    tier.put(sized(1, 80, 20));
    tier.put(sized(2, 100));
    tier.put(sized(1, 150, 50)); // grows: 200 + 100 fits exactly
    QCOMPARE(tier.stats().entries, 2);
    QCOMPARE(tier.stats().bytes, 300);
    QCOMPARE(tier.get(1)->body.size(), 150);

    tier.put(sized(1, 10)); // shrinks
    QCOMPARE(tier.stats().bytes, 110);

    // A replacement is the most recent use: growing it evicts the other one, not itself.
    tier.put(sized(3, 100));
    tier.get(2);
    tier.get(3);
    tier.put(sized(1, 200)); // 200 + 100 + 100 > 300: the least recent (2) goes
    QCOMPARE(keptAmong(tier, { 1, 2, 3 }), (QList<qint64> { 1, 3 }));
    QCOMPARE(tier.stats().bytes, 300);
    QCOMPARE(tier.stats().entries, 2);
    QCOMPARE(tier.stats().evictions, 1);
}

void TestMemoryTier::evictionCounts()
{
    MemoryTier tier(1000);
    QList<qint64> all;
    for (qint64 pk = 1; pk <= 25; ++pk) {
        tier.put(sized(pk, 90, 10));
        all.append(pk);
    }
    const MemoryTier::Stats stats = tier.stats();
    QCOMPARE(stats.entries, 10);
    QCOMPARE(stats.bytes, 1000);
    QCOMPARE(stats.evictions, 15);
    QCOMPARE(keptAmong(tier, all), (QList<qint64> { 16, 17, 18, 19, 20, 21, 22, 23, 24, 25 }));
}

void TestMemoryTier::oversizeEntryIsNotKept()
{
    MemoryTier tier(500);
    tier.put(sized(1, 100));
    tier.put(sized(2, 100));
    tier.put(sized(3, 500, 1)); // one byte too many: not kept, nobody evicted for it
    QVERIFY(!tier.get(3));
    QCOMPARE(tier.stats().entries, 2);
    QCOMPARE(tier.stats().bytes, 200);
    QCOMPARE(tier.stats().evictions, 0);

    // A newer body for a kept pk that does not fit: the older one must not be served any more.
    tier.put(sized(1, 400, 101));
    QVERIFY(!tier.get(1));
    QCOMPARE(tier.stats().entries, 1);
    QCOMPARE(tier.stats().bytes, 100);
    QCOMPARE(tier.stats().evictions, 0);

    // Exactly the capacity fits, and pushes out everything else.
    tier.put(sized(4, 450, 50));
    QCOMPARE(keptAmong(tier, { 1, 2, 3, 4 }), (QList<qint64> { 4 }));
    QCOMPARE(tier.stats().bytes, 500);
    QCOMPARE(tier.stats().evictions, 1);
}

void TestMemoryTier::shrinkingEvicts()
{
    MemoryTier tier(500);
    for (qint64 pk = 1; pk <= 5; ++pk)
        tier.put(sized(pk, 100));
    tier.get(1); // most recent now: 1, 5, 4, 3, 2
    tier.setCapacity(1000);
    QCOMPARE(tier.stats().entries, 5);
    QCOMPARE(tier.stats().evictions, 0);

    tier.setCapacity(250);
    QCOMPARE(tier.stats().capacity, 250);
    QCOMPARE(tier.stats().entries, 2);
    QCOMPARE(tier.stats().bytes, 200);
    QCOMPARE(tier.stats().evictions, 3);
    QCOMPARE(keptAmong(tier, { 1, 2, 3, 4, 5 }), (QList<qint64> { 1, 5 }));

    tier.setCapacity(0);
    QCOMPARE(tier.stats().entries, 0);
    QCOMPARE(tier.stats().bytes, 0);
    QCOMPARE(tier.stats().evictions, 5);
    tier.put(sized(6, 1)); // nothing fits in nothing
    QVERIFY(!tier.get(6));
}

void TestMemoryTier::removeAndClear()
{
    MemoryTier tier(1000);
    std::weak_ptr<const Entry> watched;
    {
        const EntryPtr entry = sized(1, 100, 10);
        watched = entry;
        tier.put(entry);
    }
    tier.put(sized(2, 200));
    tier.put(sized(3, 300));
    tier.remove(9); // absent: no change
    QCOMPARE(tier.stats().entries, 3);
    QCOMPARE(tier.stats().bytes, 610);

    tier.remove(2);
    QVERIFY(!tier.get(2));
    QCOMPARE(tier.stats().entries, 2);
    QCOMPARE(tier.stats().bytes, 410);
    QCOMPARE(tier.stats().evictions, 0); // a removal is not an eviction

    QVERIFY(!watched.expired());
    const qint64 hits = tier.stats().hits;
    tier.clear();
    QVERIFY(watched.expired()); // the tier was the last owner and let go
    QCOMPARE(tier.stats().entries, 0);
    QCOMPARE(tier.stats().bytes, 0);
    QCOMPARE(tier.stats().hits, hits);
    QVERIFY(!tier.get(1));
    QVERIFY(!tier.get(3));

    // Usable after a clear, with the accounting started afresh.
    tier.put(sized(1, 1000));
    QCOMPARE(tier.stats().bytes, 1000);
    QVERIFY(tier.get(1));
}

// A reader takes a mark, reads the store, then offers what it read: kept unless its pk changed
// (or the tier was cleared) meanwhile, since then the read may be older than the tier's state.
void TestMemoryTier::putIfUnchanged_data()
{
    QTest::addColumn<int>("meanwhile");
    QTest::addColumn<bool>("kept");
    QTest::addRow("nothing") << 0 << true;
    QTest::addRow("other pk put") << 1 << true;
    QTest::addRow("other pk removed") << 2 << true;
    QTest::addRow("same pk put (a refresh)") << 3 << false;
    QTest::addRow("same pk removed (an invalidation)") << 4 << false;
    QTest::addRow("cleared (everything changed)") << 5 << false;
    QTest::addRow("same pk evicted") << 6 << true;
}

void TestMemoryTier::putIfUnchanged()
{
    QFETCH(int, meanwhile);
    QFETCH(bool, kept);
    MemoryTier tier(1000);
    tier.put(sized(2, 100));
    tier.put(sized(7, 100, 0, 'o')); // what the reader is about to find stale in the store
    const quint64 mark = tier.mark();
    const EntryPtr newer = sized(7, 120, 0, 'n');
    switch (meanwhile) {
    case 1: tier.put(sized(3, 100)); break;
    case 2: tier.remove(2); break;
    case 3: tier.put(newer); break;
    case 4: tier.remove(7); break;
    case 5: tier.clear(); break;
    case 6: tier.put(sized(4, 950)); break; // evicts 2 and 7
    default: break;
    }
    const EntryPtr read = sized(7, 110, 0, 'r');
    QCOMPARE(tier.putIfUnchanged(read, mark), kept);
    const EntryPtr now = tier.get(7);
    if (kept) {
        QCOMPARE(now, read);
    } else if (meanwhile == 3) {
        QCOMPARE(now, newer); // the refresh's entry stays
    } else {
        QVERIFY(!now); // dropped stays dropped until someone reads it afresh
    }
    // A mark taken after the change lets the next reader keep its entry.
    QVERIFY(tier.putIfUnchanged(sized(7, 100, 0, 'a'), tier.mark()));
}

void TestMemoryTier::evictedEntryLivesWhileHeld()
{
    MemoryTier tier(100);
    tier.put(sized(1, 100, 0, 'a'));
    const EntryPtr held = tier.get(1); // e.g. a response still being sent
    std::weak_ptr<const Entry> other;
    {
        const EntryPtr second = sized(2, 100);
        other = second;
        tier.put(second);
    }
    tier.put(sized(3, 100)); // evicts 2, whose last owner was the tier
    QVERIFY(!tier.get(1));
    QVERIFY(other.expired());
    QCOMPARE(held->body, QByteArray(100, 'a'));
    QCOMPARE(tier.stats().evictions, 2);
}

// Four threads hammer a tier far smaller than their working set; afterwards the accounting must
// agree with what is actually kept.
void TestMemoryTier::concurrentUse()
{
    constexpr qint64 capacity = 64 * 1024;
    constexpr int pkCount = 64;
    constexpr int threads = 4;
    constexpr int operations = 100000;
    // Two versions per pk of different sizes (1..8 KiB, some > capacity), made once: no allocation
    // of bodies inside the loop, so the threads contend on the tier and not on malloc.
    std::vector<EntryPtr> versions;
    for (int pk = 0; pk < pkCount; ++pk) {
        for (int v = 0; v < 2; ++v) {
            const qsizetype body = pk == 13 && v == 1 ? capacity + 1 : 512 + (pk * 131 + v * 977) % 7680;
            versions.push_back(sized(pk, body, body / 5, char('a' + v)));
        }
    }
    MemoryTier tier(capacity);
    std::atomic<qint64> gets { 0 };
    std::atomic<qint64> wrongPk { 0 };
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            QRandomGenerator random(quint32(1234 + t));
            qint64 localGets = 0;
            for (int i = 0; i < operations; ++i) {
                const int pk = int(random.bounded(pkCount));
                const quint32 op = random.bounded(10u);
                if (op < 6) {
                    ++localGets;
                    const EntryPtr entry = tier.get(pk);
                    if (entry && entry->pk != pk)
                        ++wrongPk;
                } else if (op < 9) {
                    tier.put(versions[size_t(pk * 2 + int(random.bounded(2)))]);
                } else {
                    tier.remove(pk);
                }
                if (i % 25000 == 0)
                    tier.setCapacity(capacity - (t % 2) * 1024); // shrink and grow back under load
            }
            gets += localGets;
        });
    }
    for (std::thread &worker : workers)
        worker.join();
    tier.setCapacity(capacity);

    QCOMPARE(wrongPk.load(), 0);
    const MemoryTier::Stats stats = tier.stats();
    QCOMPARE(stats.hits + stats.misses, gets.load());
    QVERIFY(stats.bytes <= stats.capacity);
    QVERIFY(stats.evictions > 0);
    qint64 keptBytes = 0;
    qint64 kept = 0;
    for (int pk = 0; pk < pkCount; ++pk) {
        if (const EntryPtr entry = tier.get(pk)) {
            QCOMPARE(entry->pk, pk);
            QVERIFY(entry == versions[size_t(pk * 2)] || entry == versions[size_t(pk * 2 + 1)]);
            keptBytes += entry->bytes();
            ++kept;
        }
    }
    QVERIFY(!tier.get(13) || tier.get(13) == versions[26]); // the oversize version never kept
    QCOMPARE(kept, stats.entries);
    QCOMPARE(keptBytes, stats.bytes);
    QVERIFY(kept > 0);
}

// A figure, not an assertion: the cost of a hit on an entry the size of medium's largest (1.85 MB).
void TestMemoryTier::hitCost()
{
    const EntryPtr entry = makeEntry(42, jsonBody(1850000), {});
    MemoryTier tier(64 << 20);
    tier.put(entry);
    constexpr int iterations = 1000000;
    qint64 seen = 0;
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < iterations; ++i)
        seen += tier.get(42)->body.size();
    const qint64 nanoseconds = timer.nsecsElapsed();
    QCOMPARE(seen, qint64(iterations) * entry->body.size());
    qInfo("memory tier get() hit of a %lld-byte entry (+ %lld gzip): %.1f ns/op over %d calls",
          qint64(entry->body.size()), qint64(entry->gzip.size()), double(nanoseconds) / iterations, iterations);
}

QTEST_GUILESS_MAIN(TestMemoryTier)
#include "tst_memorytier.moc"
