#pragma once

#include "cache/cachestore.h"
#include "cache/redis/redisconfig.h"
#include "cache/storewatcher.h"
#include "db/databaseconfig.h"

#include <memory>

// Which store backs the cache: the Django column (default) or Redis.
struct StoreConfig {
    enum class Kind { DbColumn, Redis };
    Kind kind = Kind::DbColumn;
    RedisConfig redis;

    // `store` is "db" or "redis"; `redisUrl` and `prefix` matter for redis only.
    static Result<StoreConfig> parse(const QString &store, const QString &redisUrl = QStringLiteral("redis://127.0.0.1:6379/0"),
                                     const QString &prefix = QStringLiteral("preserve:"));
    QString kindName() const { return kind == Kind::Redis ? QStringLiteral("redis") : QStringLiteral("db"); }
};

constexpr const char *defaultRedisPrefix = "preserve:";

// The Redis keys of one database and app label: with the default prefix, keys are
// preserve:<label>.<hash of the database's path or host:port/name>:foo:<pk>, so two apps or two
// databases sharing one Redis never read each other's entries. A prefix the operator chose is kept
// as it is (processes that name one database differently share it that way). A read-only database
// connection makes the store read-only too.
RedisConfig scopedRedis(const RedisConfig &redis, const DatabaseConfig &database);

// A store for the calling thread (it owns a connection of its own).
Result<std::unique_ptr<CacheStore>> openStore(const StoreConfig &store, const DatabaseConfig &database);
// The coherence watcher that fits the store (see StoreWatcher).
std::unique_ptr<StoreWatcher> createStoreWatcher(const StoreConfig &store, const DatabaseConfig &database,
                                                 QObject *parent = nullptr);
