#include "groupcommit.h"

#include "cache/entry.h"

#include <algorithm>

void GroupCommit::submit(CacheStore &store, EntryPtr entry, Done done, bool mayWait)
{
    std::unique_lock lock(m_mutex);
    m_pendingBytes += entry->body.size();
    m_pending.push_back(std::make_shared<Pending>(Pending { std::move(entry), std::move(done) }));
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

size_t GroupCommit::withoutGzip() const
{
    std::lock_guard lock(m_mutex);
    return size_t(std::count_if(m_pending.cbegin(), m_pending.cend(),
                                [](const auto &item) { return item->entry->gzip.isEmpty(); }));
}

bool GroupCommit::help()
{
    std::unique_lock lock(m_mutex);
    for (; m_helpFrom < m_pending.size(); ++m_helpFrom) {
        const std::shared_ptr<Pending> item = m_pending[m_helpFrom];
        if (item->compressing || !item->entry->gzip.isEmpty())
            continue;
        ++m_helpFrom;
        compress(lock, *item);
        return true;
    }
    return false;
}

void GroupCommit::compress(std::unique_lock<std::mutex> &lock, Pending &item)
{
    if (item.compressing) {
        m_compressed.wait(lock, [&item] { return !item.compressing; });
        return;
    }
    if (!item.entry->gzip.isEmpty())
        return;
    item.compressing = true;
    const EntryPtr entry = item.entry;
    lock.unlock();
    auto whole = std::make_shared<Entry>(*entry); // shares the body's bytes
    try {
        whole->gzip = gzipCompress(entry->body);
    } catch (...) {
        // Out of memory: written without it (a store compresses what it keeps itself). Nothing may
        // leave this function by an exception: it runs inside SQLite's busy handler, and a writer
        // may be waiting for this item.
    }
    lock.lock();
    item.entry = std::move(whole);
    item.compressing = false;
    m_compressed.notify_all();
}

void GroupCommit::writeAll(std::unique_lock<std::mutex> &lock, CacheStore &store)
{
    m_writing = true;
    // Only while there is a reason to: an entry that may not wait, a flush, or a full batch. What
    // arrived during the last write and may wait stays for the next ones; writing it at once made a
    // warm of wide settle into batches of one or two, each a commit of its own (2,776 of 3,100
    // commits in its first 15 s held a single entry).
    while (shouldWrite()) {
        std::vector<std::shared_ptr<Pending>> batch;
        batch.swap(m_pending);
        m_pendingBytes = 0;
        m_mustWrite = 0;
        m_flushAsked = false;
        m_helpFrom = 0;
        // Before the transaction: what no waiting reader compressed, this thread does now.
        for (const auto &item : batch)
            compress(lock, *item);
        lock.unlock();
        QList<EntryPtr> entries;
        entries.reserve(qsizetype(batch.size()));
        for (const auto &item : batch)
            entries << item->entry;
        const QList<Status> results = store.putMany(entries);
        for (size_t i = 0; i < batch.size(); ++i)
            batch[i]->done(results.value(qsizetype(i), Error::io(QStringLiteral("the store gave no result"))), batch[i]->entry);
        lock.lock();
    }
    m_writing = false;
}
