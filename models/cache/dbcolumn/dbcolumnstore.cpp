#include "dbcolumnstore.h"

#include "db/bodycheck.h"
#include "db/database.h"
#include "db/writetransaction.h"
#include "json/jsonvalue.h"
#include "json/jsonwrite.h"

#include <QHash>
#include <QLoggingCategory>
#include <QObject>
#include <QScopeGuard>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>

#include <sqlite3.h>
#include <zlib.h>

#include <limits>
#include <optional>
#include <thread>
#include <utility>

Q_LOGGING_CATEGORY(lcDbColumnStore, "preserve.cache.db", QtInfoMsg) // debug lines only when asked for (QT_LOGGING_RULES)

namespace {

const auto quote = &DjangoTables::quote;

// Side-table metadata as read next to a body; `present` is false without a row (or table).
struct SideRow {
    bool present = false;
    QByteArray digest;
    qint64 bodySize = -1;
    qint64 bodyCheck = 0;
    QByteArray gzip; // stored with the body, so a read never compresses
    EntryMetadata metadata;
};

// PostgreSQL's check of a text value: the first 64 bits of its MD5, as a bigint.
QString postgresTextCheck(const QString &text)
{
    return QStringLiteral("CAST(CAST('x' || substr(md5(%1), 1, 16) AS bit(64)) AS bigint)").arg(text);
}

// The columns every body query selects after the pk and the body, in this order.
// Without `gzip`, the gzip column reads as NULL (list() has no use for 90 MB of it on `wide`).
QString sideColumns(bool withSide, bool gzip = true)
{
    return withSide ? QStringLiteral("m.digest, m.cached_at, m.serializer_version, m.built_by, m.build_us, "
                                     "m.change_position, m.body_size, m.body_check, %1")
                          .arg(gzip ? QStringLiteral("m.body_gzip") : QStringLiteral("NULL"))
                    : QStringLiteral("NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL");
}

SideRow readSide(Statement &row, int first)
{
    SideRow side;
    if (row.isNull(first))
        return side;
    side.present = true;
    side.digest = row.text(first).toByteArray();
    side.metadata.cachedAt = QDateTime::fromString(QString::fromUtf8(row.text(first + 1)), Qt::ISODateWithMs);
    side.metadata.serializerVersion = int(row.integer(first + 2));
    side.metadata.builtBy = QString::fromUtf8(row.text(first + 3));
    side.metadata.buildMicros = row.integer(first + 4);
    side.metadata.changePosition = row.isNull(first + 5) ? -1 : row.integer(first + 5);
    side.bodySize = row.isNull(first + 6) ? -1 : row.integer(first + 6);
    side.bodyCheck = row.integer(first + 7);
    if (!row.isNull(first + 8))
        side.gzip = row.blob(first + 8);
    return side;
}

// The rows one entry's statements changed themselves (WriteTransaction::markCacheOnly): the
// previous entry's copy, if made, and the side row with the column, if written.
qint64 rowsWritten(bool copied, bool written)
{
    return (copied ? 1 : 0) + (written ? 2 : 0);
}

} // namespace

struct DbColumnStore::Private {
    std::unique_ptr<Database> database;
    bool sideTableSeen = false; // once it exists it stays (we never drop it)
    bool previousTableSeen = false;

    bool isSqlite() const { return database->isSqlite(); }
    const DjangoTables &tables() const { return database->tables(); }
    QByteArray label() const { return database->config().appLabel.toUtf8(); }

    // Prepared once per connection (Database::prepareCached), reset and ready to bind.
    Result<Statement *> statement(const QString &sql) { return database->prepareCached(sql); }
    // The same, for a statement written once per entry: its text is built once (formatting it
    // anew for each of wide's 100,000 entries showed in a warm's profile).
    template <typename Build>
    Result<Statement *> statementOnce(QString &text, Build build)
    {
        if (text.isEmpty())
            text = build();
        return database->prepareCached(text);
    }
    bool spillRaised = false;
    void keepPagesUntilCommit();
    QString keepPreviousSql;
    QString writeColumnSql;
    QString writeSideSql[2]; // without and with `force`
    QDateTime cachedAtShown; // isoUtc() of the last entry written, for the next one's
    QByteArray cachedAtText;
    Result<bool> sideTableExists();
    Status createTable(const QString &table, bool withCheck);
    Status createSideTable();
    Status notify(qint64 pk);
    // 2: a Foo body at the top (an object with a bar_set list: checkFooShape looks deeper in get()),
    // 1: JSON of another shape ([], null, "a string": corrupt, as get() says, never foreign),
    // 0: no JSON; -1: no body.
    Result<int> bodyShape(qint64 pk);
    // The lowest and highest Foo id; {0, -1} without Foos (or when that cannot be read: list()
    // then scans on one connection, and reports what fails there).
    std::pair<qint64, qint64> idRange();
    // list() of the Foos with from <= id <= to.
    // `expected`: how many rows to make room for (0: unknown).
    Result<QList<EntryInfo>> listRange(qint64 from, qint64 to, qsizetype expected = 0);
    Status writeColumn(const Entry &entry);
    // false: a newer entry is there (never with `force`, which writes whatever is there).
    Result<bool> writeSide(const Entry &entry, bool force = false);
    Status ensurePreviousTable();
    // Copies the side row of `pk` to the previous table, when it holds another body than
    // `replacingDigest` and no later change than `position` (-1 and an empty digest: always).
    // Whether it copied one (SQLite only: false on PostgreSQL, which has no use for it).
    Result<bool> keepPrevious(qint64 pk, const QByteArray &replacingDigest, qint64 position);
    Result<EntryPtr> readPrevious(qint64 pk);
    // Deletes this label's row of `pk` from `table` (a side table); `failure` says what failed,
    // with %1 for the pk, the engine's message following.
    Status deleteRow(const QString &table, qint64 pk, const QString &failure);
    Result<EntryPtr> decode(qint64 pk, QByteArrayView stored, const SideRow &side) const;
    QString bodyQuery(bool withSide, const QString &condition) const;
    // "f.id is one of these pks" with one parameter, whatever their count (see Serializer::loadBazNames),
    // and that parameter's value: a JSON array for SQLite, an array literal for PostgreSQL.
    QString pkListCondition(const QString &column = QStringLiteral("f.id")) const;
    // Of `entries`, the pks whose side row keepPrevious() may copy (one with a gzip'd body), with
    // that row's digest: one statement for a batch, where one per entry mostly found nothing.
    Result<QHash<qint64, QByteArray>> previousCandidates(const QList<EntryPtr> &entries);
    QByteArray pkListValue(const QList<qint64> &pks) const;
};

