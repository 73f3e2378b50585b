#include "memorytier.h"

#include <algorithm>
#include <utility>

// Invariants, all under m_mutex:
// - m_slots and m_recency hold the same pks; each Slot's `recency` points at its own pk's node.
// - m_stats.entries == m_slots.size(); m_stats.bytes == sum of bytes() of the kept entries.
// - outside a call, m_stats.bytes <= m_stats.capacity.
// Nothing below copies a body: entries move around as shared pointers only.

MemoryTier::MemoryTier(qint64 capacityBytes)
{
    m_stats.capacity = std::max<qint64>(0, capacityBytes);
}

// Any thread. A hit moves the pk to the front of the recency list (a splice: no allocation).
bool MemoryTier::contains(qint64 pk) const
{
    std::lock_guard lock(m_mutex);
    return m_slots.contains(pk);
}

EntryPtr MemoryTier::get(qint64 pk)
{
    std::lock_guard lock(m_mutex);
    const auto it = m_slots.find(pk);
    if (it == m_slots.end()) {
        ++m_stats.misses;
        return {};
    }
    ++m_stats.hits;
    m_recency.splice(m_recency.begin(), m_recency, it->recency);
    return it->entry;
}

// Any thread. A null entry is ignored. An entry that could never fit is not kept, and the older
// entry for the same pk goes too: serving the older body after a newer one was offered would
// serve something the caller has just replaced.
void MemoryTier::put(EntryPtr entry)
{
    if (!entry)
        return;
    // Released after the lock: the last reference frees a body outside it.
    EntryPtr dropped;
    std::vector<EntryPtr> evicted;
    std::lock_guard lock(m_mutex);
    putLocked(std::move(entry), dropped, evicted);
}

// Any thread.
bool MemoryTier::putIfUnchanged(EntryPtr entry, quint64 mark)
{
    if (!entry)
        return false;
    EntryPtr dropped;
    std::vector<EntryPtr> evicted;
    std::lock_guard lock(m_mutex);
    if (m_clearedAt > mark || m_changedAt.value(entry->pk, 0) > mark)
        return false;
    putLocked(std::move(entry), dropped, evicted);
    return true;
}

quint64 MemoryTier::mark() const
{
    std::lock_guard lock(m_mutex);
    return m_clock;
}

// Caller holds m_mutex; `dropped` and `evicted` are freed by the caller after unlocking.
void MemoryTier::putLocked(EntryPtr entry, EntryPtr &dropped, std::vector<EntryPtr> &evicted)
{
    const qint64 pk = entry->pk;
    const qint64 size = entry->bytes();
    changedLocked(pk);
    auto it = m_slots.find(pk);
    if (size > m_stats.capacity) {
        if (it != m_slots.end()) {
            dropped = std::move(it->entry);
            m_stats.bytes -= dropped->bytes();
            m_recency.erase(it->recency);
            m_slots.erase(it);
            --m_stats.entries;
        }
    } else if (it != m_slots.end()) {
        m_stats.bytes += size - it->entry->bytes();
        dropped = std::exchange(it->entry, std::move(entry));
        m_recency.splice(m_recency.begin(), m_recency, it->recency);
    } else {
        m_recency.push_front(pk);
        m_slots.insert(pk, Slot { std::move(entry), m_recency.begin() });
        m_stats.bytes += size;
        ++m_stats.entries;
    }
    evictLocked(evicted);
}

// Any thread.
void MemoryTier::remove(qint64 pk)
{
    EntryPtr dropped;
    std::lock_guard lock(m_mutex);
    changedLocked(pk);
    const auto it = m_slots.find(pk);
    if (it == m_slots.end())
        return;
    dropped = std::move(it->entry);
    m_stats.bytes -= dropped->bytes();
    m_recency.erase(it->recency);
    m_slots.erase(it);
    --m_stats.entries;
}

// Any thread. The entries are released after the lock is given up (their last owner may be us).
void MemoryTier::clear()
{
    QHash<qint64, Slot> released;
    {
        std::lock_guard lock(m_mutex);
        released.swap(m_slots);
        m_recency.clear();
        m_clearedAt = ++m_clock;
        m_changedAt.clear(); // every mark taken before now fails on m_clearedAt
        m_stats.entries = 0;
        m_stats.bytes = 0;
    }
}

// Any thread. Shrinking evicts the least recently used entries at once.
void MemoryTier::setCapacity(qint64 capacityBytes)
{
    std::vector<EntryPtr> evicted;
    std::lock_guard lock(m_mutex);
    m_stats.capacity = std::max<qint64>(0, capacityBytes);
    evictLocked(evicted);
}

MemoryTier::Stats MemoryTier::stats() const
{
    std::lock_guard lock(m_mutex);
    return m_stats;
}

// Caller holds m_mutex. The evicted entries go to `evicted` so that the caller frees them (when it
// holds their last reference) after unlocking; a body still being sent lives on in its pointer.
void MemoryTier::evictLocked(std::vector<EntryPtr> &evicted)
{
    while (m_stats.bytes > m_stats.capacity && !m_recency.empty()) {
        const qint64 pk = m_recency.back();
        m_recency.pop_back();
        const auto it = m_slots.find(pk);
        Q_ASSERT(it != m_slots.end());
        m_stats.bytes -= it->entry->bytes();
        evicted.push_back(std::move(it->entry));
        m_slots.erase(it);
        --m_stats.entries;
        ++m_stats.evictions;
    }
}
