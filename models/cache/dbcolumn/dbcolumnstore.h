#pragma once

#include "cache/cachestore.h"
#include "db/databaseconfig.h"

#include <memory>

class Database;

// The seed's own pattern: the body lives in the Foo's `pre_serialized` column, so a Django app whose
// FooSerializer.to_representation returns that column serves exactly what Preserve wrote, and
// Preserve shows what Django wrote. What the column cannot hold (digest, when and by whom it was
// built, build time, serializer version, change position, size and a cheap check of the stored
// bytes) lives in the side table `preserve_cache_entry` (created in the first put's transaction;
// never an extra column on Django's tables). Reading works before it exists.
// A body without a matching side-table row (digest differs) is foreign, not corrupt. PostgreSQL's
// jsonb gives bodies back with keys reordered and strings re-escaped: get() returns the canonical
// bytes (writeCompactJson), so an entry equal to live but for key order is equal. On SQLite the
// stored bytes are ours verbatim when size and check match the side row: get() then skips parsing
// and hashing.
// put() writes the column and the side table in one transaction (and NOTIFYs
// preserve_cache_<label> with the pk on PostgreSQL); remove() likewise. A read-only config never
// writes: put()/remove() return Error::Kind::Invalid. list() computes sizes in the engine (no body
// is loaded), checking each body against the side row's check (see list() in the .cpp).
// The entry a put or remove replaces moves to `preserve_cache_previous` (its side row with the gzip'd
// body, about a tenth of the body's size; nothing when the body did not change), for rollback().
// Not thread-safe: one per thread. The connection is not reopened when the server drops it.
class DbColumnStore final : public CacheStore {
public:
    // Opens a connection of its own.
    static Result<std::unique_ptr<DbColumnStore>> open(const DatabaseConfig &config);
    ~DbColumnStore() override;

    QString kind() const override { return QStringLiteral("db"); }
    QString description() const override;
    Result<EntryPtr> get(qint64 pk) override;
    Result<QHash<qint64, EntryPtr>> getMany(const QList<qint64> &pks) override;
    Status put(const EntryPtr &entry) override;
    QList<Status> putMany(const QList<EntryPtr> &entries) override;
    Status remove(qint64 pk) override;
    Result<QHash<qint64, qint64>> positions(const QList<qint64> &pks) override;
    Result<QList<EntryInfo>> list() override;
    Result<QList<qint64>> pks() override;
    Result<std::optional<QByteArray>> storedBytes(qint64 pk) override;
    Result<QHash<qint64, qint64>> sizes(const QList<qint64> &pks) override;
    Result<EntryPtr> previous(qint64 pk) override;
    Status rollback(qint64 pk) override;
    bool keepsBytes() const override;
    bool prefersBatches() const override { return true; }

    Database &database();
    static QString metadataTable() { return QStringLiteral("preserve_cache_entry"); }
    // The entry each put or remove replaced, one row per Foo: its metadata and gzip'd body.
    static QString previousTable() { return QStringLiteral("preserve_cache_previous"); }
    static QString notifyChannel(const QString &appLabel);

private:
    explicit DbColumnStore(std::unique_ptr<Database> database);
    struct Private;
    std::unique_ptr<Private> d;
};
