#pragma once

#include "cache/storewatcher.h"
#include "db/database.h"

#include <QTimer>

#include <memory>

// Connect, watch, lose, retry: the shape the SQLite and the PostgreSQL watch share. Lives and dies
// in the watching thread (DbColumnWatcher's); reports through the StoreWatcher's signals, posted to
// the watcher's own thread so receivers get them queued whatever connection type they chose.
class ColumnWatch {
public:
    ColumnWatch(DatabaseConfig config, StoreWatcher *watcher);
    virtual ~ColumnWatch() = default;

    // First attempt, to connect; retries go on in the timer whatever it returns.
    Status begin();
    // One look now, as the timer would take it (the SQLite watch's first look, right after begin()).
    void tick();

    static constexpr int retryMs = 1000;

protected:
    // Posts the watcher's signals; called from the watching thread only.
    class Report {
    public:
        explicit Report(StoreWatcher *watcher)
            : m_watcher(watcher)
        {
        }
        void entriesChanged(QList<qint64> pks) const
        {
            post([pks = std::move(pks)](StoreWatcher *watcher) { emit watcher->entriesChanged(pks); });
        }
        void everythingChanged() const
        {
            post([](StoreWatcher *watcher) { emit watcher->everythingChanged(); });
        }
        void unavailable(const QString &message) const
        {
            post([message](StoreWatcher *watcher) { emit watcher->unavailable(message); });
        }
        void available() const
        {
            post([](StoreWatcher *watcher) { emit watcher->available(); });
        }
        void ready() const
        {
            post([](StoreWatcher *watcher) { emit watcher->ready(); });
        }

    private:
        template <typename Function> void post(Function function) const
        {
            StoreWatcher *watcher = m_watcher;
            QMetaObject::invokeMethod(
                watcher, [watcher, function] { function(watcher); }, Qt::QueuedConnection);
        }
        StoreWatcher *m_watcher;
    };

    // SQLite's "database is locked": another connection is writing (a rollback-journal database
    // cannot be read meanwhile). Not a lost connection; the next tick tries again.
    static bool isBusy(const Error &error);

    virtual Status connectAndListen() = 0;
    virtual Status check() = 0; // detects changes; an error means the connection is gone
    virtual void disconnect() = 0;
    virtual int interval() const = 0;

    Status reconnect();
    void lose(const QString &message);

    DatabaseConfig m_config;
    Report m_report;
    std::unique_ptr<Database> m_database;

private:
    QTimer m_timer;
    bool m_lost = false;
};
