#include "freshnessworker.h"

#include "cache/storeconfig.h"
#include "db/database.h"
#include "staleness/changetracking.h"

#include <QCoreApplication>
#include <QFile>
#include <QSqlDriver>
#include <QSqlError>
#include <QSysInfo>
#include <QLoggingCategory>

#include <algorithm>
#include <atomic>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcWorker, "preserve.worker", QtInfoMsg)

namespace {

constexpr int standbyRetryMs = 1000;
constexpr int failureRetryMs = 1000;
constexpr int claimRetryMs = 100; // a Foo another worker holds is tried again after this
constexpr int beatEveryMs = 1000;

// host:pid, and #n for the second and later worker of one process (tests, a console that runs one).
QString newWorkerId()
{
    static std::atomic<int> workers { 0 };
    const int n = ++workers;
    return QSysInfo::machineHostName() + QLatin1Char(':') + QString::number(QCoreApplication::applicationPid())
        + (n > 1 ? QStringLiteral("#%1").arg(n) : QString());
}

QString leaseName(const DatabaseConfig &config)
{
    return QStringLiteral("preserve_worker_") + config.appLabel;
}

// The advisory lock key of one Foo: (hashtext of the label's name, pk folded into an int4). Two
// pks that fold alike only wait for each other.
QString fooLockName(const DatabaseConfig &config)
{
    return QStringLiteral("preserve_foo_") + config.appLabel;
}

QByteArray pgArray(const QList<qint64> &pks)
{
    QByteArray array = "{";
    for (qsizetype i = 0; i < pks.size(); ++i) {
        if (i)
            array += ',';
        array += QByteArray::number(pks[i]);
    }
    return array + '}';
}

} // namespace

FreshnessWorker::FreshnessWorker(CacheService &service, FreshnessOptions options, QObject *parent)
    : QObject(parent)
    , m_service(service)
    , m_options(options)
    , m_shared(!service.config().database.isSqlite())
    , m_id(newWorkerId())
{
    m_clock.start();
    m_timer.setInterval(qMax(1, m_options.pollMs));
    connect(&m_timer, &QTimer::timeout, this, &FreshnessWorker::poll);
    m_wake.setSingleShot(true);
    m_wake.setInterval(0);
    connect(&m_wake, &QTimer::timeout, this, &FreshnessWorker::poll);
    connect(&m_service, &CacheService::jobFinished, this, &FreshnessWorker::onJobFinished);
    connect(&m_service, &CacheService::entryRefreshed, this, [this](int job, qint64 pk) {
        if (m_jobs.contains(job))
            settle(pk, job, true);
    });
    connect(&m_service, &CacheService::entryFailed, this, [this](int job, qint64 pk, const QString &message) {
        if (!m_jobs.contains(job))
            return;
        ++m_stats.errors;
        m_failures = true;
        m_troubled = true;
        qCWarning(lcWorker).noquote() << QStringLiteral("Foo %1 not refreshed (tried again in %2 s): %3").arg(pk).arg(failureRetryMs / 1000).arg(message);
        settle(pk, job, false);
    });
}

FreshnessWorker::~FreshnessWorker()
{
    if (m_planner.joinable())
        m_planner.join();
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
    m_sinceBeat.start();
    listen();
    if (m_shared)
        becomeActive();
    else if (!tryToLead())
        qCInfo(lcWorker) << "another worker is active on this database: waiting as a standby";
    if (auto prepared = ChangeTracking::prepareWorkers(*m_database); prepared) {
        m_beating = true;
        beat();
    } else {
        qCWarning(lcWorker).noquote() << tr("no heartbeat (others will not see this worker): %1").arg(prepared.error().message);
    }
    m_timer.start();
    return success();
}

void FreshnessWorker::stop()
{
    m_stopping = true;
    finishIfDone();
}

