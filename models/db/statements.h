#pragma once

#include "db/statement.h"

#include <QSqlDatabase>
#include <QString>

#include <memory>

struct sqlite3;

// Factories for the SQLite and the QSqlQuery Statement; Database::prepare() picks one of them or
// PostgresStatement.
Result<std::unique_ptr<Statement>> prepareSqliteStatement(sqlite3 *handle, const QString &sql);
Result<std::unique_ptr<Statement>> prepareQtStatement(const QSqlDatabase &db, const QString &sql);
