#pragma once

#include "core/result.h"

#include <QList>
#include <QObject>

// Tells that entries changed in a store behind this process's back (another `preserve serve`, a
// Django worker, redis-cli), so the memory tier can drop them within a second. Runs on a thread of
// its own with a connection of its own; its signals arrive queued. Our own writes are reported too
// (harmless: the tier re-reads). Every watcher keeps retrying when its connection is lost and says
// so through unavailable()/available().
class StoreWatcher : public QObject {
    Q_OBJECT

public:
    using QObject::QObject;
    ~StoreWatcher() override = default;

    // Starts watching; an error when the first connection cannot be made (it keeps retrying anyway).
    virtual Status start() = 0;
    // Stops and joins the thread; safe to call twice.
    virtual void stop() = 0;

signals:
    void entriesChanged(const QList<qint64> &pks);
    // The store cannot say which entries changed (SQLite's data_version, a Redis restart): drop all.
    void everythingChanged();
    // The first look is done: from now on each change is reported by itself. Before it, a change is
    // reported as everythingChanged (SQLite's first look reads every cached body, about 0.5 s on
    // 100,000 Foos, on the watcher's thread, so start() does not wait for it).
    void ready();
    void unavailable(const QString &message);
    void available();
};
