#include "storeconfig.h"

#include "cache/dbcolumnstore.h"

#include <QObject>

Result<StoreConfig> StoreConfig::parse(const QString &store, const QString &redisUrl, const QString &prefix)
{
    StoreConfig config;
    if (store == QLatin1String("db")) {
        config.kind = Kind::DbColumn;
        return config;
    }
    if (store != QLatin1String("redis"))
        return Error::invalid(QObject::tr("unknown store \"%1\": use db (the pre_serialized column) or redis").arg(store));
    auto redis = RedisConfig::parse(redisUrl, prefix);
    if (!redis)
        return redis.error();
    config.kind = Kind::Redis;
    config.redis = *redis;
    return config;
}

Result<std::unique_ptr<CacheStore>> openStore(const StoreConfig &store, const DatabaseConfig &database)
{
    if (store.kind == StoreConfig::Kind::Redis) {
        auto redis = RedisStore::open(store.redis);
        if (!redis)
            return redis.error();
        return std::unique_ptr<CacheStore>(std::move(redis.value()));
    }
    auto column = DbColumnStore::open(database);
    if (!column)
        return column.error();
    return std::unique_ptr<CacheStore>(std::move(column.value()));
}

std::unique_ptr<StoreWatcher> createStoreWatcher(const StoreConfig &store, const DatabaseConfig &database,
                                                 QObject *parent)
{
    if (store.kind == StoreConfig::Kind::Redis)
        return createRedisWatcher(store.redis, parent);
    return createDbColumnWatcher(database, parent);
}
