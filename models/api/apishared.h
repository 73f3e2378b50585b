#pragma once

#include "api/apioptions.h"
#include "cache/entry.h"
#include "core/spillfile.h"
#include "db/database.h"

#include <QByteArray>
#include <QDateTime>
#include <QElapsedTimer>
#include <QList>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

class CacheService;

// The whole list, spliced from cached bodies once and kept while none of its entries changed.
// Held in memory up to half the memory tier's size; a longer one is in a temporary file.
struct SplicedList {
    QList<qint64> pks;
    std::vector<EntryPtr> entries; // pk for pk (null: no such Foo); empty for a list in a file
    QByteArray body;
    std::shared_ptr<const SpillFile> file; // the body instead, when it was too long to hold
    QByteArray digest;             // SHA-256 over the entries' digests: changes with any byte of the body
    QDateTime lastModified;        // the newest entry's cachedAt
    QByteArray gzip;               // made on first demand (on a worker)
    std::shared_ptr<const SpillFile> gzipFile; // instead of `gzip`, for a list in a file
    bool gzipMade = false;
};

// What the endpoints share with the callbacks they leave behind (CacheService lookups that end
// after a request, or even the server, is gone): held by shared_ptr, thread-safe.
struct ApiShared {
    ApiShared(CacheService &cacheService, ApiOptions apiOptions, std::function<QByteArray()> transportMetrics);

    CacheService &service; // outlives the API (ApiRouter's contract)
    const ApiOptions options;
    const std::function<QByteArray()> transportMetrics; // the transport's lines of /metrics

    // The Foo pks, read on a worker and trusted for a second (options.pksTrustMs: a Foo added or
    // deleted shows in the list within that), or until entries change; kept for serving when the
    // database is down.
    // On a rollback-journal SQLite file they are also trusted while every commit since their
    // snapshot (pksMark) wrote only the cache: reading 100,000 ids walks every page of the Foo
    // table, pre_serialized included, 30-150 ms on wide, once a second under a paged load.
    std::mutex listMutex;
    QList<qint64> pks;
    bool pksKnown = false;
    QElapsedTimer pksAge;
    std::optional<Database::ChangeMark> pksMark;
    std::atomic<qint64> pksReads { 0 }; // times every Foo id was read (/metrics)
    std::atomic<bool> closing { false }; // the router is going: queued work that may wait, skips
    std::shared_ptr<SplicedList> list;

    QByteArray boundHost; // "address:port", for requests without a Host header

    std::optional<QList<qint64>> freshPks();
    // The pks, when only cache commits came between their snapshot and `now`, taken on `database`;
    // they then count as read in `now` (and again for a second).
    std::optional<QList<qint64>> pksUnchangedSince(const Database &database, const Database::ChangeMark &now);
    QByteArray defaultHost();
    void setPks(QList<qint64> ids, std::optional<Database::ChangeMark> mark = std::nullopt);
    void entriesChanged();
};
using ApiSharedPtr = std::shared_ptr<ApiShared>;
