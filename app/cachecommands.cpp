// The cache commands: status, warm, verify, invalidate and track. Each opens the database once on
// the main thread first, so that a wrong URL or missing tables fail at once with a clear message.
#include "cachecommands.h"

#include "cli.h"

#include "cache/cacheservice.h"
#include "core/bytesize.h"
#include "cache/storeconfig.h"
#include "db/database.h"
#include "db/missingfoos.h"
#include "staleness/changetracking.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdio>

using namespace Cli;

namespace {

std::atomic<bool> g_interrupted { false };

// Options and the service every cache command builds the same way.
struct CacheCommand {
    QCommandLineParser parser;
    DatabaseOptions database;
    StoreOptions store;
    QCommandLineOption json { QStringLiteral("json"), QStringLiteral("Print JSON for scripts.") };
    QCommandLineOption jobs { QStringLiteral("jobs"), QStringLiteral("Worker threads (default 2)."), QStringLiteral("n"),
                              QStringLiteral("2") };
    std::unique_ptr<CacheService> service;

    bool withJobs = false;

    CacheCommand(const QString &description, bool jobsOption)
        : withJobs(jobsOption)
    {
        parser.setApplicationDescription(description);
        database.addTo(parser);
        store.addTo(parser);
        parser.addOption(json);
        if (withJobs)
            parser.addOption(jobs);
    }

    // Parses and builds the service; a value when the command is over (help or an error).
    std::optional<int> start(const QString &name, const QStringList &arguments)
    {
        if (auto code = parse(parser, name, arguments))
            return code;
        auto configs = checkedConfigs(parser, database, store);
        if (auto *code = std::get_if<int>(&configs))
            return *code;
        CacheConfig config;
        std::tie(config.database, config.store) = std::get<0>(configs);
        bool number = true;
        config.workers = withJobs ? parser.value(jobs).toInt(&number) : 1;
        if (!number || config.workers < 1 || config.workers > 64) {
            printError(QStringLiteral("--jobs takes a number from 1 to 64"));
            return Usage;
        }
        config.watch = false;
        // A command reads each entry once: a memory tier would only hold what nobody asks for again
        // (warm of `wide` kept 256 MB of it to the end).
        config.memoryBytes = 0;
        // An unreachable store fails the command now, clearly, instead of once per entry.
        if (auto reachable = openStore(config.store, config.database); !reachable) {
            printError(QStringLiteral("%1 (nothing was done; run it again when the store is back)").arg(reachable.error().message));
            return reachable.error().kind == Error::Kind::Invalid ? Usage : Failed;
        }
        service = std::make_unique<CacheService>(config);
        return std::nullopt;
    }

