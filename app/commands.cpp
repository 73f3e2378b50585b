#include "commands.h"

#include "db/database.h"
#include "db/seeder.h"
#include "serialize/serializer.h"

#include "cli.h"

#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QStandardPaths>

#include <cstdio>

using namespace Cli;

int Commands::seed(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Writes the deterministic demo database: a SQLite file with "
                                                    "Django's schema for the Foo/Bar/Zab/Baz models."));
    const QCommandLineOption scale(QStringLiteral("scale"), QStringLiteral("small, medium (default), large or wide (100,000 Foos)."),
                                   QStringLiteral("scale"), QStringLiteral("medium"));
    const QCommandLineOption out(QStringLiteral("out"), QStringLiteral("File to write (default: the demo database)."),
                                 QStringLiteral("file"));
    const QCommandLineOption appLabel(QStringLiteral("app-label"), QStringLiteral("Django app label (default: api)."),
                                      QStringLiteral("label"), QStringLiteral("api"));
    const QCommandLineOption force(QStringLiteral("force"), QStringLiteral("Replace an existing file."));
    const QCommandLineOption ifMissing(QStringLiteral("if-missing"),
                                       QStringLiteral("Do nothing (and succeed) when the file exists."));
    parser.addOptions({ scale, out, appLabel, force, ifMissing });
    if (auto code = parse(parser, QStringLiteral("seed"), arguments))
        return *code;
    if (!parser.positionalArguments().isEmpty()) {
        printError(QStringLiteral("seed takes no positional arguments"));
        return Usage;
    }
    const auto chosen = Seeder::scale(parser.value(scale));
    if (!chosen)
        return exitCodeFor(chosen.error());
    const QString path = QDir::current().absoluteFilePath(parser.isSet(out) ? parser.value(out) : Cli::demoDatabasePath());
    if (parser.isSet(ifMissing) && QFileInfo::exists(path)) {
        std::printf("Demo database already at %s\n", qPrintable(QDir::toNativeSeparators(path)));
        return Ok;
    }
    QDir().mkpath(QFileInfo(path).absolutePath());
    QElapsedTimer timer;
    timer.start();
    const bool terminal = stderrIsTerminal();
    const auto summary = Seeder::write(path, *chosen, parser.value(appLabel), parser.isSet(force), [&](int foos) {
        if (terminal)
            std::fprintf(stderr, "\rwriting Foo %d of %d", foos, chosen->foos);
    });
    if (terminal)
        std::fputs("\r\033[K", stderr);
    if (!summary)
        return exitCodeFor(summary.error());
    std::printf("Wrote the %s demo database to %s in %.1f s: %lld Foo, %lld Bar, %lld Zab, %lld Baz, %lld links\n",
                qPrintable(chosen->name), qPrintable(QDir::toNativeSeparators(path)), double(timer.elapsed()) / 1000.0,
                summary->foos, summary->bars, summary->zabs, summary->bazs, summary->links);
    return Ok;
}

int Commands::dump(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Prints the body DRF would send for a Foo, serialized live "
                                                    "from the database, byte for byte (no trailing newline)."));
    DatabaseOptions options;
    options.addTo(parser);
    const QCommandLineOption all(QStringLiteral("all"), QStringLiteral("Print the list body of every Foo."));
    parser.addOption(all);
    parser.addPositionalArgument(QStringLiteral("pk"), QStringLiteral("Primary key of the Foo."), QStringLiteral("[pk]"));
    if (auto code = parse(parser, QStringLiteral("dump"), arguments))
        return *code;
    const QStringList positional = parser.positionalArguments();
    if (parser.isSet(all) == (positional.size() == 1) || positional.size() > 1) {
        printError(QStringLiteral("dump takes one Foo primary key, or --all"));
        return Usage;
    }
    qint64 pk = 0;
    if (!parser.isSet(all)) {
        bool number = false;
        pk = positional.first().toLongLong(&number);
        if (!number) {
            printError(QStringLiteral("\"%1\" is not a primary key: Foo keys are whole numbers").arg(positional.first()));
            return Usage;
        }
    }
    auto database = options.open(parser);
    if (!database)
        return exitCodeFor(database.error());
    Serializer serializer(**database);
    const auto body = parser.isSet(all) ? serializer.list() : serializer.foo(pk);
    if (!body)
        return exitCodeFor(body.error());
    if (serializer.replacedSequences() > 0)
        printError(QStringLiteral("warning: %1 invalid UTF-8 sequence(s) in names were replaced with U+FFFD")
                       .arg(serializer.replacedSequences()));
    if (!writeStdout(*body)) {
        printError(QStringLiteral("cannot write to standard output"));
        return Failed;
    }
    return Ok;
}

int Commands::info(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Opens a Django database, checks the app's tables and prints "
                                                    "how many Foo, Bar, Zab, Baz and links it holds."));
    DatabaseOptions options;
    options.addTo(parser);
    if (auto code = parse(parser, QStringLiteral("info"), arguments))
        return *code;
    auto database = options.open(parser);
    if (!database)
        return exitCodeFor(database.error());
    const auto counts = (*database)->counts();
    if (!counts)
        return exitCodeFor(counts.error());
    const auto labels = (*database)->appLabels();
    std::printf("Database:   %s\nApp label:  %s%s\nFoo:        %lld\nBar:        %lld\nZab:        %lld\n"
                "Baz:        %lld\nZab-Baz:    %lld links\n",
                qPrintable((*database)->config().displayName()), qPrintable((*database)->config().appLabel),
                labels && labels->size() > 1
                    ? qPrintable(QStringLiteral(" (others here: %1)").arg(labels->join(QStringLiteral(", "))))
                    : "",
                counts->foos, counts->bars, counts->zabs, counts->bazs, counts->links);
    return Ok;
}
