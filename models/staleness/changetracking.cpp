#include "changetracking.h"

#include "db/database.h"
#include "db/writetransaction.h"

#include <QDateTime>
#include <QFile>
#include <QLoggingCategory>
#include <QObject>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>

#include <functional>

#include <sqlite3.h>

Q_LOGGING_CATEGORY(lcTracking, "preserve.tracking", QtInfoMsg) // debug lines only when asked for (QT_LOGGING_RULES)

namespace ChangeTracking {
namespace {

constexpr int postgresMaxIdentifier = 63;

QString trackPrefix(const QString &label)
{
    return QLatin1String("preserve_track_") + label;
}

QString quotedLog(const Database &database)
{
    return DjangoTables::quote(logTableName(database.config().appLabel));
}

// The column positions are measured in (see the header): log ids on SQLite, xids on PostgreSQL.
QString positionColumn(const Database &database)
{
    return database.isSqlite() ? QStringLiteral("id") : QStringLiteral("xid");
}

// The reason of the one log row that records how far prune() went ("pruned through <position>"):
// the log's delete trigger takes a deletion above it for one by hand (see the templates).
QString prunedMarker()
{
    return QStringLiteral("pruned through ");
}

// DDL and transaction control: QPSQL's prepare() is SQL PREPARE, which takes only DML.
Status execute(Database &database, const QString &sql)
{
    if (database.isSqlite()) {
        auto statement = database.run(sql);
        return statement ? success() : Status(statement.error());
    }
    QSqlQuery query(database.connection());
    if (!query.exec(sql))
        return Error::database(query.lastError().text());
    return success();
}

// The first column of the first row of a query with at most one bound parameter.
Result<qint64> scalar(
    Database &database, const QString &sql, const std::function<void(Statement &)> &bind = {})
{
    // Asked once per refreshed entry (position()): prepared once per connection.
    auto prepared = database.prepareCached(sql);
    if (!prepared)
        return prepared.error();
    Statement &statement = **prepared;
    const auto release = qScopeGuard([&] { statement.reset(); }); // no read lock kept
    if (bind)
        bind(statement);
    if (auto done = statement.exec(); !done)
        return done.error();
    if (!statement.next()) {
        if (auto failed = statement.status(); !failed)
            return failed.error();
        return Error::database(QObject::tr("no row from %1").arg(sql));
    }
    return statement.integer(0);
}

Result<bool> logExists(Database &database)
{
    const QString sql = database.isSqlite()
        ? QStringLiteral("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
        : QStringLiteral("SELECT count(*) FROM pg_catalog.pg_class WHERE relname = ? AND relkind = 'r' "
                         "AND pg_catalog.pg_table_is_visible(oid)");
    const QByteArray name = logTableName(database.config().appLabel).toUtf8();
    auto count = scalar(database, sql, [&](Statement &statement) { statement.bind(0, name); });
    if (!count)
        return count.error();
    return *count > 0;
}

Result<QSet<QString>> presentTriggers(Database &database)
{
    const QString sql = database.isSqlite()
        ? QStringLiteral("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        : QStringLiteral(
            "SELECT t.tgname FROM pg_catalog.pg_trigger AS t JOIN pg_catalog.pg_class AS c "
            "ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' "
            "AND pg_catalog.pg_table_is_visible(c.oid)"); // a disabled trigger logs nothing: missing
    auto statement = database.run(sql);
    if (!statement)
        return statement.error();
    QSet<QString> names;
    while ((*statement)->next())
        names.insert(QString::fromUtf8((*statement)->text(0)));
    if (auto done = (*statement)->status(); !done)
        return done.error();
    return names;
}

QString templatePath(DatabaseConfig::Engine engine)
{
    return engine == DatabaseConfig::Engine::Sqlite ? QStringLiteral(":/sql/track-sqlite.sql")
                                                    : QStringLiteral(":/sql/track-postgresql.sql");
}

// The engine's template as built into the program (empty if unreadable: a broken build).
QString templateText(DatabaseConfig::Engine engine)
{
    QFile file(templatePath(engine));
    return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
}

// One "-- @section" of the engine's template, with the placeholders filled in.
Result<QString> scriptSection(const Database &database, const QString &section)
{
    const QString path = templatePath(database.config().engine);
    const QString text = templateText(database.config().engine);
    if (text.isEmpty())
        return Error::io(QObject::tr("cannot read the built-in %1").arg(path));
    const QString marker = QLatin1String("-- @") + section + QLatin1Char('\n');
    qsizetype start = text.indexOf(marker);
    if (start < 0)
        return Error::corrupt(QObject::tr("%1 has no section %2").arg(path, section));
    start += marker.size();
    const qsizetype end = text.indexOf(QLatin1String("\n-- @"), start);
    QString script = text.mid(start, end < 0 ? -1 : end - start);

    const QString label = database.config().appLabel;
    const DjangoTables &tables = database.tables();
    const QString log = logTableName(label);
    const std::pair<const char *, QString> values[] = {
        { "{log}", DjangoTables::quote(log) },
        { "{foo}", DjangoTables::quote(tables.foo) },
        { "{bar}", DjangoTables::quote(tables.bar) },
        { "{zab}", DjangoTables::quote(tables.zab) },
        { "{baz}", DjangoTables::quote(tables.baz) },
        { "{links}", DjangoTables::quote(tables.zabBazs) },
        { "{track}", trackPrefix(label) },
        { "{log_index}", log + QLatin1String("_foo_id") },
        { "{xid_index}", log + QLatin1String("_xid") },
        { "{channel}", notifyChannel(label) },
        { "{workers}", DjangoTables::quote(workersTableName(label)) },
    };
    for (const auto &[placeholder, value] : values)
        script.replace(QLatin1String(placeholder), value);
    static const QRegularExpression leftOver(QStringLiteral("\\{[a-z_]+\\}"));
    if (const auto match = leftOver.match(script); match.hasMatch())
        return Error::corrupt(QObject::tr("%1: unknown placeholder %2").arg(path, match.captured()));
    return script;
}

// Statements end with ';' at the end of a line, once SQLite sees a complete statement (trigger
// bodies hold ';') or, on PostgreSQL, outside $$-quoted function bodies.
QStringList splitStatements(const QString &script, bool sqlite)
{
    QStringList statements;
    QString current;
    for (const QString &line : script.split(QLatin1Char('\n'))) {
        const QString trimmed = line.trimmed();
        if (current.isEmpty() && (trimmed.isEmpty() || trimmed.startsWith(QLatin1String("--"))))
            continue;
        current += line + QLatin1Char('\n');
        if (!trimmed.endsWith(QLatin1Char(';')))
            continue;
        const bool complete = sqlite ? sqlite3_complete(current.toUtf8().constData()) != 0
                                     : current.count(QLatin1String("$$")) % 2 == 0;
        if (complete) {
            statements << current.trimmed();
            current.clear();
        }
    }
    if (!current.trimmed().isEmpty())
        statements << current.trimmed(); // incomplete: the engine says what is wrong with it
    return statements;
}

Status runSection(Database &database, const QString &section)
{
    auto script = scriptSection(database, section);
    if (!script)
        return script.error();
    for (const QString &sql : splitStatements(*script, database.isSqlite())) {
        if (auto done = execute(database, sql); !done)
            return Error::database(
                QObject::tr("change tracking: %1 failed at \"%2\": %3")
                    .arg(section, sql.section(QLatin1Char('\n'), 0, 0), done.error().message));
    }
    return success();
}

// "… does not exist, skipping" from every DROP … IF EXISTS would reach stderr through libpq.
Status hushNotices(Database &database)
{
    return database.isSqlite() ? success()
                               : execute(database, QStringLiteral("SET LOCAL client_min_messages = warning"));
}

// PostgreSQL cuts longer names silently, and the cut names would collide or not be found again.
Status checkNameLengths(const Database &database)
{
    if (database.isSqlite())
        return success();
    const QString label = database.config().appLabel;
    for (const QString &name :
        triggerNames(label, database.config().engine) + QStringList { logTableName(label) + QLatin1String("_foo_id") }) {
        if (name.toUtf8().size() > postgresMaxIdentifier)
            return Error::invalid(
                QObject::tr("app label \"%1\" is too long for change tracking on PostgreSQL: "
                            "%2 exceeds %3 characters")
                    .arg(label, name)
                    .arg(postgresMaxIdentifier));
    }
    return success();
}

Status requireLog(Database &database)
{
    auto exists = logExists(database);
    if (!exists)
        return exists.error();
    if (!*exists)
        return Error::notFound(QObject::tr("change tracking is not installed for app label \"%1\" in %2")
                                   .arg(database.config().appLabel, database.config().displayName()));
    return success();
}

QString changedAtColumn(const Database &database)
{
    return database.isSqlite()
        ? QStringLiteral("l.changed_at")
        : QStringLiteral("to_char(l.changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
}

// A row of (foo_id, position, reason, changed_at as ISO 8601 UTC text).
Change readChange(const Statement &statement)
{
    Change change;
    change.foo = statement.integer(0);
    change.position = statement.integer(1);
    change.reason = QString::fromUtf8(statement.text(2));
    change.at = QDateTime::fromString(QString::fromUtf8(statement.text(3)), Qt::ISODateWithMs);
    return change;
}

// Starts a tracking period. On SQLite the marker's id starts at the time in microseconds when that
// is above the log, so positions of an earlier log (uninstalled since) stay below it.
Status insertMarker(Database &database)
{
    const QString log = quotedLog(database);
    if (!database.isSqlite())
        return execute(database,
            QStringLiteral("INSERT INTO %1 (foo_id, reason) VALUES (NULL, 'tracking installed')").arg(log));
    auto current = position(database);
    if (!current)
        return current.error();
    const qint64 id = std::max(*current + 1, QDateTime::currentMSecsSinceEpoch() * 1000);
    auto statement = database.prepare(
        QStringLiteral("INSERT INTO %1 (id, foo_id, reason) VALUES (?, NULL, 'tracking installed')")
            .arg(log));
    if (!statement)
        return statement.error();
    (*statement)->bind(0, id);
    return (*statement)->exec();
}

} // namespace

QString notifyChannel(const QString &appLabel)
{
    return QLatin1String("preserve_changes_") + appLabel;
}

QString logTableName(const QString &appLabel)
{
    return QLatin1String("preserve_changes_") + appLabel;
}

QString workersTableName(const QString &appLabel)
{
    return QLatin1String("preserve_workers_") + appLabel;
}

Status prepareWorkers(Database &database)
{
    return WriteTransaction::run(database, [&]() -> Status {
        if (auto quiet = hushNotices(database); !quiet) // "already exists, skipping" every start
            return quiet;
        return runSection(database, QStringLiteral("workers"));
    });
}

Status beat(Database &database, const WorkerBeat &worker)
{
    const bool sqlite = database.isSqlite();
    const QString table = DjangoTables::quote(workersTableName(database.config().appLabel));
    const QString now = sqlite ? QStringLiteral("strftime('%Y-%m-%dT%H:%M:%fZ', 'now')") : QStringLiteral("now()");
    auto upsert = database.prepare(
        QStringLiteral("INSERT INTO %1 (worker, host, pid, active, queued, lag_ms, refreshed, errors, started_at, seen_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, %2, %2) ON CONFLICT (worker) DO UPDATE SET active = excluded.active, "
                       "queued = excluded.queued, lag_ms = excluded.lag_ms, refreshed = excluded.refreshed, "
                       "errors = excluded.errors, seen_at = excluded.seen_at")
            .arg(table, now));
    if (!upsert)
        return upsert.error();
    Statement &row = **upsert;
    row.bind(0, worker.id.toUtf8());
    row.bind(1, worker.host.toUtf8());
    row.bind(2, worker.pid);
    row.bind(3, qint64(worker.active ? 1 : 0));
    row.bind(4, worker.queued);
    row.bind(5, worker.lagMs);
    row.bind(6, worker.refreshed);
    row.bind(7, worker.errors);
    Status written = row.exec();
    row.reset();
    if (!written)
        return written;
    auto pruned = database.run(sqlite ? QStringLiteral("DELETE FROM %1 WHERE seen_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hour')").arg(table)
                                      : QStringLiteral("DELETE FROM %1 WHERE seen_at < now() - interval '1 hour'").arg(table));
    if (!pruned)
        return pruned.error();
    return success();
}

Status leave(Database &database, const QString &id)
{
    auto statement = database.prepare(
        QStringLiteral("DELETE FROM %1 WHERE worker = ?").arg(DjangoTables::quote(workersTableName(database.config().appLabel))));
    if (!statement)
        return statement.error();
    (*statement)->bind(0, id.toUtf8());
    Status done = (*statement)->exec();
    (*statement)->reset();
    return done;
}

QString describeWorkers(const QList<WorkerBeat> &workers)
{
    QStringList running, silent;
    for (const WorkerBeat &worker : workers) {
        if (worker.alive())
            running << QObject::tr("%1 (%2, queue %3, lag %4 ms, %5 refreshed%6)")
                           .arg(worker.id, worker.active ? QObject::tr("active") : QObject::tr("standby"))
                           .arg(worker.queued).arg(worker.lagMs).arg(worker.refreshed)
                           .arg(worker.errors ? QObject::tr(", %1 errors").arg(worker.errors) : QString());
        else
            silent << QObject::tr("%1 for %2 s").arg(worker.id).arg(qRound64(worker.ageSeconds));
    }
    QString line = running.isEmpty() ? QObject::tr("none running") : QObject::tr("%1 running: %2").arg(running.size()).arg(running.join(QLatin1String(", ")));
    if (!silent.isEmpty())
        line += QObject::tr("; %1 silent (stopped or hung): %2").arg(silent.size()).arg(silent.join(QLatin1String(", ")));
    return line;
}

Result<QList<WorkerBeat>> workers(Database &database)
{
    const QString name = workersTableName(database.config().appLabel);
    auto names = database.tableNames();
    if (!names)
        return names.error();
    QList<WorkerBeat> beats;
    if (!names->contains(name))
        return beats;
    const bool sqlite = database.isSqlite();
    auto rows = database.run(
        QStringLiteral("SELECT worker, host, pid, active, queued, lag_ms, refreshed, errors, %1, %2 FROM %3 "
                       "WHERE %2 < 3600 ORDER BY %2, worker")
            .arg(sqlite ? QStringLiteral("started_at") : QStringLiteral("to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"),
                 sqlite ? QStringLiteral("((julianday('now') - julianday(seen_at)) * 86400.0)")
                        : QStringLiteral("extract(epoch FROM now() - seen_at)::float8"),
                 DjangoTables::quote(name)));
    if (!rows)
        return rows.error();
    Statement &row = **rows;
    while (row.next()) {
        WorkerBeat beat;
        beat.id = QString::fromUtf8(row.text(0));
        beat.host = QString::fromUtf8(row.text(1));
        beat.pid = row.integer(2);
        beat.active = row.integer(3) != 0;
        beat.queued = row.integer(4);
        beat.lagMs = row.integer(5);
        beat.refreshed = row.integer(6);
        beat.errors = row.integer(7);
        beat.startedAt = QDateTime::fromString(QString::fromUtf8(row.text(8)), Qt::ISODateWithMs);
        beat.ageSeconds = row.text(9).toDouble();
        beats << beat;
    }
    if (auto done = row.status(); !done)
        return done.error();
    return beats;
}

QStringList triggerNames(const QString &appLabel, DatabaseConfig::Engine engine)
{
    // The template is the one list: every CREATE TRIGGER "{track}_…" in it.
    static const QRegularExpression created(QStringLiteral("CREATE TRIGGER \"\\{track\\}(_[a-z_]+)\""));
    QStringList names;
    for (const auto &match : created.globalMatch(templateText(engine)))
        names << trackPrefix(appLabel) + match.captured(1);
    names.sort();
    return names;
}

Status install(Database &database)
{
    if (auto writable = refuseReadOnly(database, QObject::tr("install change tracking")); !writable)
        return writable;
    if (auto lengths = checkNameLengths(database); !lengths)
        return lengths;
    auto before = state(database);
    if (!before)
        return before.error();
    const bool newPeriod = !before->installed;
    Status done = WriteTransaction::run(database, [&]() -> Status {
        if (auto quiet = hushNotices(database); !quiet)
            return quiet;
        if (auto dropped = runSection(database, QStringLiteral("drop-triggers")); !dropped)
            return dropped;
        if (auto created = runSection(database, QStringLiteral("install")); !created)
            return created;
        if (auto workers = runSection(database, QStringLiteral("workers")); !workers)
            return workers;
        return newPeriod ? insertMarker(database) : success();
    });
    if (done)
        qCDebug(lcTracking) << "change tracking installed for" << database.config().appLabel << "on"
                            << database.config().displayName() << (newPeriod ? "(new tracking period)" : "");
    return done;
}

Status uninstall(Database &database)
{
    if (auto writable = refuseReadOnly(database, QObject::tr("uninstall change tracking")); !writable)
        return writable;
    if (auto lengths = checkNameLengths(database); !lengths)
        return lengths;
    return WriteTransaction::run(database, [&]() -> Status {
        if (auto quiet = hushNotices(database); !quiet)
            return quiet;
        if (auto dropped = runSection(database, QStringLiteral("drop-triggers")); !dropped)
            return dropped;
        return runSection(database, QStringLiteral("drop-log"));
    });
}

Result<State> state(Database &database)
{
    State state;
    auto present = presentTriggers(database);
    if (!present)
        return present.error();
    for (const QString &name : triggerNames(database.config().appLabel, database.config().engine))
        (present->contains(name) ? state.triggers : state.missing) << name;
    auto exists = logExists(database);
    if (!exists)
        return exists.error();
    state.logTable = *exists;
    state.installed = state.logTable && state.missing.isEmpty();
    if (!state.logTable)
        return state;

    const QString log = quotedLog(database);
    auto now = position(database);
    auto since = scalar(database,
        QStringLiteral("SELECT coalesce(max(%1), 0) FROM %2 WHERE foo_id IS NULL AND reason NOT LIKE '%3%'")
            .arg(positionColumn(database), log, prunedMarker()));
    auto rows = scalar(database, QStringLiteral("SELECT count(*) FROM %1").arg(log));
    for (const Result<qint64> *value : { &now, &since, &rows }) {
        if (!*value)
            return value->error();
    }
    state.position = *now;
    state.trackedSince = *since;
    state.logRows = *rows;
    auto why = database.prepare(QStringLiteral("SELECT reason FROM %1 WHERE foo_id IS NULL AND reason NOT LIKE '%2%' "
                                               "ORDER BY id DESC LIMIT 1").arg(log, prunedMarker()));
    if (!why)
        return why.error();
    if (auto done = (*why)->exec(); !done)
        return done.error();
    if ((*why)->next())
        state.trackedSinceReason = QString::fromUtf8((*why)->text(0));
    (*why)->reset();
    return state;
}

Result<qint64> position(Database &database)
{
    auto exists = logExists(database);
    if (!exists)
        return exists.error();
    if (!*exists)
        return qint64(0);
    if (!database.isSqlite())
        return scalar(database, QStringLiteral("SELECT txid_snapshot_xmin(txid_current_snapshot()) - 1"));
    // sqlite_sequence too: prune() may have removed the newest rows, and ids never go back.
    const QByteArray name = logTableName(database.config().appLabel).toUtf8();
    return scalar(database,
        QStringLiteral("SELECT max(coalesce((SELECT max(id) FROM %1), 0), "
                       "coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0))")
            .arg(quotedLog(database)),
        [&](Statement &statement) { statement.bind(0, name); });
}

Result<QHash<qint64, Change>> changesSince(Database &database, qint64 since)
{
    if (auto installed = requireLog(database); !installed)
        return installed.error();
    // Each Foo's latest change by position. On PostgreSQL that is the highest xid, not the highest
    // log id: ids follow insert order, and a transaction with a lower xid may insert later.
    const QString sql = database.isSqlite()
        ? QStringLiteral("SELECT l.foo_id, l.%1, l.reason, %2 FROM %3 AS l JOIN "
                         "(SELECT max(id) AS id FROM %3 WHERE %1 > ? AND foo_id IS NOT NULL "
                         "GROUP BY foo_id) AS latest ON latest.id = l.id")
              .arg(positionColumn(database), changedAtColumn(database), quotedLog(database))
        : QStringLiteral("SELECT DISTINCT ON (l.foo_id) l.foo_id, l.%1, l.reason, %2 FROM %3 AS l "
                         "WHERE l.%1 > ? AND l.foo_id IS NOT NULL ORDER BY l.foo_id, l.%1 DESC, l.id DESC")
              .arg(positionColumn(database), changedAtColumn(database), quotedLog(database));
    auto statement = database.prepare(sql);
    if (!statement)
        return statement.error();
    (*statement)->bind(0, since);
    if (auto done = (*statement)->exec(); !done)
        return done.error();
    QHash<qint64, Change> changes;
    while ((*statement)->next()) {
        const Change change = readChange(**statement);
        changes.insert(change.foo, change);
    }
    if (auto done = (*statement)->status(); !done)
        return done.error();
    return changes;
}

Result<std::optional<Change>> latestChange(Database &database, qint64 foo, qint64 since)
{
    if (auto installed = requireLog(database); !installed)
        return installed.error();
    const QString sql = QStringLiteral("SELECT l.foo_id, l.%1, l.reason, %2 FROM %3 AS l "
                                       "WHERE l.foo_id = ? AND l.%1 > ? ORDER BY l.%1 DESC, l.id DESC LIMIT 1")
                            .arg(positionColumn(database), changedAtColumn(database), quotedLog(database));
    auto statement = database.prepare(sql);
    if (!statement)
        return statement.error();
    (*statement)->bind(0, foo);
    (*statement)->bind(1, since);
    if (auto done = (*statement)->exec(); !done)
        return done.error();
    if (!(*statement)->next()) {
        if (auto failed = (*statement)->status(); !failed)
            return failed.error();
        return std::optional<Change>();
    }
    std::optional<Change> change = readChange(**statement);
    (*statement)->reset();
    return change;
}

Result<QList<std::pair<qint64, qint64>>> changeRows(Database &database, qint64 upTo)
{
    if (auto installed = requireLog(database); !installed)
        return installed.error();
    auto statement = database.prepare(QStringLiteral("SELECT foo_id, %1 FROM %2 WHERE foo_id IS NOT NULL AND %1 <= ?")
                                          .arg(positionColumn(database), quotedLog(database)));
    if (!statement)
        return statement.error();
    (*statement)->bind(0, upTo);
    if (auto done = (*statement)->exec(); !done)
        return done.error();
    QList<std::pair<qint64, qint64>> rows;
    while ((*statement)->next())
        rows.append({ (*statement)->integer(0), (*statement)->integer(1) });
    if (auto done = (*statement)->status(); !done)
        return done.error();
    return rows;
}

Status prune(Database &database, qint64 position)
{
    if (auto writable = refuseReadOnly(database, QObject::tr("prune change tracking")); !writable)
        return writable;
    if (auto installed = requireLog(database); !installed)
        return installed;
    const QString log = quotedLog(database);
    const QString column = positionColumn(database);
    // The marker first, in the same transaction: the log's delete trigger takes a deletion above
    // it for one by hand. It never goes back, so a late prune with an older position cannot lower it.
    return WriteTransaction::run(database, [&]() -> Status {
        auto previous = scalar(database,
            QStringLiteral("SELECT coalesce(max(CAST(substr(reason, %1) AS bigint)), -1) FROM %2 "
                           "WHERE foo_id IS NULL AND reason LIKE '%3%'")
                .arg(prunedMarker().size() + 1)
                .arg(log, prunedMarker()));
        if (!previous)
            return previous.error();
        const qint64 through = std::max(*previous, position);
        const QString text = prunedMarker() + QString::number(through);
        auto marked = database.prepare(*previous < 0
                ? QStringLiteral("INSERT INTO %1 (foo_id, reason) VALUES (NULL, ?)").arg(log)
                : QStringLiteral("UPDATE %1 SET reason = ? WHERE foo_id IS NULL AND reason LIKE '%2%'")
                      .arg(log, prunedMarker()));
        if (!marked)
            return marked.error();
        (*marked)->bind(0, text.toUtf8());
        if (auto done = (*marked)->exec(); !done)
            return done;
        // Change rows at or below it, and restart markers older than the newest (trackedSince).
        auto statement = database.prepare(
            QStringLiteral("DELETE FROM %1 WHERE %2 <= ? AND (foo_id IS NOT NULL OR (reason NOT LIKE '%3%' AND "
                           "id < (SELECT max(id) FROM %1 WHERE foo_id IS NULL AND reason NOT LIKE '%3%')))")
                .arg(log, column, prunedMarker()));
        if (!statement)
            return statement.error();
        (*statement)->bind(0, through);
        return (*statement)->exec();
    });
}

} // namespace ChangeTracking
