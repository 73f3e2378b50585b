#include "groupcommit.h"

void GroupCommit::submit(CacheStore &store, EntryPtr entry, Done done)
{
    std::unique_lock lock(m_mutex);
    m_pending.emplace_back(std::move(entry), std::move(done));
    if (m_writing)
        return;
    m_writing = true;
    while (!m_pending.empty()) {
        std::vector<std::pair<EntryPtr, Done>> batch;
        batch.swap(m_pending);
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
