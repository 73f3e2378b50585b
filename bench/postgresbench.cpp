#include "postgresbench.h"

#include "benchsupport.h"
#include "db/database.h"
#include "db/postgresstatement.h"
#include "postgresfloor.h"
#include "serialize/serializer.h"

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QUrl>

#include <libpq-fe.h>
#include <sqlite3.h>

namespace {

const QString databaseName = QStringLiteral("bench");

// COPY's text format: backslash, tab, newline and carriage return escaped, NULL as \N.
void appendCopyValue(QByteArray &out, sqlite3_stmt *row, int column)
{
    if (sqlite3_column_type(row, column) == SQLITE_NULL) {
        out += "\\N";
        return;
    }
    const auto *text = reinterpret_cast<const char *>(sqlite3_column_text(row, column));
    const int size = sqlite3_column_bytes(row, column);
    for (int i = 0; i < size; ++i) {
        switch (text[i]) {
        case '\\':
            out += "\\\\";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        default:
            out += text[i];
        }
    }
}

// The server's own time for the largest Foo's queries but the Bazs' (EXPLAIN ANALYZE runs them
// and drops the rows: no output functions, no sending), the smallest of a few tries.
double executionMs(PGconn *connection, const Database &database, const RunPlan &run)
{
    const auto queries = Serializer::queries(database);
    double total = 0;
    for (const auto &[query, bounds] : run.steps) {
        const QByteArray from = QByteArray::number(bounds[0]);
        const QByteArray to = QByteArray::number(bounds[1]);
        const char *values[] = { from.constData(), to.constData() };
        int parameters = 0;
        const QByteArray sql = "EXPLAIN (ANALYZE, TIMING OFF) "
            + PostgresStatement::numberPlaceholders(queries[size_t(query)].toUtf8(), &parameters);
        double best = 1e9;
        for (int attempt = 0; attempt < 5; ++attempt) {
            PGresult *plan
                = PQexecParams(connection, sql.constData(), 2, nullptr, values, nullptr, nullptr, 0);
            for (int row = 0; row < PQntuples(plan); ++row) {
                const QByteArray line = PQgetvalue(plan, row, 0);
                if (line.startsWith("Execution Time: "))
                    best = std::min(best, line.mid(16).split(' ').first().toDouble());
            }
            PQclear(plan);
        }
        total += best;
    }
    return total;
}

double medianMicros(int repeat, PGconn *connection, const char *name)
{
    return measure(repeat,
               [&] {
                   PQclear(PQexecPrepared(connection, name, 0, nullptr, nullptr, nullptr, 0));
                   return qsizetype(0);
               })
               .medianMs
        * 1000.0;
}

} // namespace

PostgresBench::PostgresBench(QString sqlitePath, QString drfReference)
    : m_sqlitePath(std::move(sqlitePath))
    , m_drfReference(std::move(drfReference))
{
}

void PostgresBench::setUp()
{
    QElapsedTimer timer;
    timer.start();
    startServer();
    createSchema();
    copyRows();
    std::printf("\nPostgreSQL: throw-away cluster, Django's schema, medium's rows copied in %.2f s\n",
        double(timer.elapsed()) / 1000.0);
}

void PostgresBench::startServer()
{
    QString error;
    if (!m_server.start(&error))
        qFatal("%s", qPrintable(error));
    // The tests' 32 MB would not hold medium (links and their indexes alone are larger); a server
    // that serves an API keeps its working set in memory.
    if (!m_server.exec(
            QStringLiteral("postgres"), QStringLiteral("ALTER SYSTEM SET shared_buffers = '256MB'"), &error)
        || !m_server.pause(&error) || !m_server.restart(&error)
        || !m_server.createDatabase(databaseName, &error))
        qFatal("%s", qPrintable(error));
}

