#include "responsecache.h"

#include <algorithm>

long ResponseCache::LaneSlot::entryReferences() const
{
    long references = entry ? 1 : 0;
    for (int variant : { Plain, Gzip }) // 304s have no body; file responses hold the file, not the entry
        references += responses[variant] && !fromFile[variant] ? 1 : 0;
    return references;
}

qint64 ResponseCache::FileSlot::totalFileBytes() const
{
    qint64 bytes = 0;
    for (const auto &file : files)
        bytes += file ? file->size() : 0;
    return bytes;
}

int ResponseCache::FileSlot::fileCount() const
{
    return int(std::count_if(files.begin(), files.end(), [](const auto &file) { return bool(file); }));
}

void ResponseCache::configure(int lanes, qint64 descriptorBudget)
{
    std::lock_guard lock(m_mutex);
    m_lanes.store(qBound(1, lanes, int(LaneCount)), std::memory_order_relaxed);
    m_descriptorBudget = qMax<qint64>(0, descriptorBudget);
}

void ResponseCache::forget(const FileSlot &slot)
{
    m_fileBytes -= slot.totalFileBytes();
    m_descriptors -= qint64(slot.fileCount()) * (1 + m_lanes.load(std::memory_order_relaxed));
}

ResponseCache::FileSlot &ResponseCache::fileSlotFor(const EntryPtr &entry)
{
    FileSlot &slot = m_files[entry->pk];
    if (slot.entry != entry) { // a newer (or older, evicted and re-read) entry: start over
        forget(slot);
        slot = FileSlot { entry, {} };
    }
    return slot;
}

ResponseCache::Found ResponseCache::find(const EntryPtr &entry, Variant variant, int lane) const
{
    const Lane &table = laneFor(lane);
    std::lock_guard lock(table.mutex);
    const auto slot = table.byPk.constFind(entry->pk);
    if (slot == table.byPk.cend() || slot->entry != entry)
        return {};
    return { slot->responses[variant], variant <= Gzip && slot->fromFile[variant] };
}

ResponseCache::Found ResponseCache::store(const EntryPtr &entry, Variant variant, int lane, ResponsePtr response, bool fromFile)
{
    Lane &table = const_cast<Lane &>(laneFor(lane));
    std::lock_guard lock(table.mutex);
    LaneSlot &slot = table.byPk[entry->pk];
    if (slot.entry != entry)
        slot = LaneSlot { entry, {}, {} };
    if (!slot.responses[variant]) {
        slot.responses[variant] = std::move(response);
        if (variant <= Gzip)
            slot.fromFile[variant] = fromFile; // a file response's descriptor was counted with its file
    }
    return { slot.responses[variant], variant <= Gzip && slot.fromFile[variant] };
}

std::shared_ptr<const HttpResponses::MemFile> ResponseCache::file(
    const EntryPtr &entry, Variant variant, const std::function<std::shared_ptr<const HttpResponses::MemFile>()> &make)
{
    if (variant > Gzip)
        return {};
    const auto roomFor = [this] { // the file and a response per lane
        return m_descriptors + 1 + m_lanes.load(std::memory_order_relaxed) <= m_descriptorBudget;
    };
    {
        std::lock_guard lock(m_mutex);
        if (const auto &file = fileSlotFor(entry).files[variant])
            return file;
        if (!roomFor())
            return {};
    }
    auto made = make(); // a copy of up to the whole body: not under a lock
    if (!made)
        return {};
    std::lock_guard lock(m_mutex);
    auto &kept = fileSlotFor(entry).files[variant];
    if (!kept) {
        if (!roomFor())
            return {};
        kept = std::move(made);
        m_fileBytes += kept->size();
        m_descriptors += 1 + m_lanes.load(std::memory_order_relaxed);
    }
    return kept;
}

void ResponseCache::remove(qint64 pk)
{
    for (Lane &table : m_laneTables) {
        std::lock_guard lock(table.mutex);
        table.byPk.remove(pk);
    }
    std::lock_guard lock(m_mutex);
    const auto slot = m_files.find(pk);
    if (slot == m_files.end())
        return;
    forget(*slot);
    m_files.erase(slot);
}

void ResponseCache::clear()
{
    for (Lane &table : m_laneTables) {
        std::lock_guard lock(table.mutex);
        table.byPk.clear();
    }
    std::lock_guard lock(m_mutex);
    m_files.clear();
    m_fileBytes = 0;
    m_descriptors = 0;
}

int ResponseCache::sweep()
{
    // Every lock at once (lanes in order, then the files'): an entry is only ours when the
    // references all of them hold are all it has.
    std::array<std::unique_lock<std::mutex>, LaneCount> lanes;
    for (size_t i = 0; i < m_laneTables.size(); ++i)
        lanes[i] = std::unique_lock(m_laneTables[i].mutex);
    std::lock_guard lock(m_mutex);
    QHash<const Entry *, long> held;
    for (const Lane &table : m_laneTables)
        for (const LaneSlot &slot : table.byPk)
            held[slot.entry.get()] += slot.entryReferences();
    for (const FileSlot &slot : std::as_const(m_files))
        held[slot.entry.get()] += slot.entry ? 1 : 0;
    QSet<const Entry *> dropped;
    const auto ours = [&](const EntryPtr &entry) {
        if (!entry || entry.use_count() > held.value(entry.get()))
            return false;
        dropped.insert(entry.get());
        return true;
    };
    for (Lane &table : m_laneTables)
        table.byPk.removeIf([&](const auto &it) { return ours(it.value().entry); });
    m_files.removeIf([&](const auto &it) {
        if (!ours(it.value().entry))
            return false;
        forget(it.value());
        return true;
    });
    return int(dropped.size());
}

int ResponseCache::size() const
{
    QSet<qint64> pks;
    for (const Lane &table : m_laneTables) {
        std::lock_guard lock(table.mutex);
        for (auto it = table.byPk.cbegin(); it != table.byPk.cend(); ++it)
            pks.insert(it.key());
    }
    std::lock_guard lock(m_mutex);
    for (auto it = m_files.cbegin(); it != m_files.cend(); ++it)
        pks.insert(it.key());
    return int(pks.size());
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
