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
    if (!pksKnown || pksAge.hasExpired(1000))
        return std::nullopt;
    return pks;
}

QByteArray ApiShared::defaultHost()
{
    std::lock_guard lock(listMutex);
    return boundHost;
}

void ApiShared::setPks(QList<qint64> ids)
{
    std::lock_guard lock(listMutex);
    pks = std::move(ids);
    pksKnown = true;
    pksAge.start();
}

void ApiShared::entriesChanged()
{
    std::lock_guard lock(listMutex);
    pksAge.invalidate();
}
