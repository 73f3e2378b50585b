#pragma once

#include "api/apioptions.h"
#include "cache/entry.h"
#include "core/spillfile.h"

#include <QByteArray>
#include <QDateTime>
#include <QElapsedTimer>
#include <QList>

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

    // The Foo pks, read on a worker and trusted for a second (a Foo added or deleted shows in the
    // list within that), or until entries change; kept for serving when the database is down.
    std::mutex listMutex;
    QList<qint64> pks;
    bool pksKnown = false;
    QElapsedTimer pksAge;
    std::shared_ptr<SplicedList> list;

    QByteArray boundHost; // "address:port", for requests without a Host header

    std::optional<QList<qint64>> freshPks();
    QByteArray defaultHost();
    void setPks(QList<qint64> ids);
    void entriesChanged();
};
using ApiSharedPtr = std::shared_ptr<ApiShared>;
