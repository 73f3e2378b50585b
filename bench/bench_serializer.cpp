// Figures for the live serializer: the largest Foo and the whole list of the demo data, from SQLite,
// one thread, with and without ANALYZE statistics; beside each, the engine's floor (the same
// statements stepped through the C API, nothing built) and the ratio to it; with --drf, DRF itself
// on the same file in the same run, so the ratio holds on a noisy machine; with --pg, the same on
// PostgreSQL over a unix socket, through libpq and through Qt SQL (postgresbench.h). Prints;
// asserts nothing.
#include "benchsupport.h"
#include "db/database.h"
#include "db/seeder.h"
#include "postgresbench.h"
#include "serialize/serializer.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QSqlQuery>
#include <QTemporaryDir>

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

// The engine's floor: the serializer's own statements, prepared once through the C API, bound
// as the serializer binds them run by run (planRuns), stepped to the end with every column read,
// and nothing built. What the serializer spends above this is its own.
class EngineFloor {
public:
    explicit EngineFloor(Database &database)
        : m_handle(database.sqliteHandle())
    {
        const auto sql = Serializer::queries(database);
        for (size_t i = 0; i < sql.size(); ++i) {
            const QByteArray text = sql[i].toUtf8();
            if (sqlite3_prepare_v3(m_handle, text.constData(), int(text.size()), SQLITE_PREPARE_PERSISTENT,
                                   &m_statements[i], nullptr)
                != SQLITE_OK)
                qFatal("%s", sqlite3_errmsg(m_handle));
        }
    }
    ~EngineFloor()
    {
        for (sqlite3_stmt *statement : m_statements)
            sqlite3_finalize(statement);
    }

    void learn(const QList<qint64> &foos)
    {
        m_plans = planRuns(foos, [this](Serializer::Query query, qint64 low, qint64 high) {
            sqlite3_stmt *statement = m_statements[query];
            sqlite3_bind_int64(statement, 1, low);
            sqlite3_bind_int64(statement, 2, high);
            std::vector<std::array<qint64, 2>> rows;
            while (sqlite3_step(statement) == SQLITE_ROW)
                rows.push_back({ sqlite3_column_int64(statement, 0), sqlite3_column_int64(statement, 1) });
            sqlite3_reset(statement);
            return rows;
        });
        m_bazArrays.clear();
        for (const RunPlan &plan : m_plans)
            m_bazArrays.push_back(idArray(plan.newBazs, '[', ']'));
    }

    // Every run learned, in one transaction, as list() reads them.
    qsizetype read()
    {
        sqlite3_exec(m_handle, "BEGIN", nullptr, nullptr, nullptr);
        qsizetype bytes = 0;
        for (size_t i = 0; i < m_plans.size(); ++i) {
            const RunPlan &plan = m_plans[i];
            for (const auto &[query, bounds] : plan.steps) {
                sqlite3_bind_int64(m_statements[query], 1, bounds[0]);
                sqlite3_bind_int64(m_statements[query], 2, bounds[1]);
                bytes += drain(m_statements[query]);
            }
            const QList<qint64> &few = plan.newBazs;
            if (few.isEmpty())
                continue;
            if (few.size() <= Serializer::fewBazs) {
                sqlite3_stmt *statement = m_statements[Serializer::FewBazs];
                for (int b = 0; b < Serializer::fewBazs; ++b)
                    sqlite3_bind_int64(statement, b + 1, few[std::min<qsizetype>(b, few.size() - 1)]);
                bytes += drain(statement);
            } else {
                sqlite3_stmt *statement = m_statements[Serializer::BazArray];
                sqlite3_bind_text(statement, 1, m_bazArrays[i].constData(), int(m_bazArrays[i].size()), SQLITE_STATIC);
                bytes += drain(statement);
            }
        }
        sqlite3_exec(m_handle, "COMMIT", nullptr, nullptr, nullptr);
        return bytes;
    }

private:
    static qsizetype drain(sqlite3_stmt *statement)
    {
        const int columns = sqlite3_column_count(statement);
        qsizetype bytes = 0;
        while (sqlite3_step(statement) == SQLITE_ROW) {
            for (int c = 0; c < columns; ++c) {
                if (sqlite3_column_type(statement, c) == SQLITE_INTEGER)
                    bytes += sqlite3_column_int64(statement, c) & 1;
                else
                    bytes += sqlite3_column_bytes(statement, c) + (sqlite3_column_text(statement, c) != nullptr);
            }
        }
        sqlite3_reset(statement);
        return bytes;
    }

    sqlite3 *m_handle;
    sqlite3_stmt *m_statements[Serializer::QueryCount] {};
    std::vector<RunPlan> m_plans;
    std::vector<QByteArray> m_bazArrays;
};

struct Figures {
    Timing foo;
    Timing list;
};

