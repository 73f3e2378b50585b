// ResponseCache: prebuilt responses per serving thread (lane), in-memory files for the sendfile
// band within a descriptor budget, and sweep() letting go of what only the cache holds.
#include "cache/entry.h"
#include "http/quirks/responsecache.h"

#include <QTest>

#include <unistd.h>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

class TestResponseCache : public QObject {
    Q_OBJECT

private slots:
    // libmicrohttpd locks a response to queue it (and a file response while it sends from it), so
    // each serving thread queues responses of its own (its lane), the file ones all on one in-memory
    // file per entry and coding. Files and their lanes' responses hold descriptors: past the budget
    // no file is made.
    void responseCacheLanes()
    {
        ResponseCache cache;
        const EntryPtr entry = makeEntry(7, QByteArray(100 * 1024, 'x'), {});
        const auto copyOf = [](const EntryPtr &e) { return [e] { return MhdResponse::MemFile::copyOf(e->body); }; };
        QVERIFY(!cache.file(entry, ResponseCache::Plain, copyOf(entry))); // not configured: no budget
        cache.configure(2, 3 * 2); // two lanes: room for two files
        int made = 0;
        const auto counting = [&] { ++made; return MhdResponse::MemFile::copyOf(entry->body); };
        const auto file = cache.file(entry, ResponseCache::Plain, counting);
        QVERIFY(file);
        QCOMPARE(cache.file(entry, ResponseCache::Plain, counting), file);
        QCOMPARE(made, 1);
        QCOMPARE(cache.fileBytes(), entry->body.size());
        QCOMPARE(cache.descriptors(), 3); // the file and a response per lane
        QByteArray copy(int(file->size()), Qt::Uninitialized);
        QCOMPARE(::pread(file->fd(), copy.data(), size_t(copy.size()), 0), ssize_t(copy.size()));
        QCOMPARE(copy, entry->body);

        const auto first = cache.store(entry, ResponseCache::Plain, 0, MhdResponse::fromFile(*file), true);
        const auto second = cache.store(entry, ResponseCache::Plain, 1, MhdResponse::fromFile(*file), true);
        QVERIFY(first.response && second.response && first.response != second.response);
        QVERIFY(first.fromFile && second.fromFile);
        QCOMPARE(cache.find(entry, ResponseCache::Plain, 0).response, first.response);
        QCOMPARE(cache.find(entry, ResponseCache::Plain, 1).response, second.response);
        QCOMPARE(cache.find(entry, ResponseCache::Plain, 3).response, second.response); // lanes are modulo the count
        // A second store for a lane keeps the first (two threads built one at once).
        QCOMPARE(cache.store(entry, ResponseCache::Plain, 0, MhdResponse::fromEntry(entry, false), false).response, first.response);
        QCOMPARE(cache.fileBytes(), entry->body.size()); // one file for both lanes
        QCOMPARE(cache.descriptors(), 3);
        // Buffer responses (the 304s here) are per lane as well: libmicrohttpd locks a response to queue it.
        const auto empty0 = cache.store(entry, ResponseCache::NotModifiedPlain, 0, MhdResponse::empty(), false);
        const auto empty1 = cache.store(entry, ResponseCache::NotModifiedPlain, 1, MhdResponse::empty(), false);
        QVERIFY(empty0.response && empty1.response && empty0.response != empty1.response && !empty0.fromFile);
        QCOMPARE(cache.find(entry, ResponseCache::NotModifiedPlain, 1).response, empty1.response);
        QCOMPARE(cache.find(entry, ResponseCache::Gzip, 0).response, ResponsePtr()); // not made

        // The budget: a second entry's file fits, a third's does not (it is sent from its buffer).
        const EntryPtr other = makeEntry(8, QByteArray(80 * 1024, 'o'), {});
        const EntryPtr third = makeEntry(9, QByteArray(70 * 1024, 't'), {});
        QVERIFY(cache.file(other, ResponseCache::Gzip, copyOf(other)));
        QVERIFY(!cache.file(third, ResponseCache::Plain, copyOf(third)));
        QCOMPARE(cache.descriptors(), 6);

        // A newer entry for a pk starts over and frees the old file's room; remove() and sweep() free theirs.
        EntryPtr newer = makeEntry(7, QByteArray(90 * 1024, 'y'), {});
        QCOMPARE(cache.find(newer, ResponseCache::Plain, 0).response, ResponsePtr());
        QVERIFY(cache.file(newer, ResponseCache::Plain, copyOf(newer)));
        QCOMPARE(cache.fileBytes(), newer->body.size() + other->body.size());
        cache.store(newer, ResponseCache::Plain, 0, MhdResponse::fromEntry(newer, false), false);
        QCOMPARE(cache.find(newer, ResponseCache::Plain, 1).response, cache.find(newer, ResponseCache::Plain, 0).response); // borrowed
        QCOMPARE(cache.find(entry, ResponseCache::Plain, 1).response, ResponsePtr()); // lane 1 moved on with it
        cache.store(entry, ResponseCache::Plain, 1, MhdResponse::fromFile(*file), true); // a request still on the old one
        cache.remove(8);
        QCOMPARE(cache.descriptors(), 3);
        QCOMPARE(cache.fileBytes(), newer->body.size());
        QVERIFY(cache.file(third, ResponseCache::Plain, copyOf(third))); // room again
        QCOMPARE(cache.size(), 2);
        QCOMPARE(cache.sweep(), 0); // every entry is still held outside the cache
        const qint64 thirdBytes = third->body.size();
        QCOMPARE(cache.fileBytes(), newer->body.size() + thirdBytes);
        // Once only the cache holds an entry (its buffer responses included), sweep() lets it go.
        newer.reset();
        QCOMPARE(cache.sweep(), 1);
        QCOMPARE(cache.fileBytes(), thirdBytes);
        QCOMPARE(cache.descriptors(), 3);
        const auto kept = cache.find(entry, ResponseCache::Plain, 1);
        QVERIFY(kept.response && kept.fromFile);
    }

