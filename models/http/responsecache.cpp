#include "responsecache.h"

#include <numeric>

qint64 ResponseCache::Slot::totalFileBytes() const
{
    return std::accumulate(fileBytes.begin(), fileBytes.end(), qint64(0));
}

long ResponseCache::Slot::entryReferences() const
{
    long references = 0;
    for (int variant : { Plain, Gzip }) // 304s have no body
        references += responses[variant] && fileBytes[variant] == 0 ? 1 : 0;
    return references;
}

ResponsePtr ResponseCache::find(const EntryPtr &entry, Variant variant) const
{
    std::lock_guard lock(m_mutex);
    const auto slot = m_slots.constFind(entry->pk);
    if (slot == m_slots.cend() || slot->entry != entry)
        return {};
    return slot->responses[variant];
}

ResponsePtr ResponseCache::store(const EntryPtr &entry, Variant variant, ResponsePtr response, qint64 fileBytes)
{
    std::lock_guard lock(m_mutex);
    Slot &slot = m_slots[entry->pk];
    if (slot.entry != entry) { // a newer (or older, evicted and re-read) entry: start over
        m_fileBytes -= slot.totalFileBytes();
        slot = Slot { entry, {}, {} };
    }
    if (!slot.responses[variant]) {
        slot.responses[variant] = std::move(response);
        slot.fileBytes[variant] = fileBytes;
        m_fileBytes += fileBytes;
    }
    return slot.responses[variant];
}

void ResponseCache::remove(qint64 pk)
{
    std::lock_guard lock(m_mutex);
    const auto slot = m_slots.find(pk);
    if (slot == m_slots.end())
        return;
    m_fileBytes -= slot->totalFileBytes();
    m_slots.erase(slot);
}

void ResponseCache::clear()
{
    std::lock_guard lock(m_mutex);
    m_slots.clear();
    m_fileBytes = 0;
}

int ResponseCache::sweep()
{
    std::lock_guard lock(m_mutex);
    int dropped = 0;
    for (auto it = m_slots.begin(); it != m_slots.end();) {
        if (it->entry.use_count() <= 1 + it->entryReferences()) {
            m_fileBytes -= it->totalFileBytes();
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

qint64 ResponseCache::fileBytes() const
{
    std::lock_guard lock(m_mutex);
    return m_fileBytes;
}
