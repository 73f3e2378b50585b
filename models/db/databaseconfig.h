#pragma once

#include "core/result.h"

#include <QString>

// Where the Django database is and how to open it. Parsed from what an operator types: a SQLite file
// path (or sqlite:///path) or postgresql://user:password@host:port/dbname?sslmode=…; PostgreSQL parts
// left out fall back to libpq's PG* environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
// PGDATABASE, PGSSLMODE, …), because libpq reads them for every key the connect string omits.
struct DatabaseConfig {
    enum class Engine { Sqlite, Postgres };

    Engine engine = Engine::Sqlite;
    QString sqlitePath;
    QString host;
    int port = -1;
    QString user;
    QString password;
    QString databaseName;
    QString connectOptions; // extra libpq keywords from the URL's query, already quoted
    QString appLabel = QStringLiteral("api");
    bool readOnly = false;

    static Result<DatabaseConfig> parse(const QString &spec, const QString &appLabel = QStringLiteral("api"),
                                        bool readOnly = false);

    // Django app labels are Python identifiers; table names are built from them, so nothing else passes.
    static Status checkAppLabel(const QString &label);

    // For messages and window titles: never contains the password.
    QString displayName() const;
    bool isSqlite() const { return engine == Engine::Sqlite; }
};

// Passwords in connection URLs (postgresql://user:password@…, redis://:password@…) as people see
// them: masked wherever a URL is shown, also inside a message, and put back when a masked URL is
// edited and used again.
namespace UrlPasswords {
// Every `scheme://user:password@` in `text` as `scheme://user:***@`.
QString mask(const QString &text);
// `shown`, a possibly edited masked form of `real`, with real's password back in place of ***.
QString restore(const QString &shown, const QString &real);
} // namespace UrlPasswords
