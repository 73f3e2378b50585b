#pragma once

#include "cache/storewatcher.h"
#include "db/databaseconfig.h"

#include <memory>

class QThread;

// Tells which pre_serialized entries changed behind this process's back: a thread of its own runs
// the engine's ColumnWatch in its event loop, with a read-only connection of its own.
// SQLite (SqliteColumnWatch): polls PRAGMA data_version every 250 ms; after a commit it compares
// each entry's side-table digest and the seal of its column (so a write by Django is seen too) and
// emits entriesChanged for the pks that moved. PostgreSQL (PostgresColumnWatch): LISTEN on
// DbColumnStore::notifyChannel(label) and ChangeTracking's preserve_changes_<label> (payload a Foo
// id; anything else: everythingChanged), a liveness probe every second. Both: connection lost →
// unavailable(), retried every second, back → available() + everythingChanged().
class DbColumnWatcher final : public StoreWatcher {
public:
    DbColumnWatcher(DatabaseConfig config, QObject *parent = nullptr);
    ~DbColumnWatcher() override;

    // Blocks until the first connection attempt is over (PostgreSQL: at most its connect_timeout).
    Status start() override;
    // Prompt: the loop ends at its next event (at most one poll or one probe in flight).
    void stop() override;

private:
    DatabaseConfig m_config;
    std::unique_ptr<QThread> m_thread;
};

std::unique_ptr<StoreWatcher> createDbColumnWatcher(const DatabaseConfig &config, QObject *parent = nullptr);
