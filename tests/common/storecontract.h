#pragma once
// What every CacheStore promises about the previous entry, checked the same way on each store:
// put keeps the entry it replaced (not when the body is the same), rollback swaps them (twice: back
// again), remove makes the removed entry the previous one, and a Foo without one says NotFound.

#include "cache/cachestore.h"

#include <QString>

#include <algorithm>
#include <tuple>

inline QString checkPreviousEntries(CacheStore &store, qint64 pk)
{
    const auto body = [&store, pk]() -> QByteArray {
        auto entry = store.get(pk);
        return entry && *entry ? (*entry)->body : QByteArray("<none>");
    };
    const auto previousBody = [&store, pk]() -> QByteArray {
        auto entry = store.previous(pk);
        if (!entry)
            return "<error: " + entry.error().message.toUtf8() + '>';
        return *entry ? (*entry)->body : QByteArray("<none>");
    };
    const auto fail = [](const QString &what, const QByteArray &got) {
        return QStringLiteral("%1 (got %2)").arg(what, QString::fromUtf8(got.left(120)));
    };
    EntryMetadata metadata;
    metadata.cachedAt = QDateTime::currentDateTimeUtc();
    metadata.serializerVersion = 1;
    metadata.builtBy = QStringLiteral("test");
    metadata.changePosition = 10;
    const EntryPtr a = makeEntry(pk, "{\"name\":\"a\",\"bar_set\":[]}", metadata);
    metadata.changePosition = 20;
    const EntryPtr b = makeEntry(pk, "{\"name\":\"b\",\"bar_set\":[]}", metadata);

    if (const Status removed = store.remove(pk); !removed)
        return QStringLiteral("cannot remove the entry: %1").arg(removed.error().message);
    if (const Status put = store.put(a); !put)
        return QStringLiteral("cannot write the first entry: %1").arg(put.error().message);
    if (!store.put(b))
        return QStringLiteral("cannot write the second entry");
    if (previousBody() != a->body)
        return fail(QStringLiteral("the previous entry is not the one replaced"), previousBody());
    if (!store.put(b) || previousBody() != a->body) // the same body again: the previous one stays
        return fail(QStringLiteral("rewriting the same body replaced the previous entry"), previousBody());
    auto previous = store.previous(pk);
    if (!previous || !*previous || (*previous)->changePosition != 10 || (*previous)->digest != a->digest)
        return QStringLiteral("the previous entry lost its metadata");
    if (const Status rolled = store.rollback(pk); !rolled)
        return QStringLiteral("rollback failed: %1").arg(rolled.error().message);
    if (body() != a->body || previousBody() != b->body)
        return fail(QStringLiteral("rollback did not swap the entries"), body());
    auto restored = store.get(pk);
    if (!restored || !*restored || (*restored)->changePosition != 10 || (*restored)->foreign)
        return QStringLiteral("the rolled-back entry is not ours with its own change position");
    if (!store.rollback(pk) || body() != b->body || previousBody() != a->body)
        return fail(QStringLiteral("a second rollback did not undo the first"), body());
    if (!store.remove(pk) || body() != "<none>" || previousBody() != b->body)
        return fail(QStringLiteral("remove did not keep the removed entry as the previous one"), previousBody());
    if (!store.rollback(pk) || body() != b->body)
        return fail(QStringLiteral("an invalidation could not be rolled back"), body());
    const qint64 other = pk + 1000000;
    const Status none = store.rollback(other);
    if (none || none.error().kind != Error::Kind::NotFound)
        return QStringLiteral("rollback without a previous entry did not say NotFound");
    return {};
}

// The same rules through putMany(), where a store may write a batch at once: each entry replaced
// becomes the previous one, one rewritten with its own body leaves the previous one alone, and a
// Foo put twice in one batch has the first of the two as its previous entry.
inline QString checkPreviousEntriesInBatches(CacheStore &store, qint64 first, qint64 second)
{
    const auto bodies = [&store](qint64 pk) -> QByteArray {
        auto entry = store.get(pk);
        auto previous = store.previous(pk);
        if (!entry || !previous)
            return "<error>";
        return (*entry ? (*entry)->body : QByteArray("<none>")) + " after " + (*previous ? (*previous)->body : QByteArray("<none>"));
    };
    EntryMetadata metadata;
    metadata.cachedAt = QDateTime::currentDateTimeUtc();
    metadata.serializerVersion = 1;
    metadata.builtBy = QStringLiteral("test");
    const auto entry = [&metadata](qint64 pk, const char *name) {
        return makeEntry(pk, QByteArray("{\"name\":\"") + name + "\",\"bar_set\":[]}", metadata);
    };
    const auto body = [](const char *name) { return QByteArray("{\"name\":\"") + name + "\",\"bar_set\":[]}"; };
    const auto put = [&store](const QList<EntryPtr> &entries) {
        const QList<Status> results = store.putMany(entries);
        return std::all_of(results.cbegin(), results.cend(), [](const Status &status) { return status.ok(); })
            && results.size() == entries.size();
    };
    const auto expect = [&](qint64 pk, const char *now, const char *before, const QString &step) -> QString {
        const QByteArray wanted = body(now) + " after " + body(before);
        const QByteArray got = bodies(pk);
        return got == wanted ? QString() : QStringLiteral("%1: Foo %2 has %3").arg(step).arg(pk).arg(QString::fromUtf8(got));
    };
    QString problem;
    const auto check = [&](const QString &step, const QList<std::tuple<qint64, const char *, const char *>> &wanted) {
        for (const auto &[pk, now, before] : wanted) {
            if (problem.isEmpty())
                problem = expect(pk, now, before, step);
        }
    };
    if (!put({ entry(first, "a"), entry(second, "a") }) || !put({ entry(first, "b"), entry(second, "b") }))
        return QStringLiteral("cannot write the first batches");
    check(QStringLiteral("a batch replacing both"), { { first, "b", "a" }, { second, "b", "a" } });
    if (!put({ entry(first, "b"), entry(second, "c") }))
        return QStringLiteral("cannot write the third batch");
    check(QStringLiteral("the same body for one"), { { first, "b", "a" }, { second, "c", "b" } });
    // Back to the body it had before the batch: the second put replaces the first's.
    if (!put({ entry(first, "d"), entry(first, "b") }))
        return QStringLiteral("cannot write the batch with one Foo twice");
    check(QStringLiteral("one Foo twice in a batch"), { { first, "b", "d" } });
    return problem;
}
