#pragma once
// What every CacheStore promises about the previous entry, checked the same way on each store:
// put keeps the entry it replaced (not when the body is the same), rollback swaps them (twice: back
// again), remove makes the removed entry the previous one, and a Foo without one says NotFound.

#include "cache/cachestore.h"

#include <QString>

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
