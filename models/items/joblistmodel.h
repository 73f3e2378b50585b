#pragma once

#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <QPointer>
#include <QTimer>

class CacheService;
struct JobSummary;

// The cache service's jobs as the console's job panel lists them, one row each: the action that
// started it ("Refresh stale: 40 Foos"), its progress, rate, time left and outcome, in start
// order; finished ones stay (the last few) until cleared. Jobs the console did not name (the HTTP
// server's) are listed as background work.
class JobListModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column { NameColumn, ProgressColumn, RateColumn, LeftColumn, OutcomeColumn, ColumnCount };
    enum Role {
        JobIdRole = Qt::UserRole + 1,
        FractionRole, // done / total as a double in [0, 1]; -1 while the job plans its Foos
        RunningRole,  // bool
        CancellableRole, // bool: running, and no Cancel asked for yet
    };
    static constexpr int keptFinished = 20;

    explicit JobListModel(QObject *parent = nullptr);
    ~JobListModel() override;

    void setService(CacheService *service);
    // What started `job` ("Refresh stale"); `userStarted`: an operator's action (quitting asks
    // about those), not background work; `total`: its Foos when the caller knows them (until the
    // job reports its own). Before or after the job's first signal.
    void nameJob(int job, const QString &name, bool userStarted = true, int total = -1);

    QString title(int job) const; // "Refresh stale: 40 Foos"
    QString name(int job) const;  // "Refresh stale"
    // Running jobs (only those an operator started, with `userStarted`).
    QList<int> running(bool userStarted = false) const;
    void cancel(int job);
    void cancelAll();
    void clearFinished();
    // The status bar's line: "Refresh stale 12 / 40 · 85/s · 1 s left", or "2 jobs: 30 / 80 …".
    QString summary() const;
    // Sums over the running jobs (planned ones count 0).
    int runningDone() const;
    int runningTotal() const;

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

signals:
    // Whether any job runs; sent when that changes.
    void runningChanged(bool running);
    // A job ended, as the log should say it: "Refresh stale (job 4): 40 of 40 done in 2.1 s".
    void jobEnded(int job, const QString &text, bool failed);
    void summaryChanged();

private:
    struct Row {
        int id = 0;
        QString name;
        bool named = false;
        bool userStarted = false;
        int total = -1;
        int done = 0;
        int failed = 0;
        bool finished = false;
        bool cancelled = false;
        bool cancelRequested = false;
        QString firstError;
        QElapsedTimer clock;
        double seconds = 0; // at the end
    };

    Row &rowFor(int job);
    int indexOf(int job) const;
    void started(int job, int total);
    void progressed(int job, int done, int total);
    void finished(const JobSummary &summary);
    void rowChanged(int row);
    void tick();
    void runningMaybeChanged();
    void trimFinished();
    QString endText(const Row &row) const;
    QVariant display(const Row &row, int column) const;
    double rate(const Row &row) const;

    QPointer<CacheService> m_service;
    QList<QMetaObject::Connection> m_connections;
    QList<Row> m_rows;
    QTimer m_tick; // rates and time left move while nothing is reported
    bool m_wasRunning = false;
};
