#pragma once

#include "db/databaseconfig.h"
#include "testpostgres.h"

#include <QString>

#include <array>
#include <memory>
#include <vector>

class Database;
struct Timing;
struct pg_conn;
struct sqlite3;

// bench_serializer --pg: the SQLite figures' counterpart on PostgreSQL over a unix socket. Starts a
// throw-away cluster as the tests do (TestPostgres), creates Django's own schema in it (the DDL of
// `sqlmigrate`, from the DRF reference script) and copies the Foo/Bar/Zab/Baz rows of the seeded
// SQLite file into it with COPY; then times the serializer through libpq and through Qt SQL, and
// the floor. Prints; asserts nothing; stops with a message when the setup fails.
class PostgresBench {
public:
    PostgresBench(QString sqlitePath, QString drfReference);
    void setUp();
    // With `drf`, DRF itself (Django's postgresql backend, psycopg2) on the same server and rows.
    void run(int repeat, bool drf = false);

private:
    void startServer();
    void createSchema();
    void copyRows();
    void copyTable(sqlite3 *source, pg_conn *target, const QString &table, const QString &columns);
    DatabaseConfig config() const;
    std::unique_ptr<Database> open(bool engineStatements) const;
    pg_conn *connect() const;
    struct Figures;
    void compareWithSqlite(Database &postgres);
    static void printTables(
        const char *version, qint64 pk, const std::vector<Timing> &foo, const std::vector<Timing> &list);
    // floors: largest Foo in text and binary rows, then the list in text and binary rows.
    static void printBounds(
        pg_conn *connection, const Figures &ours, const std::array<Timing, 4> &floors, double executionMs);

    QString m_sqlitePath;
    QString m_drfReference;
    TestPostgres m_server;
};
