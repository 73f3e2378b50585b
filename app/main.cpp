#include "cachecommands.h"
#include "cli.h"
#include "commands.h"
#include "guicommand.h"
#include "servecommand.h"
#include "workercommand.h"

#include <QApplication>
#include <QCoreApplication>
#include <QTextStream>

#include <cstdio>
#include <malloc.h>
#include <functional>
#include <map>
#include <memory>

namespace {

struct Command {
    const char *summary;
    std::function<int(const QStringList &)> run;
};

const std::map<QString, Command> &commands()
{
    static const std::map<QString, Command> table {
        { QStringLiteral("seed"), { "write the deterministic demo database (SQLite, Django's schema)", Commands::seed } },
        { QStringLiteral("dump"), { "print the live DRF body of one Foo (or --all: the list)", Commands::dump } },
        { QStringLiteral("info"), { "check a database's Django tables and print what it holds", Commands::info } },
        { QStringLiteral("status"), { "the state of every cache entry: fresh, stale and why, missing, …", Commands::status } },
        { QStringLiteral("impact"), { "which Foos a change to one Bar, Zab or Baz reaches, and their bytes", Commands::impact } },
        { QStringLiteral("warm"), { "refresh all (or --stale-only) cache entries in the background", Commands::warm } },
        { QStringLiteral("verify"), { "re-serialize and compare with the cached entries", Commands::verify } },
        { QStringLiteral("rollback"), { "put back the entry the last refresh or invalidation replaced", Commands::rollback } },
        { QStringLiteral("invalidate"), { "remove cache entries", Commands::invalidate } },
        { QStringLiteral("serve"), { "serve the cached API over HTTP (DRF's /api/foos/), until SIGINT/SIGTERM", Commands::serve } },
        { QStringLiteral("worker"), { "keep the cache fresh by itself: follow every change and refresh what it reaches", Commands::worker } },
        { QStringLiteral("track"), { "install, remove or show change tracking (staleness you can trust)", Commands::track } },
        { QStringLiteral("gui"), { "the desktop console (the default when there is a display)", Commands::gui } },
    };
    return table;
}

void printHelp(FILE *stream)
{
    QTextStream out(stream);
    out << "Usage: preserve <command> [options]\n\n"
        << "Preserve inspects, refreshes and serves the pre-serialized JSON cache of a Django REST\n"
        << "Framework API (Foo -> Bar -> Zab -> Baz).\n\n"
        << "Commands:\n";
    for (const auto &[name, command] : commands())
        out << "  " << name.leftJustified(12) << command.summary << '\n';
    out << "\n'preserve <command> --help' shows the options of a command.\n"
        << "Without --db, commands use the demo database: " << Cli::demoDatabasePath() << '\n';
}

bool displayAvailable()
{
    return qEnvironmentVariableIsSet("DISPLAY") || qEnvironmentVariableIsSet("WAYLAND_DISPLAY")
        || qEnvironmentVariableIsSet("QT_QPA_PLATFORM");
}

// Like hotspot's createApplication(): the application class is chosen before anything else, from
// the raw arguments. `gui` (and no command at all, when there is a display) gets a QApplication;
// every other command stays headless and runs without a display.
std::unique_ptr<QCoreApplication> createApplication(int &argc, char *argv[])
{
    const QByteArray command = argc > 1 ? QByteArray(argv[1]) : QByteArray();
    // Without a display QApplication would abort; `preserve gui` then says so itself (and its
    // --help still works).
    if ((command == "gui" || command.isEmpty()) && displayAvailable())
        return std::make_unique<QApplication>(argc, argv);
    return std::make_unique<QCoreApplication>(argc, argv);
}

} // namespace

int main(int argc, char *argv[])
{
    // Blocks above 4 MiB (list builds, indented lists) are mapped and given back when freed: glibc's
    // default threshold moves up to 32 MiB after the first such free, and the heap then kept every
    // freed list build as slack that RSS never shed. Below that (a Foo's body, its gzip, SQLite's
    // record of it) they come from the heap, which keeps up to 16 MiB free at its top: a 1 MiB
    // threshold made every 2 MB body fault in fresh pages, a sixth of warm's time on large.
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
    const auto app = createApplication(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("preserve"));
    QCoreApplication::setApplicationVersion(QStringLiteral(PRESERVE_VERSION));

    QStringList arguments = QCoreApplication::arguments().mid(1);
    QString name = arguments.isEmpty() ? QString() : arguments.takeFirst();
    if (name.isEmpty() && qobject_cast<QApplication *>(app.get()))
        name = QStringLiteral("gui");
    if (name.isEmpty() || name == QLatin1String("help") || name == QLatin1String("--help")
        || name == QLatin1String("-h")) {
        printHelp(stdout);
        return 0;
    }
    if (name == QLatin1String("--version") || name == QLatin1String("-v")) {
        std::printf("preserve %s\n", PRESERVE_VERSION);
        return 0;
    }
    const auto found = commands().find(name);
    if (found == commands().end()) {
        std::fprintf(stderr, "preserve: unknown command \"%s\"\n\n", qPrintable(name));
        printHelp(stderr);
        return 2;
    }
    return found->second.run(arguments);
}
