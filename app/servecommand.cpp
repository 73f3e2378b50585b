// preserve serve: the cached API over HTTP until SIGINT or SIGTERM (then a graceful stop).
#include "servecommand.h"

#include "cli.h"

#include "cache/cacheservice.h"
#include "cache/freshnessworker.h"
#include "db/database.h"
#include "http/httpserver.h"

#include <QCoreApplication>
#include <QFile>
#include <QLoggingCategory>

#include <algorithm>
#include <cstdio>
#include <arpa/inet.h>
#include <netinet/in.h>

using namespace Cli;

namespace {

struct ServeOptions {
    QCommandLineOption listen { QStringLiteral("listen"),
                                QStringLiteral("Address to listen on, with or without a port: 127.0.0.1 (default), "
                                               "0.0.0.0:8000, [::1]:8000."),
                                QStringLiteral("address"), QStringLiteral("127.0.0.1") };
    QCommandLineOption port { QStringLiteral("port"), QStringLiteral("Port (default 8000; 0: any free port)."), QStringLiteral("n"), QStringLiteral("8000") };
    QCommandLineOption threads { QStringLiteral("threads"), QStringLiteral("HTTP threads (default 2)."), QStringLiteral("n"), QStringLiteral("2") };
    QCommandLineOption workers { QStringLiteral("workers"), QStringLiteral("Serializing workers (default 2)."), QStringLiteral("n"), QStringLiteral("2") };
    QCommandLineOption memory { QStringLiteral("memory"), QStringLiteral("Memory tier size in MB (default 256)."), QStringLiteral("mb"), QStringLiteral("256") };
    QCommandLineOption pageSize { QStringLiteral("page-size"), QStringLiteral("Paginate the list (DRF PageNumberPagination)."), QStringLiteral("n"), QStringLiteral("0") };
    QCommandLineOption tokenFile { QStringLiteral("token-file"), QStringLiteral("Enables the admin endpoints behind the bearer token in this file."), QStringLiteral("file") };
    QCommandLineOption policy { QStringLiteral("policy"), QStringLiteral("cached (default), list-cached (detail live) or live."), QStringLiteral("policy"), QStringLiteral("cached") };
    QCommandLineOption cacheControl { QStringLiteral("cache-control"), QStringLiteral("Cache-Control header of API answers (default none)."), QStringLiteral("value") };
    QCommandLineOption stale { QStringLiteral("stale-while-revalidate"), QStringLiteral("Serve entries known stale while one refresh runs.") };
    QCommandLineOption maxConnections { QStringLiteral("max-connections"), QStringLiteral("Connection limit (default 1024)."), QStringLiteral("n"), QStringLiteral("1024") };
    QCommandLineOption timeout { QStringLiteral("timeout"), QStringLiteral("Idle/slow client timeout in seconds (default 30)."), QStringLiteral("s"), QStringLiteral("30") };
    QCommandLineOption cpuAffinity { QStringLiteral("cpu-affinity"), QStringLiteral("auto (default): with as many --threads as CPUs, each on a CPU of its own; off: never."), QStringLiteral("mode"), QStringLiteral("auto") };
    QCommandLineOption quiet { QStringLiteral("quiet"), QStringLiteral("No request log on stderr.") };
    QCommandLineOption keepFresh { QStringLiteral("keep-fresh"), QStringLiteral("Run the keep-fresh worker in this process (as 'preserve worker'; "
                                                                               "needs change tracking).") };
    QCommandLineOption sendfileFrom { QStringLiteral("sendfile-from"), QStringLiteral("Send cached bodies of at least this many KiB with sendfile() from an in-memory copy (default 64; -1: never)."), QStringLiteral("kib"), QStringLiteral("64") };
    QCommandLineOption sendfileTo { QStringLiteral("sendfile-to"), QStringLiteral("... and at most this many KiB (default 128; -1: no limit)."), QStringLiteral("kib"), QStringLiteral("128") };

