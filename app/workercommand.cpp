// preserve worker: keeps the cache fresh by itself, following the change log, until SIGINT or
// SIGTERM (the refresh under way finishes first) or, with --once, until nothing is pending.
#include "workercommand.h"

#include "cli.h"

#include "cache/cacheservice.h"
#include "cache/freshnessworker.h"
#include "http/httpserver.h"

#include <QCoreApplication>
#include <QLoggingCategory>

#include <cstdio>

using namespace Cli;

int Commands::worker(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Keeps the cache fresh by itself: follows the change log of 'preserve track install' and refreshes the "
        "Foos each change reaches. On PostgreSQL any number of workers, on one machine or many, share the work "
        "(each Foo is refreshed by one of them); on SQLite one is active per file and more wait as standbys."));
    DatabaseOptions database;
    StoreOptions store;
    database.addTo(parser);
    store.addTo(parser);
    const QCommandLineOption once(QStringLiteral("once"), QStringLiteral("Refresh what is stale and pending, then exit (cron, tests)."));
    const QCommandLineOption debounce(QStringLiteral("debounce"), QStringLiteral("Refresh a Foo once no change reached it for this long (ms, default 0: at "
                                                                                 "once; changes during its refresh coalesce into the next)."),
                                      QStringLiteral("ms"), QStringLiteral("0"));
    const QCommandLineOption maxDelay(QStringLiteral("max-delay"), QStringLiteral("… or this long after its first change, however busy (ms, default 1000)."),
                                      QStringLiteral("ms"), QStringLiteral("1000"));
    const QCommandLineOption batch(QStringLiteral("batch"), QStringLiteral("Foos per refresh job (default 500)."), QStringLiteral("n"), QStringLiteral("500"));
    const QCommandLineOption jobs(QStringLiteral("jobs"), QStringLiteral("Refreshing threads (default 2)."), QStringLiteral("n"), QStringLiteral("2"));
    const QCommandLineOption quiet(QStringLiteral("quiet"), QStringLiteral("No line per refresh on stderr."));
    const QCommandLineOption port(QStringLiteral("port"), QStringLiteral("Serve /metrics and /healthz on 127.0.0.1 at this port (0: any free one)."),
                                  QStringLiteral("n"));
    parser.addOptions({ once, debounce, maxDelay, batch, jobs, quiet, port });
    if (auto code = parse(parser, QStringLiteral("worker"), arguments))
        return *code;
    FreshnessOptions options;
    const auto debounceMs = numberOption(parser, debounce, 0, 3600000);
    const auto maxDelayMs = numberOption(parser, maxDelay, 0, 3600000);
    const auto batchSize = numberOption(parser, batch, 1, 1000000);
    const auto threads = numberOption(parser, jobs, 1, 64);
    const auto metricsPort = parser.isSet(port) ? numberOption(parser, port, 0, 65535) : std::optional<int>(-1);
    if (!debounceMs || !maxDelayMs || !batchSize || !threads || !metricsPort)
        return Usage;
    options.debounceMs = *debounceMs;
    options.maxDelayMs = *maxDelayMs;
    options.batchSize = *batchSize;
    options.once = parser.isSet(once);
    auto configs = checkedConfigs(parser, database, store);
    if (auto *code = std::get_if<int>(&configs))
        return *code;
    if (std::get<0>(configs).first.readOnly) {
        printError(QStringLiteral("a worker writes the cache: it cannot run on a --read-only connection"));
        return Usage;
    }
    // The metrics port's request log never; the worker's lines unless --quiet.
    QLoggingCategory::setFilterRules(parser.isSet(quiet) ? QStringLiteral("preserve.http.info=false\npreserve.worker.info=false")
                                                         : QStringLiteral("preserve.http.info=false"));

    CacheConfig config;
    std::tie(config.database, config.store) = std::get<0>(configs);
    config.workers = *threads;
    config.watch = false;
    CacheService service(config);
    FreshnessWorker worker(service, options);
    int exitCode = Ok;
    QObject::connect(&worker, &FreshnessWorker::finished, &worker, [&exitCode](bool ok) {
        exitCode = ok ? Ok : Failed;
        QCoreApplication::quit();
    });
    if (auto started = worker.start(); !started)
        return exitCodeFor(started.error());
    HttpServer metrics(service);
    if (*metricsPort >= 0) {
        HttpServerOptions http;
        http.port = quint16(*metricsPort);
        http.metricsOnly = true;
        http.threads = 1;
        http.liveWorkers = 1;
        http.pinThreads = false;
        const auto bound = metrics.start(http);
        if (!bound)
            return exitCodeFor(bound.error());
        std::printf("Metrics on %smetrics, health on %shealthz\n", qPrintable(metrics.url().toString()), qPrintable(metrics.url().toString()));
        std::fflush(stdout);
    }

    StopOnSignals stopOnSignals([&worker, &metrics] {
        std::fputs("Stopping: finishing the refresh under way\n", stderr);
        metrics.stop();
        worker.stop();
    });
    if (!stopOnSignals.ok())
        return Failed;
    QCoreApplication::exec();
    const FreshnessWorker::Stats stats = worker.stats();
    std::fprintf(stderr, "worker: %lld change(s) read, %lld coalesced, %lld refresh(es), %lld found fresh already, %lld error(s), max lag %.0f ms\n",
                 stats.changes, stats.coalesced, stats.refreshed, stats.doneElsewhere, stats.errors, stats.maxLagSeconds * 1000);
    return exitCode;
}