Result<bool> DbColumnStore::Private::sideTableExists()
{
    if (sideTableSeen)
        return true;
    auto probe = statement(isSqlite()
            ? QStringLiteral("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
            : QStringLiteral("SELECT 1 WHERE to_regclass(?) IS NOT NULL"));
    if (!probe)
        return probe.error();
    Statement &query = **probe;
    query.bind(0, metadataTable().toUtf8());
    if (auto run = query.exec(); !run)
        return Error::database(
            QObject::tr("cannot look for %1: %2").arg(metadataTable(), run.error().message));
    sideTableSeen = query.next();
    query.reset();
    return sideTableSeen;
}

// Same DDL on both engines; cached_at is ISO 8601 UTC text so both sort and show it alike. The side
// table has body_check (the previous table does not: its rows are never served).
Status DbColumnStore::Private::createTable(const QString &table, bool withCheck)
{
    const QString sql = QStringLiteral(
        "CREATE TABLE IF NOT EXISTS %1 (app_label text NOT NULL, foo_id bigint NOT NULL, digest text NOT NULL, "
        "cached_at text, serializer_version integer, built_by text, build_us bigint, change_position bigint, "
        "body_size bigint, %2body_gzip %3, PRIMARY KEY (app_label, foo_id))")
                            .arg(quote(table), withCheck ? QStringLiteral("body_check bigint, ") : QString(),
                                 isSqlite() ? QStringLiteral("blob") : QStringLiteral("bytea"));
    QString failure;
    if (isSqlite()) {
        if (auto created = database->run(sql); !created)
            failure = created.error().message;
    } else {
        // QPSQL cannot PREPARE a DDL statement: run it as it is (nothing in it is bound).
        QSqlQuery query(database->connection());
        if (!query.exec(sql))
            failure = query.lastError().text();
    }
    if (!failure.isEmpty())
        return Error::database(QObject::tr("cannot create the table %1 in %2: %3")
                                   .arg(table, database->config().displayName(), failure));
    return success();
}

Status DbColumnStore::Private::createSideTable()
{
    return createTable(metadataTable(), true);
}

// Seen once the transaction that made it commits (put(), putMany()).
Status DbColumnStore::Private::ensurePreviousTable()
{
    return previousTableSeen ? success() : createTable(previousTable(), false);
}

// SQLite writes a transaction's pages out early when they outgrow its page cache (2 MB by
// default), and for that takes the file's EXCLUSIVE lock, which stops every reader until the
// COMMIT. A warm of wide's batches of 256 small entries spilled in their UPDATEs (perf: an eighth
// of the writer's samples in sqlite3PcacheFetchStress) and kept the other worker from reading.
// So pages stay in memory until the COMMIT, the one moment readers must wait for, up to 16,384
// of them (64 MB of 4 KB pages): GroupCommit bounds a batch's bodies only loosely (what arrives
// during a write goes out with the next batch, and gzip copies come on top), and a single put
// has no bound at all, so past that SQLite spills as before.
void DbColumnStore::Private::keepPagesUntilCommit()
{
    if (spillRaised || !isSqlite())
        return;
    spillRaised = true;
    if (auto raised = database->run(QStringLiteral("PRAGMA cache_spill = 16384")); raised)
        (*raised)->reset();
}

Status DbColumnStore::Private::deleteRow(const QString &table, qint64 pk, const QString &failure)
{
    auto drop = statement(QStringLiteral("DELETE FROM %1 WHERE app_label = ? AND foo_id = ?").arg(quote(table)));
    if (!drop)
        return drop.error();
    (*drop)->bind(0, label());
    (*drop)->bind(1, pk);
    Status dropped = (*drop)->exec();
    (*drop)->reset();
    if (!dropped)
        return Error::database(failure.arg(pk) + QStringLiteral(": ") + dropped.error().message);
    return success();
}

Result<bool> DbColumnStore::Private::keepPrevious(qint64 pk, const QByteArray &replacingDigest, qint64 position)
{
    if (auto table = ensurePreviousTable(); !table)
        return table.error();
    const QString columns = QStringLiteral("app_label, foo_id, digest, cached_at, serializer_version, built_by, build_us, "
                                           "change_position, body_size, body_gzip");
    auto copy = statementOnce(keepPreviousSql, [&] { return QStringLiteral(
        "INSERT INTO %1 (%3) SELECT %3 FROM %2 m WHERE m.app_label = ? AND m.foo_id = ? AND m.body_gzip IS NOT NULL "
        "AND m.digest <> COALESCE(?, '') AND (CAST(? AS BIGINT) < 0 OR m.change_position IS NULL OR m.change_position <= CAST(? AS BIGINT)) "
        "ON CONFLICT (app_label, foo_id) DO UPDATE SET digest = excluded.digest, cached_at = excluded.cached_at, "
        "serializer_version = excluded.serializer_version, built_by = excluded.built_by, build_us = excluded.build_us, "
        "change_position = excluded.change_position, body_size = excluded.body_size, body_gzip = excluded.body_gzip")
                              .arg(quote(previousTable()), quote(metadataTable()), columns); });
    if (!copy)
        return copy.error();
    Statement &s = **copy;
    s.bind(0, label());
    s.bind(1, pk);
    s.bind(2, replacingDigest);
    s.bind(3, position);
    s.bind(4, position);
    Status run = s.exec();
    s.reset();
    if (!run)
        return Error::database(QObject::tr("cannot keep the previous entry of Foo %1: %2").arg(pk).arg(run.error().message));
    return database->lastChanges() > 0;
}

Result<EntryPtr> DbColumnStore::Private::readPrevious(qint64 pk)
{
    if (!previousTableSeen) {
        auto probe = statement(isSqlite() ? QStringLiteral("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
                                          : QStringLiteral("SELECT 1 WHERE to_regclass(?) IS NOT NULL"));
        if (!probe)
            return probe.error();
        (*probe)->bind(0, previousTable().toUtf8());
        if (auto run = (*probe)->exec(); !run)
            return run.error();
        previousTableSeen = (*probe)->next();
        (*probe)->reset();
        if (!previousTableSeen)
            return EntryPtr();
    }
    auto query = statement(QStringLiteral("SELECT digest, cached_at, serializer_version, built_by, build_us, "
                                          "change_position, body_gzip FROM %1 WHERE app_label = ? AND foo_id = ?")
                               .arg(quote(previousTable())));
    if (!query)
        return query.error();
    Statement &row = **query;
    row.bind(0, label());
    row.bind(1, pk);
    if (auto run = row.exec(); !run)
        return Error::database(QObject::tr("cannot read the previous entry of Foo %1: %2").arg(pk).arg(run.error().message));
    EntryPtr entry;
    if (row.next()) {
        EntryMetadata metadata;
        metadata.cachedAt = QDateTime::fromString(QString::fromUtf8(row.text(1)), Qt::ISODateWithMs);
        metadata.serializerVersion = int(row.integer(2));
        metadata.builtBy = QString::fromUtf8(row.text(3));
        metadata.buildMicros = row.integer(4);
        metadata.changePosition = row.isNull(5) ? -1 : row.integer(5);
        const QByteArray gzip = row.blob(6);
        QByteArray body = gzipDecompress(gzip);
        const QByteArray digest = row.text(0).toByteArray();
        entry = makeEntry(pk, std::move(body), gzip, digest, metadata);
    }
    const Status status = row.status();
    row.reset();
    if (!status)
        return status.error();
    return entry;
}

Result<int> DbColumnStore::Private::bodyShape(qint64 pk)
{
    auto query = statement(
        isSqlite()
            ? QStringLiteral("SELECT CASE WHEN NOT json_valid(CAST(pre_serialized AS TEXT)) THEN 0 "
                             "WHEN json_type(CAST(pre_serialized AS TEXT)) = 'object' AND "
                             "json_type(CAST(pre_serialized AS TEXT), '$.bar_set') = 'array' THEN 2 ELSE 1 END "
                             "FROM %1 WHERE id = ? AND pre_serialized IS NOT NULL")
                  .arg(quote(tables().foo))
            : QStringLiteral("SELECT CASE WHEN jsonb_typeof(CAST(pre_serialized AS jsonb)) = 'object' AND "
                             "jsonb_typeof(CAST(pre_serialized AS jsonb) -> 'bar_set') = 'array' THEN 2 ELSE 1 END "
                             "FROM %1 WHERE id = ? AND pre_serialized IS NOT NULL")
                  .arg(quote(tables().foo)));
    if (!query)
        return query.error();
    Statement &row = **query;
    row.bind(0, pk);
    if (auto run = row.exec(); !run)
        return Error::database(QObject::tr("cannot read the body of Foo %1: %2").arg(pk).arg(run.error().message));
    const int shape = row.next() ? int(row.integer(0)) : -1;
    const Status status = row.status();
    row.reset();
    if (!status)
        return status.error();
    return shape;
}

Status DbColumnStore::Private::notify(qint64 pk)
{
    if (isSqlite())
        return success(); // SQLite readers watch PRAGMA data_version instead
    auto query = statement(QStringLiteral("SELECT pg_notify(?, ?)"));
    if (!query)
        return query.error();
    (*query)->bind(0, notifyChannel(database->config().appLabel).toUtf8());
    (*query)->bind(1, QByteArray::number(pk));
    Status sent = (*query)->exec();
    (*query)->reset();
    if (!sent)
        return Error::database(
            QObject::tr("cannot NOTIFY about Foo %1: %2").arg(pk).arg(sent.error().message));
    return success();
}

QString DbColumnStore::Private::bodyQuery(bool withSide, const QString &condition) const
{
    // PostgreSQL's jsonb comes out as its text form (keys reordered, ", " and ": " separators).
    const QString body
        = isSqlite() ? QStringLiteral("f.pre_serialized") : QStringLiteral("CAST(f.pre_serialized AS text)");
    const QString join = withSide
        ? QStringLiteral(" LEFT JOIN %1 m ON m.foo_id = f.id AND m.app_label = ?").arg(quote(metadataTable()))
        : QString();
    return QStringLiteral("SELECT f.id, %1, %2 FROM %3 f%4 WHERE f.pre_serialized IS NOT NULL AND %5")
        .arg(body, sideColumns(withSide), quote(tables().foo), join, condition);
}

// The stored text becomes an entry. SQLite keeps our bytes as written, so a side row whose size and
// check match them proves they are the canonical body it describes: no parse, no SHA-256. Anything
// else (PostgreSQL's jsonb text, Django's json.dumps) is parsed, checked for the Foo shape and
// written canonically; it is ours when the canonical bytes have the side row's digest.
Result<EntryPtr> DbColumnStore::Private::decode(qint64 pk, QByteArrayView stored, const SideRow &side) const
{
    if (side.present && isSqlite() && side.bodySize == stored.size() && side.bodyCheck == bodyCheck(stored))
        return makeEntry(pk, stored.toByteArray(), side.gzip.isEmpty() ? gzipCompress(stored) : side.gzip, side.digest,
                         side.metadata);

    auto value = parseJson(stored);
    if (!value)
        return Error::corrupt(
            QObject::tr("pre_serialized of Foo %1 is not valid JSON: %2").arg(pk).arg(value.error().message));
    if (auto shape = checkFooShape(*value); !shape)
        return Error::corrupt(
            QObject::tr("pre_serialized of Foo %1 is not a Foo body: %2").arg(pk).arg(shape.error().message));
    QByteArray canonical = writeCompactJson(*value);
    QByteArray digest = digestOf(canonical);
    EntryMetadata metadata;
    const bool ours = side.present && digest == side.digest;
    if (ours)
        metadata = side.metadata;
    else
        metadata.foreign = true; // written by Django or anyone else, or rewritten after our put
    QByteArray gzip = ours && !side.gzip.isEmpty() ? side.gzip : gzipCompress(canonical);
    return makeEntry(pk, std::move(canonical), std::move(gzip), std::move(digest), metadata);
}

Status DbColumnStore::Private::writeColumn(const Entry &entry)
{
    // SQLite's column is text (bind text, keep our bytes: the side row's body_check is theirs).
    // PostgreSQL's is jsonb (cast the text); jsonb prints its own text, so the side row gets the
    // check of that text, for list() to see whether the column still holds what was written.
    auto update = statementOnce(writeColumnSql, [&] { return
        isSqlite()
            ? QStringLiteral("UPDATE %1 SET pre_serialized = ? WHERE id = ?").arg(quote(tables().foo))
            : QStringLiteral("WITH c AS (UPDATE %1 SET pre_serialized = CAST(? AS jsonb) WHERE id = ? "
                             "RETURNING id, CAST(pre_serialized AS text) AS t) "
                             "UPDATE %2 m SET body_check = %3 FROM c WHERE m.foo_id = c.id AND m.app_label = ? "
                             "RETURNING c.id")
                  .arg(quote(tables().foo), quote(metadataTable()), postgresTextCheck(QStringLiteral("c.t"))); });
    if (!update)
        return update.error();
    (*update)->bind(0, entry.body);
    (*update)->bind(1, entry.pk);
    if (!isSqlite())
        (*update)->bind(2, label());
    if (auto run = (*update)->exec(); !run)
        return Error::database(
            QObject::tr("cannot write pre_serialized of Foo %1: %2").arg(entry.pk).arg(run.error().message));
    // SQLite counts the row instead of RETURNING it: RETURNING buffers its rows in a temporary
    // b-tree, opened and closed for each statement (about 6 µs, most of a small entry's write).
    const bool updated = isSqlite() ? database->lastChanges() > 0 : (*update)->next();
    (*update)->reset();
    if (!updated)
        return Error::notFound(QObject::tr("no Foo with primary key %1 in %2")
                                   .arg(entry.pk)
                                   .arg(database->config().displayName()));
    return success();
}

// The side row first, and only when no row there reflects a later change position (another process
// refreshed from a newer snapshot): false then, and the caller leaves the column as it is. The
// upsert locks the row (PostgreSQL evaluates the condition on its latest version), so two writers
// cannot both pass it with the older body last.
Result<bool> DbColumnStore::Private::writeSide(const Entry &entry, bool force)
{
    auto upsert = statementOnce(writeSideSql[force ? 1 : 0], [&] { return QStringLiteral(
        "INSERT INTO %1 (app_label, foo_id, digest, cached_at, serializer_version, built_by, build_us, "
        "change_position, body_size, body_check, body_gzip) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (app_label, foo_id) DO UPDATE SET digest = excluded.digest, "
        "cached_at = excluded.cached_at, serializer_version = excluded.serializer_version, "
        "built_by = excluded.built_by, build_us = excluded.build_us, "
        "change_position = excluded.change_position, body_size = excluded.body_size, "
        "body_check = excluded.body_check, body_gzip = excluded.body_gzip "
        "%2%3")
                                .arg(quote(metadataTable()),
                                     force ? QString()
                                           : QStringLiteral("WHERE excluded.change_position < 0 OR %1.change_position IS NULL "
                                                            "OR %1.change_position <= excluded.change_position")
                                                 .arg(quote(metadataTable())),
                                     isSqlite() ? QString() : QStringLiteral(" RETURNING foo_id")); }); // see writeColumn
    if (!upsert)
        return upsert.error();
    Statement &side = **upsert;
    side.bind(0, label());
    side.bind(1, entry.pk);
    side.bind(2, entry.digest.isEmpty() ? digestOf(entry.body) : entry.digest);
    if (entry.cachedAt != cachedAtShown || cachedAtText.isEmpty()) { // a snapshot's entries share it
        cachedAtShown = entry.cachedAt;
        cachedAtText = isoUtc(entry.cachedAt).toUtf8();
    }
    side.bind(3, cachedAtText);
    side.bind(4, qint64(entry.serializerVersion));
    side.bind(5, entry.builtBy.toUtf8());
    side.bind(6, entry.buildMicros);
    side.bind(7, entry.changePosition);
    side.bind(8, qint64(entry.body.size()));
    side.bind(9, bodyCheck(entry.body));
    side.bindBlob(10, entry.gzip.isEmpty() ? gzipCompress(entry.body) : entry.gzip);
    Status written = side.exec();
    const bool kept = written && (isSqlite() ? database->lastChanges() > 0 : side.next());
    side.reset();
    if (!written)
        return Error::database(QObject::tr("cannot write the metadata of Foo %1: %2")
                                   .arg(entry.pk)
                                   .arg(written.error().message));
    return kept;
}

DbColumnStore::DbColumnStore(std::unique_ptr<Database> database)
    : d(std::make_unique<Private>())
{
    d->database = std::move(database);
}

DbColumnStore::~DbColumnStore() = default; // the Database drops its statements before its connection

Result<std::unique_ptr<DbColumnStore>> DbColumnStore::open(const DatabaseConfig &config)
{
    auto database = Database::open(config);
    if (!database)
        return database.error();
    return std::unique_ptr<DbColumnStore>(new DbColumnStore(std::move(database.value())));
}

QString DbColumnStore::description() const
{
    return QObject::tr("%1 (pre_serialized column)").arg(d->database->config().displayName());
}

Database &DbColumnStore::database()
{
    return *d->database;
}

QString DbColumnStore::notifyChannel(const QString &appLabel)
{
    return QStringLiteral("preserve_cache_") + appLabel;
}

Result<EntryPtr> DbColumnStore::get(qint64 pk)
{
    const auto withSide = d->sideTableExists();
    if (!withSide)
        return withSide.error();
    auto query = d->statement(d->bodyQuery(*withSide, QStringLiteral("f.id = ?")));
    if (!query)
        return query.error();
    Statement &row = **query;
    int parameter = 0;
    if (*withSide)
        row.bind(parameter++, d->label());
    row.bind(parameter, pk);
    if (auto run = row.exec(); !run)
        return Error::database(
            QObject::tr("cannot read the entry of Foo %1: %2").arg(pk).arg(run.error().message));
    if (!row.next()) {
        const Status status = row.status();
        row.reset();
        if (!status)
            return status.error();
        return EntryPtr(); // no Foo, or a NULL column: missing
    }
    Result<EntryPtr> entry = d->decode(pk, row.text(1), readSide(row, 2));
    row.reset();
    return entry;
}

Result<std::optional<QByteArray>> DbColumnStore::storedBytes(qint64 pk)
{
    auto query = d->statement(QStringLiteral("SELECT %1 FROM %2 WHERE id = ? AND pre_serialized IS NOT NULL")
                                  .arg(d->isSqlite() ? QStringLiteral("pre_serialized")
                                                     : QStringLiteral("CAST(pre_serialized AS text)"),
                                       quote(d->tables().foo)));
    if (!query)
        return query.error();
    Statement &row = **query;
    row.bind(0, pk);
    if (auto run = row.exec(); !run)
        return Error::database(QObject::tr("cannot read the entry of Foo %1: %2").arg(pk).arg(run.error().message));
    std::optional<QByteArray> bytes;
    if (row.next())
        bytes = row.text(0).toByteArray();
    const Status status = row.status();
    row.reset();
    if (!status)
        return status.error();
    return bytes;
}

// The side row's size where there is one (the size as written: reading the column's length makes
// SQLite load every overflow page, ~60 ms for a hundred large bodies), the column's otherwise.
Result<QHash<qint64, qint64>> DbColumnStore::sizes(const QList<qint64> &pks)
{
    QHash<qint64, qint64> sizes;
    if (pks.isEmpty())
        return sizes;
    const auto withSide = d->sideTableExists();
    if (!withSide)
        return withSide.error();
    const bool sqlite = d->isSqlite();
    const QString columnSize = sqlite ? QStringLiteral("length(CAST(f.pre_serialized AS BLOB))")
                                      : QStringLiteral("octet_length(CAST(f.pre_serialized AS text))");
    auto query = d->statement(
        QStringLiteral("SELECT f.id, %1 FROM %2 f%3 WHERE f.pre_serialized IS NOT NULL AND %4")
            .arg(*withSide ? QStringLiteral("CASE WHEN m.body_size IS NOT NULL THEN m.body_size ELSE %1 END").arg(columnSize)
                           : columnSize,
                 quote(d->tables().foo),
                 *withSide ? QStringLiteral(" LEFT JOIN %1 m ON m.foo_id = f.id AND m.app_label = ?").arg(quote(metadataTable()))
                           : QString(),
                 d->pkListCondition()));
    if (!query)
        return query.error();
    Statement &row = **query;
    int parameter = 0;
    if (*withSide)
        row.bind(parameter++, d->label());
    row.bind(parameter, d->pkListValue(pks));
    if (auto run = row.exec(); !run)
        return Error::database(QObject::tr("cannot read the sizes of %1 entries: %2").arg(pks.size()).arg(run.error().message));
    while (row.next())
        sizes.insert(row.integer(0), row.integer(1));
    const Status status = row.status();
    row.reset();
    if (!status)
        return status.error();
    return sizes;
}

QString DbColumnStore::Private::pkListCondition(const QString &column) const
{
    return isSqlite() ? QStringLiteral("%1 IN (SELECT value FROM json_each(?))").arg(column)
                      : QStringLiteral("%1 = ANY (CAST(? AS bigint[]))").arg(column);
}

Result<QHash<qint64, QByteArray>> DbColumnStore::Private::previousCandidates(const QList<EntryPtr> &entries)
{
    QList<qint64> pks;
    pks.reserve(entries.size());
    for (const EntryPtr &entry : entries)
        pks << entry->pk;
    auto query = statement(QStringLiteral("SELECT m.foo_id, m.digest FROM %1 m WHERE m.app_label = ? AND m.body_gzip IS NOT NULL AND %2")
                               .arg(quote(metadataTable()), pkListCondition(QStringLiteral("m.foo_id"))));
    if (!query)
        return query.error();
    Statement &row = **query;
    row.bind(0, label());
    row.bind(1, pkListValue(pks));
    if (auto run = row.exec(); !run)
        return Error::database(QObject::tr("cannot read the previous entries of %1 Foos: %2").arg(pks.size()).arg(run.error().message));
    QHash<qint64, QByteArray> candidates;
    while (row.next())
        candidates.insert(row.integer(0), row.text(1).toByteArray());
    const Status status = row.status();
    row.reset();
    if (!status)
        return status.error();
    return candidates;
}

QByteArray DbColumnStore::Private::pkListValue(const QList<qint64> &pks) const
{
    QByteArray ids;
    for (const qint64 pk : pks)
        ids += QByteArray::number(pk) + ',';
    ids.chop(1);
    return isSqlite() ? '[' + ids + ']' : '{' + ids + '}';
}

bool DbColumnStore::keepsBytes() const
{
    return d->isSqlite();
}

Result<QHash<qint64, EntryPtr>> DbColumnStore::getMany(const QList<qint64> &pks)
{
    QHash<qint64, EntryPtr> entries;
    if (pks.isEmpty())
        return entries;
    const auto withSide = d->sideTableExists();
    if (!withSide)
        return withSide.error();
    auto query = d->statement(d->bodyQuery(*withSide, d->pkListCondition()));
    if (!query)
        return query.error();
    Statement &row = **query;
    int parameter = 0;
    if (*withSide)
        row.bind(parameter++, d->label());
    row.bind(parameter, d->pkListValue(pks));
    if (auto run = row.exec(); !run)
        return Error::database(
            QObject::tr("cannot read %1 entries: %2").arg(pks.size()).arg(run.error().message));
    while (row.next()) {
        const qint64 pk = row.integer(0);
        auto entry = d->decode(pk, row.text(1), readSide(row, 2));
        if (entry)
            entries.insert(pk, std::move(entry.value()));
        else
            qCDebug(lcDbColumnStore) << "getMany leaves out Foo" << pk << ":" << entry.error().message;
    }
    const Status status = row.status();
    row.reset();
    if (!status)
        return status.error();
    return entries;
}

Status DbColumnStore::put(const EntryPtr &entry)
{
    if (auto refused = refuseReadOnly(*d->database, QObject::tr("write a cached entry")); !refused)
        return refused;
    if (!entry)
        return Error::invalid(QObject::tr("no entry to write"));
    d->keepPagesUntilCommit();
    WriteTransaction transaction(*d->database);
    if (auto begun = transaction.begin(); !begun)
        return begun;
    // Created inside the transaction: a failed first put leaves the database as it was.
    const auto sideTable = d->sideTableExists();
    if (!sideTable)
        return sideTable.error();
    if (!*sideTable) {
        if (auto created = d->createSideTable(); !created)
            return created;
    }

    const QByteArray digest = entry->digest.isEmpty() ? digestOf(entry->body) : entry->digest;
    const auto kept = d->keepPrevious(entry->pk, digest, entry->changePosition);
    if (!kept)
        return kept.error();
    const auto side = d->writeSide(*entry);
    if (!side)
        return side.error();
    transaction.markCacheOnly(rowsWritten(*kept, *side)); // the column is written below
    if (!*side) // a newer entry is there
        return transaction.commit();
    if (auto column = d->writeColumn(*entry); !column)
        return column;
    if (auto sent = d->notify(entry->pk); !sent)
        return sent;
    if (auto committed = transaction.commit(); !committed)
        return committed;
    d->sideTableSeen = true;
    d->previousTableSeen = true;
    return success();
}

QList<Status> DbColumnStore::putMany(const QList<EntryPtr> &entries)
{
    if (entries.size() <= 1 || d->database->config().readOnly)
        return CacheStore::putMany(entries);
    // All in one transaction; if any entry fails, nothing of the batch is kept and each is tried on
    // its own, so one bad pk costs the others nothing but time.
    d->keepPagesUntilCommit();
    {
        WriteTransaction transaction(*d->database);
        bool written = transaction.begin().ok();
        const auto sideTable = written ? d->sideTableExists() : Result<bool>(false);
        written = written && sideTable.ok() && (*sideTable || d->createSideTable().ok()) && d->ensurePreviousTable().ok();
        // keepPrevious() copies only a side row with a gzip'd body and another digest: on SQLite,
        // whose write transaction keeps every other writer out, the others are known before the
        // loop. A pk met again in the batch may have a row its first put wrote. PostgreSQL's
        // statements each see what others committed meanwhile, so there it asks for every entry.
        const bool prefilter = d->isSqlite();
        const auto candidates = written && prefilter ? d->previousCandidates(entries)
                                                     : Result<QHash<qint64, QByteArray>>(QHash<qint64, QByteArray>());
        written = written && candidates.ok();
        QSet<qint64> seen;
        qint64 rows = 0; // changed by the statements themselves: see markCacheOnly()
        for (qsizetype i = 0; written && i < entries.size(); ++i) {
            const Entry &entry = *entries[i];
            const QByteArray digest = entry.digest.isEmpty() ? digestOf(entry.body) : entry.digest;
            const bool again = seen.contains(entry.pk);
            seen.insert(entry.pk);
            const auto candidate = candidates->constFind(entry.pk);
            const bool mayCopy = !prefilter || again || (candidate != candidates->cend() && *candidate != digest);
            const auto kept = mayCopy ? d->keepPrevious(entry.pk, digest, entry.changePosition) : Result<bool>(false);
            const auto side = kept ? d->writeSide(entry) : Result<bool>(false);
            written = kept.ok() && side.ok() && (!*side || (d->writeColumn(entry).ok() && d->notify(entry.pk).ok()));
            rows += written ? rowsWritten(*kept, *side) : 0;
        }
        transaction.markCacheOnly(rows);
        if (written && transaction.commit().ok()) {
            d->sideTableSeen = true;
            d->previousTableSeen = true;
            return QList<Status>(entries.size(), success());
        }
    }
    return CacheStore::putMany(entries);
}

// From the side table alone (no body is read): rows whose Foo has a body. A body Django rewrote
// after our put still counts as ours here; the worker only asks "was this refreshed already".
Result<QHash<qint64, qint64>> DbColumnStore::positions(const QList<qint64> &pks)
{
    QHash<qint64, qint64> positions;
    const auto withSide = d->sideTableExists();
    if (!withSide)
        return withSide.error();
    if (!*withSide || pks.isEmpty())
        return positions;
    QStringList numbers; // integers: safe to inline, and one statement for any count
    for (const qint64 pk : pks)
        numbers << QString::number(pk);
    auto query = d->database->prepare(
        QStringLiteral("SELECT m.foo_id, m.change_position FROM %1 m JOIN %2 f ON f.id = m.foo_id "
                       "WHERE m.app_label = ? AND f.pre_serialized IS NOT NULL AND m.foo_id IN (%3)")
            .arg(quote(metadataTable()), quote(d->tables().foo), numbers.join(QLatin1Char(','))));
    if (!query)
        return query.error();
    Statement &row = **query;
    row.bind(0, d->label());
    if (auto run = row.exec(); !run)
        return Error::database(QObject::tr("cannot read the entries' change positions: %1").arg(run.error().message));
    while (row.next())
        positions.insert(row.integer(0), row.isNull(1) ? -1 : row.integer(1));
    const Status status = row.status();
    row.reset();
    if (!status)
        return status.error();
    return positions;
}

Status DbColumnStore::remove(qint64 pk)
{
    if (auto refused = refuseReadOnly(*d->database, QObject::tr("remove a cached entry")); !refused)
        return refused;
    WriteTransaction transaction(*d->database);
    if (auto begun = transaction.begin(); !begun)
        return begun;
    auto clear = d->statement(
        QStringLiteral("UPDATE %1 SET pre_serialized = NULL WHERE id = ?").arg(quote(d->tables().foo)));
    if (!clear)
        return clear.error();
    (*clear)->bind(0, pk);
    Status cleared = (*clear)->exec();
    (*clear)->reset();
    if (!cleared)
        return Error::database(
            QObject::tr("cannot clear pre_serialized of Foo %1: %2").arg(pk).arg(cleared.error().message));
    // Removing never creates the side table; an orphan row (Foo deleted) goes too.
    const auto withSide = d->sideTableExists();
    if (!withSide)
        return withSide.error();
    if (*withSide) {
        // The removed entry is the previous one now: an invalidation can be rolled back too.
        if (auto kept = d->keepPrevious(pk, QByteArray(), -1); !kept)
            return kept.error();
        if (auto dropped = d->deleteRow(metadataTable(), pk, QObject::tr("cannot delete the metadata of Foo %1")); !dropped)
            return dropped;
    }
    if (auto sent = d->notify(pk); !sent)
        return sent;
    return transaction.commit();
}

Result<EntryPtr> DbColumnStore::previous(qint64 pk)
{
    return d->readPrevious(pk);
}

// In one transaction: the previous entry read, its row dropped, the current side row kept as the
// previous one, then the previous entry written as the entry whatever its change position.
Status DbColumnStore::rollback(qint64 pk)
{
    if (auto refused = refuseReadOnly(*d->database, QObject::tr("roll back a cached entry")); !refused)
        return refused;
    WriteTransaction transaction(*d->database);
    if (auto begun = transaction.begin(); !begun)
        return begun;
    const auto previous = d->readPrevious(pk);
    if (!previous)
        return previous.error();
    if (!*previous)
        return Error::notFound(QObject::tr("Foo %1 has no previous entry to roll back to").arg(pk));
    if (auto dropped = d->deleteRow(previousTable(), pk, QObject::tr("cannot roll back Foo %1")); !dropped)
        return dropped;
    if (auto kept = d->keepPrevious(pk, QByteArray(), -1); !kept)
        return kept.error();
    if (auto side = d->writeSide(**previous, true); !side)
        return side.error();
    if (auto column = d->writeColumn(**previous); !column)
        return column;
    if (auto sent = d->notify(pk); !sent)
        return sent;
    return transaction.commit();
}

// list()'s rows without their bodies: a NULL test reads only a row's header, where list() reads
// every body for its check (verify of wide spent half a second there before its first Foo).
Result<QList<qint64>> DbColumnStore::pks()
{
    auto query = d->statement(QStringLiteral("SELECT id FROM %1 WHERE pre_serialized IS NOT NULL ORDER BY id").arg(quote(d->tables().foo)));
    if (!query)
        return query.error();
    Statement &row = **query;
    if (auto run = row.exec(); !run)
        return Error::database(QObject::tr("cannot list the entries: %1").arg(run.error().message));
    QList<qint64> pks;
    while (row.next())
        pks << row.integer(0);
    const Status status = row.status();
    row.reset();
    if (!status)
        return status.error();
    return pks;
}

// Sizes, validity and checks are computed by the engine, so no body crosses into this process.
// Foreign: no side row, or a column whose check differs from the side row's: not the body Preserve
// wrote (Django wrote it, or anyone rewrote it since, even to the same size). SQLite checks the bytes
// it holds (preserve_body_check, see Database); PostgreSQL the text of its jsonb, which writeColumn()
// recorded. `problem` is set for text that is not JSON at all (SQLite only: jsonb is always JSON) and
// for JSON that is no Foo body at the top ([], null, a string): corrupt, as get() says, never foreign.
Result<QList<EntryInfo>> DbColumnStore::list()
{
    // Every body is read for its check (ours, or bytes someone else wrote): on SQLite that is one
    // pread per 4 KiB overflow page and a checksum, about 1.4 s for wide's 468 MB on one core. With
    // many Foos, a second connection on a thread of its own scans the upper half of the ids. Each
    // entry's line is read whole in one snapshot; the two halves may be a commit apart, as two
    // lines of the one-connection scan never were, and a status is a list of per-entry verdicts.
    constexpr qint64 splitFrom = 20000;
    constexpr qint64 first = std::numeric_limits<qint64>::min();
    constexpr qint64 last = std::numeric_limits<qint64>::max();
    const auto [low, high] = d->isSqlite() ? d->idRange() : std::pair<qint64, qint64>(0, -1);
    if (high - low < splitFrom)
        return d->listRange(first, last);
    const qint64 middle = low + (high - low) / 2;
    std::optional<Result<QList<EntryInfo>>> upper;
    std::thread helper([&] {
        auto other = DbColumnStore::open(d->database->config());
        upper = other ? (*other)->d->listRange(middle + 1, last, high - middle)
                      : Result<QList<EntryInfo>>(other.error());
    });
    auto lower = d->listRange(first, middle, middle - low + 1);
    helper.join();
    if (!lower)
        return lower;
    if (!*upper)
        return *upper;
    lower->append(std::move(upper->value()));
    return lower;
}

std::pair<qint64, qint64> DbColumnStore::Private::idRange()
{
    // Two subqueries: SQLite looks up a lone min() or max() of the key in the index, but scans the
    // whole table (its leaves hold the start of every body) for both in one SELECT.
    auto range = statement(QStringLiteral("SELECT (SELECT min(id) FROM %1), (SELECT max(id) FROM %1)").arg(quote(tables().foo)));
    if (!range)
        return { 0, -1 };
    Statement &row = **range;
    std::pair<qint64, qint64> found { 0, -1 };
    if (row.exec() && row.next() && !row.isNull(0))
        found = { row.integer(0), row.integer(1) };
    row.reset();
    return found;
}

Result<QList<EntryInfo>> DbColumnStore::Private::listRange(qint64 from, qint64 to, qsizetype expected)
{
    ReadSnapshot snapshot(*database); // the shapes below are of the bodies the scan saw
    const auto withSide = sideTableExists();
    if (!withSide)
        return withSide.error();
    const bool sqlite = isSqlite();
    const bool whole = from == std::numeric_limits<qint64>::min() && to == std::numeric_limits<qint64>::max();
    const QString size = sqlite ? QStringLiteral("length(CAST(f.pre_serialized AS BLOB))")
                                : QStringLiteral("octet_length(x.t)");
    const QString check = sqlite ? QStringLiteral("preserve_body_check(f.pre_serialized)")
                                 : postgresTextCheck(QStringLiteral("x.t"));
    const QString text = sqlite ? QString() : QStringLiteral(" CROSS JOIN LATERAL (SELECT CAST(f.pre_serialized AS text) AS t) x");
    const QString join = *withSide
        ? text + QStringLiteral(" LEFT JOIN %1 m ON m.foo_id = f.id AND m.app_label = ?").arg(quote(metadataTable()))
        : text;
    auto query = statement(
        QStringLiteral("SELECT f.id, %1, %2, %3 FROM %4 f%5 WHERE f.pre_serialized IS NOT NULL%6 ORDER BY f.id")
            .arg(size, check, sideColumns(*withSide, false), quote(tables().foo), join,
                 whole ? QString() : QStringLiteral(" AND f.id BETWEEN ? AND ?")));
    if (!query)
        return query.error();
    Statement &row = **query;
    if (*withSide)
        row.bind(0, label());
    if (!whole) {
        row.bind(*withSide ? 1 : 0, from);
        row.bind(*withSide ? 2 : 1, to);
    }
    if (auto run = row.exec(); !run)
        return Error::database(QObject::tr("cannot list the entries: %1").arg(run.error().message));
    QList<EntryInfo> infos;
    infos.reserve(expected); // growing 100,000 entries a copy at a time showed in `status`'s profile
    QList<qsizetype> foreign; // indexes into infos
    while (row.next()) {
        EntryInfo info;
        info.pk = row.integer(0);
        info.size = row.integer(1);
        const SideRow side = readSide(row, 3);
        info.foreign = !side.present || side.bodyCheck != row.integer(2);
        if (!info.foreign) {
            info.digest = side.digest;
            info.cachedAt = side.metadata.cachedAt;
            info.serializerVersion = side.metadata.serializerVersion;
            info.changePosition = side.metadata.changePosition;
        } else {
            foreign << infos.size();
        }
        infos.append(info);
    }
    const Status status = row.status();
    row.reset();
    if (!status)
        return status.error();
    // The bytes of our own entries are what we wrote (their check says so), a Foo body. Only the
    // others are parsed, one by one: three JSON parses of every body took 2 of the 2.3 s that
    // `status` spent on 100,000 entries.
    for (qsizetype index : std::as_const(foreign)) {
        auto shape = bodyShape(infos[index].pk);
        if (!shape)
            return shape.error();
        if (*shape == 0)
            infos[index].problem = QObject::tr("not valid JSON");
        else if (*shape == 1)
            infos[index].problem = QObject::tr("not a Foo body (JSON, but no object with a bar_set list)");
    }
    return infos;
}