void PostgresBench::createSchema()
{
    // Django's own DDL for these models (types, constraints and indexes, as migrate makes them).
    QProcess python;
    python.start(QStringLiteral("/usr/bin/python3"),
        { m_drfReference, QStringLiteral("sqlmigrate"), QStringLiteral("--vendor"),
            QStringLiteral("postgresql"), QStringLiteral("--app-label"), QStringLiteral("api") });
    if (!python.waitForFinished(120000) || python.exitCode() != 0)
        qFatal("sqlmigrate failed: %s", python.readAllStandardError().constData());
    QString error;
    if (!m_server.exec(databaseName, QString::fromUtf8(python.readAllStandardOutput()), &error))
        qFatal("%s", qPrintable(error));
}

void PostgresBench::copyRows()
{
    sqlite3 *source = nullptr;
    if (sqlite3_open_v2(QFile::encodeName(m_sqlitePath).constData(), &source, SQLITE_OPEN_READONLY, nullptr)
        != SQLITE_OK)
        qFatal("cannot open %s", qPrintable(m_sqlitePath));
    PGconn *target = connect();
    const std::pair<const char *, const char *> tables[] = {
        { "api_foo", "id, name" },
        { "api_bar", "id, name, foo_id" },
        { "api_zab", "id, name, bar_id" },
        { "api_baz", "id, name" },
        { "api_zab_bazs", "id, zab_id, baz_id" },
    };
    for (const auto &[table, columns] : tables)
        copyTable(source, target, QLatin1String(table), QLatin1String(columns));
    // autovacuum is off in the test cluster: statistics and the visibility map now, once; and the
    // copy's dirty pages written before timing, not by the checkpointer during it.
    for (const char *command : { "VACUUM ANALYZE", "CHECKPOINT" }) {
        PGresult *result = PQexec(target, command);
        if (PQresultStatus(result) != PGRES_COMMAND_OK)
            qFatal("%s: %s", command, PQresultErrorMessage(result));
        PQclear(result);
    }
    PQfinish(target);
    sqlite3_close(source);
}

void PostgresBench::copyTable(sqlite3 *source, PGconn *target, const QString &table, const QString &columns)
{
    sqlite3_stmt *rows = nullptr;
    const QByteArray select
        = QStringLiteral("SELECT %1 FROM \"%2\" ORDER BY id").arg(columns, table).toUtf8();
    if (sqlite3_prepare_v2(source, select.constData(), -1, &rows, nullptr) != SQLITE_OK)
        qFatal("%s", sqlite3_errmsg(source));
    PGresult *copy = PQexec(
        target, QStringLiteral("COPY \"%1\" (%2) FROM STDIN").arg(table, columns).toUtf8().constData());
    if (PQresultStatus(copy) != PGRES_COPY_IN)
        qFatal("COPY %s: %s", qPrintable(table), PQresultErrorMessage(copy));
    PQclear(copy);
    QByteArray buffer;
    const int count = sqlite3_column_count(rows);
    while (sqlite3_step(rows) == SQLITE_ROW) {
        for (int column = 0; column < count; ++column) {
            appendCopyValue(buffer, rows, column);
            buffer += column + 1 < count ? '\t' : '\n';
        }
        if (buffer.size() > (1 << 20)) {
            PQputCopyData(target, buffer.constData(), int(buffer.size()));
            buffer.clear();
        }
    }
    sqlite3_finalize(rows);
    PQputCopyData(target, buffer.constData(), int(buffer.size()));
    PQputCopyEnd(target, nullptr);
    PGresult *done = PQgetResult(target);
    if (PQresultStatus(done) != PGRES_COMMAND_OK)
        qFatal("COPY %s: %s", qPrintable(table), PQresultErrorMessage(done));
    PQclear(done);
    while (PGresult *rest = PQgetResult(target))
        PQclear(rest);
}

DatabaseConfig PostgresBench::config() const
{
    DatabaseConfig config;
    config.engine = DatabaseConfig::Engine::Postgres;
    config.host = m_server.socketDir(); // a folder: libpq's unix socket
    config.port = m_server.port();
    config.user = m_server.user();
    config.password = m_server.password();
    config.databaseName = databaseName;
    config.readOnly = true;
    return config;
}

