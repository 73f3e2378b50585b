#include "groupcommit.h"

void GroupCommit::submit(CacheStore &store, EntryPtr entry, Done done, bool mayWait)
{
    std::unique_lock lock(m_mutex);
    m_pendingBytes += entry->body.size();
    m_pending.emplace_back(std::move(entry), std::move(done));
    if (m_writing)
        return;
    if (mayWait && m_pending.size() < maxEntries && m_pendingBytes < maxBytes)
        return;
    writeAll(lock, store);
}

void GroupCommit::flush(CacheStore &store)
{
    std::unique_lock lock(m_mutex);
    if (!m_writing && !m_pending.empty())
        writeAll(lock, store);
}

size_t GroupCommit::pending() const
{
    std::lock_guard lock(m_mutex);
    return m_pending.size();
}

void GroupCommit::writeAll(std::unique_lock<std::mutex> &lock, CacheStore &store)
{
    m_writing = true;
    while (!m_pending.empty()) {
        std::vector<std::pair<EntryPtr, Done>> batch;
        batch.swap(m_pending);
        m_pendingBytes = 0;
        lock.unlock();
        QList<EntryPtr> entries;
        entries.reserve(qsizetype(batch.size()));
        for (const auto &item : batch)
            entries << item.first;
        const QList<Status> results = store.putMany(entries);
        for (size_t i = 0; i < batch.size(); ++i)
            batch[i].second(results.value(qsizetype(i), Error::io(QStringLiteral("the store gave no result"))));
        lock.lock();
    }
    m_writing = false;
}
