#include "cli.h"

#include "db/database.h"

#include <QSocketNotifier>
#include <QStandardPaths>

#include <csignal>
#include <cstdio>

#include <unistd.h>

namespace Cli {

void printError(const QString &message)
{
    std::fprintf(stderr, "preserve: %s\n", qPrintable(message));
}

int exitCodeFor(const Error &error)
{
    printError(error.message);
    return error.kind == Error::Kind::NotFound ? NotFound : error.kind == Error::Kind::Invalid ? Usage : Failed;
}

bool writeStdout(const QByteArray &bytes)
{
    return std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout) == size_t(bytes.size())
        && std::fflush(stdout) == 0;
}

bool stderrIsTerminal()
{
    return isatty(fileno(stderr));
}

std::optional<int> parse(QCommandLineParser &parser, const QString &command, const QStringList &arguments)
{
    const QCommandLineOption help(QStringList { QStringLiteral("h"), QStringLiteral("help") },
                                  QStringLiteral("Show this help."));
    parser.addOption(help);
    if (!parser.parse(QStringList { QStringLiteral("preserve ") + command } + arguments)) {
        printError(parser.errorText());
        return Usage;
    }
    if (parser.isSet(help)) {
        // QCommandLineParser names the program as it was started; say the command too.
        QString text = parser.helpText();
        const qsizetype options = text.indexOf(QLatin1String(" [options]"));
        if (text.startsWith(QLatin1String("Usage: ")) && options > 0)
            text.replace(7, options - 7, QStringLiteral("preserve ") + command);
        std::fputs(qPrintable(text), stdout);
        return Ok;
    }
    return std::nullopt;
}

QString demoDatabasePath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + QStringLiteral("/demo.sqlite3");
}

DatabaseOptions::DatabaseOptions()
    : db(QStringLiteral("db"),
         QStringLiteral("SQLite file or postgresql://user:password@host:port/dbname (default: $PRESERVE_DB, else "
                        "the demo database)."),
         QStringLiteral("database"))
    , appLabel(QStringLiteral("app-label"), QStringLiteral("Django app label of the tables (default: api)."),
               QStringLiteral("label"), QStringLiteral("api"))
    , readOnly(QStringLiteral("read-only"), QStringLiteral("Never write to the database."))
{
}

void DatabaseOptions::addTo(QCommandLineParser &parser) const
{
    parser.addOptions({ db, appLabel, readOnly });
}

Result<DatabaseConfig> DatabaseOptions::config(const QCommandLineParser &parser) const
{
    QString spec = parser.value(db);
    if (spec.isEmpty())
        spec = qEnvironmentVariable("PRESERVE_DB");
    if (spec.isEmpty())
        spec = demoDatabasePath();
    return DatabaseConfig::parse(spec, parser.value(appLabel), parser.isSet(readOnly));
}

Result<std::unique_ptr<Database>> DatabaseOptions::open(const QCommandLineParser &parser) const
{
    const auto parsed = config(parser);
    if (!parsed)
        return parsed.error();
    return Database::open(*parsed);
}

StoreOptions::StoreOptions()
    : store(QStringLiteral("store"), QStringLiteral("Where the cache lives: db (the pre_serialized column, default) or redis."),
            QStringLiteral("store"), QStringLiteral("db"))
    , redis(QStringLiteral("redis"),
            QStringLiteral("Redis URL, redis://[[user]:password@]host[:port][/db] or unix:///path?db=N (default: "
                           "$PRESERVE_REDIS, else redis://127.0.0.1:6379/0); implies --store redis."),
            QStringLiteral("url"))
    , prefix(QStringLiteral("prefix"), QStringLiteral("Redis key prefix (default: preserve:)."), QStringLiteral("prefix"),
             QStringLiteral("preserve:"))
{
}

void StoreOptions::addTo(QCommandLineParser &parser) const
{
    parser.addOptions({ store, redis, prefix });
}

Result<StoreConfig> StoreOptions::config(const QCommandLineParser &parser) const
{
    QString url = parser.value(redis);
    if (url.isEmpty())
        url = qEnvironmentVariable("PRESERVE_REDIS");
    if (url.isEmpty())
        url = QStringLiteral("redis://127.0.0.1:6379/0");
    // --redis alone means the Redis store: ignoring it silently would report on another store.
    const QString kind = parser.isSet(store) || !parser.isSet(redis) ? parser.value(store) : QStringLiteral("redis");
    return StoreConfig::parse(kind, url, parser.value(prefix));
}

std::variant<std::pair<DatabaseConfig, StoreConfig>, int> checkedConfigs(const QCommandLineParser &parser,
                                                                        const DatabaseOptions &database,
                                                                        const StoreOptions &store)
{
    auto databaseConfig = database.config(parser);
    if (!databaseConfig)
        return exitCodeFor(databaseConfig.error());
    auto storeConfig = store.config(parser);
    if (!storeConfig)
        return exitCodeFor(storeConfig.error());
    if (auto check = Database::open(*databaseConfig); !check)
        return exitCodeFor(check.error());
    return std::pair { *databaseConfig, *storeConfig };
}

std::optional<int> numberOption(const QCommandLineParser &parser, const QCommandLineOption &option, int low, int high)
{
    bool ok = false;
    const int value = parser.value(option).toInt(&ok);
    if (!ok || value < low || value > high) {
        printError(QStringLiteral("--%1 takes a number from %2 to %3").arg(option.names().first()).arg(low).arg(high));
        return std::nullopt;
    }
    return value;
}

namespace {
int g_stopPipe[2] = { -1, -1 };
void writeStopByte(int)
{
    const char byte = 1;
    [[maybe_unused]] const auto written = ::write(g_stopPipe[1], &byte, 1);
}
} // namespace

StopOnSignals::StopOnSignals(std::function<void()> stop)
    : m_stop(std::move(stop))
{
    if (::pipe(g_stopPipe) != 0) {
        printError(QStringLiteral("cannot create a pipe for signals"));
        return;
    }
    m_notifier = std::make_unique<QSocketNotifier>(g_stopPipe[0], QSocketNotifier::Read);
    QObject::connect(m_notifier.get(), &QSocketNotifier::activated, m_notifier.get(), [this] {
        char byte = 0;
        [[maybe_unused]] const auto read = ::read(g_stopPipe[0], &byte, 1);
        m_notifier->setEnabled(false);
        m_stop();
    });
    std::signal(SIGINT, writeStopByte);
    std::signal(SIGTERM, writeStopByte);
}

StopOnSignals::~StopOnSignals()
{
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    m_notifier.reset();
    for (int &fd : g_stopPipe) {
        if (fd >= 0)
            ::close(fd);
        fd = -1;
    }
}

} // namespace Cli