// SQLite: one active worker per file and label, holding an flock beside the database file (the
// kernel drops it with the process, whatever killed it).
bool FreshnessWorker::tryToLead()
{
    m_sinceStandbyTry.restart();
    const DatabaseConfig &config = m_service.config().database;
    bool leading = false;
    const QByteArray path = QFile::encodeName(config.sqlitePath + QStringLiteral(".%1.lock").arg(leaseName(config)));
    if (m_lockFile < 0)
        m_lockFile = ::open(path.constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_lockFile < 0) {
        qCWarning(lcWorker) << "cannot create" << path << "(" << strerror(errno) << "): another worker on this file would not be kept out";
        leading = true;
    } else {
        leading = ::flock(m_lockFile, LOCK_EX | LOCK_NB) == 0;
    }
    if (leading)
        becomeActive();
    return leading;
}

// Everything the status calls stale, missing, corrupt or unknown now (what a worker killed mid-batch
// left too) is queued, then
// the log is followed from the position read before that status.
void FreshnessWorker::becomeActive()
{
    auto position = ChangeTracking::position(*m_database);
    if (!position) {
        qCWarning(lcWorker).noquote() << position.error().message;
        return;
    }
    m_cursor = *position;
    m_active = m_stats.active = true;
    startCatchUp();
    qCInfo(lcWorker).noquote() << (m_shared ? tr("active (sharing the work with any other worker on this database): refreshing what is stale, then following the change log")
                                            : tr("active: refreshing what is stale, then following the change log"));
    emit becameActive();
}

void FreshnessWorker::startCatchUp()
{
    if (m_planning)
        return;
    if (m_planner.joinable())
        m_planner.join();
    m_planning = true;
    m_catchUpClock.start();
    const qint64 required = m_cursor;
    m_planner = std::thread([this, required] {
        auto statuses = m_service.status();
        QMetaObject::invokeMethod(this, [this, statuses = std::move(statuses), required] { planCatchUp(statuses, required); },
                                  Qt::QueuedConnection);
    });
}

void FreshnessWorker::planCatchUp(const Result<QList<EntryStatus>> &statuses, qint64 required)
{
    m_planner.join();
    m_planning = false;
    if (!statuses) {
        ++m_stats.errors;
        m_failures = true;
        qCWarning(lcWorker).noquote() << tr("cannot tell what is stale (tried again in %1 s): %2").arg(failureRetryMs / 1000).arg(statuses.error().message);
        m_active = m_stats.active = false; // becomeActive() again: the log position too, so nothing slips between
        m_sinceStandbyTry.restart();
        return;
    }
    const qint64 now = m_clock.elapsed();
    for (const EntryStatus &status : *statuses) {
        // Unknown too (built before tracking, or before a gap in the log): nothing else would
        // ever make it fresh. Foreign entries are Django's own writes: left alone.
        if (status.state != EntryState::Stale && status.state != EntryState::Missing && status.state != EntryState::Corrupt
            && status.state != EntryState::Unknown)
            continue;
        auto pending = m_pending.find(status.pk);
        if (pending == m_pending.end()) {
            pending = m_pending.insert(status.pk, Pending {});
            pending->firstSeenMs = now;
            pending->lastSeenMs = now - m_options.debounceMs; // due at once
        }
        pending->required = std::max(pending->required, required);
        m_catchUpLeft.insert(status.pk);
    }
    m_stats.queued = int(m_pending.size());
    m_catchUpRefreshed = 0;
    finishCatchUpIfDone();
    startDueBatch();
    finishIfDone();
}

void FreshnessWorker::finishCatchUpIfDone()
{
    if (m_planning || !m_catchUpClock.isValid() || !m_catchUpLeft.isEmpty())
        return;
    qCInfo(lcWorker).noquote() << tr("caught up: %1 stale entr%2 refreshed in %3 s")
                                      .arg(m_catchUpRefreshed).arg(m_catchUpRefreshed == 1 ? "y" : "ies")
                                      .arg(double(m_catchUpClock.elapsed()) / 1000.0, 0, 'f', 2);
    m_catchUpClock.invalidate();
    emit caughtUp();
}

bool FreshnessWorker::reconnect()
{
    auto database = Database::open(m_service.config().database);
    if (!database)
        return false;
    m_database = std::move(database.value());
    qCInfo(lcWorker) << "reconnected to the database";
    listen();
    return true;
}

