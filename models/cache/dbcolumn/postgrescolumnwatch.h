#pragma once

#include "cache/dbcolumn/columnwatch.h"

#include <memory>

// PostgreSQL: LISTEN on the store's channel (DbColumnStore::put/remove NOTIFY the pk) and on
// ChangeTracking's. Notifications arrive through the driver's socket notifier in this thread's
// event loop; a cheap query every second tells a lost connection.
class PostgresColumnWatch final : public ColumnWatch {
public:
    using ColumnWatch::ColumnWatch;
    ~PostgresColumnWatch() override;

private:
    int interval() const override;
    Status connectAndListen() override;
    Status check() override;
    void disconnect() override;

    std::unique_ptr<QObject> m_context; // the notification handler's, gone with its connection
};
