#pragma once

#include "http/httplogentry.h"

#include <QAbstractTableModel>
#include <QList>
#include <QTimer>

// The live request log of the built-in HTTP server as a table: the last `capacity` requests, oldest
// on top. Connect HttpServer::requestServed to append(); rows arrive in batches (one insert per
// flush interval however many requests came), and the oldest rows leave from the top. GUI thread.
class RequestLogModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column { TimeColumn, MethodColumn, PathColumn, StatusColumn, BytesColumn, MillisecondsColumn,
                  CacheColumn, ColumnCount };
    enum Role {
        SortRole = Qt::UserRole + 1, // numbers for Time (ms since epoch), Status, Bytes, Milliseconds
        EntryRole,                   // the whole HttpLogEntry
    };

    explicit RequestLogModel(QObject *parent = nullptr);

    void setCapacity(int rows); // default 10,000; trims at once
    int capacity() const { return m_capacity; }
    void clear();

    // Queued until the next flush.
    void append(const HttpLogEntry &entry);
    // Inserts what is queued now (the timer calls it).
    void flush();

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    void trimTo(int rows);

    QList<HttpLogEntry> m_rows;
    QList<HttpLogEntry> m_queued;
    QTimer m_flushTimer;
    int m_capacity = 10000;
};
