#include "workertasks.h"

#include "cache/workerpool.h"
#include "db/database.h"
#include "json/jsoncompare.h"
#include "json/jsonvalue.h"
#include "serialize/serializer.h"
#include "staleness/changetracking.h"

#include <QElapsedTimer>
#include <QObject>

#include <algorithm>
#include <limits>
#include <optional>

namespace {

double secondsSince(const QElapsedTimer &timer)
{
    return double(timer.nsecsElapsed()) / 1e9;
}

// Is an entry good to serve as it is? Never an older serializer's shape.
bool servable(const Entry &entry)
{
    return entry.foreign || entry.serializerVersion == Serializer::version;
}

// Keeps an entry read or built after `mark` in the memory tier, unless a newer put, a remove or a
// clear came since, and tells telemetry how full the tier is now.
void keepIfUnchanged(MemoryTier &memory, Telemetry &telemetry, EntryPtr entry, quint64 mark)
{
    if (memory.putIfUnchanged(std::move(entry), mark)) {
        const MemoryTier::Stats stats = memory.stats();
        telemetry.setMemory(stats.entries, stats.bytes, stats.capacity);
    }
}

// lookup()'s rule for one entry, from a changesSince() answer that goes back at least as far as
// the entry's own position.
bool changedAfter(const QHash<qint64, ChangeTracking::Change> &changes, qint64 pk, const Entry &entry)
{
    const auto change = changes.constFind(pk);
    return change != changes.cend() && change->position > qMax<qint64>(entry.changePosition, 0);
}

// verify()'s verdict on one stored entry against its live serialization.
Result<Verification> compareWithLive(qint64 pk, const Entry &stored, const Entry &live)
{
    Verification verification;
    verification.digest = stored.digest;
    verification.at = QDateTime::currentDateTimeUtc();
    // The bytes themselves: hashing every live body to compare digests cost a twentieth of a
    // verify's CPU, and the stored digest may be the side table's word for a body Django rewrote.
    if (live.body == stored.body) {
        verification.identical = true;
        verification.summary = QObject::tr("identical");
        return verification;
    }
    auto before = parseJson(stored.body);
    auto after = parseJson(live.body);
    if (!before || !after)
        return Error::corrupt(QObject::tr("cannot compare Foo %1: %2").arg(pk).arg(before ? after.error().message : before.error().message));
    const JsonComparison comparison = compareJson(*before, *after);
    verification.identical = comparison.equal;
    verification.keyOrderOnly = comparison.keyOrderOnly;
    verification.summary = comparison.summary();
    for (const JsonDifference &difference : comparison.differences.mid(0, 5)) {
        const auto shown = [](const QByteArray &json) {
            return json.isEmpty() ? QStringLiteral("(none)") : QString::fromUtf8(json.left(80));
        };
        verification.details << QStringLiteral("%1: %2 -> %3").arg(difference.path, shown(difference.before), shown(difference.after));
    }
    return verification;
}

} // namespace

bool WorkerTasks::breaksConnection(const Error &error)
{
    return error.kind == Error::Kind::Database || error.kind == Error::Kind::Unavailable;
}

void WorkerTasks::dropDatabaseIfBroken(WorkerContext &context, const Error &error)
{
    if (breaksConnection(error)) {
        context.serializer.reset();
        context.database.reset();
    }
}

void WorkerTasks::noteStoreError(WorkerContext &context, const Error &error)
{
    // A database-column store does not reconnect by itself (QPSQL keeps a dead connection after a
    // server restart): drop it, the worker opens a new one before its next task. Redis reconnects
    // on its own, with backoff.
    if (error.kind == Error::Kind::Database && context.store && context.store->kind() == QLatin1String("db"))
        context.storeBroken = true;
}

Result<EntryPtr> WorkerTasks::serialize(WorkerContext &context, qint64 pk)
{
    return std::move(serializeMany(context, { pk }).front());
}

