#include "writetransaction.h"

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

Status WriteTransaction::begin()
{
    return finish("BEGIN IMMEDIATE", true);
}

Status WriteTransaction::commit()
{
    return finish("COMMIT", false);
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
