#include "apishared.h"

ApiShared::ApiShared(CacheService &cacheService, ApiOptions apiOptions, std::function<QByteArray()> metrics)
    : service(cacheService)
    , options(std::move(apiOptions))
    , transportMetrics(std::move(metrics))
{
}

std::optional<QList<qint64>> ApiShared::freshPks()
{
    std::lock_guard lock(listMutex);
    if (!pksKnown || options.pksTrustMs <= 0 || pksAge.hasExpired(options.pksTrustMs))
        return std::nullopt;
    return pks;
}

QByteArray ApiShared::defaultHost()
{
    std::lock_guard lock(listMutex);
    return boundHost;
}

std::optional<QList<qint64>> ApiShared::pksUnchangedSince(const Database &database, const Database::ChangeMark &now)
{
    std::optional<Database::ChangeMark> mark;
    {
        std::lock_guard lock(listMutex);
        if (!pksKnown || !pksMark)
            return std::nullopt;
        mark = pksMark;
    }
    // Not under the lock: the ledger may wait for a commit being noted, and the serving thread
    // asks freshPks() under it.
    if (!database.onlyCacheCommitsBetween(*mark, now))
        return std::nullopt;
    std::lock_guard lock(listMutex);
    if (!pksKnown || pksMark != mark) // read again meanwhile: that reader's mark stands
        return std::nullopt;
    pksMark = now;
    pksAge.start();
    return pks;
}

void ApiShared::setPks(QList<qint64> ids, std::optional<Database::ChangeMark> mark)
{
    std::lock_guard lock(listMutex);
    pks = std::move(ids);
    pksKnown = true;
    ++pksReads;
    pksMark = mark;
    pksAge.start();
}

void ApiShared::entriesChanged()
{
    std::lock_guard lock(listMutex);
    pksAge.invalidate();
}