std::unique_ptr<Database> PostgresBench::open(bool engineStatements) const
{
    auto database = Database::open(config());
    if (!database)
        qFatal("%s", qPrintable(database.error().message));
    (*database)->setEngineStatements(engineStatements);
    return std::move(*database);
}

PGconn *PostgresBench::connect() const
{
    const QByteArray host = m_server.socketDir().toUtf8(), port = QByteArray::number(m_server.port());
    const QByteArray user = m_server.user().toUtf8(), password = m_server.password().toUtf8();
    const QByteArray name = databaseName.toUtf8();
    const char *keywords[] = { "host", "port", "user", "password", "dbname", nullptr };
    const char *values[] = { host.constData(), port.constData(), user.constData(), password.constData(),
        name.constData(), nullptr };
    PGconn *connection = PQconnectdbParams(keywords, values, 0);
    if (PQstatus(connection) != CONNECTION_OK)
        qFatal("%s", PQerrorMessage(connection));
    return connection;
}

struct PostgresBench::Figures {
    Timing foo;
    Timing list;
    int fooQueries = 0; // statements one call executed
    int listQueries = 0;
    qsizetype foos = 0;
};

void PostgresBench::run(int repeat, bool drf)
{
    auto database = open(true);
    auto viaQt = open(false);
    const qint64 pk = largestFoo(*database);
    const QList<qint64> foos = *database->fooIds();
    compareWithSqlite(*database); // and every page in the server's memory before timing
    PGconn *connection = connect();
    Serializer ours(*database);
    Serializer qt(*viaQt);
    // [binary rows][largest Foo alone, the list]: a floor knows the Bazs each Foo asks for.
    std::unique_ptr<PostgresFloor> floors[2][2];
    for (const bool binary : { false, true }) {
        for (const bool list : { false, true }) {
            floors[binary][list] = std::make_unique<PostgresFloor>(connection, *database, binary);
            floors[binary][list]->learn(list ? foos : QList<qint64> { pk });
        }
    }
    const auto foo = measureInTurns(repeat,
        { [&] { return ours.foo(pk)->size(); }, [&] { return floors[0][0]->read(); },
            [&] { return floors[1][0]->read(); }, [&] { return qt.foo(pk)->size(); } });
    Figures figures { foo[0], {}, ours.queryCount() / repeat, 0, foos.size() };
    const int listRepeat = std::max(3, repeat / 4);
    const auto list = measureInTurns(listRepeat,
        { [&] { return ours.list()->size(); }, [&] { return floors[0][1]->read(); },
            [&] { return floors[1][1]->read(); }, [&] { return qt.list()->size(); } });
    figures.list = list[0];
    figures.listQueries = (ours.queryCount() - figures.fooQueries * repeat) / listRepeat;
    printTables(PQparameterStatus(connection, "server_version"), pk, foo, list);
    printBounds(
        connection, figures, { foo[1], foo[2], list[1], list[2] }, executionMs(connection, *database, floors[0][0]->plans().front()));
    PQfinish(connection);
    if (!drf)
        return;
    // Over the same unix socket: libpq's host=<folder> goes through Django's OPTIONS.
    const auto encoded = [](const QString &text) { return QString::fromLatin1(QUrl::toPercentEncoding(text)); };
    const QString url = QStringLiteral("postgresql://%1:%2@/%3?host=%4&port=%5")
                            .arg(encoded(m_server.user()), encoded(m_server.password()), databaseName,
                                 encoded(m_server.socketDir()), QString::number(m_server.port()));
    const double drfFoo = drfSeconds(m_drfReference, url, { QStringLiteral("--pk"), QString::number(pk) });
    const double drfList = drfSeconds(m_drfReference, url, { QStringLiteral("--list") });
    const double oursFoo = foo[0].medianMs / 1000.0;
    const double oursList = list[0].medianMs / 1000.0;
    std::printf("\nDRF on the same PostgreSQL server and rows (Django's backend, psycopg2), one sample each\n");
    std::printf("  %-34s %9.3f s  Preserve %8.4f s (median)  ratio %6.0fx\n", "largest Foo", drfFoo, oursFoo, drfFoo / oursFoo);
    std::printf("  %-34s %9.3f s  Preserve %8.4f s (median)  ratio %6.0fx\n", "whole list", drfList, oursList, drfList / oursList);
}

