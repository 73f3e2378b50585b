#include "postgrescolumnwatch.h"

#include "cache/dbcolumn/dbcolumnstore.h"
#include "staleness/changetracking.h"

#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>

PostgresColumnWatch::~PostgresColumnWatch()
{
    disconnect();
}

int PostgresColumnWatch::interval() const
{
    return retryMs;
}

Status PostgresColumnWatch::connectAndListen()
{
    QSqlDriver *driver = m_database->connection().driver();
    for (const QString &channel :
         { DbColumnStore::notifyChannel(m_config.appLabel), ChangeTracking::notifyChannel(m_config.appLabel) }) {
        if (!driver->subscribeToNotification(channel))
            return Error::database(QObject::tr("cannot LISTEN on %1: %2").arg(channel, driver->lastError().text()));
    }
    m_context = std::make_unique<QObject>();
    QObject::connect(driver, &QSqlDriver::notification, m_context.get(),
                     [this](const QString &, QSqlDriver::NotificationSource, const QVariant &payload) {
                         bool isNumber = false;
                         const qint64 pk = payload.toString().trimmed().toLongLong(&isNumber);
                         if (isNumber)
                             m_report.entriesChanged({ pk });
                         else
                             m_report.everythingChanged();
                     });
    m_report.ready(); // nothing to look at first: each NOTIFY names its change
    return success();
}

Status PostgresColumnWatch::check()
{
    const QSqlDatabase connection = m_database->connection();
    // QPSQL closes a connection it found broken (the notification socket said so).
    if (!connection.isOpen())
        return Error::unavailable(QObject::tr("lost the connection to %1").arg(m_config.displayName()));
    QSqlQuery probe(connection);
    if (!probe.exec(QStringLiteral("SELECT 1")))
        return Error::unavailable(
            QObject::tr("lost the connection to %1: %2").arg(m_config.displayName(), probe.lastError().text()));
    return success();
}

void PostgresColumnWatch::disconnect()
{
    m_context.reset(); // no notification handler outlives its connection
    m_database.reset();
}