    bool wantsJson() const { return parser.isSet(json); }
};

// Runs one job to its end, with progress on a terminal; Ctrl-C cancels it (entries already written
// stay, the others keep their previous entry).
JobSummary runJob(CacheService &service, int job, const char *verb, bool quiet)
{
    JobSummary result;
    QEventLoop loop;
    const bool progress = !quiet && stderrIsTerminal();
    QObject::connect(&service, &CacheService::jobProgress, &loop, [&](int id, int done, int total) {
        if (id == job && progress)
            std::fprintf(stderr, "\r%s %d of %d", verb, done, total);
    });
    QObject::connect(&service, &CacheService::jobFinished, &loop, [&](const JobSummary &summary) {
        if (summary.job != job)
            return;
        result = summary;
        loop.quit();
    });
    g_interrupted = false;
    std::signal(SIGINT, [](int) { g_interrupted = true; });
    QTimer interrupt;
    QObject::connect(&interrupt, &QTimer::timeout, &loop, [&] {
        if (g_interrupted.exchange(false))
            service.cancel(job);
    });
    interrupt.start(100);
    loop.exec();
    std::signal(SIGINT, SIG_DFL);
    if (progress)
        std::fputs("\r\033[K", stderr);
    return result;
}

QJsonObject summaryJson(const JobSummary &summary)
{
    return { { QStringLiteral("total"), summary.total }, { QStringLiteral("done"), summary.done },
             { QStringLiteral("failed"), summary.failed }, { QStringLiteral("cancelled"), summary.cancelled },
             { QStringLiteral("seconds"), summary.seconds }, { QStringLiteral("error"), summary.firstError } };
}

int finish(const JobSummary &summary, bool json, const char *verb)
{
    if (json) {
        writeStdout(QJsonDocument(summaryJson(summary)).toJson(QJsonDocument::Compact) + '\n');
    } else {
        std::printf("%s %d of %d entries in %.2f s%s%s\n", verb, summary.done, summary.total, summary.seconds,
                    summary.failed ? qPrintable(QStringLiteral(", %1 failed").arg(summary.failed)) : "",
                    summary.cancelled ? ", cancelled" : "");
        if (!summary.firstError.isEmpty())
            printError(summary.firstError);
        if (summary.failed && summary.firstError.contains(QLatin1String("unavailable")))
            printError(QStringLiteral("the store went away during the run: entries not written keep their previous "
                                      "state; run the command again when it is back (it does not retry)"));
    }
    if (summary.cancelled)
        return Interrupted; // 128 + SIGINT, as shells report Ctrl-C
    return summary.failed == 0 && summary.firstError.isEmpty() ? Ok : Failed;
}

Result<QList<qint64>> primaryKeys(const QStringList &words)
{
    QList<qint64> pks;
    for (const QString &word : words) {
        bool number = false;
        const qint64 pk = word.toLongLong(&number);
        if (!number)
            return Error::invalid(QStringLiteral("\"%1\" is not a primary key: Foo keys are whole numbers").arg(word));
        pks << pk;
    }
    return pks;
}

// Named Foos that do not exist are the operator's mistake: said once, exit code 3, nothing done.
// Empty when every pk names a Foo.
std::optional<int> refuseMissingFoos(const DatabaseConfig &config, const QList<qint64> &pks)
{
    if (pks.isEmpty())
        return std::nullopt;
    auto database = Database::open(config);
    if (!database)
        return exitCodeFor(database.error());
    const auto missing = missingFoos(**database, pks);
    if (!missing)
        return exitCodeFor(missing.error());
    if (missing->isEmpty())
        return std::nullopt;
    QStringList names;
    for (qint64 pk : *missing)
        names << QString::number(pk);
    printError(missing->size() == 1 ? QStringLiteral("Foo %1 does not exist").arg(names.first())
                                    : QStringLiteral("Foos %1 do not exist").arg(names.join(QStringLiteral(", "))));
    return NotFound;
}

// Names may hold control characters (the demo has them on purpose): never let them reach a terminal.
QString printable(QString text, int width)
{
    const auto plain = [](QChar c) { return c.unicode() >= 0x20 && c.unicode() < 0x7F; };
    if (std::all_of(text.cbegin(), text.cend(), plain))
        return text.left(width);
    for (QChar &c : text) {
        if (c.category() == QChar::Other_Control || c == QChar::LineSeparator || c == QChar::ParagraphSeparator)
            c = QChar(0xB7); // ·
    }
    return text.left(width);
}

QString age(const QDateTime &at, const QDateTime &now)
{
    if (!at.isValid())
        return QString();
    const qint64 seconds = at.secsTo(now);
    if (seconds < 120)
        return QStringLiteral("%1 s").arg(seconds);
    if (seconds < 7200)
        return QStringLiteral("%1 min").arg(seconds / 60);
    if (seconds < 172800)
        return QStringLiteral("%1 h").arg(seconds / 3600);
    return QStringLiteral("%1 d").arg(seconds / 86400);
}

// Appends `text` as QJsonDocument writes a string (null when not `present`): printable ASCII as
// it is, anything else through Qt's own writer, so its escapes are Qt's.
void appendJsonString(QByteArray &out, const QString &text, bool present)
{
    if (!present) {
        out += "null";
        return;
    }
    const bool plain = std::all_of(text.cbegin(), text.cend(), [](QChar c) {
        return c.unicode() >= 0x20 && c.unicode() < 0x7F && c != QLatin1Char('"') && c != QLatin1Char('\\');
    });
    if (plain) {
        out += '"';
        out += text.toLatin1();
        out += '"';
        return;
    }
    const QByteArray array = QJsonDocument(QJsonArray { text }).toJson(QJsonDocument::Compact); // ["…"]
    out += QByteArrayView(array).sliced(1, array.size() - 2);
}

// Appends `text` padded with spaces to `width` on the left (right-aligned) or the right.
void appendPadded(QByteArray &out, QByteArrayView text, qsizetype width, bool alignRight)
{
    const qsizetype pad = std::max<qsizetype>(0, width - text.size());
    if (alignRight)
        out.append(pad, ' ');
    out.append(text);
    if (!alignRight)
        out.append(pad, ' ');
}

// One line per Foo, written in 64 KiB chunks. Each column is appended in place: a QByteArray
// temporary per column (and a state name converted per line) took a quarter of `status`'s second
// on 100,000 Foos.
void printStatusTable(const QList<EntryStatus> &statuses)
{
    // The columns' widths, in one place for the header and the rows.
    const auto appendLine = [](QByteArray &out, QByteArrayView pk, QByteArrayView state, QByteArrayView size,
                               QByteArrayView age, const QString &name, const QString &reason) {
        appendPadded(out, pk, 8, true);
        out += "  ";
        appendPadded(out, state, 10, false);
        out += ' ';
        appendPadded(out, size, 10, true);
        out += ' ';
        appendPadded(out, age, 8, true);
        out += "  ";
        out += name.toUtf8();
        out.append(std::max<qsizetype>(0, 24 - name.size()), ' '); // padded in characters: names are UTF-8
        out += ' ';
        out += reason.toUtf8();
        out += '\n';
    };
    QByteArray chunk;
    chunk.reserve(80 * 1024);
    appendLine(chunk, "pk", "state", "size", "age", QStringLiteral("name"), QStringLiteral("reason"));
    QHash<EntryState, QByteArray> stateNames;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const EntryStatus &status : statuses) {
        auto state = stateNames.find(status.state);
        if (state == stateNames.end())
            state = stateNames.insert(status.state, entryStateName(status.state).toLatin1());
        char pk[24];
        const auto pkEnd = std::to_chars(pk, pk + sizeof pk, status.pk).ptr;
        appendLine(chunk, QByteArrayView(pk, pkEnd - pk), *state,
                   status.size ? formatBytes(status.size).toUtf8() : QByteArray(), age(status.cachedAt, now).toUtf8(),
                   printable(status.name, 24), printable(status.reason, 200));
        if (chunk.size() >= 64 * 1024) {
            writeStdout(chunk);
            chunk.clear();
        }
    }
    writeStdout(chunk);
}

} // namespace