void FreshnessWorker::listen()
{
    if (!m_shared || !m_database)
        return;
    QSqlDriver *driver = m_database->connection().driver();
    const QString channel = ChangeTracking::notifyChannel(m_service.config().database.appLabel);
    if (!driver->subscribeToNotification(channel)) {
        qCWarning(lcWorker).noquote() << tr("cannot LISTEN on %1 (the log is read every %2 ms instead): %3")
                                             .arg(channel).arg(m_options.pollMs).arg(driver->lastError().text());
        return;
    }
    // A burst of NOTIFYs is one read: the timer is started once until it fires.
    connect(driver, &QSqlDriver::notification, this, [this] {
        if (!m_wake.isActive())
            m_wake.start();
    });
}

QList<qint64> FreshnessWorker::claim(const QList<qint64> &candidates, int limit)
{
    // Rows come out of unnest in order and LIMIT stops the scan: only the returned ones are locked.
    auto statement = m_database->prepare(QStringLiteral(
        "SELECT k FROM unnest(CAST(? AS bigint[])) AS k "
        "WHERE pg_try_advisory_lock(hashtext(?), CAST(k % 2147483647 AS integer)) LIMIT ?"));
    QList<qint64> claimed;
    if (!statement)
        return claimed;
    Statement &query = **statement;
    query.bind(0, pgArray(candidates));
    query.bind(1, fooLockName(m_service.config().database).toUtf8());
    query.bind(2, qint64(limit));
    if (auto run = query.exec(); !run) {
        qCWarning(lcWorker).noquote() << tr("cannot claim Foos to refresh: %1").arg(run.error().message);
        query.reset();
        return claimed;
    }
    while (query.next())
        claimed << query.integer(0);
    query.reset();
    return claimed;
}

void FreshnessWorker::release(qint64 pk)
{
    if (!m_database)
        return; // the session went, and its locks with it
    auto statement = m_database->prepare(QStringLiteral("SELECT pg_advisory_unlock(hashtext(?), CAST(? % 2147483647 AS integer))"));
    if (statement) {
        (*statement)->bind(0, fooLockName(m_service.config().database).toUtf8());
        (*statement)->bind(1, pk);
        if ((*statement)->exec())
            (*statement)->reset();
    }
}

// One Foo of a refresh job is done: written (its lag counts) or failed (back into the queue, with
// what it answered: a change that came meanwhile is newer).
void FreshnessWorker::settle(qint64 pk, int job, bool refreshed)
{
    const auto found = m_inFlight.constFind(pk);
    if (found == m_inFlight.cend() || found->job != job)
        return;
    const InFlight flight = *found;
    m_inFlight.erase(found);
    if (flight.claimed)
        release(pk);
    if (refreshed) {
        if (m_catchUpLeft.remove(pk))
            ++m_catchUpRefreshed;
        if (flight.changedAt.isValid()) {
            const double seconds = std::max(0.0, double(flight.changedAt.msecsTo(QDateTime::currentDateTimeUtc())) / 1000.0);
            m_service.telemetry().recordWorkerLag(seconds);
            m_jobLag[job] = std::max(m_jobLag.value(job), seconds);
        }
    } else {
        Pending &pending = m_pending[pk];
        pending.firstSeenMs = pending.lastSeenMs = m_clock.elapsed();
        pending.notBeforeMs = m_clock.elapsed() + failureRetryMs;
        pending.required = std::max(pending.required, flight.required);
        if (!pending.changedAt.isValid())
            pending.changedAt = flight.changedAt;
    }
    // Room for more: claim the next ones now, not when the whole job is done.
    if (m_shared)
        startDueBatch();
}