std::vector<Result<EntryPtr>> WorkerTasks::serializeMany(WorkerContext &context, const QList<qint64> &pks, Gzip gzip)
{
    std::vector<Result<EntryPtr>> entries;
    entries.reserve(size_t(pks.size()));
    qsizetype next = 0;
    qint64 built = 0;   // Foos serialized so far in this call,
    qint64 buildNs = 0; // and the time they took
    while (next < pks.size()) {
        if (!context.database) {
            if (!entries.empty())
                break; // dropped below: the caller asks again for the rest, on a new connection
            const Error unavailable = Error::unavailable(QObject::tr("the database is unavailable: %1").arg(context.databaseError));
            for (; next < pks.size(); ++next)
                entries.emplace_back(unavailable);
            break;
        }
        // One snapshot: the bodies and the change-log position they are fresh as of.
        std::vector<std::pair<Result<QByteArray>, qint64>> bodies; // body, build time in µs
        qint64 position = -1;
        {
            Database &database = *context.database;
            ReadSnapshot snapshot(database);
            const Serializer::SharedBazs shared(*context.serializer, Serializer::SharedBazs::Scope::WhileUnchanged);
            QElapsedTimer lasted;
            lasted.start();
            auto tracked = ChangeTracking::position(database);
            position = tracked && *tracked > 0 ? *tracked : -1; // 0: not tracked
            do {
                // As many Foos as the time per Foo so far says fit in what is left of the budget
                // (one to begin with): the serializer reads close pks together, in runs.
                const qint64 leftNs = qMax<qint64>(snapshotBudgetMs * 1000000 - lasted.nsecsElapsed(), 0);
                const qsizetype count = built > 0 ? std::clamp<qsizetype>(qsizetype(leftNs * built / qMax<qint64>(buildNs, 1)), 1, Serializer::runLength) : 1;
                QElapsedTimer timer;
                timer.start();
                std::vector<Result<QByteArray>> results = context.serializer->foos(pks.mid(next, qMin(count, pks.size() - next)));
                next += qsizetype(results.size());
                const qint64 ns = timer.nsecsElapsed();
                buildNs += ns;
                built += qint64(results.size());
                // A run's time, shared out by the bytes each Foo wrote.
                qint64 bytes = 0;
                for (const auto &body : results)
                    bytes += body ? body->size() + 1 : 1;
                bool broken = false;
                for (auto &body : results) {
                    broken = broken || (!body && breaksConnection(body.error()));
                    const qint64 share = body ? body->size() + 1 : 1;
                    bodies.emplace_back(std::move(body), ns * share / qMax<qint64>(bytes, 1) / 1000);
                }
                if (broken)
                    break;
            } while (next < pks.size() && lasted.elapsed() < snapshotBudgetMs);
        }
        const QDateTime cachedAt = QDateTime::currentDateTimeUtc();
        const QString builtBy = builderName();
        const qsizetype first = next - qsizetype(bodies.size());
        for (size_t i = 0; i < bodies.size(); ++i) {
            auto &[body, micros] = bodies[i];
            if (!body) {
                dropDatabaseIfBroken(context, body.error());
                entries.emplace_back(body.error());
                continue;
            }
            EntryMetadata metadata;
            metadata.cachedAt = cachedAt;
            metadata.serializerVersion = Serializer::version;
            metadata.builtBy = builtBy;
            metadata.buildMicros = micros;
            metadata.changePosition = position;
            const qint64 pk = pks[first + qsizetype(i)];
            if (gzip == Gzip::Skip) { // compared byte for byte (compareWithLive): no digest either
                entries.emplace_back(makeEntry(pk, std::move(body.value()), QByteArray(), QByteArray(), metadata));
            } else if (gzip == Gzip::Later) {
                QByteArray digest = digestOf(*body);
                entries.emplace_back(makeEntry(pk, std::move(body.value()), QByteArray(), std::move(digest), metadata));
            } else {
                entries.emplace_back(makeEntry(pk, std::move(body.value()), metadata));
            }
        }
    }
    return entries;
}