    void addTo(QCommandLineParser &parser) const
    {
        parser.addOptions({ listen, port, threads, workers, memory, pageSize, tokenFile, policy, cacheControl, stale,
                            maxConnections, timeout, cpuAffinity, quiet, sendfileFrom, sendfileTo, keepFresh });
    }
};

// 127.0.0.0/8, ::1, ::ffff:127.x and "localhost": nothing off this machine reaches them.
bool isLoopback(const QString &address)
{
    if (address == QLatin1String("localhost"))
        return true;
    const QByteArray text = address.toLatin1();
    in_addr v4 {};
    if (inet_pton(AF_INET, text.constData(), &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6 {};
    if (inet_pton(AF_INET6, text.constData(), &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
    return false;
}

// --listen as gunicorn, uvicorn and runserver take it: HOST, HOST:PORT, [IPV6] or [IPV6]:PORT (a bare
// IPv6 address has no port). The address and the port named there, if any; nullopt after a usage error.
std::optional<std::pair<QString, std::optional<QString>>> splitListen(const QString &value)
{
    if (value.startsWith(QLatin1Char('['))) {
        const qsizetype close = value.indexOf(QLatin1Char(']'));
        const QString rest = close < 0 ? QString() : value.mid(close + 1);
        if (close < 0 || (!rest.isEmpty() && !rest.startsWith(QLatin1Char(':')))) {
            printError(QStringLiteral("--listen %1: write an IPv6 address with a port as [::1]:8000").arg(value));
            return std::nullopt;
        }
        std::optional<QString> port;
        if (!rest.isEmpty())
            port = rest.mid(1);
        return std::pair { value.mid(1, close - 1), port };
    }
    if (value.count(QLatin1Char(':')) == 1) {
        const qsizetype colon = value.indexOf(QLatin1Char(':'));
        return std::pair { value.left(colon), std::optional<QString>(value.mid(colon + 1)) };
    }
    return std::pair { value, std::optional<QString>() };
}

// The port of --listen HOST:PORT and of --port, which must agree where both are given.
std::optional<int> listenPort(const QCommandLineParser &parser, const ServeOptions &o, const std::optional<QString> &inListen)
{
    if (!inListen)
        return numberOption(parser, o.port, 0, 65535);
    bool ok = false;
    const int port = inListen->toInt(&ok);
    if (!ok || port < 0 || port > 65535 || inListen->startsWith(QLatin1Char('+'))) {
        printError(QStringLiteral("--listen %1: the port takes a number from 0 to 65535").arg(parser.value(o.listen)));
        return std::nullopt;
    }
    if (parser.isSet(o.port)) {
        const auto other = numberOption(parser, o.port, 0, 65535);
        if (!other)
            return std::nullopt;
        if (*other != port) {
            printError(QStringLiteral("--listen %1 and --port %2 name different ports: give the port once")
                           .arg(parser.value(o.listen)).arg(*other));
            return std::nullopt;
        }
    }
    return port;
}

// The options into a server configuration; an exit code on a usage error.
std::variant<HttpServerOptions, int> serverOptions(const QCommandLineParser &parser, const ServeOptions &o)
{
    HttpServerOptions options;
    const auto listen = splitListen(parser.value(o.listen));
    if (!listen)
        return Usage;
    options.address = listen->first;
    const auto port = listenPort(parser, o, listen->second);
    if (!port)
        return Usage;
    const auto threads = numberOption(parser, o.threads, 1, 256);
    const auto workers = numberOption(parser, o.workers, 1, 64);
    const auto pageSize = numberOption(parser, o.pageSize, 0, 1000000);
    const auto connections = numberOption(parser, o.maxConnections, 1, 1000000);
    const auto timeout = numberOption(parser, o.timeout, 1, 86400);
    const auto sendfileFrom = numberOption(parser, o.sendfileFrom, -1, 1024 * 1024);
    auto sendfileTo = numberOption(parser, o.sendfileTo, -1, 1024 * 1024);
    if (!port || !threads || !workers || !pageSize || !connections || !timeout || !sendfileFrom || !sendfileTo)
        return Usage;
    // --sendfile-from alone above the default upper end: no upper end (as before --sendfile-to).
    if (!parser.isSet(o.sendfileTo) && *sendfileFrom > *sendfileTo)
        *sendfileTo = -1;
    if (*sendfileFrom >= 0 && *sendfileTo >= 0 && *sendfileTo < *sendfileFrom) {
        printError(QStringLiteral("--sendfile-to %1 is below --sendfile-from %2: no body would be sent with sendfile()")
                       .arg(*sendfileTo).arg(*sendfileFrom));
        return Usage;
    }
    options.fileResponseMin = *sendfileFrom < 0 ? -1 : qint64(*sendfileFrom) * 1024;
    options.fileResponseMax = *sendfileTo < 0 ? -1 : qint64(*sendfileTo) * 1024;
    options.port = quint16(*port);
    options.threads = *threads;
    options.liveWorkers = *workers;
    options.pageSize = *pageSize;
    options.maxConnections = *connections;
    options.timeoutSeconds = *timeout;
    const QString cacheControl = parser.value(o.cacheControl);
    const auto unfit = std::find_if(cacheControl.cbegin(), cacheControl.cend(),
                                    [](QChar c) { return c.unicode() < 0x20 || c.unicode() > 0x7e; });
    if (unfit != cacheControl.cend()) {
        // libmicrohttpd refuses such a header at every response, silently: say so now instead.
        printError(QStringLiteral("--cache-control takes one header value of printable ASCII characters, not U+%1 "
                                  "(no line breaks or other control characters)")
                       .arg(QString::number(unfit->unicode(), 16).toUpper().rightJustified(4, QLatin1Char('0'))));
        return Usage;
    }
    options.cacheControl = cacheControl.toLatin1();
    const QString affinity = parser.value(o.cpuAffinity);
    if (affinity != QLatin1String("auto") && affinity != QLatin1String("off")) {
        printError(QStringLiteral("--cpu-affinity takes auto or off"));
        return Usage;
    }
    options.pinThreads = affinity == QLatin1String("auto");
    const QString policy = parser.value(o.policy);
    if (policy == QLatin1String("cached"))
        options.policy = CachePolicy::Cached;
    else if (policy == QLatin1String("list-cached"))
        options.policy = CachePolicy::ListCached;
    else if (policy == QLatin1String("live"))
        options.policy = CachePolicy::Live;
    else {
        printError(QStringLiteral("--policy takes cached, list-cached or live"));
        return Usage;
    }
    if (parser.isSet(o.tokenFile)) {
        QFile file(parser.value(o.tokenFile));
        // As ssh says of a private key: a token others can read is everyone's.
        if (file.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteGroup | QFileDevice::WriteOther))
            printError(QStringLiteral("warning: the token file %1 is readable or writable by other users; "
                                      "chmod 600 it").arg(file.fileName()));
        if (!file.open(QIODevice::ReadOnly)) {
            printError(QStringLiteral("cannot read the token file %1: %2").arg(file.fileName(), file.errorString()));
            return Failed;
        }
        options.adminToken = file.readAll().trimmed();
        if (options.adminToken.isEmpty() || options.adminToken.contains(' ')) {
            printError(QStringLiteral("the token file %1 must hold one token without spaces").arg(file.fileName()));
            return Failed;
        }
    }
    return options;
}

} // namespace

int Commands::serve(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Serves the cached API (DRF's /api/foos/ and /api/foos/<pk>/) over HTTP "
                                                    "until SIGINT or SIGTERM."));
    DatabaseOptions database;
    StoreOptions store;
    ServeOptions serve;
    database.addTo(parser);
    store.addTo(parser);
    serve.addTo(parser);
    if (auto code = parse(parser, QStringLiteral("serve"), arguments))
        return *code;
    auto server = serverOptions(parser, serve);
    if (auto *code = std::get_if<int>(&server))
        return *code;
    auto configs = checkedConfigs(parser, database, store);
    if (auto *code = std::get_if<int>(&configs))
        return *code;
    const auto memory = numberOption(parser, serve.memory, 1, 1024 * 1024);
    if (!memory)
        return Usage;
    if (parser.isSet(serve.quiet))
        QLoggingCategory::setFilterRules(QStringLiteral("preserve.http.info=false"));

    CacheConfig config;
    std::tie(config.database, config.store) = std::get<0>(configs);
    config.memoryBytes = qint64(*memory) * 1024 * 1024;
    config.workers = std::get<HttpServerOptions>(server).liveWorkers;
    config.staleWhileRevalidate = parser.isSet(serve.stale);
    CacheService service(config);
    if (auto watching = service.startWatching(); !watching)
        printError(QStringLiteral("watching the store for other processes' writes (retrying): %1").arg(watching.error().message));
    HttpServer http(service);
    std::unique_ptr<FreshnessWorker> worker;
    if (parser.isSet(serve.keepFresh)) {
        if (config.database.readOnly) {
            printError(QStringLiteral("--keep-fresh writes the cache: it cannot run on a --read-only connection"));
            return Usage;
        }
        FreshnessOptions keepFresh;
        keepFresh.hotFirst = true; // what clients of this server read goes first
        worker = std::make_unique<FreshnessWorker>(service, keepFresh);
        if (auto started = worker->start(); !started)
            return exitCodeFor(started.error());
    }
    const auto port = http.start(std::get<HttpServerOptions>(server));
    if (!port)
        return exitCodeFor(port.error());

    StopOnSignals stopOnSignals([&] {
        std::fputs("Stopping: finishing the requests under way\n", stderr);
        http.stop();
        if (worker) {
            QObject::connect(worker.get(), &FreshnessWorker::finished, worker.get(), [] { QCoreApplication::quit(); });
            worker->stop(); // the refresh under way finishes first
        } else {
            QCoreApplication::quit();
        }
    });
    if (!stopOnSignals.ok())
        return Failed;
    if (!isLoopback(std::get<HttpServerOptions>(server).address))
        printError(QStringLiteral("warning: listening on %1: the API (and its admin endpoints, with --token-file) is "
                                  "reachable from the network, without TLS; put a TLS proxy in front or listen on 127.0.0.1")
                       .arg(std::get<HttpServerOptions>(server).address));
    std::printf("Serving %sapi/foos/ (Ctrl-C stops)\n", qPrintable(http.url().toString()));
    std::fflush(stdout);
    return QCoreApplication::exec() == 0 ? Ok : Failed;
}
