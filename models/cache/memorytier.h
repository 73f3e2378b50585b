#pragma once

#include "cache/entry.h"

#include <QHash>

#include <list>
#include <mutex>
#include <vector>

// The in-process tier in front of a store: entries by pk, bounded in bytes (body + gzip), least
// recently used out first. Thread-safe (one mutex, O(1) per call); get() hands out the shared entry,
// never a copy, so a hit costs a hash lookup and a list splice. Coherence with the store across
// processes is the caller's: it calls remove()/clear() when a watcher reports a change.
class MemoryTier {
public:
    struct Stats {
        qint64 entries = 0;
        qint64 bytes = 0;
        qint64 capacity = 0;
        qint64 hits = 0;
        qint64 misses = 0;
        qint64 evictions = 0;
    };

    explicit MemoryTier(qint64 capacityBytes);

    EntryPtr get(qint64 pk);
    // Keeps the entry (replacing one with the same pk) and evicts the least recently used until the
    // tier fits. An entry larger than the whole capacity is not kept.
    void put(EntryPtr entry);
    void remove(qint64 pk);
    void clear();
    void setCapacity(qint64 capacityBytes);
    Stats stats() const;

private:
    void evictLocked(std::vector<EntryPtr> &evicted);

    struct Slot {
        EntryPtr entry;
        std::list<qint64>::iterator recency;
    };
    mutable std::mutex m_mutex;
    QHash<qint64, Slot> m_slots;
    std::list<qint64> m_recency; // front: most recently used
    Stats m_stats;
};
