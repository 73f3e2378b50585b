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

// The engine's floor: the serializer's own statements, prepared once through the C API,
// stepped to the end with every column read, and nothing built. What the serializer spends above
// this is its own.
class EngineFloor {
public:
    explicit EngineFloor(Database &database)
        : m_handle(database.sqliteHandle())
    {
        const auto sql = Serializer::queries(database);
        for (int i = 0; i < 6; ++i) {
            const QByteArray text = sql[size_t(i)].toUtf8();
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

    void learnBazIds(const QList<qint64> &foos)
    {
        sqlite3_stmt *links = m_statements[3];
        m_fewBazIds = freshBazIds(foos, [links](qint64 foo) {
            QList<qint64> bazs;
            sqlite3_bind_int64(links, 1, foo);
            while (sqlite3_step(links) == SQLITE_ROW)
                bazs << sqlite3_column_int64(links, 2);
            sqlite3_reset(links);
            return bazs;
        });
        for (auto it = m_fewBazIds.cbegin(); it != m_fewBazIds.cend(); ++it)
            m_bazIds.insert(it.key(), idArray(it.value(), '[', ']'));
    }

    // One Foo as in list(): the four queries bound to its pk, then its new Bazs.
    qsizetype foo(qint64 pk)
    {
        qsizetype bytes = 0;
        for (int i = 0; i < 4; ++i) {
            sqlite3_bind_int64(m_statements[i], 1, pk);
            bytes += drain(m_statements[i]);
        }
        const QList<qint64> &few = m_fewBazIds[pk];
        if (few.isEmpty())
            return bytes;
        if (few.size() <= Serializer::fewBazs) {
            for (int i = 0; i < Serializer::fewBazs; ++i)
                sqlite3_bind_int64(m_statements[5], i + 1, few[std::min<qsizetype>(i, few.size() - 1)]);
            return bytes + drain(m_statements[5]);
        }
        const QByteArray &ids = m_bazIds[pk];
        sqlite3_bind_text(m_statements[4], 1, ids.constData(), int(ids.size()), SQLITE_STATIC);
        return bytes + drain(m_statements[4]);
    }
    qsizetype list(const QList<qint64> &foos)
    {
        sqlite3_exec(m_handle, "BEGIN", nullptr, nullptr, nullptr);
        qsizetype bytes = 0;
        for (qint64 pk : foos)
            bytes += foo(pk);
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
    sqlite3_stmt *m_statements[6] {};
    QHash<qint64, QByteArray> m_bazIds;
    QHash<qint64, QList<qint64>> m_fewBazIds;
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
    single.learnBazIds({ pk });
    const Timing floorFoo = measure(repeat, [&] { return single.foo(pk); });
    EngineFloor floor(**database);
    const QList<qint64> foos = *(*database)->fooIds();
    floor.learnBazIds(foos);
    const Timing floorList = measure(std::max(3, repeat / 4), [&] { return floor.list(foos); });
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