    // An entry hit now and then on a lane answers from the response another lane built; once it
    // is hot there (ownAfter answers), the lane builds its own and keeps it.
    void lanesBorrowUntilHot()
    {
        ResponseCache cache;
        cache.configure(3, 0);
        EntryPtr entry = makeEntry(5, QByteArray(512, 'b'), {});
        QCOMPARE(cache.find(entry, ResponseCache::Plain, 1).response, ResponsePtr()); // nobody has one
        const ResponsePtr built = cache.store(entry, ResponseCache::Plain, 0, MhdResponse::fromEntry(entry, false), false).response;
        for (int answer = 1; answer < ResponseCache::ownAfter; ++answer)
            QCOMPARE(cache.find(entry, ResponseCache::Plain, 1).response, built);
        QCOMPARE(cache.find(entry, ResponseCache::Plain, 1).response, ResponsePtr()); // hot: build its own
        const ResponsePtr own = cache.store(entry, ResponseCache::Plain, 1, MhdResponse::fromEntry(entry, false), false).response;
        QVERIFY(own && own != built);
        for (int answer = 0; answer < 2 * ResponseCache::ownAfter; ++answer)
            QCOMPARE(cache.find(entry, ResponseCache::Plain, 1).response, own);
        QCOMPARE(cache.find(entry, ResponseCache::Plain, 0).response, built);
        // Lane 2 borrows an own response (lane 0's or lane 1's), never a borrowed one.
        const ResponsePtr third = cache.find(entry, ResponseCache::Plain, 2).response;
        QVERIFY(third == built || third == own);
        QCOMPARE(cache.find(entry, ResponseCache::Gzip, 2).response, ResponsePtr()); // per variant
        // Shared responses are counted once: with the entry held outside nothing goes, then all.
        QCOMPARE(cache.sweep(), 0);
        QCOMPARE(cache.size(), 1);
        entry.reset();
        QCOMPARE(cache.sweep(), 1);
        QCOMPARE(cache.size(), 0);
    }