void PostgresBench::printTables(
    const char *version, qint64 pk, const std::vector<Timing> &foo, const std::vector<Timing> &list)
{
    const QByteArray largest = QStringLiteral("largest Foo (pk %1)").arg(pk).toUtf8();
    std::printf("\nPreserve, PostgreSQL %s over a unix socket, one thread, libpq statements\n"
                "  %-34s %12s %12s %12s %14s\n",
        version, "", "median", "min", "size", "rate");
    printRow(largest.constData(), foo[0]);
    printRow("whole list", list[0]);
    std::printf("  engine floor (libpq, same statements)  %9s    %9s  %9s\n", "floor", "Preserve", "ratio");
    printFloorRow("largest Foo", foo[0], foo[1]);
    printFloorRow("whole list", list[0], list[1]);
    std::printf("\nThe same serializer through Qt SQL (QSqlQuery statements), taking turns with the above\n");
    printRow(largest.constData(), foo[3]);
    printRow("whole list", list[3]);
    std::printf("  Qt SQL -> libpq: largest Foo %.2f -> %.2f ms (%.1fx faster), whole list %.2f -> %.2f ms "
                "(%.1fx faster)\n",
        foo[3].medianMs, foo[0].medianMs, foo[3].medianMs / foo[0].medianMs, list[3].medianMs,
        list[0].medianMs, list[3].medianMs / list[0].medianMs);
}

void PostgresBench::compareWithSqlite(Database &postgres)
{
    auto sqlite = Database::open(*DatabaseConfig::parse(m_sqlitePath, QStringLiteral("api"), true));
    if (!sqlite)
        qFatal("%s", qPrintable(sqlite.error().message));
    Serializer fromPostgres(postgres);
    Serializer fromSqlite(**sqlite);
    const QByteArray a = *fromPostgres.list();
    const QByteArray b = *fromSqlite.list();
    std::printf("  whole list byte for byte the same as from SQLite: %s (%lld bytes)\n",
        a == b ? "yes" : "NO", static_cast<long long>(a.size()));
}

void PostgresBench::printBounds(
    PGconn *connection, const Figures &ours, const std::array<Timing, 4> &floors, double executionMs)
{
    PQclear(PQprepare(connection, "round_trip", "SELECT 1", 0, nullptr));
    const double roundTrip = medianMicros(2001, connection, "round_trip");
    std::printf("\nWhat bounds PostgreSQL here (one backend, one query at a time, each a round trip)\n");
    std::printf(
        "  round trips: the largest Foo %d queries + 3 for its snapshot (BEGIN, SET TRANSACTION, COMMIT);\n"
        "    the list %d for %lld Foos (per run of up to 32 Foos: Foos, Bars, Zabs, links, and new Bazs when\n"
        "    there are any; + 1 for the ids)\n",
        ours.fooQueries, ours.listQueries, static_cast<long long>(ours.foos));
    std::printf("  one round trip (a prepared SELECT 1): %.1f us, so %.1f ms of the list's %.1f ms\n",
        roundTrip, roundTrip * ours.listQueries / 1000.0, ours.list.medianMs);
    std::printf(
        "  the server executing the largest Foo's queries but the Bazs' (EXPLAIN ANALYZE): %.2f ms of its floor's "
        "%.2f ms;\n"
        "    the rest is output functions, sending rows over the socket and libpq building the PGresult\n",
        executionMs, floors[0].medianMs);
    std::printf(
        "  row format: text (what the statement reads); binary rows take the floor %.2f -> %.2f ms (Foo),\n"
        "    %.1f -> %.1f ms (list)\n",
        floors[0].medianMs, floors[1].medianMs, floors[2].medianMs, floors[3].medianMs);
    std::printf(
        "  the serializer works between queries, while the server waits: the protocol is request/response\n"
        "    (libpq's pipeline mode could send a run's queries at once; Statement runs one at a "
        "time)\n");
}
