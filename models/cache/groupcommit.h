#pragma once

#include "cache/cachestore.h"

#include <functional>
#include <mutex>
#include <vector>

// Group commit for writes from several worker threads: entries submitted while another thread is
// writing wait for it and then go out together in one CacheStore::putMany. A lone write goes out at
// once (a batch of one). When more work is queued behind an entry, it may also wait for the next
// ones, up to a batch of maxEntries or maxBytes: each commit of a rollback-journal SQLite file
// waits for every reader, empties every other connection's page cache and syncs the disk two or
// three times, so a warm that committed each entry on its own spent more time handing the lock
// over and syncing than writing (small entries: 100,000 Foos of `wide` in 88 s at 16 per batch).
class GroupCommit {
public:
    using Done = std::function<void(const Status &)>;
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
    // Entries waiting for a batch (tests).
    size_t pending() const;

private:
    bool shouldWrite() const; // m_mutex held
    void writeAll(std::unique_lock<std::mutex> &lock, CacheStore &store);

    mutable std::mutex m_mutex;
    std::vector<std::pair<EntryPtr, Done>> m_pending;
    qsizetype m_pendingBytes = 0;
    size_t m_mustWrite = 0; // pending entries submitted without mayWait
    bool m_flushAsked = false;
    bool m_writing = false;
};
