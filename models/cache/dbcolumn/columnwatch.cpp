#include "columnwatch.h"

#include <QLoggingCategory>

#include <sqlite3.h>

Q_LOGGING_CATEGORY(lcDbColumnWatcher, "preserve.cache.db.watcher", QtInfoMsg) // debug lines only when asked for (QT_LOGGING_RULES)

ColumnWatch::ColumnWatch(DatabaseConfig config, StoreWatcher *watcher)
    : m_config(std::move(config))
    , m_report(watcher)
{
    m_config.readOnly = true; // a watcher never writes
    QObject::connect(&m_timer, &QTimer::timeout, &m_timer, [this] { tick(); });
}

Status ColumnWatch::begin()
{
    Status first = reconnect();
    if (!first && isBusy(first.error())) {
        m_lost = true; // a writer holds the lock: quietly try again, nothing is wrong
        disconnect();
    } else if (!first) {
        lose(first.error().message);
    }
    m_timer.start(first ? interval() : retryMs);
    return first;
}

bool ColumnWatch::isBusy(const Error &error)
{
    return error.message.contains(QLatin1String(sqlite3_errstr(SQLITE_BUSY)));
}

Status ColumnWatch::reconnect()
{
    disconnect();
    auto opened = Database::open(m_config);
    if (!opened)
        return opened.error();
    m_database = std::move(opened.value());
    Status listening = connectAndListen();
    if (!listening)
        disconnect();
    return listening;
}

void ColumnWatch::lose(const QString &message)
{
    qCWarning(lcDbColumnWatcher) << "watching" << m_config.displayName() << "failed:" << message;
    disconnect();
    m_lost = true;
    m_report.unavailable(message);
    m_timer.setInterval(retryMs);
}

void ColumnWatch::tick()
{
    if (!m_lost) {
        if (Status checked = check(); !checked)
            lose(checked.error().message);
        return;
    }
    if (Status back = reconnect(); !back)
        return disconnect();
    // Whatever happened while we were away is unknown: everything may have changed.
    m_lost = false;
    m_timer.setInterval(interval());
    m_report.available();
    m_report.everythingChanged();
}
