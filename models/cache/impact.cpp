#include "impact.h"

#include "cache/cachestore.h"
#include "core/bytesize.h"
#include "db/database.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QObject>

QList<qint64> Impact::pks() const
{
    QList<qint64> pks;
    pks.reserve(foos.size());
    for (const Foo &foo : foos)
        pks << foo.pk;
    return pks;
}

QString Impact::sentence() const
{
    QString node = nodeLevelName(level);
    node[0] = node[0].toUpper();
    node += QLatin1Char(' ') + QString::number(id);
    if (!nodeName)
        return QObject::tr("There is no %1.").arg(node);
    const QString count = foos.size() == 1 ? QObject::tr("1 Foo") : QObject::tr("%1 Foos").arg(foos.size());
    QString text = QObject::tr("%1 “%2” is in %3").arg(node, *nodeName, count);
    if (!foos.isEmpty()) {
        text += QObject::tr(", %1 cached").arg(formatBytes(bytes));
        if (uncached > 0)
            text += QObject::tr(" (%1 not cached)").arg(uncached);
    }
    return text + QLatin1Char('.');
}

QByteArray Impact::toJson() const
{
    QJsonArray list;
    for (const Foo &foo : foos)
        list.append(QJsonObject { { QStringLiteral("pk"), foo.pk },
                                  { QStringLiteral("name"), foo.name },
                                  { QStringLiteral("bytes"), foo.bytes < 0 ? QJsonValue() : QJsonValue(foo.bytes) } });
    const QJsonObject object {
        { QStringLiteral("level"), nodeLevelName(level) },
        { QStringLiteral("id"), id },
        { QStringLiteral("name"), nodeName ? QJsonValue(*nodeName) : QJsonValue() },
        { QStringLiteral("count"), qint64(foos.size()) },
        { QStringLiteral("bytes"), bytes },
        { QStringLiteral("uncached"), uncached },
        { QStringLiteral("foos"), list },
        { QStringLiteral("seconds"), seconds },
    };
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

Result<Impact> computeImpact(Database &database, CacheStore &store, NodeLevel level, qint64 id)
{
    QElapsedTimer timer;
    timer.start();
    auto reach = foosReachedBy(database, level, id);
    if (!reach)
        return reach.error();
    Impact impact;
    impact.level = level;
    impact.id = id;
    impact.nodeName = reach->nodeName;
    QList<qint64> pks;
    for (const ReachedFoo &foo : reach->foos)
        pks << foo.pk;
    auto sizes = store.sizes(pks);
    if (!sizes)
        return sizes.error();
    for (const ReachedFoo &foo : reach->foos) {
        const qint64 bytes = sizes->value(foo.pk, -1);
        impact.foos.append({ foo.pk, foo.name, bytes });
        if (bytes < 0)
            ++impact.uncached;
        else
            impact.bytes += bytes;
    }
    impact.seconds = double(timer.nsecsElapsed()) / 1e9;
    return impact;
}
