#include "freshnessworker.h"

#include "cache/storeconfig.h"
#include "db/database.h"
#include "staleness/changetracking.h"

#include <QFile>
#include <QLoggingCategory>

#include <algorithm>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcWorker, "preserve.worker", QtInfoMsg)

namespace {

constexpr int standbyRetryMs = 1000;
constexpr int failureRetryMs = 1000;

QString leaseName(const DatabaseConfig &config)
{
    return QStringLiteral("preserve_worker_") + config.appLabel;
}

} // namespace

FreshnessWorker::FreshnessWorker(CacheService &service, FreshnessOptions options, QObject *parent)
    : QObject(parent)
    , m_service(service)
    , m_options(options)
{
    m_clock.start();
    m_timer.setInterval(qMax(1, m_options.pollMs));
    connect(&m_timer, &QTimer::timeout, this, &FreshnessWorker::poll);
    connect(&m_service, &CacheService::jobFinished, this, &FreshnessWorker::onJobFinished);
    connect(&m_service, &CacheService::entryFailed, this, [this](int job, qint64 pk, const QString &message) {
        if (job != m_batchJob && job != m_catchUpJob)
            return;
        ++m_stats.errors;
        m_failures = true;
        qCWarning(lcWorker).noquote() << QStringLiteral("Foo %1 not refreshed (tried again in %2 s): %3").arg(pk).arg(failureRetryMs / 1000).arg(message);
        Pending &pending = m_pending[pk];
        pending.firstSeenMs = pending.lastSeenMs = m_clock.elapsed();
        pending.notBeforeMs = m_clock.elapsed() + failureRetryMs;
    });
}

FreshnessWorker::~FreshnessWorker()
{
    if (m_lockFile >= 0)
        ::close(m_lockFile);
}

Status FreshnessWorker::start()
{
    const DatabaseConfig &config = m_service.config().database;
    auto database = Database::open(config);
    if (!database)
        return database.error();
    m_database = std::move(database.value());
    auto state = ChangeTracking::state(*m_database);
    if (!state)
        return state.error();
    if (!state->installed)
        return Error::invalid(tr("change tracking is not installed for app label \"%1\" in %2: run 'preserve track install' "
                                 "first (the worker follows the log its triggers write)")
                                  .arg(config.appLabel, config.displayName()));
    m_sinceStandbyTry.start();
    m_sincePrune.start();
    if (!tryToLead())
        qCInfo(lcWorker) << "another worker is active on this database: waiting as a standby";
    m_timer.start();
    return success();
}

void FreshnessWorker::stop()
{
    m_stopping = true;
    finishIfDone();
}

