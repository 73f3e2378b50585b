#pragma once

#include "cache/cachestore.h"
#include "cache/storewatcher.h"

#include <memory>

struct redisContext;

// Where a Redis store is, and its key prefix. Parsed from what an operator types:
//   redis://[[user]:password@]host[:port][/db]      (port 6379, db 0 when left out)
//   unix:///path/to/socket[?db=N][&user=U][&password=P]
// Entries are hashes at <prefix>foo:<pk> with the fields body, gzip, digest, seal, cached_at,
// version, built_by, build_us, change_position, replaced in one MULTI/EXEC (DEL + HSET), so a reader
// sees the old or the new entry, never a mix. `seal` is the CRC-32 of digest + body: checking it
// costs 0.4 ms for the largest body where re-hashing SHA-256 costs 10 ms, and it still tells a body
// or digest that someone else changed (a foreign entry) from ours. A plain string at the key is a
// foreign entry (its value the body). Every put/remove PUBLISHes the pk on <prefix>changes.
struct RedisConfig {
    QString host = QStringLiteral("127.0.0.1");
    int port = 6379;
    QString unixSocket; // non-empty: connect there instead of host:port
    QString user;       // Redis 6 ACL user; empty: AUTH with the password alone
    QString password;   // empty: no AUTH
    int database = 0;
    QString prefix = QStringLiteral("preserve:");
    bool readOnly = false; // put() and remove() refuse: the process was told to write nowhere

    static Result<RedisConfig> parse(const QString &url, const QString &prefix = QStringLiteral("preserve:"));
    // redis://user@host:port/db or unix:///path?db=N: never the password.
    QString description() const;
    // host:port or the socket path, for "Redis at … is unavailable".
    QString address() const;
    QByteArray key(qint64 pk) const;
    // Where the entry a put or remove replaced is kept: <prefix>previous:foo:<pk> (outside the
    // foo: keys that list() scans).
    QByteArray previousKey(qint64 pk) const;
    QByteArray channel() const;
};

// Not thread-safe: one per thread. open() connects (and fails when it cannot). Later, when Redis
// is down or restarts, calls fail fast with Error::Kind::Unavailable and a clear message, and the
// store reconnects on a later call, waiting longer between attempts (100 ms doubling to 5 s, back
// to 100 ms after a success) so a dead server costs no time per request.
// Ignores SIGPIPE for the process (if nobody handles it): hiredis writes with write(), and a write
// to a Redis that just died must be an error, not the end of the program.
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

// SUBSCRIBEs to config.channel() on a thread and a connection of its own.
std::unique_ptr<StoreWatcher> createRedisWatcher(const RedisConfig &config, QObject *parent = nullptr);

// Shared by the store and the watcher; any thread.
namespace RedisConnection {
// Connects (giving up after `connectTimeoutMs`), sets the command timeout, AUTHs and SELECTs.
// nullptr with `error` set when that fails: Unavailable when Redis cannot be reached, Invalid when
// it refuses the password or the database.
redisContext *connect(const RedisConfig &config, int connectTimeoutMs, int commandTimeoutMs, Error *error);
// "Connection refused", "timed out", … from a failed context.
QString contextError(const redisContext *context);
void ignoreSigpipe();
}
