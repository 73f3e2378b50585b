#include "missingfoos.h"

#include "db/database.h"
#include "db/statement.h"

#include <QObject>
#include <QSet>

namespace {

// Above this many pks one pass over every id is cheaper than a query per pk.
constexpr qsizetype manyPks = 64;

Result<QSet<qint64>> existingAmong(Database &database, const QList<qint64> &pks)
{
    QSet<qint64> existing;
    if (pks.size() > manyPks) {
        auto ids = database.fooIds();
        if (!ids)
            return ids.error();
        for (qint64 id : *ids)
            existing.insert(id);
        return existing;
    }
    auto statement = database.prepare(
        QStringLiteral("SELECT 1 FROM %1 WHERE id = ?").arg(DjangoTables::quote(database.tables().foo)));
    if (!statement)
        return statement.error();
    for (qint64 pk : pks) {
        (*statement)->bind(0, pk);
        if (auto run = (*statement)->exec(); !run)
            return Error::database(QObject::tr("cannot look up Foo %1: %2").arg(pk).arg(run.error().message));
        const bool found = (*statement)->next();
        const Status status = (*statement)->status();
        (*statement)->reset();
        if (!status)
            return Error::database(QObject::tr("cannot look up Foo %1: %2").arg(pk).arg(status.error().message));
        if (found)
            existing.insert(pk);
    }
    return existing;
}

} // namespace

Result<QList<qint64>> missingFoos(Database &database, const QList<qint64> &pks)
{
    const auto existing = existingAmong(database, pks);
    if (!existing)
        return existing.error();
    QList<qint64> missing;
    for (qint64 pk : pks) {
        if (!existing->contains(pk) && !missing.contains(pk))
            missing << pk;
    }
    return missing;
}