int Commands::status(const QStringList &arguments)
{
    CacheCommand command(QStringLiteral("Prints the state of every Foo's cache entry: fresh, stale (and why), missing, "
                                        "corrupt, foreign, refreshing or unknown."),
                         false);
    if (auto code = command.start(QStringLiteral("status"), arguments))
        return *code;
    const auto statuses = command.service->status(true);
    if (!statuses)
        return exitCodeFor(statuses.error());
    QHash<EntryState, int> counts;
    for (const EntryStatus &status : *statuses)
        ++counts[status.state];
    if (command.wantsJson()) {
        // Streamed an entry at a time, in chunks: 100,000 Foos as one QJsonArray took 200 MB. Each
        // object is written directly, its keys in QJsonObject's sorted order, so the bytes are
        // the same as the whole array's compact form (a QJsonObject per Foo took 1.5 of 2.5 s).
        QByteArray chunk("[");
        const QDateTime now = QDateTime::currentDateTimeUtc();
        for (qsizetype i = 0; i < statuses->size(); ++i) {
            const EntryStatus &status = statuses->at(i);
            if (i > 0)
                chunk += ',';
            const bool cached = status.cachedAt.isValid();
            chunk += "{\"age_seconds\":";
            chunk += cached ? QByteArray::number(status.cachedAt.secsTo(now)) : QByteArray("null");
            chunk += ",\"cached_at\":";
            appendJsonString(chunk, cached ? status.cachedAt.toString(Qt::ISODateWithMs) : QString(), cached);
            chunk += ",\"digest\":";
            appendJsonString(chunk, QString::fromLatin1(status.digest), true);
            chunk += ",\"name\":";
            appendJsonString(chunk, status.name, status.state != EntryState::Orphan);
            chunk += ",\"pk\":" + QByteArray::number(status.pk) + ",\"reason\":";
            appendJsonString(chunk, status.reason, true);
            chunk += ",\"serializer_version\":" + QByteArray::number(status.serializerVersion)
                + ",\"size\":" + QByteArray::number(status.size) + ",\"state\":";
            appendJsonString(chunk, entryStateName(status.state), true);
            chunk += '}';
            if (chunk.size() >= 64 * 1024) {
                writeStdout(chunk);
                chunk.clear();
            }
        }
        writeStdout(chunk + "]\n");
        return Ok;
    }
    printStatusTable(*statuses);
    std::printf("%s\n", qPrintable(stateSummary(counts)));
    // Who keeps it fresh: the heartbeats keep-fresh workers leave in the database.
    if (auto database = Database::open(command.service->config().database)) {
        if (auto workers = ChangeTracking::workers(**database))
            std::printf("Keep-fresh workers: %s\n", qPrintable(ChangeTracking::describeWorkers(*workers)));
    }
    return Ok;
}

