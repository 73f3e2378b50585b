#pragma once

#include "cache/storeconfig.h"
#include "core/result.h"
#include "db/databaseconfig.h"

#include <QCommandLineOption>
#include <QCommandLineParser>

#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <variant>

class Database;
class QSocketNotifier;

// What the headless commands share: exit codes, messages, common options.
namespace Cli {

enum ExitCode { Ok = 0, Failed = 1, Usage = 2, NotFound = 3, Interrupted = 130 };

void printError(const QString &message);
// Prints the error and returns the exit code for its kind.
int exitCodeFor(const Error &error);
bool writeStdout(const QByteArray &bytes);
bool stderrIsTerminal();

// Parses `arguments` (adds -h/--help); on --help or an error prints and returns the exit code to use.
std::optional<int> parse(QCommandLineParser &parser, const QString &command, const QStringList &arguments);

// --db, --app-label, --read-only.
struct DatabaseOptions {
    QCommandLineOption db;
    QCommandLineOption appLabel;
    QCommandLineOption readOnly;

    DatabaseOptions();
    void addTo(QCommandLineParser &parser) const;
    Result<DatabaseConfig> config(const QCommandLineParser &parser) const;
    Result<std::unique_ptr<Database>> open(const QCommandLineParser &parser) const;
};

// --store, --redis, --prefix.
struct StoreOptions {
    QCommandLineOption store;
    QCommandLineOption redis;
    QCommandLineOption prefix;

    StoreOptions();
    void addTo(QCommandLineParser &parser) const;
    Result<StoreConfig> config(const QCommandLineParser &parser) const;
};

QString demoDatabasePath();

// A whole number option from `low` to `high`; otherwise says so and returns nullopt (a usage error).
std::optional<int> numberOption(const QCommandLineParser &parser, const QCommandLineOption &option, int low, int high);

// While it lives, SIGINT and SIGTERM call `stop` once, on the thread running the event loop (a
// self-pipe: the handler only writes a byte). The default handlers come back with the destructor.
class StopOnSignals {
public:
    explicit StopOnSignals(std::function<void()> stop);
    ~StopOnSignals();
    StopOnSignals(const StopOnSignals &) = delete;
    StopOnSignals &operator=(const StopOnSignals &) = delete;
    bool ok() const { return m_notifier != nullptr; } // false: no pipe could be made (said on stderr)

private:
    std::function<void()> m_stop;
    std::unique_ptr<QSocketNotifier> m_notifier;
};

// The database and store a cache command works on, with the database opened once up front so that
// a wrong URL or missing tables fail at once with a clear message. On failure: the exit code.
std::variant<std::pair<DatabaseConfig, StoreConfig>, int> checkedConfigs(const QCommandLineParser &parser,
                                                                        const DatabaseOptions &database,
                                                                        const StoreOptions &store);

} // namespace Cli