Result<CacheService::Lookup> WorkerTasks::lookup(WorkerContext &context, qint64 pk) const
{
    QElapsedTimer timer;
    timer.start();
    const quint64 mark = memory.mark(); // before the store is read: see keepIfUnchanged
    const QString store = config.store.kindName();
    bool storeDown = !context.store;
    if (context.store) {
        auto stored = context.store->get(pk);
        if (stored && *stored && servable(**stored)) {
            const EntryPtr &entry = *stored;
            // An entry built before tracking was installed (position <= 0) is stale once its Foo
            // has any logged change; a check that fails is no proof of freshness.
            bool stale = false;
            if (context.database) {
                auto change = ChangeTracking::latestChange(*context.database, pk, qMax<qint64>(entry->changePosition, 0));
                if (change)
                    stale = change->has_value();
                else if (change.error().kind != Error::Kind::NotFound) // NotFound: not tracked
                    stale = true;
            }
            if (!stale || config.staleWhileRevalidate) {
                if (!stale)
                    keepIfUnchanged(memory, telemetry, entry, mark);
                const auto outcome = stale ? Telemetry::Outcome::Stale : Telemetry::Outcome::Hit;
                telemetry.recordRequest(store, outcome, entry->body.size(), secondsSince(timer));
                return CacheService::Lookup { entry, outcome, false };
            }
        } else if (!stored) {
            storeDown = stored.error().kind == Error::Kind::Unavailable;
            noteStoreError(context, stored.error());
            telemetry.recordError(store);
        }
    }
    // Cache on read: serialize live, store, return. With the store down: live only (bypass).
    auto entry = serialize(context, pk);
    if (!entry) {
        telemetry.recordRequest(store, Telemetry::Outcome::Error, 0, secondsSince(timer));
        return entry.error();
    }
    if (!storeDown && !config.database.readOnly) { // read-only: served and kept in memory, written nowhere
        if (auto put = context.store->put(*entry); !put) {
            storeDown = put.error().kind == Error::Kind::Unavailable;
            noteStoreError(context, put.error());
            telemetry.recordError(store);
        }
    }
    keepIfUnchanged(memory, telemetry, *entry, mark);
    const auto outcome = storeDown ? Telemetry::Outcome::Bypass : Telemetry::Outcome::Miss;
    telemetry.recordRequest(store, outcome, (*entry)->body.size(), secondsSince(timer));
    return CacheService::Lookup { *entry, outcome, false };
}

QHash<qint64, EntryPtr> WorkerTasks::freshStored(WorkerContext &context, const QList<qint64> &pks, bool keep) const
{
    constexpr qsizetype chunk = 1000; // pks per getMany: one statement or one pipeline each
    QHash<qint64, EntryPtr> stored;
    if (!context.store || !context.database)
        return stored;
    QElapsedTimer timer;
    timer.start();
    const quint64 mark = memory.mark(); // before the store is read: see keepIfUnchanged
    qint64 since = std::numeric_limits<qint64>::max();
    for (qsizetype first = 0; first < pks.size(); first += chunk) {
        auto found = context.store->getMany(pks.mid(first, chunk));
        if (!found) {
            noteStoreError(context, found.error());
            return {};
        }
        for (auto it = found->cbegin(); it != found->cend(); ++it) {
            if (it.value() && servable(*it.value())) {
                stored.insert(it.key(), it.value());
                since = std::min(since, qMax<qint64>(it.value()->changePosition, 0));
            }
        }
    }
    if (stored.isEmpty())
        return stored;
    // Per Foo its latest change after the oldest entry's position: an entry is stale when its
    // Foo's latest change comes after the entry's own position. NotFound: nothing is tracked.
    const auto changes = ChangeTracking::changesSince(*context.database, since);
    if (!changes && changes.error().kind != Error::Kind::NotFound) {
        dropDatabaseIfBroken(context, changes.error());
        return {}; // a check that fails is no proof of freshness
    }
    const QString store = config.store.kindName();
    const double each = secondsSince(timer) / double(stored.size());
    for (auto it = stored.begin(); it != stored.end();) {
        if (changes && changedAfter(*changes, it.key(), *it.value())) {
            it = stored.erase(it);
            continue;
        }
        if (keep)
            keepIfUnchanged(memory, telemetry, it.value(), mark);
        telemetry.recordRequest(store, Telemetry::Outcome::Hit, it.value()->body.size(), each);
        ++it;
    }
    return stored;
}

void WorkerTasks::refreshWritten(const EntryPtr &entry, const Status &written, double seconds, quint64 mark) const
{
    telemetry.recordRefresh(config.store.kindName(), written.ok(), seconds);
    if (written)
        keepIfUnchanged(memory, telemetry, entry, mark);
}

Result<Verification> WorkerTasks::verify(WorkerContext &context, qint64 pk)
{
    return std::move(verifyMany(context, { pk }).front());
}