int Commands::impact(const QStringList &arguments)
{
    CacheCommand command(QStringLiteral("Prints which Foos a change to one Bar, Zab or Baz reaches, and the bytes their "
                                        "entries hold: what a refresh after that change re-serializes."),
                         false);
    command.parser.addPositionalArgument(QStringLiteral("level"), QStringLiteral("bar, zab or baz."));
    command.parser.addPositionalArgument(QStringLiteral("id"), QStringLiteral("The node's primary key."));
    if (auto code = command.start(QStringLiteral("impact"), arguments))
        return *code;
    const QStringList positional = command.parser.positionalArguments();
    const auto level = positional.size() == 2 ? nodeLevelNamed(positional[0]) : std::nullopt;
    bool number = false;
    const qint64 id = positional.value(1).toLongLong(&number);
    if (!level || !number) {
        printError(QStringLiteral("usage: preserve impact bar|zab|baz ID (e.g. preserve impact baz 17)"));
        return Usage;
    }
    const auto impact = command.service->impact(*level, id);
    if (!impact)
        return exitCodeFor(impact.error());
    if (command.wantsJson()) {
        std::printf("%s\n", impact->toJson().constData());
    } else {
        std::printf("%s\n", qPrintable(impact->sentence()));
        if (!impact->foos.isEmpty())
            std::printf("%8s  %10s  %s\n", "pk", "cached", "name");
        for (const Impact::Foo &foo : impact->foos)
            std::printf("%8lld  %10s  %s\n", foo.pk, foo.bytes < 0 ? "-" : qPrintable(formatBytes(foo.bytes)),
                        qPrintable(printable(foo.name, 60)));
    }
    return impact->nodeName ? Ok : NotFound;
}

int Commands::rollback(const QStringList &arguments)
{
    CacheCommand command(QStringLiteral("Puts back the entry the last refresh (or invalidation) of each Foo replaced; the "
                                        "entry rolled back becomes the previous one, so a second rollback undoes it. "
                                        "The state printed after is computed as always: stale if the data changed since."),
                         false);
    command.parser.addPositionalArgument(QStringLiteral("pk"), QStringLiteral("Foo primary keys."), QStringLiteral("pk..."));
    if (auto code = command.start(QStringLiteral("rollback"), arguments))
        return *code;
    auto pks = primaryKeys(command.parser.positionalArguments());
    if (!pks || pks->isEmpty()) {
        printError(QStringLiteral("usage: preserve rollback PK... (Foo primary keys)"));
        return Usage;
    }
    int code = Ok;
    QList<qint64> rolled;
    for (const qint64 pk : *pks) {
        if (const Status done = command.service->rollback(pk); !done) {
            printError(done.error().message);
            code = qMax(code, int(exitCodeFor(done.error())));
            continue;
        }
        rolled << pk;
    }
    if (rolled.isEmpty())
        return code;
    const auto statuses = command.service->status();
    if (!statuses)
        return exitCodeFor(statuses.error());
    for (const EntryStatus &status : *statuses) {
        if (rolled.contains(status.pk))
            std::printf("Foo %lld rolled back: %s (%s)\n", status.pk, qPrintable(entryStateName(status.state)),
                        qPrintable(printable(status.reason, 200)));
    }
    return code;
}