// One active worker per database and label: a session advisory lock on PostgreSQL (the server
// drops it with the session, whatever killed the process), an flock beside the SQLite file.
bool FreshnessWorker::tryToLead()
{
    m_sinceStandbyTry.restart();
    const DatabaseConfig &config = m_service.config().database;
    bool leading = false;
    if (config.isSqlite()) {
        const QByteArray path = QFile::encodeName(config.sqlitePath + QStringLiteral(".%1.lock").arg(leaseName(config)));
        if (m_lockFile < 0)
            m_lockFile = ::open(path.constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (m_lockFile < 0) {
            qCWarning(lcWorker) << "cannot create" << path << "(" << strerror(errno) << "): another worker on this file would not be kept out";
            leading = true;
        } else {
            leading = ::flock(m_lockFile, LOCK_EX | LOCK_NB) == 0;
        }
    } else {
        auto statement = m_database->prepare(QStringLiteral("SELECT CASE WHEN pg_try_advisory_lock(hashtext(?)) THEN 1 ELSE 0 END"));
        if (statement) {
            (*statement)->bind(0, leaseName(config).toUtf8());
            leading = (*statement)->exec() && (*statement)->next() && (*statement)->integer(0) == 1;
            (*statement)->reset();
        }
    }
    if (!leading)
        return false;
    // Everything the log says is stale now (what a worker killed mid-batch left too), then the log
    // from the position read before that pass.
    auto position = ChangeTracking::position(*m_database);
    if (!position) {
        qCWarning(lcWorker).noquote() << position.error().message;
        return false;
    }
    m_cursor = *position;
    m_active = m_stats.active = true;
    m_catchUpJob = m_service.refreshStale();
    qCInfo(lcWorker) << "active: refreshing what is stale, then following the change log";
    emit becameActive();
    return true;
}

void FreshnessWorker::publish()
{
    m_service.telemetry().setWorker(m_stats.active, m_stats.queued, m_stats.changes, m_stats.coalesced, m_stats.refreshed,
                                    m_stats.errors);
}

void FreshnessWorker::poll()
{
    if (m_finished)
        return;
    publish();
    if (!m_active) {
        if (m_stopping)
            finishIfDone();
        else if (m_sinceStandbyTry.hasExpired(standbyRetryMs))
            tryToLead();
        return;
    }
    readChanges();
    startDueBatch();
    if (!m_batchJob && !m_catchUpJob && m_sincePrune.hasExpired(m_options.pruneEveryMs))
        pruneLog();
    finishIfDone();
}

// A change row may go once its Foo's entry reflects it: the log keeps, below the position read
// pruneMarginMs ago, everything from the first change some entry does not reflect yet. Rows of Foos
// with no entry, an entry from before tracking (position 0 or below: unknown whatever the log
// says) or a foreign one constrain nothing; a refresh of such a Foo begun before the margin could
// still write an entry that reflects no more, which is what the margin is for.
void FreshnessWorker::pruneLog()
{
    m_sincePrune.restart();
    const qint64 now = m_clock.elapsed();
    m_positions.append({ now, m_cursor });
    qint64 margin = 0;
    while (!m_positions.isEmpty() && now - m_positions.first().first >= m_options.pruneMarginMs) {
        margin = m_positions.first().second;
        if (m_positions.size() > 1 && now - m_positions.at(1).first >= m_options.pruneMarginMs)
            m_positions.removeFirst();
        else
            break;
    }
    if (margin <= 0)
        return;
    if (!m_store) {
        auto store = openStore(m_service.config().store, m_service.config().database);
        if (!store)
            return;
        m_store = std::move(store.value());
    }
    auto entries = m_store->list();
    if (!entries) {
        m_store.reset();
        return;
    }
    QHash<qint64, qint64> reflected;
    for (const EntryInfo &entry : std::as_const(*entries)) {
        if (!entry.foreign && entry.changePosition > 0)
            reflected.insert(entry.pk, entry.changePosition);
    }
    auto rows = ChangeTracking::changeRows(*m_database, margin);
    if (!rows)
        return;
    qint64 through = margin;
    for (const auto &[foo, position] : std::as_const(*rows)) {
        const auto entry = reflected.constFind(foo);
        if (entry != reflected.cend() && position > *entry)
            through = std::min(through, position - 1);
    }
    if (through <= m_stats.prunedThrough)
        return;
    if (auto pruned = ChangeTracking::prune(*m_database, through); !pruned) {
        qCWarning(lcWorker).noquote() << tr("cannot prune the change log: %1").arg(pruned.error().message);
        return;
    }
    m_stats.prunedThrough = through;
    qCDebug(lcWorker) << "change log pruned through" << through;
}

void FreshnessWorker::readChanges()
{
    // The position first: whatever commits after it is read again next time (PostgreSQL's
    // positions are snapshot bounds), and m_handled keeps a change from being taken twice.
    auto position = ChangeTracking::position(*m_database);
    auto changes = position ? ChangeTracking::changesSince(*m_database, m_cursor) : Result<QHash<qint64, ChangeTracking::Change>>(position.error());
    if (!changes) {
        ++m_stats.errors;
        qCWarning(lcWorker).noquote() << tr("cannot read the change log: %1").arg(changes.error().message);
        return;
    }
    m_cursor = *position;
    m_readSinceCatchUp = m_catchUpJob == 0;
    const qint64 now = m_clock.elapsed();
    for (const ChangeTracking::Change &change : std::as_const(*changes)) {
        qint64 &handled = m_handled[change.foo];
        if (change.position <= handled)
            continue;
        handled = change.position;
        ++m_stats.changes;
        auto pending = m_pending.find(change.foo);
        if (pending == m_pending.end()) {
            pending = m_pending.insert(change.foo, Pending {});
            pending->firstSeenMs = now;
        } else {
            ++m_stats.coalesced;
        }
        pending->lastSeenMs = now;
        pending->changedAt = change.at;
    }
    m_stats.queued = int(m_pending.size());
}

void FreshnessWorker::startDueBatch()
{
    if (m_batchJob || m_catchUpJob || m_stopping || m_pending.isEmpty())
        return;
    const qint64 now = m_clock.elapsed();
    struct Due {
        bool cold;
        qint64 firstSeenMs;
        qint64 pk;
        auto operator<=>(const Due &) const = default;
    };
    QList<Due> due;
    for (auto it = m_pending.cbegin(); it != m_pending.cend(); ++it) {
        const Pending &p = it.value();
        if (now < p.notBeforeMs)
            continue;
        if (now - p.lastSeenMs >= m_options.debounceMs || now - p.firstSeenMs >= m_options.maxDelayMs)
            due.append({ m_options.hotFirst && !m_service.memory().contains(it.key()), p.firstSeenMs, it.key() });
    }
    if (due.isEmpty())
        return;
    std::sort(due.begin(), due.end());
    if (due.size() > m_options.batchSize)
        due.resize(m_options.batchSize);
    QList<qint64> pks;
    for (const Due &item : std::as_const(due)) {
        pks << item.pk;
        m_batch.insert(item.pk, m_pending.take(item.pk).changedAt);
    }
    m_stats.queued = int(m_pending.size());
    m_batchJob = m_service.refresh(pks);
}

void FreshnessWorker::onJobFinished(const JobSummary &summary)
{
    if (summary.job == m_catchUpJob) {
        m_catchUpJob = 0;
        m_stats.refreshed += summary.done;
        if (summary.failed || !summary.firstError.isEmpty()) {
            m_failures = true;
            ++m_stats.errors;
            qCWarning(lcWorker).noquote() << tr("the catch-up pass did not finish: %1").arg(summary.firstError);
        }
        qCInfo(lcWorker).noquote() << tr("caught up: %1 stale entr%2 refreshed in %3 s")
                                          .arg(summary.done).arg(summary.done == 1 ? "y" : "ies").arg(summary.seconds, 0, 'f', 2);
        emit caughtUp();
    } else if (summary.job == m_batchJob) {
        m_batchJob = 0;
        m_stats.refreshed += summary.done;
        const QDateTime now = QDateTime::currentDateTimeUtc();
        double lag = 0;
        for (const QDateTime &changedAt : std::as_const(m_batch)) {
            if (!changedAt.isValid())
                continue;
            const double seconds = std::max(0.0, double(changedAt.msecsTo(now)) / 1000.0);
            m_service.telemetry().recordWorkerLag(seconds);
            lag = std::max(lag, seconds);
        }
        m_stats.lastLagSeconds = lag;
        m_stats.maxLagSeconds = std::max(m_stats.maxLagSeconds, lag);
        qCInfo(lcWorker).noquote() << tr("refreshed %1 Foo(s)%2, lag %3 ms")
                                          .arg(summary.done)
                                          .arg(summary.failed ? tr(", %1 failed").arg(summary.failed) : QString())
                                          .arg(qRound(lag * 1000));
        m_batch.clear();
        emit batchFinished(summary.done, summary.failed);
    } else {
        return;
    }
    startDueBatch();
    finishIfDone();
}

void FreshnessWorker::finishIfDone()
{
    if (m_finished || m_batchJob || m_catchUpJob)
        return;
    const bool drained = m_options.once && m_active && m_readSinceCatchUp && m_pending.isEmpty();
    if (!m_stopping && !drained)
        return;
    m_finished = true;
    m_timer.stop();
    if (m_lockFile >= 0) {
        ::close(m_lockFile); // releases the flock
        m_lockFile = -1;
    }
    if (m_database && !m_database->config().isSqlite() && m_active)
        [[maybe_unused]] auto unlocked = m_database->run(QStringLiteral("SELECT pg_advisory_unlock_all()"));
    emit finished(!m_failures);
}
