#pragma once

#include "cache/entry.h"
#include "core/result.h"
#include "staleness/entryinfo.h"

#include <QHash>
#include <QList>
#include <QSet>

#include <optional>

// One abstraction for every place a pre-serialized body can live (the Django column, Redis).
// A store object belongs to the thread that opened it (it owns a connection); open one per thread.
// Bodies come out canonical: exactly the bytes DRF would send, whatever the store did to them
// (PostgreSQL's jsonb reorders keys and re-escapes strings).
class CacheStore {
public:
    virtual ~CacheStore() = default;

    virtual QString kind() const = 0;        // "db" or "redis"
    virtual QString description() const = 0; // where, for messages; never a password

    // nullptr when there is no entry; Error::Kind::Corrupt when the stored value is not a Foo body.
    virtual Result<EntryPtr> get(qint64 pk) = 0;
    // Entries that exist (missing ones are left out, corrupt ones too: list() reports those).
    virtual Result<QHash<qint64, EntryPtr>> getMany(const QList<qint64> &pks) = 0;
    // Replaces the entry atomically: a reader sees the old or the new one, never a mix, and a
    // failed put leaves the old one as it was.
    virtual Status put(const EntryPtr &entry) = 0;
    // Several puts at once, one result each; a store may commit them together (the database column
    // store writes them in one transaction: one sync to disk instead of one per entry).
    virtual QList<Status> putMany(const QList<EntryPtr> &entries)
    {
        QList<Status> results;
        for (const EntryPtr &entry : entries)
            results << put(entry);
        return results;
    }
    virtual Status remove(qint64 pk) = 0;
    // Per pk, the change position its entry reflects, for entries that exist and are ours (others
    // are left out): what a worker checks before refreshing a Foo another may have done already.
    virtual Result<QHash<qint64, qint64>> positions(const QList<qint64> &pks)
    {
        auto entries = getMany(pks);
        if (!entries)
            return entries.error();
        QHash<qint64, qint64> positions;
        for (auto it = entries->cbegin(); it != entries->cend(); ++it) {
            if (!it.value()->foreign)
                positions.insert(it.key(), it.value()->changePosition);
        }
        return positions;
    }
    // Every entry's metadata, by pk.
    virtual Result<QList<EntryInfo>> list() = 0;
    // The pks list() would give, in the same order, for a job over every entry: cheap where the
    // store can tell without reading the bodies.
    virtual Result<QList<qint64>> pks()
    {
        auto infos = list();
        if (!infos)
            return infos.error();
        QList<qint64> pks;
        pks.reserve(infos->size());
        for (const EntryInfo &info : std::as_const(*infos))
            pks << info.pk;
        return pks;
    }
    // Per pk, the size of its stored body, for entries that exist (others are left out). Cheap: no
    // body crosses into this process where the store can tell (the column's length, HSTRLEN).
    virtual Result<QHash<qint64, qint64>> sizes(const QList<qint64> &pks)
    {
        auto infos = list();
        if (!infos)
            return infos.error();
        const QSet<qint64> wanted(pks.cbegin(), pks.cend());
        QHash<qint64, qint64> sizes;
        for (const EntryInfo &info : *infos) {
            if (wanted.contains(info.pk))
                sizes.insert(info.pk, info.size);
        }
        return sizes;
    }
    // The entry's bytes exactly as the store holds them, not canonical: what a SELECT of the column
    // or redis-cli shows (Save Cached Body writes these). nullopt when there is no entry.
    virtual Result<std::optional<QByteArray>> storedBytes(qint64 pk)
    {
        auto entry = get(pk);
        if (!entry)
            return entry.error();
        return *entry ? std::optional<QByteArray>((*entry)->body) : std::nullopt;
    }
    // The previous entry: the one the last put (or remove) replaced, kept one per Foo so that a bad
    // refresh can be undone. nullptr when there is none.
    virtual Result<EntryPtr> previous(qint64 pk) = 0;
    // Puts the previous entry back as the entry, and the entry it replaces becomes the previous one
    // (a second rollback undoes the first). Whatever the change positions: an operator's decision.
    // NotFound when there is no previous entry.
    virtual Status rollback(qint64 pk) = 0;
    // Whether storedBytes() are the bytes that were written, key order and spacing included. Not
    // so for PostgreSQL's jsonb, which prints every body in an order of its own.
    virtual bool keepsBytes() const { return true; }
    // Whether writing many entries in one putMany() is much cheaper than one at a time, so that a
    // refresh job may hold finished entries back for a batch (GroupCommit): true for a database,
    // whose every commit syncs the disk; Redis pipelines each write anyway, and holding entries
    // back would only delay them.
    virtual bool prefersBatches() const { return false; }
};
