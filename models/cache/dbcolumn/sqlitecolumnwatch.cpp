#include "sqlitecolumnwatch.h"

#include "cache/dbcolumn/dbcolumnstore.h"
#include "staleness/changetracking.h"

#include <algorithm>

#include <sqlite3.h>

namespace {

constexpr int pollMs = 250;

} // namespace

SqliteColumnWatch::~SqliteColumnWatch()
{
    disconnect();
}

int SqliteColumnWatch::interval() const
{
    return pollMs;
}

void SqliteColumnWatch::disconnect()
{
    m_database.reset();
}

Status SqliteColumnWatch::connectAndListen()
{
    sqlite3 *handle = m_database->sqliteHandle();
    // Short: a writer holding the lock makes us try again next tick, and stop() stays prompt.
    // preserve_body_check() is there already: Database::open() registers it on every connection.
    sqlite3_busy_timeout(handle, 100);
    // The version now; the first look (a scan of every body) follows on the next check(), after
    // start() has returned. If another connection commits in between, nothing tells which entries
    // moved, so the first look reports everything changed.
    auto version = dataVersion();
    if (!version)
        return version.error();
    m_version = *version;
    m_looked = false;
    m_snapshot.clear();
    auto position = ChangeTracking::position(*m_database);
    m_logPosition = position ? *position : 0;
    return success();
}

Status SqliteColumnWatch::takeFirstLook()
{
    auto snapshot = scan();
    if (!snapshot)
        return isBusy(snapshot.error()) ? success() : snapshot.error();
    auto version = dataVersion(); // after the scan: a commit during it counts as one before it
    if (!version)
        return isBusy(version.error()) ? success() : version.error();
    m_snapshot = std::move(snapshot.value());
    m_looked = true;
    if (*version != m_version) {
        m_version = *version;
        m_report.everythingChanged();
    }
    m_report.ready();
    return success();
}

Status SqliteColumnWatch::check()
{
    if (!m_looked)
        return takeFirstLook();
    // Busy: a writer is at work; the version stays old, so the next tick looks again.
    auto version = dataVersion();
    if (!version)
        return isBusy(version.error()) ? success() : version.error();
    if (*version == m_version)
        return success();
    auto snapshot = scan();
    if (!snapshot)
        return isBusy(snapshot.error()) ? success() : snapshot.error();
    m_version = *version;
    QList<qint64> changed = movedSince(*snapshot);
    m_snapshot = std::move(snapshot.value());
    addTrackedChanges(changed);
    if (!changed.isEmpty()) {
        std::sort(changed.begin(), changed.end());
        changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
        m_report.entriesChanged(changed);
    }
    return success();
}

QList<qint64> SqliteColumnWatch::movedSince(const Snapshot &snapshot) const
{
    QList<qint64> changed;
    for (auto it = snapshot.cbegin(); it != snapshot.cend(); ++it) {
        if (const auto old = m_snapshot.constFind(it.key()); old == m_snapshot.cend() || !(*old == *it))
            changed << it.key();
    }
    for (auto it = m_snapshot.cbegin(); it != m_snapshot.cend(); ++it) {
        if (!snapshot.contains(it.key()))
            changed << it.key();
    }
    return changed;
}

// A tracked change to Django's tables leaves the cache column alone but makes entries stale: the
// memory tier must drop them too (SQLite positions are log ids, so this reads the log).
void SqliteColumnWatch::addTrackedChanges(QList<qint64> &changed)
{
    const auto position = ChangeTracking::position(*m_database);
    if (position && *position < m_logPosition) {
        m_logPosition = *position; // tracking was removed or reinstalled: cannot tell which
        m_report.everythingChanged();
        return;
    }
    if (position && *position > m_logPosition) {
        if (auto changes = ChangeTracking::changesSince(*m_database, m_logPosition)) {
            for (auto it = changes->cbegin(); it != changes->cend(); ++it)
                changed << it.key();
        }
        m_logPosition = *position;
    }
}

Result<qint64> SqliteColumnWatch::dataVersion()
{
    auto query = m_database->run(QStringLiteral("PRAGMA data_version"));
    if (!query)
        return query.error();
    if (!(*query)->next())
        return (*query)->status().ok() ? Error::database(QStringLiteral("PRAGMA data_version returned no row"))
                                       : (*query)->status().error();
    return (*query)->integer(0);
}

Result<SqliteColumnWatch::Snapshot> SqliteColumnWatch::scan()
{
    ReadSnapshot consistent(*m_database);
    Snapshot snapshot;
    auto column = m_database->run(QStringLiteral("SELECT id, preserve_body_check(pre_serialized) FROM %1 "
                                                 "WHERE pre_serialized IS NOT NULL")
                                      .arg(DjangoTables::quote(m_database->tables().foo)));
    if (!column)
        return column.error();
    while ((*column)->next())
        snapshot[(*column)->integer(0)].seal = quint64((*column)->integer(1));
    if (Status done = (*column)->status(); !done)
        return done.error();
    auto tables = m_database->tableNames();
    if (!tables)
        return tables.error();
    if (!tables->contains(DbColumnStore::metadataTable()))
        return snapshot;
    auto side = m_database->prepare(QStringLiteral("SELECT foo_id, digest FROM %1 WHERE app_label = ?")
                                        .arg(DjangoTables::quote(DbColumnStore::metadataTable())));
    if (!side)
        return side.error();
    (*side)->bind(0, m_config.appLabel.toUtf8());
    if (Status run = (*side)->exec(); !run)
        return run.error();
    while ((*side)->next())
        snapshot[(*side)->integer(0)].digest = (*side)->text(1).toByteArray();
    if (Status done = (*side)->status(); !done)
        return done.error();
    return snapshot;
}
