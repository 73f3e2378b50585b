#pragma once

#include "core/latestjob.h"
#include "foorowstate.h"
#include "staleness/entrystatus.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QThreadPool>

class CacheService;

// CacheService::status() blocks its caller until a worker has read the store and the change log;
// this runs it on a thread of its own for the GUI. Requests made while one runs coalesce into one
// more run after it, so a burst of entriesChanged costs at most two reads. Each read is delivered as
// a StatusSnapshot built on the loader's thread, its changes found against the read delivered
// before it. Lives on the GUI thread; results arrive there.
class StatusLoader : public QObject {
    Q_OBJECT

public:
    explicit StatusLoader(QObject *parent = nullptr);
    // Waits for a running read.
    ~StatusLoader() override;

    // Must outlive its use here: the owner calls setService(nullptr) (which waits) before deleting it.
    void setService(CacheService *service);
    void request();
    // How long the last read took (0 before the first): reads take a cache worker, so callers
    // space them by it.
    qint64 lastReadMs() const { return m_lastReadMs; }

signals:
    void loaded(const StatusSnapshot &snapshot);
    void failed(const QString &message);

private:
    void start();
    void finished(LatestJob::Ticket ticket, const Result<StatusSnapshot> &result);

    QPointer<CacheService> m_service;
    QThreadPool m_pool;
    LatestJob m_job; // one generation per service: reads of an earlier one are dropped
    bool m_running = false;
    bool m_pending = false;
    QElapsedTimer m_clock; // of the read under way
    qint64 m_lastReadMs = 0;
    QHash<qint64, EntryStatus> m_delivered; // the last read emitted: the next one's base
};