int Commands::warm(const QStringList &arguments)
{
    CacheCommand command(QStringLiteral("Serializes Foos live and writes them to the store (all of them, or with "
                                        "--stale-only those that are stale, missing or corrupt)."),
                         true);
    const QCommandLineOption staleOnly(QStringLiteral("stale-only"), QStringLiteral("Only stale, missing and corrupt entries."));
    command.parser.addOption(staleOnly);
    if (auto code = command.start(QStringLiteral("warm"), arguments))
        return *code;
    CacheService &service = *command.service;
    if (command.parser.isSet(staleOnly)) {
        // Without tracking nothing can be known stale but missing, corrupt and old-version entries.
        auto database = Database::open(service.config().database);
        auto tracking = database ? ChangeTracking::state(**database) : Result<ChangeTracking::State>(database.error());
        if (tracking && !tracking->installed && !command.wantsJson())
            printError(QStringLiteral("note: change tracking is not installed, so only missing, corrupt and "
                                      "old-version entries count as stale; run 'preserve track install', or "
                                      "'preserve verify' to compare with live"));
    }
    const int job = command.parser.isSet(staleOnly) ? service.refreshStale() : service.refreshAll();
    return finish(runJob(service, job, "warming", command.wantsJson()), command.wantsJson(), "Refreshed");
}

int Commands::invalidate(const QStringList &arguments)
{
    CacheCommand command(QStringLiteral("Removes the cache entries of the given Foos from the store."), false);
    command.parser.addPositionalArgument(QStringLiteral("pk"), QStringLiteral("Foo primary keys."), QStringLiteral("pk..."));
    const QCommandLineOption all(QStringLiteral("all"), QStringLiteral("Every entry in the store."));
    const QCommandLineOption orphans(QStringLiteral("orphans"), QStringLiteral("The entries of Foos that no longer exist."));
    command.parser.addOption(all);
    command.parser.addOption(orphans);
    if (auto code = command.start(QStringLiteral("invalidate"), arguments))
        return *code;
    auto pks = primaryKeys(command.parser.positionalArguments());
    if (!pks)
        return exitCodeFor(pks.error());
    if (int(!pks->isEmpty()) + int(command.parser.isSet(all)) + int(command.parser.isSet(orphans)) != 1) {
        printError(QStringLiteral("invalidate takes Foo primary keys, --all or --orphans"));
        return Usage;
    }
    CacheService &service = *command.service;
    if (command.parser.isSet(orphans)) {
        const auto statuses = service.status(true);
        if (!statuses)
            return exitCodeFor(statuses.error());
        for (const EntryStatus &status : *statuses) {
            if (status.state == EntryState::Orphan)
                *pks << status.pk;
        }
        if (pks->isEmpty())
            return finish(JobSummary {}, command.wantsJson(), "Invalidated");
        return finish(runJob(service, service.invalidate(*pks), "invalidating", command.wantsJson()), command.wantsJson(), "Invalidated");
    }
    if (auto code = refuseMissingFoos(service.config().database, *pks))
        return *code;
    const int job = command.parser.isSet(all) ? service.invalidateAll() : service.invalidate(*pks);
    return finish(runJob(service, job, "invalidating", command.wantsJson()), command.wantsJson(), "Invalidated");
}

