#pragma once

#include "cache/cacheservice.h"
#include "core/latestjob.h"
#include "json/jsonformat.h"

#include <QObject>
#include <QPointer>
#include <QThreadPool>

#include <memory>
#include <optional>

// What the console's Cached and Live panes show for one Foo: the cached entry and a fresh live
// serialization, both formatted, compared and marked. A side that could not be read has an error
// instead (and an empty FormattedJson).
struct DocumentComparison {
    qint64 pk = 0;
    EntryPtr entry;        // the cached entry (null when there is none)
    QString cachedError;   // empty when read (or simply missing: then entry is null)
    // The entry's bytes as the store holds them (CacheStore::storedBytes): what Save Cached Body
    // writes. Empty when there is no entry or they could not be read (entry->body then).
    QByteArray storedBytes;
    // The Cached pane shows the stored bytes, not the canonical entry, because they differ in key
    // order or spacing (SQLite's column or Redis written by someone else): compared with live, that
    // reads "key order only" instead of "identical".
    bool showsStoredBytes = false;
    QByteArray liveBody;   // the serializer's bytes (implicitly shared; empty on error)
    qint64 liveBytes = 0;
    QString liveError;
    // The right side is the store's previous entry (CacheStore::previous), not a live serialization:
    // Cached ↔ Previous, what the last refresh changed. liveBody, liveBytes and liveError then speak
    // of it, and previous holds its metadata (null when there is none).
    bool againstPrevious = false;
    EntryPtr previous;
    FormattedComparison formatted; // before = cached, after = live
    double seconds = 0;    // the whole job, reading included
};
using DocumentComparisonPtr = std::shared_ptr<const DocumentComparison>;

// The job: reads the cached entry (`memoryEntry` when the memory tier had it, else the store through
// a connection of its own) and the bytes the store holds for it, serializes live through a Database of its own, parses, formats and
// compares. Takes everything by value and writes nothing (no cache on read): any thread.
DocumentComparison compareDocuments(const CacheConfig &config, EntryPtr memoryEntry, qint64 pk,
                                    bool againstPrevious = false);

// Runs compareDocuments() on its own worker thread for the GUI: one job at a time, and of the
// requests made meanwhile only the latest runs, so clicking through Foos never queues stale work.
// Lives on the GUI thread; results arrive there.
class DocumentLoader : public QObject {
    Q_OBJECT

public:
    explicit DocumentLoader(QObject *parent = nullptr);
    // Waits for a running job (its result is dropped).
    ~DocumentLoader() override;

    // The service whose configuration and memory tier to read; must outlive its use here (the
    // owner calls setService(nullptr) before deleting it, which waits for a running job).
    void setService(CacheService *service);
    void load(qint64 pk);
    // Compare the cached entry with the previous one instead of live (takes effect with the next load).
    void setAgainstPrevious(bool on) { m_againstPrevious = on; }
    bool againstPrevious() const { return m_againstPrevious; }
    // Drops what is pending or running.
    void clear();
    bool isBusy() const { return m_running; }

signals:
    void busyChanged(bool busy);
    void loaded(const DocumentComparisonPtr &comparison);

private:
    void start(qint64 pk);
    void finished(LatestJob::Ticket ticket, const DocumentComparisonPtr &comparison);

    QPointer<CacheService> m_service;
    QThreadPool m_pool;
    LatestJob m_job; // results of older jobs are dropped
    bool m_running = false;
    bool m_againstPrevious = false;
    std::optional<qint64> m_pending;
};
