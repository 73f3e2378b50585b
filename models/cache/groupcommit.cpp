#include "groupcommit.h"

void GroupCommit::submit(CacheStore &store, EntryPtr entry, Done done, bool mayWait)
{
    std::unique_lock lock(m_mutex);
    m_pendingBytes += entry->body.size();
    m_pending.emplace_back(std::move(entry), std::move(done));
    if (!mayWait)
        ++m_mustWrite;
    if (m_writing || !shouldWrite())
        return;
    writeAll(lock, store);
}

void GroupCommit::flush(CacheStore &store)
{
    std::unique_lock lock(m_mutex);
    if (m_pending.empty())
        return;
    m_flushAsked = true; // the thread writing now, if any, writes these too
    if (!m_writing)
        writeAll(lock, store);
}

bool GroupCommit::shouldWrite() const
{
    return !m_pending.empty()
        && (m_mustWrite > 0 || m_flushAsked || m_pending.size() >= maxEntries || m_pendingBytes >= maxBytes);
}

size_t GroupCommit::pending() const
{
    std::lock_guard lock(m_mutex);
    return m_pending.size();
}

void GroupCommit::writeAll(std::unique_lock<std::mutex> &lock, CacheStore &store)
{
    m_writing = true;
    // Only while there is a reason to: an entry that may not wait, a flush, or a full batch. What
    // arrived during the last write and may wait stays for the next ones; writing it at once made a
    // warm of wide settle into batches of one or two, each a commit of its own (2,776 of 3,100
    // commits in its first 15 s held a single entry).
    while (shouldWrite()) {
        std::vector<std::pair<EntryPtr, Done>> batch;
        batch.swap(m_pending);
        m_pendingBytes = 0;
        m_mustWrite = 0;
        m_flushAsked = false;
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
