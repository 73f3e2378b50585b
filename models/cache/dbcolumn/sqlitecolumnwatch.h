#pragma once

#include "cache/dbcolumn/columnwatch.h"

#include <QHash>

// SQLite: PRAGMA data_version tells that another connection committed; a scan then tells which
// entries moved. A foreign write of the column leaves the side table alone, so each row's column is
// sealed too (preserve_body_check, computed inside SQLite: no body crosses into this process). The
// scan reads every cached body, but only after a commit, at most 4 times a second.
class SqliteColumnWatch final : public ColumnWatch {
public:
    using ColumnWatch::ColumnWatch;
    ~SqliteColumnWatch() override;

private:
    struct Row {
        quint64 seal = 0;
        QByteArray digest;
        bool operator==(const Row &) const = default;
    };
    using Snapshot = QHash<qint64, Row>;

    int interval() const override;
    void disconnect() override;
    Status connectAndListen() override;
    Status check() override;
    // The snapshot later checks compare with; see connectAndListen().
    Status takeFirstLook();
    // The entries whose column or side row moved since the last scan.
    QList<qint64> movedSince(const Snapshot &snapshot) const;
    // Adds the Foos that tracked changes to Django's tables reached since the last check.
    void addTrackedChanges(QList<qint64> &changed);
    Result<qint64> dataVersion();
    Result<Snapshot> scan();

    qint64 m_logPosition = 0; // of the change log (ChangeTracking), 0 when not tracked
    qint64 m_version = -1;
    Snapshot m_snapshot;
    bool m_looked = false; // m_snapshot holds a first look of this connection
};
