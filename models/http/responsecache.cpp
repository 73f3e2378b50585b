#include "responsecache.h"

#include <atomic>

qint64 ResponseCache::Slot::totalFileBytes() const
{
    qint64 bytes = 0;
    for (const auto &file : files)
        bytes += file ? file->size() : 0;
    return bytes;
}

long ResponseCache::Slot::entryReferences() const
{
    long references = 0;
    for (int variant : { Plain, Gzip }) // 304s have no body; file responses hold the file, not the entry
        references += responses[variant] ? 1 : 0;
    return references;
}

int ResponseCache::currentLane()
{
    static std::atomic<int> next { 0 };
    thread_local const int lane = next.fetch_add(1, std::memory_order_relaxed) % LaneCount;
    return lane;
}

ResponseCache::Slot &ResponseCache::slotFor(const EntryPtr &entry)
{
    Slot &slot = m_slots[entry->pk];
    if (slot.entry != entry) { // a newer (or older, evicted and re-read) entry: start over
        m_fileBytes -= slot.totalFileBytes();
        slot = Slot { entry, {}, {}, {} };
    }
    return slot;
}

ResponsePtr ResponseCache::find(const EntryPtr &entry, Variant variant, int lane) const
{
    std::lock_guard lock(m_mutex);
    const auto slot = m_slots.constFind(entry->pk);
    if (slot == m_slots.cend() || slot->entry != entry)
        return {};
    if (lane >= 0)
        return variant <= Gzip ? slot->fileResponses[variant][lane % LaneCount] : nullptr;
    return slot->responses[variant];
}

ResponsePtr ResponseCache::store(const EntryPtr &entry, Variant variant, ResponsePtr response, int lane)
{
    std::lock_guard lock(m_mutex);
    Slot &slot = slotFor(entry);
    ResponsePtr &kept = lane >= 0 && variant <= Gzip ? slot.fileResponses[variant][lane % LaneCount] : slot.responses[variant];
    if (!kept)
        kept = std::move(response);
    return kept;
}

std::shared_ptr<const HttpResponses::MemFile> ResponseCache::file(
    const EntryPtr &entry, Variant variant, const std::function<std::shared_ptr<const HttpResponses::MemFile>()> &make)
{
    if (variant > Gzip)
        return {};
    {
        std::lock_guard lock(m_mutex);
        if (const auto &file = slotFor(entry).files[variant])
            return file;
    }
    auto made = make(); // a copy of up to the whole body: not under the lock every hit takes
    if (!made)
        return {};
    std::lock_guard lock(m_mutex);
    auto &kept = slotFor(entry).files[variant];
    if (!kept) {
        kept = std::move(made);
        m_fileBytes += kept->size();
    }
    return kept;
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
