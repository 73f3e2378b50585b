#include "writetransaction.h"

#include "db/commitledger.h"
#include "db/database.h"

#include <QObject>
#include <QSqlError>

#include <sqlite3.h>

WriteTransaction::WriteTransaction(Database &database)
    : m_database(database)
{
}

WriteTransaction::~WriteTransaction()
{
    if (!m_open)
        return;
    if (sqlite3 *handle = m_database.sqliteHandle())
        sqlite3_exec(handle, "ROLLBACK", nullptr, nullptr, nullptr);
    else
        m_database.connection().rollback();
}

namespace {

// Database pages this connection has written to its files so far.
int pagesWritten(sqlite3 *handle)
{
    int current = 0;
    int highest = 0;
    return sqlite3_db_status(handle, SQLITE_DBSTATUS_CACHE_WRITE, &current, &highest, 0) == SQLITE_OK ? current : -1;
}

// In EXCLUSIVE locking mode a connection raises the counter once per lock it takes, not once
// per commit. Preserve never sets it; a connection someone did set it on notes nothing.
bool normalLocking(Database &database)
{
    auto mode = database.prepareCached(QStringLiteral("PRAGMA main.locking_mode"));
    if (!mode)
        return false;
    const bool normal = (*mode)->exec().ok() && (*mode)->next() && (*mode)->text(0) == QByteArrayView("normal");
    (*mode)->reset();
    return normal;
}

} // namespace

Status WriteTransaction::begin()
{
    Status begun = finish("BEGIN IMMEDIATE", true);
    if (sqlite3 *handle = m_database.sqliteHandle(); begun && handle) {
        // The write lock is held from here: no other connection commits before this one does, and
        // nothing of this transaction has reached the file yet.
        m_changesAtBegin = sqlite3_total_changes64(handle);
        m_pagesAtBegin = pagesWritten(handle);
        if (const auto mark = m_database.headerMark())
            m_counterAtBegin = mark->counter;
    }
    return begun;
}

Status WriteTransaction::commit()
{
    sqlite3 *handle = m_database.sqliteHandle();
    // Rows changed by anything but the statements themselves (triggers, foreign-key actions) make
    // the total larger than the rows declared.
    bool cacheOnly = handle && m_counterAtBegin && m_pagesAtBegin >= 0 && m_cacheOnlyRows > 0
        && sqlite3_total_changes64(handle) - m_changesAtBegin == m_cacheOnlyRows;
    if (cacheOnly) {
        // Still the counter it began with: a writer that ignores SQLite's locks (nolock=1, a
        // network file system without them) may have committed meanwhile, and this commit would
        // then raise the counter from that writer's value, as if there had been one commit.
        const auto mark = m_database.headerMark();
        cacheOnly = mark && mark->counter == *m_counterAtBegin && normalLocking(m_database);
    }
    CommitLedger &ledger = CommitLedger::instance();
    const quint64 ticket = cacheOnly ? ledger.expect({ m_database.m_fileDevice, m_database.m_fileInode }, *m_counterAtBegin) : 0;
    Status committed = finish("COMMIT", false);
    // Rows changed do not prove that the file did: SQLite leaves a page alone when a row is
    // written back with the bytes it had, and such a commit leaves the counter where it was (the
    // next commit, anyone's, starts from the same value). One that wrote pages raised the
    // counter by exactly one, from the value read at begin().
    if (ticket)
        ledger.settle(ticket, committed && pagesWritten(handle) > m_pagesAtBegin);
    return committed;
}

Status WriteTransaction::finish(const char *sqliteCommand, bool opening)
{
    bool ok = false;
    QString message;
    if (sqlite3 *handle = m_database.sqliteHandle()) {
        ok = sqlite3_exec(handle, sqliteCommand, nullptr, nullptr, nullptr) == SQLITE_OK;
        message = QString::fromUtf8(sqlite3_errmsg(handle));
    } else {
        QSqlDatabase connection = m_database.connection();
        ok = opening ? connection.transaction() : connection.commit();
        message = connection.lastError().text();
    }
    if (!ok)
        return Error::database(QObject::tr("cannot %1 a transaction on %2: %3")
                                   .arg(opening ? QObject::tr("begin") : QObject::tr("commit"),
                                        m_database.config().displayName(), message));
    m_open = opening;
    return success();
}

Status WriteTransaction::run(Database &database, const std::function<Status()> &work)
{
    WriteTransaction transaction(database);
    if (Status begun = transaction.begin(); !begun)
        return begun;
    if (Status done = work(); !done)
        return done;
    return transaction.commit();
}

Status refuseReadOnly(const Database &database, const QString &what)
{
    if (!database.config().readOnly)
        return success();
    return Error::invalid(
        QObject::tr("cannot %1: %2 is opened read-only").arg(what, database.config().displayName()));
}
