#pragma once

#include "cache/cacheservice.h"

#include <vector>

// The work CacheService hands to its worker threads, as plain functions of a WorkerContext (the
// thread's own connections) so that they can be read and tested apart from the threading.
struct WorkerTasks {
    const CacheConfig &config;
    MemoryTier &memory;
    Telemetry &telemetry;

    // Store, then live: the worker half of CacheService::getAsync.
    Result<CacheService::Lookup> lookup(WorkerContext &context, qint64 pk) const;
    // lookup()'s store half for many pks at once: one getMany per chunk and one change-log query,
    // instead of two queries per Foo. Answers the entries that are servable and fresh (kept in
    // memory as lookup() keeps them, unless not `keep`: a scan of more than memory holds would
    // only push out what is read often). A pk left out (missing, stale, an older serializer's, or
    // a check that failed) is for lookup() to answer: nothing is called fresh on less evidence.
    QHash<qint64, EntryPtr> freshStored(WorkerContext &context, const QList<qint64> &pks, bool keep = true) const;
    // The second half of a refresh (serialize() is the first) whose store write went through a
    // GroupCommit: telemetry, and the memory tier when the write succeeded. The store's put is
    // atomic (write new + swap), so a failed refresh leaves the previous entry.
    // The memory tier keeps the entry only if its pk was not put or removed since `mark`, taken
    // before the entry was serialized: a lookup may have kept a newer one meanwhile.
    void refreshWritten(const EntryPtr &entry, const Status &written, double seconds, quint64 mark) const;

    // A live entry, with the change-log position read in the same snapshot as the body.
    static Result<EntryPtr> serialize(WorkerContext &context, qint64 pk);
    // Skip: the entries have neither a compressed body nor a digest (a verification compares the
    // bodies themselves). Later: no compressed body yet, the digest as with Build (GroupCommit
    // compresses them).
    enum class Gzip { Build, Later, Skip };
    // serialize() for many pks, in order, an answer for each, except when a database error drops
    // the connection: then the answers end with that Foo's, and the caller asks again for the
    // rest (a new task opens a new connection first). Consecutive Foos share a snapshot, one
    // change-log read and their Bazs' names until the snapshot has lasted `snapshotBudget`: on
    // many small Foos those fixed costs outweighed the Foos' own rows, and a longer snapshot would
    // keep the other workers' commits waiting (a rollback-journal file commits only once no
    // connection reads).
    static constexpr int snapshotBudgetMs = 4;
    static std::vector<Result<EntryPtr>> serializeMany(WorkerContext &context, const QList<qint64> &pks,
                                                       Gzip gzip = Gzip::Build);
    // Re-serializes and compares with the stored entry, structurally.
    static Result<Verification> verify(WorkerContext &context, qint64 pk);
    // verify() for many pks, in order, an answer for each (ending early as serializeMany's do):
    // one store read for them all and the live bodies from serializeMany().
    static std::vector<Result<Verification>> verifyMany(WorkerContext &context, const QList<qint64> &pks);
    // computeStatus() over the database, the store and the change log; `shared` brings what only
    // the service knows (refreshing, verifications).
    static Result<QList<EntryStatus>> status(WorkerContext &context, StatusInputs shared);
    static Result<QList<qint64>> allPks(WorkerContext &context);
    // The pks of every entry the store holds.
    static Result<QList<qint64>> storedPks(WorkerContext &context);
    // Whether `error` may mean the database connection is dead (then it is dropped).
    static bool breaksConnection(const Error &error);
    // After a database error the connection is dropped, so that the next task opens a new one.
    static void dropDatabaseIfBroken(WorkerContext &context, const Error &error);
    // Marks the thread's store to be reopened before its next task when `error` says its
    // connection may be dead.
    static void noteStoreError(WorkerContext &context, const Error &error);
};
