#pragma once

#include "cache/cachestore.h"
#include "cache/redis/redisconfig.h"

#include <memory>

// Entries are hashes at <prefix>foo:<pk> with the fields body, gzip, digest, seal, body_sha1,
// cached_at, version, built_by, build_us, change_position, replaced by one script, so a reader sees
// the old or the new entry, never a mix. `seal` chains seal64() (core/seal.h) over digest, body and
// gzip: it tells a body, gzip or digest that someone else changed (a foreign entry) from ours
// without re-hashing SHA-256. body_sha1 lets list() check a body on the server. A plain string at
// the key is a foreign entry (its value the body). Every put/remove PUBLISHes the pk on
// <prefix>changes; the entry a put or remove replaced stays at previousKey() for a rollback.
//
// Not thread-safe: one per thread. open() connects (and fails when it cannot); later outages are
// RedisConnection's to ride out.
class RedisStore final : public CacheStore {
public:
    static Result<std::unique_ptr<RedisStore>> open(const RedisConfig &config);
    ~RedisStore() override;

    QString kind() const override { return QStringLiteral("redis"); }
    QString description() const override;
    Result<EntryPtr> get(qint64 pk) override;
    Result<QHash<qint64, EntryPtr>> getMany(const QList<qint64> &pks) override;
    Status put(const EntryPtr &entry) override;
    Status remove(qint64 pk) override;
    Result<QHash<qint64, qint64>> positions(const QList<qint64> &pks) override;
    // SCAN (never KEYS) plus one pipelined metadata read per key.
    Result<QList<EntryInfo>> list() override;
    Result<std::optional<QByteArray>> storedBytes(qint64 pk) override;
    Result<QHash<qint64, qint64>> sizes(const QList<qint64> &pks) override;
    Result<EntryPtr> previous(qint64 pk) override;
    Status rollback(qint64 pk) override;

private:
    explicit RedisStore(RedisConfig config);
    struct Private;
    std::unique_ptr<Private> d;
};
