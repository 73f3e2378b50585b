#pragma once

#include "api/apicall.h"
#include "api/apishared.h"
#include "core/result.h"

#include <QByteArrayView>
#include <QCryptographicHash>
#include <QDateTime>
#include <QList>

#include <optional>
#include <vector>

class CacheService;
class WorkerPool;
struct WorkerContext;

namespace Endpoints {
// GET/HEAD /api/foos/: the list, spliced from the cached bodies, paged when asked (pagination.h).
std::optional<Reply> list(const ApiSharedPtr &api, WorkerPool &pool, const ApiCall &call, bool live);
} // namespace Endpoints

// List helpers shared with pagination.cpp (worker threads).
Result<QList<qint64>> currentPks(ApiShared &api, WorkerContext &context, bool live);
struct GatheredEntries {
    std::vector<EntryPtr> entries; // null where the Foo no longer exists
    int outcome = 0;               // Telemetry::Outcome naming the whole answer
};
// Every pk's entry: memory, then the store in bulk on `context` (CacheService::freshStored), then
// the rest through the cache service at once (misses in parallel), waiting on this worker.
// `keep`: what the store answers is kept in the memory tier (not for a list longer than it holds).
Result<GatheredEntries> gatherEntries(CacheService &service, WorkerContext &context, const QList<qint64> &pks,
                                      bool keep = true);

// What names a list's or a page's bytes: SHA-256 over its entries' digests (the ETag), after a
// page's frame, and the newest cachedAt (Last-Modified), accumulated entry by entry.
class ListIdentity {
public:
    // What frames a page's results (count, next, previous), before any entry. It ends with a
    // newline, which neither the frame (JSON) nor a hex digest contains.
    void addFrame(QByteArrayView frame)
    {
        m_digests.addData(frame);
        m_digests.addData("\n");
    }
    void add(const Entry &entry)
    {
        m_digests.addData(entry.digest);
        if (entry.cachedAt.isValid() && (!m_lastModified.isValid() || entry.cachedAt > m_lastModified))
            m_lastModified = entry.cachedAt;
    }
    QByteArray digest() const { return m_digests.result().toHex(); }
    QDateTime lastModified() const { return m_lastModified; }

private:
    QCryptographicHash m_digests { QCryptographicHash::Sha256 };
    QDateTime m_lastModified;
};
