// Figures for the live serializer: the largest Foo and the whole list of the demo data, from SQLite,
// one thread, with and without ANALYZE statistics, and (with --drf) DRF itself on the same file in
// the same run, so the ratio holds on a noisy machine. Prints; asserts nothing.
#include "db/database.h"
#include "db/seeder.h"
#include "serialize/serializer.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSqlQuery>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

struct Timing {
    double medianMs = 0;
    double minMs = 0;
    qsizetype bytes = 0;
};

template <typename Work>
Timing measure(int repeat, Work work)
{
    std::vector<double> samples;
    Timing timing;
    for (int i = 0; i < repeat; ++i) {
        QElapsedTimer timer;
        timer.start();
        timing.bytes = work();
        samples.push_back(double(timer.nsecsElapsed()) / 1e6);
    }
    std::sort(samples.begin(), samples.end());
    timing.medianMs = samples[samples.size() / 2];
    timing.minMs = samples.front();
    return timing;
}

void printRow(const char *what, const Timing &t)
{
    std::printf("  %-34s %9.2f ms %9.2f ms %9.2f MB %9.1f MB/s\n", what, t.medianMs, t.minMs, double(t.bytes) / 1e6,
                double(t.bytes) / 1e6 / (t.medianMs / 1000.0));
}

qint64 largestFoo(Database &database)
{
    const DjangoTables &t = database.tables();
    auto statement = database.run(QStringLiteral("SELECT b.foo_id FROM %1 b JOIN %2 z ON z.bar_id = b.id JOIN %3 l "
                                                 "ON l.zab_id = z.id GROUP BY b.foo_id ORDER BY count(*) DESC LIMIT 1")
                                      .arg(DjangoTables::quote(t.bar), DjangoTables::quote(t.zab),
                                           DjangoTables::quote(t.zabBazs)));
    return statement && (*statement)->next() ? (*statement)->integer(0) : 1;
}

void runPreserve(const QString &path, int repeat, const char *title)
{
    auto database = Database::open(*DatabaseConfig::parse(path, QStringLiteral("api"), true));
    if (!database)
        qFatal("%s", qPrintable(database.error().message));
    Serializer serializer(**database);
    const qint64 pk = largestFoo(**database);
    std::printf("%s\n  %-34s %12s %12s %12s %14s\n", title, "", "median", "min", "size", "rate");
    printRow(qPrintable(QStringLiteral("largest Foo (pk %1)").arg(pk)),
             measure(repeat, [&] { return serializer.foo(pk)->size(); }));
    printRow("whole list", measure(std::max(3, repeat / 4), [&] { return serializer.list()->size(); }));
}

// DRF's own time for the same work, measured inside Python (start-up excluded).
double drfSeconds(const QString &path, const QStringList &what)
{
    QProcess python;
    python.start(QStringLiteral("/usr/bin/python3"),
                 QStringList { QStringLiteral(DRF_REFERENCE), QStringLiteral("render"), QStringLiteral("--db"), path,
                               QStringLiteral("--time"), QStringLiteral("--out"), QStringLiteral("/dev/null") }
                     + what);
    python.waitForFinished(-1);
    const auto match = QRegularExpression(QStringLiteral("seconds=([0-9.]+)")).match(QString::fromUtf8(python.readAllStandardError()));
    return match.hasMatch() ? match.captured(1).toDouble() : -1;
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
    parser.addOptions({ db, scale, repeat, drf });
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
    runPreserve(path, runs, "Preserve, SQLite, one thread, no statistics");

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
        Serializer serializer(**database);
        QElapsedTimer timer;
        timer.start();
        (void)serializer.foo(pk);
        const double oursFoo = double(timer.nsecsElapsed()) / 1e9;
        timer.start();
        (void)serializer.list();
        const double oursList = double(timer.nsecsElapsed()) / 1e9;
        const double drfFoo = drfSeconds(path, { QStringLiteral("--pk"), QString::number(pk) });
        const double drfList = drfSeconds(path, { QStringLiteral("--list") });
        std::printf("\nDRF 3.14 / Django 3.2 on the same file, same run (one sample each)\n");
        std::printf("  %-34s %9.3f s  Preserve %8.4f s  ratio %6.0fx\n", "largest Foo", drfFoo, oursFoo, drfFoo / oursFoo);
        std::printf("  %-34s %9.3f s  Preserve %8.4f s  ratio %6.0fx\n", "whole list", drfList, oursList, drfList / oursList);
    }
    return 0;
}