std::vector<Result<Verification>> WorkerTasks::verifyMany(WorkerContext &context, const QList<qint64> &pks)
{
    std::vector<Result<Verification>> answers(size_t(pks.size()), Error::io(QStringLiteral("not verified")));
    const auto failAll = [&](const Error &error) {
        std::fill(answers.begin(), answers.end(), Result<Verification>(error));
        return answers;
    };
    if (!context.store)
        return failAll(Error::unavailable(QObject::tr("the store is unavailable: %1").arg(context.storeError)));
    // One read for the chunk; what it leaves out (missing or corrupt) is asked for one by one, so
    // that each gets its own answer.
    auto many = context.store->getMany(pks);
    if (!many) {
        noteStoreError(context, many.error());
        return failAll(many.error());
    }
    std::vector<EntryPtr> stored(size_t(pks.size()));
    QList<qint64> present;
    std::vector<size_t> presentAt;
    std::optional<Error> unavailable; // the store stopped answering: not one timeout per pk
    for (qsizetype i = 0; i < pks.size(); ++i) {
        EntryPtr entry = many->value(pks[i]);
        if (!entry) {
            if (unavailable) {
                answers[size_t(i)] = *unavailable;
                continue;
            }
            auto single = context.store->get(pks[i]);
            if (!single) {
                noteStoreError(context, single.error());
                if (single.error().kind == Error::Kind::Unavailable)
                    unavailable = single.error();
                answers[size_t(i)] = single.error();
                continue;
            }
            if (!*single) {
                answers[size_t(i)] = Error::notFound(QObject::tr("Foo %1 has no cache entry").arg(pks[i]));
                continue;
            }
            entry = *single;
        }
        stored[size_t(i)] = std::move(entry);
        present << pks[i];
        presentAt.push_back(size_t(i));
    }
    auto live = serializeMany(context, present, Gzip::Skip);
    for (size_t j = 0; j < live.size(); ++j) {
        const size_t i = presentAt[j];
        answers[i] = live[j] ? compareWithLive(pks[qsizetype(i)], *stored[i], **live[j]) : Result<Verification>(live[j].error());
    }
    if (live.size() < presentAt.size())
        answers.erase(answers.begin() + qsizetype(presentAt[live.size() - 1] + 1), answers.end()); // the connection broke: the rest on a new one
    return answers;
}

Result<QList<qint64>> WorkerTasks::allPks(WorkerContext &context)
{
    if (!context.database)
        return Error::unavailable(QObject::tr("the database is unavailable: %1").arg(context.databaseError));
    auto ids = context.database->fooIds();
    if (!ids)
        dropDatabaseIfBroken(context, ids.error());
    return ids;
}

Result<QList<qint64>> WorkerTasks::storedPks(WorkerContext &context)
{
    if (!context.store)
        return Error::unavailable(context.storeError);
    return context.store->pks();
}

Result<QList<EntryStatus>> WorkerTasks::status(WorkerContext &context, StatusInputs inputs)
{
    if (!context.database)
        return Error::unavailable(QObject::tr("the database is unavailable: %1").arg(context.databaseError));
    if (!context.store)
        return Error::unavailable(QObject::tr("the store is unavailable: %1").arg(context.storeError));
    Database &database = *context.database;
    auto names = database.run(QStringLiteral("SELECT id, name FROM %1 ORDER BY id").arg(DjangoTables::quote(database.tables().foo)));
    if (!names) {
        dropDatabaseIfBroken(context, names.error());
        return names.error();
    }
    while ((*names)->next())
        inputs.foos.append({ (*names)->integer(0), QString::fromUtf8((*names)->text(1)) });
    if (auto done = (*names)->status(); !done)
        return done.error();
    auto entries = context.store->list();
    if (!entries) {
        noteStoreError(context, entries.error());
        return entries.error();
    }
    inputs.entries = std::move(entries.value());
    auto tracking = ChangeTracking::state(database);
    inputs.trackingInstalled = tracking && tracking->installed;
    inputs.trackedSince = tracking ? tracking->trackedSince : 0;
    inputs.trackedSinceReason = tracking ? tracking->trackedSinceReason : QString();
    if (inputs.trackingInstalled) {
        auto changes = ChangeTracking::changesSince(database, 0);
        if (!changes)
            return changes.error();
        inputs.changes = std::move(changes.value());
    }
    inputs.serializerVersion = Serializer::version;
    return computeStatus(inputs);
}
