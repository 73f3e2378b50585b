#include "responsecache.h"

#include <QSet>

#include <algorithm>
#include <utility>
#include <vector>

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

ResponseCache::LaneSlot &ResponseCache::laneSlotFor(Lane &lane, const EntryPtr &entry, LaneSlot &gone)
{
    LaneSlot &slot = lane.byPk[entry->pk];
    if (slot.entry != entry)
        gone = std::exchange(slot, LaneSlot { entry, {} });
    return slot;
}

ResponseCache::Found ResponseCache::find(const EntryPtr &entry, Variant variant, int lane)
{
    const int index = laneIndex(lane);
    Lane &own = m_laneTables[size_t(index)];
    {
        std::lock_guard lock(own.mutex);
        const auto slot = own.byPk.find(entry->pk);
        if (slot != own.byPk.end() && slot->entry == entry) {
            Held &held = slot->held[variant];
            if (held.response) {
                if (held.borrowed && ++held.uses >= ownAfter)
                    return {}; // hot on this lane: time for its own
                return { held.response, held.fromFile };
            }
        }
    }
    Held borrowed = borrow(entry, variant, index);
    if (!borrowed.response)
        return {};
    LaneSlot gone; // freed after the lock
    std::lock_guard lock(own.mutex);
    Held &held = laneSlotFor(own, entry, gone).held[variant];
    if (!held.response)
        held = std::move(borrowed);
    return { held.response, held.fromFile };
}

ResponseCache::Held ResponseCache::borrow(const EntryPtr &entry, Variant variant, int except) const
{
    const int lanes = m_lanes.load(std::memory_order_relaxed);
    for (int index = 0; index < lanes; ++index) {
        if (index == except)
            continue;
        const Lane &other = m_laneTables[size_t(index)];
        std::lock_guard lock(other.mutex);
        const auto slot = other.byPk.constFind(entry->pk);
        if (slot == other.byPk.cend() || slot->entry != entry)
            continue;
        const Held &held = slot->held[variant];
        if (held.response && !held.borrowed)
            return { held.response, held.fromFile, true, 1 };
    }
    return {};
}

ResponseCache::Found ResponseCache::store(const EntryPtr &entry, Variant variant, int lane, ResponsePtr response, bool fromFile)
{
    Lane &own = m_laneTables[size_t(laneIndex(lane))];
    LaneSlot gone; // freed after the lock
    Held replaced;
    std::lock_guard lock(own.mutex);
    Held &held = laneSlotFor(own, entry, gone).held[variant];
    if (!held.response || held.borrowed) {
        replaced = std::exchange(held, Held { std::move(response), fromFile, false, 0 });
        // A file response's descriptor was counted with its file.
    }
    return { held.response, held.fromFile };
}

std::shared_ptr<const MhdResponse::MemFile> ResponseCache::file(
    const EntryPtr &entry, Variant variant, const std::function<std::shared_ptr<const MhdResponse::MemFile>()> &make)
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
        LaneSlot gone; // freed after the lock
        std::lock_guard lock(table.mutex);
        if (const auto slot = table.byPk.find(pk); slot != table.byPk.end()) {
            gone = std::move(*slot);
            table.byPk.erase(slot);
        }
    }
    FileSlot gone;
    std::lock_guard lock(m_mutex);
    const auto slot = m_files.find(pk);
    if (slot == m_files.end())
        return;
    forget(*slot);
    gone = std::move(*slot);
    m_files.erase(slot);
}

void ResponseCache::clear()
{
    for (Lane &table : m_laneTables) {
        QHash<qint64, LaneSlot> gone; // freed after the lock
        std::lock_guard lock(table.mutex);
        gone.swap(table.byPk);
    }
    QHash<qint64, FileSlot> gone;
    std::lock_guard lock(m_mutex);
    gone.swap(m_files);
    m_fileBytes = 0;
    m_descriptors = 0;
}

int ResponseCache::sweep()
{
    // First what the cache holds of each entry object: a reference per lane slot and file slot,
    // and one per response that sends the entry's buffer (counted once however many lanes share
    // it; file responses hold the file, 304s nothing). One lock at a time: a hit waits at most for
    // its own lane's pass. What changes between the passes only makes the count too high (an entry
    // kept until the next sweep) or, when a lane let go of the entry meanwhile, drops a slot whose
    // response the lane then builds again.
    QHash<const Entry *, long> held;
    QSet<const MHD_Response *> counted;
    for (const Lane &table : m_laneTables) {
        std::lock_guard lock(table.mutex);
        for (const LaneSlot &slot : table.byPk) {
            long &references = held[slot.entry.get()];
            ++references;
            for (int variant : { Plain, Gzip }) {
                const Held &response = slot.held[size_t(variant)];
                if (response.response && !response.fromFile && !counted.contains(response.response.get())) {
                    counted.insert(response.response.get());
                    ++references;
                }
            }
        }
    }
    {
        std::lock_guard lock(m_mutex);
        for (const FileSlot &slot : std::as_const(m_files))
            held[slot.entry.get()] += slot.entry ? 1 : 0;
    }
    QSet<const Entry *> dropped;
    const auto ours = [&](const EntryPtr &entry) {
        if (!entry || entry.use_count() > held.value(entry.get()))
            return false;
        dropped.insert(entry.get());
        return true;
    };
    for (Lane &table : m_laneTables) {
        std::vector<LaneSlot> gone; // freed after the lock
        std::lock_guard lock(table.mutex);
        for (auto slot = table.byPk.begin(); slot != table.byPk.end();) {
            if (ours(slot->entry)) {
                gone.push_back(std::move(*slot));
                slot = table.byPk.erase(slot);
            } else {
                ++slot;
            }
        }
    }
    std::vector<FileSlot> gone;
    std::lock_guard lock(m_mutex);
    for (auto slot = m_files.begin(); slot != m_files.end();) {
        if (ours(slot->entry)) {
            forget(*slot);
            gone.push_back(std::move(*slot));
            slot = m_files.erase(slot);
        } else {
            ++slot;
        }
    }
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