void FreshnessWorker::beat()
{
    m_sinceBeat.start();
    if (!m_beating || !m_database)
        return;
    ChangeTracking::WorkerBeat beat;
    beat.id = m_id;
    beat.host = QSysInfo::machineHostName();
    beat.pid = QCoreApplication::applicationPid();
    beat.active = m_active;
    beat.queued = m_stats.queued + m_inFlight.size();
    beat.lagMs = qRound64(m_stats.lastLagSeconds * 1000);
    beat.refreshed = m_stats.refreshed;
    beat.errors = m_stats.errors;
    if (auto done = ChangeTracking::beat(*m_database, beat); !done)
        qCDebug(lcWorker).noquote() << "heartbeat not written:" << done.error().message;
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
    if (m_sinceBeat.hasExpired(beatEveryMs))
        beat();
    if (!m_database) {
        if (m_stopping)
            finishIfDone();
        else if (m_sinceStandbyTry.hasExpired(standbyRetryMs)) {
            m_sinceStandbyTry.restart();
            reconnect();
        }
        return;
    }
    if (!m_active) {
        if (m_stopping)
            finishIfDone();
        else if (m_sinceStandbyTry.hasExpired(standbyRetryMs) && !m_planning) {
            if (m_shared) {
                m_sinceStandbyTry.restart();
                becomeActive();
            } else {
                tryToLead();
            }
        }
        return;
    }
    readChanges();
    publish(); // what was read counts before its refresh does (a batch may end before the next poll)
    startDueBatch();
    if (m_jobs.isEmpty() && m_database && m_sincePrune.hasExpired(m_options.pruneEveryMs))
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
    // Every entry holds the log back at the position its store keeps for it (the side row, the
    // hash's field), whatever list() calls it: an entry listed foreign because its seal does not
    // match is still served as ours by get() once its digest checks out, at that position, and its
    // Foo's later changes must stay in the log until it is refreshed.
    QList<qint64> pks;
    for (const EntryInfo &entry : std::as_const(*entries))
        pks << entry.pk;
    auto positions = m_store->positions(pks);
    if (!positions) {
        m_store.reset();
        return;
    }
    QHash<qint64, qint64> reflected;
    for (auto it = positions->cbegin(); it != positions->cend(); ++it) {
        if (it.value() > 0)
            reflected.insert(it.key(), it.value());
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
        const Error::Kind kind = changes.error().kind;
        if (kind == Error::Kind::Database || kind == Error::Kind::Unavailable) {
            // QPSQL keeps a dead connection after a server restart: open a new one. Its locks went
            // with the old session; the batch under way writes through the service's own connections.
            for (InFlight &flight : m_inFlight)
                flight.claimed = false; // went with the session
            m_database.reset();
            m_sinceStandbyTry.restart();
        }
        return;
    }
    m_cursor = *position;
    m_readSinceActive = !m_planning;
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
        pending->required = std::max(pending->required, change.position);
    }
    m_stats.queued = int(m_pending.size());
}