Figures runPreserve(const QString &path, int repeat, const char *title)
{
    auto database = Database::open(*DatabaseConfig::parse(path, QStringLiteral("api"), true));
    if (!database)
        qFatal("%s", qPrintable(database.error().message));
    Serializer serializer(**database);
    const qint64 pk = largestFoo(**database);
    std::printf("%s\n  %-34s %12s %12s %12s %14s\n", title, "", "median", "min", "size", "rate");
    const Timing foo = measure(repeat, [&] { return serializer.foo(pk)->size(); });
    printRow(qPrintable(QStringLiteral("largest Foo (pk %1)").arg(pk)), foo);
    const Timing list = measure(std::max(3, repeat / 4), [&] { return serializer.list()->size(); });
    printRow("whole list", list);

    // Alternated with the serializer's runs above would be fairer still; one after the other in
    // the same process is close enough on a quiet machine and keeps the output readable.
    EngineFloor single(**database);
    single.learn({ pk });
    const Timing floorFoo = measure(repeat, [&] { return single.read(); });
    EngineFloor floor(**database);
    floor.learn(*(*database)->fooIds());
    const Timing floorList = measure(std::max(3, repeat / 4), [&] { return floor.read(); });
    std::printf("  engine floor (C API, same statements)  %9s    %9s  %9s\n", "floor", "Preserve", "ratio");
    printFloorRow("largest Foo", foo, floorFoo);
    printFloorRow("whole list", list, floorList);
    return { foo, list };
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Times the live serializer on the demo data."));
    parser.addHelpOption();
    const QCommandLineOption db(QStringLiteral("db"), QStringLiteral("SQLite file (default: a fresh seed)."), QStringLiteral("file"));
    const QCommandLineOption scale(QStringLiteral("scale"), QStringLiteral("Seed scale (default medium)."),
                                   QStringLiteral("scale"), QStringLiteral("medium"));
    const QCommandLineOption repeat(QStringLiteral("repeat"), QStringLiteral("Runs per figure (default 20)."),
                                    QStringLiteral("n"), QStringLiteral("20"));
    const QCommandLineOption drf(QStringLiteral("drf"), QStringLiteral("Also time DRF itself on the same file."));
    const QCommandLineOption postgres(QStringList { QStringLiteral("pg"), QStringLiteral("postgres") },
                                      QStringLiteral("Also copy the data into a throw-away PostgreSQL and time it there."));
    parser.addOptions({ db, scale, repeat, drf, postgres });
    parser.process(app);

    QTemporaryDir dir;
    QString path = parser.value(db);
    if (path.isEmpty()) {
        path = dir.filePath(QStringLiteral("bench.sqlite3"));
        QElapsedTimer timer;
        timer.start();
        const auto summary = Seeder::write(path, *Seeder::scale(parser.value(scale)), QStringLiteral("api"));
        if (!summary)
            qFatal("%s", qPrintable(summary.error().message));
        std::printf("seed %s: %lld Foo, %lld Bar, %lld Zab, %lld links written in %.2f s\n\n",
                    qPrintable(parser.value(scale)), summary->foos, summary->bars, summary->zabs, summary->links,
                    double(timer.elapsed()) / 1000.0);
    }
    const int runs = std::max(1, parser.value(repeat).toInt());
    const Figures ours = runPreserve(path, runs, "Preserve, SQLite, one thread, no statistics");

    const QString analyzed = dir.filePath(QStringLiteral("analyzed.sqlite3"));
    QFile::remove(analyzed);
    QFile::copy(path, analyzed);
    {
        auto database = Database::open(*DatabaseConfig::parse(analyzed));
        QSqlQuery((*database)->connection()).exec(QStringLiteral("ANALYZE"));
    }
    runPreserve(analyzed, runs, "\nPreserve, same data with ANALYZE statistics (sqlite_stat1)");

    if (parser.isSet(drf)) {
        auto database = Database::open(*DatabaseConfig::parse(path));
        const qint64 pk = largestFoo(**database);
        // Preserve's medians from above against one DRF sample each (DRF's run to run spread is a
        // few per cent; one list takes it 15 to 20 s).
        const double oursFoo = ours.foo.medianMs / 1000.0;
        const double oursList = ours.list.medianMs / 1000.0;
        const double drfFoo = drfSeconds(QStringLiteral(DRF_REFERENCE), path, { QStringLiteral("--pk"), QString::number(pk) });
        const double drfList = drfSeconds(QStringLiteral(DRF_REFERENCE), path, { QStringLiteral("--list") });
        std::printf("\nDRF 3.14 / Django 3.2 on the same file, same run (one sample each)\n");
        std::printf("  %-34s %9.3f s  Preserve %8.4f s (median)  ratio %6.0fx\n", "largest Foo", drfFoo, oursFoo, drfFoo / oursFoo);
        std::printf("  %-34s %9.3f s  Preserve %8.4f s (median)  ratio %6.0fx\n", "whole list", drfList, oursList, drfList / oursList);
    }
    if (parser.isSet(postgres)) {
        PostgresBench bench(path, QStringLiteral(DRF_REFERENCE));
        bench.setUp();
        bench.run(runs, parser.isSet(drf));
    }
    return 0;
}