    // Serving threads find and store on their own lanes while another thread replaces entries,
    // removes, clears and sweeps: every answer found belongs to the entry asked for, and at the
    // end the counts match what is left. (Races show under -fsanitize=thread.)
    void concurrentUse()
    {
        ResponseCache cache;
        constexpr int lanes = 4;
        cache.configure(lanes, 1000);
        constexpr int pks = 16;
        std::vector<EntryPtr> current(pks);
        std::mutex currentMutex;
        for (int pk = 0; pk < pks; ++pk)
            current[size_t(pk)] = makeEntry(pk + 1, QByteArray(1024 + pk, char('a' + pk)), {});
        const auto entryFor = [&](int pk) {
            std::lock_guard lock(currentMutex);
            return current[size_t(pk)];
        };
        std::atomic<bool> stop { false };
        std::atomic<int> wrong { 0 };
        std::atomic<qint64> served { 0 };
        std::vector<std::thread> threads;
        for (int lane = 0; lane < lanes; ++lane) {
            threads.emplace_back([&, lane] {
                std::mt19937 random { unsigned(lane) };
                while (!stop.load()) {
                    const EntryPtr entry = entryFor(int(random() % pks));
                    const auto variant = ResponseCache::Variant(random() % ResponseCache::VariantCount);
                    auto found = cache.find(entry, variant, lane);
                    if (!found.response) {
                        const bool file = variant == ResponseCache::Plain && entry->pk % 2 == 0;
                        const auto memFile = file ? cache.file(entry, variant, [&] { return MhdResponse::MemFile::copyOf(entry->body); })
                                                  : nullptr;
                        ResponsePtr made = memFile ? MhdResponse::fromFile(*memFile)
                                                   : variant >= ResponseCache::NotModifiedPlain ? MhdResponse::empty()
                                                                                                : MhdResponse::fromEntry(entry, false);
                        found = cache.store(entry, variant, lane, made, bool(memFile));
                    }
                    if (!found.response || (found.fromFile && variant != ResponseCache::Plain))
                        ++wrong;
                    ++served;
                }
            });
        }
        threads.emplace_back([&] {
            std::mt19937 random { 99 };
            for (int round = 0; round < 2000; ++round) {
                const int pk = int(random() % pks);
                switch (random() % 8) {
                case 0: { // a newer entry for the pk
                    std::lock_guard lock(currentMutex);
                    current[size_t(pk)] = makeEntry(pk + 1, QByteArray(1024 + round % 512, char('a' + pk)), {});
                    break;
                }
                case 1: cache.remove(pk + 1); break;
                case 2: cache.clear(); break;
                default: cache.sweep(); break;
                }
            }
            stop = true;
        });
        for (auto &thread : threads)
            thread.join();
        QCOMPARE(wrong.load(), 0);
        QVERIFY(served.load() > 0);

        // Only the current entries are held outside now: a sweep keeps those, and once they go, all.
        cache.sweep();
        QVERIFY(cache.size() <= pks);
        qint64 expectedBytes = 0;
        qint64 files = 0;
        for (int pk = 0; pk < pks; ++pk) {
            if (const auto file = cache.file(current[size_t(pk)], ResponseCache::Plain, [] { return nullptr; })) {
                expectedBytes += file->size();
                ++files;
            }
        }
        QCOMPARE(cache.fileBytes(), expectedBytes);
        QCOMPARE(cache.descriptors(), files * (1 + lanes));
        current.clear();
        cache.sweep();
        QCOMPARE(cache.size(), 0);
        QCOMPARE(cache.fileBytes(), 0);
        QCOMPARE(cache.descriptors(), 0);
    }
};

QTEST_GUILESS_MAIN(TestResponseCache)
#include "tst_responsecache.moc"
