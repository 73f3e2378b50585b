#pragma once

#include "cache/cachestore.h"

#include <functional>
#include <mutex>
#include <vector>

// Group commit for writes from several worker threads: entries submitted while another thread is
// writing wait for it and then go out together in one CacheStore::putMany. A lone write goes out at
// once (a batch of one); under a warm of many entries, one sync to disk serves many of them.
class GroupCommit {
public:
    using Done = std::function<void(const Status &)>;

    // Thread-safe. `store` belongs to the calling thread. Either this thread writes (then it keeps
    // writing batches until nothing is pending, its own entry among them) or the thread that is
    // writing takes the entry along; `done` runs on whichever thread wrote it.
    void submit(CacheStore &store, EntryPtr entry, Done done);

private:
    std::mutex m_mutex;
    std::vector<std::pair<EntryPtr, Done>> m_pending;
    bool m_writing = false;
};
