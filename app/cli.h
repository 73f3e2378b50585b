#pragma once

#include "cache/storeconfig.h"
#include "core/result.h"
#include "db/databaseconfig.h"

#include <QCommandLineOption>
#include <QCommandLineParser>

#include <memory>
#include <optional>
#include <utility>
#include <variant>

class Database;

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

// The database and store a cache command works on, with the database opened once up front so that
// a wrong URL or missing tables fail at once with a clear message. On failure: the exit code.
std::variant<std::pair<DatabaseConfig, StoreConfig>, int> checkedConfigs(const QCommandLineParser &parser,
                                                                        const DatabaseOptions &database,
                                                                        const StoreOptions &store);

} // namespace Cli
