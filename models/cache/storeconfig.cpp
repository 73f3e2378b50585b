#include "storeconfig.h"

#include "cache/redis/redisstore.h"
#include "cache/redis/rediswatcher.h"

#include "cache/dbcolumn/dbcolumnstore.h"
#include "cache/dbcolumn/dbcolumnwatcher.h"

#include <QCryptographicHash>
#include <QFileInfo>
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

RedisConfig scopedRedis(const RedisConfig &redis, const DatabaseConfig &database)
{
    if (redis.prefix != QLatin1String(defaultRedisPrefix)) {
        RedisConfig chosen = redis; // chosen by the operator: shared by whoever names it
        chosen.readOnly = database.readOnly;
        return chosen;
    }
    const QString identity = database.isSqlite()
        ? (QFileInfo(database.sqlitePath).canonicalFilePath().isEmpty() ? QFileInfo(database.sqlitePath).absoluteFilePath()
                                                                        : QFileInfo(database.sqlitePath).canonicalFilePath())
        : QStringLiteral("%1:%2/%3").arg(database.host.toLower()).arg(database.port > 0 ? database.port : 5432).arg(database.databaseName);
    const QByteArray hash = QCryptographicHash::hash(identity.toUtf8(), QCryptographicHash::Sha256).toHex().left(10);
    RedisConfig scoped = redis;
    scoped.readOnly = database.readOnly; // read-only means no writes anywhere
    scoped.prefix = redis.prefix + database.appLabel + QLatin1Char('.') + QString::fromLatin1(hash) + QLatin1Char(':');
    return scoped;
}

Result<std::unique_ptr<CacheStore>> openStore(const StoreConfig &store, const DatabaseConfig &database)
{
    if (store.kind == StoreConfig::Kind::Redis) {
        auto redis = RedisStore::open(scopedRedis(store.redis, database));
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
        return createRedisWatcher(scopedRedis(store.redis, database), parent);
    return createDbColumnWatcher(database, parent);
}
