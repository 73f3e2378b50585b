#pragma once

#include "cache/cachestore.h"
#include "cache/redisstore.h"
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

// A store for the calling thread (it owns a connection of its own).
Result<std::unique_ptr<CacheStore>> openStore(const StoreConfig &store, const DatabaseConfig &database);
// The coherence watcher that fits the store (see StoreWatcher).
std::unique_ptr<StoreWatcher> createStoreWatcher(const StoreConfig &store, const DatabaseConfig &database,
                                                 QObject *parent = nullptr);
