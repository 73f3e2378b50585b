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
    // Whether `pk` is kept, without counting a hit or touching its recency.
    bool contains(qint64 pk) const;
    // Keeps the entry (replacing one with the same pk) and evicts the least recently used until the
    // tier fits. An entry larger than the whole capacity is not kept.
    void put(EntryPtr entry);
    // For a reader that fetched `entry` from the store (or built it) after taking mark(): keeps
    // it like put(), unless its pk was put or removed, or the tier cleared, since that mark. Then
    // what the reader has may be older than what is here now, or than what a watcher or an
    // invalidation dropped, and keeping it would serve it as a hit until the next change. True
    // when kept.
    bool putIfUnchanged(EntryPtr entry, quint64 mark);
    quint64 mark() const;
    void remove(qint64 pk);
    void clear();
    void setCapacity(qint64 capacityBytes);
    Stats stats() const;

private:
    void evictLocked(std::vector<EntryPtr> &evicted);
    void putLocked(EntryPtr entry, EntryPtr &dropped, std::vector<EntryPtr> &evicted);
    void changedLocked(qint64 pk) { m_changedAt.insert(pk, ++m_clock); }

    struct Slot {
        EntryPtr entry;
        std::list<qint64>::iterator recency;
    };
    mutable std::mutex m_mutex;
    QHash<qint64, Slot> m_slots;
    std::list<qint64> m_recency; // front: most recently used
    Stats m_stats;
    // A logical clock of puts, removes and clears: when each pk last changed (kept for every pk
    // ever touched: one number per Foo) and when the tier was last cleared.
    quint64 m_clock = 0;
    quint64 m_clearedAt = 0;
    QHash<qint64, quint64> m_changedAt;
};
