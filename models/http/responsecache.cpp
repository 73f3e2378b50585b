#include "responsecache.h"

ResponsePtr ResponseCache::find(const EntryPtr &entry, Variant variant) const
{
    std::lock_guard lock(m_mutex);
    const auto slot = m_slots.constFind(entry->pk);
    if (slot == m_slots.cend() || slot->entry != entry)
        return {};
    return slot->responses[variant];
}

ResponsePtr ResponseCache::store(const EntryPtr &entry, Variant variant, ResponsePtr response)
{
    std::lock_guard lock(m_mutex);
    Slot &slot = m_slots[entry->pk];
    if (slot.entry != entry)
        slot = Slot { entry, {} }; // a newer (or older, evicted and re-read) entry: start over
    if (!slot.responses[variant])
        slot.responses[variant] = std::move(response);
    return slot.responses[variant];
}

void ResponseCache::remove(qint64 pk)
{
    std::lock_guard lock(m_mutex);
    m_slots.remove(pk);
}

void ResponseCache::clear()
{
    std::lock_guard lock(m_mutex);
    m_slots.clear();
}

int ResponseCache::sweep()
{
    std::lock_guard lock(m_mutex);
    int dropped = 0;
    for (auto it = m_slots.begin(); it != m_slots.end();) {
        // The body responses each keep a reference of their own (see HttpResponses::fromEntry).
        long ours = 1 + (it->responses[Plain] ? 1 : 0) + (it->responses[Gzip] ? 1 : 0);
        if (it->entry.use_count() <= ours) {
            it = m_slots.erase(it);
            ++dropped;
        } else {
            ++it;
        }
    }
    return dropped;
}

int ResponseCache::size() const
{
    std::lock_guard lock(m_mutex);
    return int(m_slots.size());
}