void FreshnessWorker::startDueBatch()
{
    if (m_stopping || m_pending.isEmpty() || !m_database)
        return;
    // SQLite: one batch at a time. PostgreSQL: about two Foos per refreshing thread in flight, so
    // that what this worker cannot start yet stays free for the others.
    const int threads = std::max(1, m_service.config().workers);
    const qsizetype room = m_shared ? std::min<qsizetype>(m_options.batchSize, 2 * threads) - m_inFlight.size()
                                    : (m_jobs.isEmpty() ? m_options.batchSize : 0);
    if (room <= 0)
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
    // Hot before cold, oldest first, but a quarter of the batch for the newest: a backlog (the
    // catch-up, a burst of 100,000) never starves a single change that came after it.
    const qsizetype batch = room;
    if (due.size() > batch) {
        const qsizetype newest = batch / 4;
        std::nth_element(due.begin(), due.begin() + (due.size() - newest), due.end(),
                         [](const Due &a, const Due &b) { return a.firstSeenMs < b.firstSeenMs; });
        std::sort(due.begin(), due.end() - newest);
        std::rotate(due.begin() + (batch - newest), due.end() - newest, due.end());
    } else {
        std::sort(due.begin(), due.end());
    }
    QList<qint64> pks;
    if (m_shared) {
        // Claim in that order: what another worker holds now is passed over and tried again soon.
        QList<qint64> candidates;
        candidates.reserve(due.size());
        for (const Due &item : std::as_const(due))
            candidates << item.pk;
        pks = claim(candidates, int(batch));
        if (pks.size() < batch) { // every candidate was tried: the rest are held elsewhere
            const QSet<qint64> taken(pks.cbegin(), pks.cend());
            for (const qint64 pk : std::as_const(candidates)) {
                if (!taken.contains(pk))
                    m_pending[pk].notBeforeMs = now + claimRetryMs;
            }
        }
        // Another worker may have refreshed some since we read their changes: those are done.
        if (!pks.isEmpty()) {
            if (!m_store) {
                if (auto store = openStore(m_service.config().store, m_service.config().database))
                    m_store = std::move(store.value());
            }
            auto positions = m_store ? m_store->positions(pks) : Result<QHash<qint64, qint64>>(Error::unavailable(QString()));
            if (!positions)
                m_store.reset(); // refreshing them anyway is safe (the store keeps the newer entry)
            else {
                pks.removeIf([&](qint64 pk) {
                    const auto position = positions->constFind(pk);
                    if (position == positions->cend() || *position <= 0 || *position < m_pending.value(pk).required)
                        return false;
                    m_pending.remove(pk);
                    m_catchUpLeft.remove(pk);
                    ++m_stats.doneElsewhere;
                    release(pk);
                    return true;
                });
            }
        }
        if (pks.isEmpty()) {
            m_stats.queued = int(m_pending.size());
            finishCatchUpIfDone();
            return;
        }
    } else {
        for (qsizetype i = 0; i < std::min(batch, due.size()); ++i)
            pks << due[i].pk;
    }
    const int job = m_service.refresh(pks);
    for (const qint64 pk : std::as_const(pks)) {
        const Pending pending = m_pending.take(pk);
        m_inFlight.insert(pk, { job, pending.required, pending.changedAt, m_shared });
    }
    m_jobs.insert(job);
    m_stats.queued = int(m_pending.size());
    emit batchStarted(job, int(pks.size()));
}

void FreshnessWorker::onJobFinished(const JobSummary &summary)
{
    if (!m_jobs.contains(summary.job))
        return;
    // Foos the job never reported (it was cancelled, or one joined a refresh already running)
    // go back into the queue: the position check or a refresh settles them.
    QList<qint64> unreported;
    for (auto it = m_inFlight.cbegin(); it != m_inFlight.cend(); ++it) {
        if (it->job == summary.job)
            unreported << it.key();
    }
    for (const qint64 pk : std::as_const(unreported))
        settle(pk, summary.job, false);
    m_jobs.remove(summary.job);
    const double lag = m_jobLag.take(summary.job);
    m_stats.refreshed += summary.done;
    m_stats.lastLagSeconds = lag;
    m_stats.maxLagSeconds = std::max(m_stats.maxLagSeconds, lag);
    qCInfo(lcWorker).noquote() << tr("refreshed %1 Foo(s)%2, lag %3 ms")
                                      .arg(summary.done)
                                      .arg(summary.failed ? tr(", %1 failed").arg(summary.failed) : QString())
                                      .arg(qRound(lag * 1000));
    emit batchFinished(summary.done, summary.failed);
    // Refreshes fail no more after some did: the store or the database was away, and may have come
    // back empty (Redis without persistence) or missed what others wrote. Look at it all again.
    if (m_troubled && summary.failed == 0 && summary.done > 0) {
        m_troubled = false;
        qCInfo(lcWorker) << "refreshes succeed again: checking every entry";
        startCatchUp();
    }
    finishCatchUpIfDone();
    startDueBatch();
    finishIfDone();
}

void FreshnessWorker::finishIfDone()
{
    if (m_finished || !m_jobs.isEmpty() || m_planning)
        return;
    const bool drained = m_options.once && m_active && m_readSinceActive && m_pending.isEmpty();
    if (!m_stopping && !drained)
        return;
    m_finished = true;
    m_timer.stop();
    if (m_beating && m_database)
        [[maybe_unused]] auto left = ChangeTracking::leave(*m_database, m_id);
    if (m_lockFile >= 0) {
        ::close(m_lockFile); // releases the flock
        m_lockFile = -1;
    }
    // ok: nothing that failed is left undone (a refresh that failed and then succeeded is fine).
    emit finished(!m_failures || (m_pending.isEmpty() && m_inFlight.isEmpty()));
}
