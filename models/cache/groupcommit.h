#pragma once

#include "cache/cachestore.h"

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

// Group commit for writes from several worker threads: entries submitted while another thread is
// writing wait for it and then go out together in one CacheStore::putMany. A lone write goes out at
// once (a batch of one). When more work is queued behind an entry, it may also wait for the next
// ones, up to a batch of maxEntries or maxBytes: each commit of a rollback-journal SQLite file
// waits for every reader, empties every other connection's page cache and syncs the disk two or
// three times, so a warm that committed each entry on its own spent more time handing the lock
// over and syncing than writing (small entries: 100,000 Foos of `wide` in 88 s at 16 per batch).
//
// An entry may come without its gzip'd body: it is compressed before it is written, by a reader
// waiting for a commit to end (help(), from Database's lock-wait work) when one asks, else by the
// thread that writes it, before its transaction. `done` gets the entry as written, gzip included.
class GroupCommit {
public:
    using Done = std::function<void(const Status &, const EntryPtr &written)>;
    static constexpr size_t maxEntries = 2048;
    // A batch's pages stay in the store's page cache until its COMMIT (up to 64 MB, see
    // DbColumnStore), so this bounds that memory too: 24 MB cost large 42 MB more RSS than 8 MB,
    // for the same time.
    static constexpr qsizetype maxBytes = 8 * 1024 * 1024;

    // Thread-safe. `store` belongs to the calling thread. Either this thread writes (then it keeps
    // writing batches while what is pending must go out, its own entry among them) or the thread
    // that is writing takes the entry along; `done` runs on whichever thread wrote it. With
    // `mayWait` the entry may stay pending until a later submit() or flush() fills or ends the
    // batch, even when it arrived while another thread was writing.
    void submit(CacheStore &store, EntryPtr entry, Done done, bool mayWait = false);
    // Writes whatever is pending, or has the thread writing now write it. Workers call it
    // when they find no more work, so a waiting entry never outlives the work queued behind it.
    void flush(CacheStore &store);
    // Compresses one pending entry that lacks its gzip. False when none is left to take. Any
    // thread; it touches no store.
    bool help();
    // Entries waiting for a batch (tests), and of those, the ones without their gzip yet.
    size_t pending() const;
    size_t withoutGzip() const;

private:
    struct Pending {
        EntryPtr entry;
        Done done;
        bool compressing = false; // taken by a thread, which puts the gzip'd entry back
    };
    bool shouldWrite() const; // m_mutex held
    void writeAll(std::unique_lock<std::mutex> &lock, CacheStore &store);
    // Gives `item` its gzip, unless another thread is at it: then waits for that thread.
    void compress(std::unique_lock<std::mutex> &lock, Pending &item);

    mutable std::mutex m_mutex;
    std::condition_variable m_compressed;
    std::vector<std::shared_ptr<Pending>> m_pending;
    size_t m_helpFrom = 0; // m_pending before it has its gzip or is being given it
    qsizetype m_pendingBytes = 0;
    size_t m_mustWrite = 0; // pending entries submitted without mayWait
    bool m_flushAsked = false;
    bool m_writing = false;
};
