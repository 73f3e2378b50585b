#include "responsecache.h"

#include <algorithm>

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

int ResponseCache::Slot::fileCount() const
{
    return int(std::count_if(files.begin(), files.end(), [](const auto &file) { return bool(file); }));
}

void ResponseCache::configure(int lanes, qint64 descriptorBudget)
{
    std::lock_guard lock(m_mutex);
    m_lanes = qBound(1, lanes, int(LaneCount));
    m_descriptorBudget = qMax<qint64>(0, descriptorBudget);
}

void ResponseCache::forget(const Slot &slot)
{
    m_fileBytes -= slot.totalFileBytes();
    m_descriptors -= qint64(slot.fileCount()) * (1 + m_lanes);
}

ResponseCache::Slot &ResponseCache::slotFor(const EntryPtr &entry)
{
    Slot &slot = m_slots[entry->pk];
    if (slot.entry != entry) { // a newer (or older, evicted and re-read) entry: start over
        forget(slot);
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
        return variant <= Gzip ? slot->fileResponses[variant][lane % m_lanes] : nullptr;
    return slot->responses[variant];
}

ResponsePtr ResponseCache::store(const EntryPtr &entry, Variant variant, ResponsePtr response, int lane)
{
    std::lock_guard lock(m_mutex);
    Slot &slot = slotFor(entry);
    const bool file = lane >= 0 && variant <= Gzip;
    ResponsePtr &kept = file ? slot.fileResponses[variant][lane % m_lanes] : slot.responses[variant];
    if (!kept)
        kept = std::move(response); // a file response's descriptor was counted with its file
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
        if (m_descriptors + 1 + m_lanes > m_descriptorBudget) // the file and a response per lane
            return {};
    }
    auto made = make(); // a copy of up to the whole body: not under the lock every hit takes
    if (!made)
        return {};
    std::lock_guard lock(m_mutex);
    auto &kept = slotFor(entry).files[variant];
    if (!kept) {
        if (m_descriptors + 1 + m_lanes > m_descriptorBudget)
            return {};
        kept = std::move(made);
        m_fileBytes += kept->size();
        m_descriptors += 1 + m_lanes; // the file, and the response each lane will make on it
    }
    return kept;
}

void ResponseCache::remove(qint64 pk)
{
    std::lock_guard lock(m_mutex);
    const auto slot = m_slots.find(pk);
    if (slot == m_slots.end())
        return;
    forget(*slot);
    m_slots.erase(slot);
}

void ResponseCache::clear()
{
    std::lock_guard lock(m_mutex);
    m_slots.clear();
    m_fileBytes = 0;
    m_descriptors = 0;
}

int ResponseCache::sweep()
{
    std::lock_guard lock(m_mutex);
    int dropped = 0;
    for (auto it = m_slots.begin(); it != m_slots.end();) {
        if (it->entry.use_count() <= 1 + it->entryReferences()) {
            forget(*it);
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

qint64 ResponseCache::descriptors() const
{
    std::lock_guard lock(m_mutex);
    return m_descriptors;
}
