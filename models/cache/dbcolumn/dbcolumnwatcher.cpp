#include "dbcolumnwatcher.h"

#include "cache/dbcolumn/postgrescolumnwatch.h"
#include "cache/dbcolumn/sqlitecolumnwatch.h"
#include "core/background.h"

#include <QEventLoop>
#include <QThread>

#include <future>

DbColumnWatcher::DbColumnWatcher(DatabaseConfig config, QObject *parent)
    : StoreWatcher(parent)
    , m_config(std::move(config))
{
}

DbColumnWatcher::~DbColumnWatcher()
{
    stop();
}

Status DbColumnWatcher::start()
{
    if (m_thread)
        return success();
    auto first = std::make_shared<std::promise<Status>>();
    std::future<Status> firstResult = first->get_future();
    // The thread owns the watch (and so the connection): created, run and destroyed in it.
    m_thread.reset(QThread::create([config = m_config, watcher = this, first] {
        std::unique_ptr<ColumnWatch> watch;
        if (config.isSqlite())
            watch = std::make_unique<SqliteColumnWatch>(config, watcher);
        else
            watch = std::make_unique<PostgresColumnWatch>(config, watcher);
        if (config.isSqlite())
            yieldCpuToForeground(); // its scans read every cached body
        const Status connected = watch->begin();
        first->set_value(connected);
        if (connected)
            watch->tick(); // the first look, which start() does not wait for
        QEventLoop loop; // QThread::quit() ends it
        loop.exec();
    }));
    m_thread->setObjectName(QStringLiteral("db column watcher"));
    m_thread->start();
    return firstResult.get();
}

void DbColumnWatcher::stop()
{
    if (!m_thread)
        return;
    m_thread->quit();
    m_thread->wait();
    m_thread.reset();
}

std::unique_ptr<StoreWatcher> createDbColumnWatcher(const DatabaseConfig &config, QObject *parent)
{
    return std::make_unique<DbColumnWatcher>(config, parent);
}