int Commands::verify(const QStringList &arguments)
{
    CacheCommand command(QStringLiteral("Re-serializes Foos live and compares them with their cache entries "
                                        "(structurally: key order alone is no difference). Exit code 1 when any differ."),
                         true);
    command.parser.addPositionalArgument(QStringLiteral("pk"), QStringLiteral("Foo primary keys (default: every entry)."),
                                         QStringLiteral("[pk...]"));
    if (auto code = command.start(QStringLiteral("verify"), arguments))
        return *code;
    const auto pks = primaryKeys(command.parser.positionalArguments());
    if (!pks)
        return exitCodeFor(pks.error());
    CacheService &service = *command.service;
    if (auto code = refuseMissingFoos(service.config().database, *pks))
        return *code;
    // Collected and printed by pk at the end: results arrive in completion order.
    QMap<qint64, Verification> verified;
    QMap<qint64, QString> failures;
    QObject::connect(&service, &CacheService::entryVerified, &service,
                     [&](int, qint64 pk, const Verification &v) { verified.insert(pk, v); });
    QObject::connect(&service, &CacheService::entryFailed, &service,
                     [&](int, qint64 pk, const QString &message) { failures.insert(pk, message); });
    const JobSummary summary = runJob(service, service.verify(*pks), "verifying", command.wantsJson());
    int differing = 0;
    QJsonArray results;
    for (auto it = verified.cbegin(); it != verified.cend(); ++it) {
        const bool same = it->identical || it->keyOrderOnly;
        differing += same ? 0 : 1;
        if (command.wantsJson()) {
            results.append(QJsonObject { { QStringLiteral("pk"), it.key() }, { QStringLiteral("identical"), same },
                                         { QStringLiteral("summary"), it->summary },
                                         { QStringLiteral("differences"), QJsonArray::fromStringList(it->details) } });
            continue;
        }
        std::printf("Foo %lld: %s\n", it.key(), qPrintable(it->summary));
        for (const QString &detail : it->details)
            std::printf("    %s\n", qPrintable(printable(detail, 200)));
    }
    for (auto it = failures.cbegin(); it != failures.cend(); ++it) {
        if (command.wantsJson())
            results.append(QJsonObject { { QStringLiteral("pk"), it.key() }, { QStringLiteral("error"), it.value() } });
        else
            std::printf("Foo %lld: %s\n", it.key(), qPrintable(it.value()));
    }
    if (command.wantsJson()) {
        QJsonObject out = summaryJson(summary);
        out.insert(QStringLiteral("entries"), results);
        out.insert(QStringLiteral("differing"), differing);
        writeStdout(QJsonDocument(out).toJson(QJsonDocument::Compact) + '\n');
    } else {
        std::printf("Verified %d of %d entries in %.2f s: %d differ from live%s\n", summary.done, summary.total,
                    summary.seconds, differing, summary.failed ? qPrintable(QStringLiteral(", %1 failed").arg(summary.failed)) : "");
        if (!summary.firstError.isEmpty() && failures.isEmpty()) // a failed entry's error is on its own line above
            printError(summary.firstError);
    }
    if (summary.cancelled)
        return Interrupted;
    return differing == 0 && summary.failed == 0 && summary.firstError.isEmpty() ? Ok : Failed;
}

int Commands::track(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Change tracking: triggers on the Django tables that record which "
                                                    "Foos any change affects, so staleness is known, not guessed."));
    DatabaseOptions database;
    database.addTo(parser);
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print JSON for scripts."));
    parser.addOption(json);
    parser.addPositionalArgument(QStringLiteral("action"), QStringLiteral("install, uninstall or status."),
                                 QStringLiteral("install|uninstall|status"));
    if (auto code = parse(parser, QStringLiteral("track"), arguments))
        return *code;
    const QStringList words = parser.positionalArguments();
    const QString action = words.value(0);
    if (words.size() != 1 || !QStringList { QStringLiteral("install"), QStringLiteral("uninstall"), QStringLiteral("status") }.contains(action)) {
        printError(QStringLiteral("track takes one of install, uninstall, status"));
        return Usage;
    }
    auto db = database.open(parser);
    if (!db)
        return exitCodeFor(db.error());
    if (action != QLatin1String("status")) {
        const Status done = action == QLatin1String("install") ? ChangeTracking::install(**db) : ChangeTracking::uninstall(**db);
        if (!done)
            return exitCodeFor(done.error());
    }
    const auto state = ChangeTracking::state(**db);
    if (!state)
        return exitCodeFor(state.error());
    if (parser.isSet(json)) {
        writeStdout(QJsonDocument(QJsonObject { { QStringLiteral("installed"), state->installed },
                                                { QStringLiteral("position"), state->position },
                                                { QStringLiteral("log_rows"), state->logRows },
                                                { QStringLiteral("triggers"), QJsonArray::fromStringList(state->triggers) } })
                        .toJson(QJsonDocument::Compact)
                    + '\n');
    } else {
        std::printf("Change tracking for app label \"%s\": %s (%lld triggers, log position %lld, %lld log %s)\n",
                    qPrintable((*db)->config().appLabel), state->installed ? "installed" : "not installed",
                    qint64(state->triggers.size()), state->position, state->logRows, state->logRows == 1 ? "row" : "rows");
    }
    return Ok;
}
