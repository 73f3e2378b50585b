// PostgresStatement (libpq) against a real throw-away server: the values every caller reads come out
// as QSqlQuery gave them, placeholders are numbered only where they are placeholders, the server's
// errors are surfaced, and the server-side statements are let go.

#include "db/database.h"
#include "db/postgresstatement.h"
#include "testpostgres.h"
#include "testsupport.h"

#include <QCoreApplication>
#include <QSignalSpy>
#include <QSqlDriver>
#include <QSqlQuery>
#include <QTest>

#include <limits>
#include <memory>

#include <libpq-fe.h>
#include <poll.h>

namespace {

using StatementPtr = std::unique_ptr<Statement>;

// Django's columns for the probes Database::open() runs, and a table of every kind the callers read.
const char schema[] = R"(
CREATE TABLE api_foo (id bigserial PRIMARY KEY, name varchar(50) NOT NULL, pre_serialized jsonb NULL);
CREATE TABLE api_bar (id bigserial PRIMARY KEY, name varchar(50) NOT NULL, foo_id bigint NOT NULL REFERENCES api_foo);
CREATE TABLE api_zab (id bigserial PRIMARY KEY, name varchar(50) NOT NULL, bar_id bigint NOT NULL REFERENCES api_bar);
CREATE TABLE api_baz (id bigserial PRIMARY KEY, name varchar(50) NOT NULL);
CREATE TABLE api_zab_bazs (id bigserial PRIMARY KEY, zab_id bigint NOT NULL REFERENCES api_zab,
                           baz_id bigint NOT NULL REFERENCES api_baz);
CREATE TABLE probe (id bigserial PRIMARY KEY, i bigint, s smallint, f boolean, t text, b bytea, n numeric, d float8);
)";

QByteArray allBytes()
{
    QByteArray bytes;
    for (int i = 0; i < 256; ++i)
        bytes += char(i);
    return bytes + '\0' + char(0xFF); // ends in both extremes, a trailing NUL is not a terminator
}

// Every value of every row as the callers read it: isNull and integer for each column; text for
// the columns marked 't' in `kinds`, blob for 'b', both unless NULL. (text() of a boolean or float
// column is the server's spelling, t or -10000000000, where QVariant's was true or -1e+10, and of a
// NULL number empty where QVariant said 0; no caller reads those as text.)
QStringList dump(Statement &statement, const QByteArray &kinds)
{
    QStringList rows;
    while (statement.next()) {
        QStringList values;
        for (int c = 0; c < kinds.size(); ++c) {
            QString value = QStringLiteral("%1|%2").arg(statement.isNull(c)).arg(statement.integer(c));
            if (kinds[c] == 't' && !statement.isNull(c))
                value += QLatin1Char('|') + QString::fromLatin1(statement.text(c).toByteArray().toHex());
            if (kinds[c] == 'b' && !statement.isNull(c))
                value += QLatin1Char('|') + QString::fromLatin1(statement.blob(c).toHex());
            values << value;
        }
        rows << values.join(QLatin1Char(' '));
    }
    return rows;
}

} // namespace

class TestPostgresStatement : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();

    void numberPlaceholders_data();
    void numberPlaceholders();
    void isTheEngineStatement();
    void nullAndEmptyText();
    void integers_data();
    void integers();
    void utf8Text();
    void invalidUtf8IsReplacedAsQtDid();
    void byteaRoundTrip();
    void questionMarksInLiterals();
    void sameValuesAsQtStatement_data();
    void sameValuesAsQtStatement();
    void prepareErrorSaysWhy();
    void execErrorSaysWhyAndRecovers();
    void reExecAfterReset();
    void sameSqlTwiceOnOneConnection();
    void resultSetsOpenSideBySide();
    void transactionsOfTheDriver();
    void listeningConnectionKeepsQtStatement();
    void notificationsReadByLibpqReachTheDriver();
    void closedConnectionIsAnError();

private:
    std::unique_ptr<Database> open();
    StatementPtr prepare(Database &database, const QString &sql);
    int preparedOnServer(Database &database);

    TestPostgres m_server;
    QString m_url;
    std::unique_ptr<Database> m_database;
};

std::unique_ptr<Database> TestPostgresStatement::open()
{
    return openDatabaseOrWarn(m_url);
}

StatementPtr TestPostgresStatement::prepare(Database &database, const QString &sql)
{
    auto statement = database.prepare(sql);
    if (!statement) {
        qWarning("prepare(%s): %s", qPrintable(sql), qPrintable(statement.error().message));
        return nullptr;
    }
    return std::move(*statement);
}

int TestPostgresStatement::preparedOnServer(Database &database)
{
    QSqlQuery query(database.connection());
    if (!query.exec(
            QStringLiteral("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'preserve\\_%'"))
        || !query.next())
        return -1;
    return query.value(0).toInt();
}

void TestPostgresStatement::initTestCase()
{
    QString error;
    if (!m_server.start(&error))
        QFAIL(qPrintable(error));
    QVERIFY2(m_server.createDatabase(QStringLiteral("statements"), &error), qPrintable(error));
    QVERIFY2(
        m_server.exec(QStringLiteral("statements"), QString::fromLatin1(schema), &error), qPrintable(error));
    m_url = m_server.url(QStringLiteral("statements"));
}

void TestPostgresStatement::init()
{
    m_database.reset();
    m_database = open();
    QVERIFY(m_database);
    QSqlQuery clear(m_database->connection());
    QVERIFY(clear.exec(QStringLiteral("TRUNCATE probe")));
}

void TestPostgresStatement::numberPlaceholders_data()
{
    QTest::addColumn<QByteArray>("sql");
    QTest::addColumn<QByteArray>("numbered");
    QTest::addColumn<int>("count");
    QTest::addRow("plain") << QByteArray("SELECT a FROM t WHERE b = ? AND c IN (?, ?)")
                           << QByteArray("SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)") << 3;
    QTest::addRow("string") << QByteArray("SELECT '?', 'it''s ?', ?")
                            << QByteArray("SELECT '?', 'it''s ?', $1") << 1;
    QTest::addRow("identifier") << QByteArray("SELECT \"?\" FROM \"a\"\"?\" WHERE x = ?")
                                << QByteArray("SELECT \"?\" FROM \"a\"\"?\" WHERE x = $1") << 1;
    QTest::addRow("escape string") << QByteArray("SELECT E'\\'?', e'\\\\', ?")
                                   << QByteArray("SELECT E'\\'?', e'\\\\', $1") << 1;
    QTest::addRow("not an escape string")
        << QByteArray("SELECT name'?'") << QByteArray("SELECT name'?'") << 0;
    QTest::addRow("dollar quotes") << QByteArray("SELECT $$?$$, $q$ $$ ? $q$, ?")
                                   << QByteArray("SELECT $$?$$, $q$ $$ ? $q$, $1") << 1;
    QTest::addRow("numbered already") << QByteArray("SELECT $1, ?") << QByteArray("SELECT $1, $1") << 1;
    QTest::addRow("comments") << QByteArray("SELECT ? -- why?\n, /* a /* nested? */ one? */ ?")
                              << QByteArray("SELECT $1 -- why?\n, /* a /* nested? */ one? */ $2") << 2;
    QTest::addRow("unterminated") << QByteArray("SELECT ?, '?") << QByteArray("SELECT $1, '?") << 1;
    QTest::addRow("utf-8") << QByteArray("SELECT 'é?', ?") << QByteArray("SELECT 'é?', $1") << 1;
}

void TestPostgresStatement::numberPlaceholders()
{
    QFETCH(QByteArray, sql);
    QFETCH(QByteArray, numbered);
    QFETCH(int, count);
    int found = -1;
    QCOMPARE(PostgresStatement::numberPlaceholders(sql, &found), numbered);
    QCOMPARE(found, count);
}

void TestPostgresStatement::isTheEngineStatement()
{
    const StatementPtr statement = prepare(*m_database, QStringLiteral("SELECT 1"));
    QVERIFY(statement);
    QVERIFY(dynamic_cast<PostgresStatement *>(statement.get()));
    m_database->setEngineStatements(false);
    const StatementPtr qt = prepare(*m_database, QStringLiteral("SELECT 1"));
    QVERIFY(qt);
    QVERIFY(!dynamic_cast<PostgresStatement *>(qt.get()));
}

void TestPostgresStatement::nullAndEmptyText()
{
    const StatementPtr insert
        = prepare(*m_database, QStringLiteral("INSERT INTO probe (id, t) VALUES (?, ?)"));
    QVERIFY(insert);
    insert->bind(0, qint64(1));
    insert->bind(1, QByteArray(""));
    QVERIFY(insert->exec());
    QVERIFY(!insert->next()); // no rows from an INSERT
    QVERIFY(prepare(*m_database, QStringLiteral("INSERT INTO probe (id) VALUES (2)"))->exec());

    const StatementPtr select = prepare(*m_database, QStringLiteral("SELECT t FROM probe ORDER BY id"));
    QVERIFY(select && select->exec());
    for (int id = 1; id <= 2; ++id) {
        QVERIFY(select->next());
        QCOMPARE(select->isNull(0), id == 2);
        QCOMPARE(select->text(0).size(), 0);
        QCOMPARE(select->blob(0), QByteArray());
        QCOMPARE(select->integer(0), 0);
    }
    QVERIFY(!select->next());
    QVERIFY(select->status());

    // A null QByteArray is NULL, text or blob, as QSqlQuery (and sqlite3_bind_*) made of it.
    for (const bool engine : { true, false }) {
        m_database->setEngineStatements(engine);
        const StatementPtr echo = prepare(
            *m_database, QStringLiteral("INSERT INTO probe (id, t, b) VALUES (?, ?, ?) RETURNING t, b"));
        QVERIFY(echo);
        echo->bind(0, qint64(10 + engine));
        echo->bind(1, QByteArray());
        echo->bindBlob(2, QByteArray());
        QVERIFY2(echo->exec(), qPrintable(why(echo->status())));
        QVERIFY(echo->next());
        QVERIFY(echo->isNull(0));
        QVERIFY(echo->isNull(1));
        QCOMPARE(echo->text(0).size(), 0);
    }
}

void TestPostgresStatement::integers_data()
{
    QTest::addColumn<qint64>("value");
    for (const qint64 value : { qint64(0), qint64(-1), qint64(42), qint64(-2147483649LL),
             std::numeric_limits<qint64>::min(), std::numeric_limits<qint64>::max() })
        QTest::addRow("%lld", static_cast<long long>(value)) << value;
}

void TestPostgresStatement::integers()
{
    QFETCH(qint64, value);
    const StatementPtr insert
        = prepare(*m_database, QStringLiteral("INSERT INTO probe (i) VALUES (?) RETURNING i, -i > 0"));
    QVERIFY(insert);
    insert->bind(0, value);
    if (value == std::numeric_limits<qint64>::min()) {
        // -i overflows: the server says so rather than returning garbage.
        QVERIFY(!insert->exec());
        QVERIFY2(insert->status().error().message.contains(QLatin1String("out of range")),
            qPrintable(insert->status().error().message));
        return;
    }
    QVERIFY2(insert->exec(), qPrintable(why(insert->status())));
    QVERIFY(insert->next());
    QCOMPARE(insert->integer(0), value);
    QCOMPARE(insert->integer(1), value < 0 ? 1 : 0); // a boolean reads as 1 or 0, as QVariant(bool) did
    QVERIFY(!insert->next());

    const StatementPtr cast
        = prepare(*m_database, QStringLiteral("SELECT CAST(? AS bigint), CAST(? AS text)"));
    QVERIFY(cast);
    cast->bind(0, value);
    cast->bind(1, value);
    QVERIFY(cast->exec() && cast->next());
    QCOMPARE(cast->integer(0), value);
    QCOMPARE(cast->text(1).toByteArray(), QByteArray::number(value));
}

void TestPostgresStatement::utf8Text()
{
    const QByteArray text = QStringLiteral(u"é € \u2028 😀 \"quoted\" back\\slash \t tab").toUtf8();
    const StatementPtr insert = prepare(*m_database,
        QStringLiteral("INSERT INTO probe (t) VALUES (?) RETURNING t, length(t), octet_length(t)"));
    QVERIFY(insert);
    insert->bind(0, text);
    QVERIFY2(insert->exec(), qPrintable(why(insert->status())));
    QVERIFY(insert->next());
    QCOMPARE(insert->text(0).toByteArray(), text);
    QCOMPARE(insert->integer(1), qint64(QString::fromUtf8(text).toUcs4().size()));
    QCOMPARE(insert->integer(2), qint64(text.size()));

    // A raw-data array without its NUL still arrives whole (libpq sends text parameters as C strings).
    const QByteArray longer = text + "tail";
    const QByteArray raw = QByteArray::fromRawData(longer.constData(), text.size());
    insert->bind(0, raw);
    QVERIFY(insert->exec() && insert->next());
    QCOMPARE(insert->text(0).toByteArray(), text);
}

void TestPostgresStatement::invalidUtf8IsReplacedAsQtDid()
{
    const QByteArray invalid("a\xff"
                             "b\xc3");
    for (const bool engine : { true, false }) {
        m_database->setEngineStatements(engine);
        const StatementPtr echo = prepare(*m_database, QStringLiteral("SELECT CAST(? AS text)"));
        QVERIFY(echo);
        echo->bind(0, invalid);
        QVERIFY2(echo->exec(), qPrintable(why(echo->status())));
        QVERIFY(echo->next());
        QCOMPARE(echo->text(0).toByteArray(), QString::fromUtf8(invalid).toUtf8());
    }
}

void TestPostgresStatement::byteaRoundTrip()
{
    const QByteArray bytes = allBytes();
    const StatementPtr insert = prepare(
        *m_database, QStringLiteral("INSERT INTO probe (id, b) VALUES (7, ?) RETURNING b, octet_length(b)"));
    QVERIFY(insert);
    insert->bindBlob(0, bytes);
    QVERIFY2(insert->exec(), qPrintable(why(insert->status())));
    QVERIFY(insert->next());
    QCOMPARE(insert->blob(0), bytes);
    QCOMPARE(insert->integer(1), qint64(bytes.size()));

    // Read back by both statements: the same bytes, whatever bytea_output the driver chose.
    for (const bool engine : { true, false }) {
        m_database->setEngineStatements(engine);
        const StatementPtr select = prepare(*m_database, QStringLiteral("SELECT b FROM probe WHERE id = ?"));
        QVERIFY(select);
        select->bind(0, qint64(7));
        QVERIFY(select->exec() && select->next());
        QCOMPARE(select->blob(0), bytes);
    }
    // An empty blob is not NULL.
    m_database->setEngineStatements(true);
    const StatementPtr empty
        = prepare(*m_database, QStringLiteral("INSERT INTO probe (b) VALUES (?) RETURNING b"));
    QVERIFY(empty);
    empty->bindBlob(0, QByteArray(""));
    QVERIFY(empty->exec() && empty->next());
    QVERIFY(!empty->isNull(0));
    QCOMPARE(empty->blob(0), QByteArray());
}

void TestPostgresStatement::questionMarksInLiterals()
{
    const StatementPtr statement = prepare(*m_database,
        QStringLiteral("SELECT '?' AS \"?\", CAST(? AS bigint), $$?$$, E'\\'?', CAST(? AS text) -- ?\n"));
    QVERIFY(statement);
    statement->bind(0, qint64(7));
    statement->bind(1, QByteArray("eight"));
    QVERIFY2(statement->exec(), qPrintable(why(statement->status())));
    QVERIFY(statement->next());
    QCOMPARE(statement->text(0), QByteArrayView("?"));
    QCOMPARE(statement->integer(1), 7);
    QCOMPARE(statement->text(2), QByteArrayView("?"));
    QCOMPARE(statement->text(3), QByteArrayView("'?"));
    QCOMPARE(statement->text(4), QByteArrayView("eight"));
}

void TestPostgresStatement::sameValuesAsQtStatement_data()
{
    QTest::addColumn<QString>("sql");
    QTest::addColumn<QByteArray>("kinds");
    QTest::addRow("every kind") << QStringLiteral("SELECT id, i, s, f, t, b, n, d, t FROM probe ORDER BY id")
                                << QByteArray("ttt-tbtnb");
    QTest::addRow("expressions") << QStringLiteral(
        "SELECT count(*), sum(s), max(t), bool_and(f), 7::int4, 2.5::numeric, "
        "-2.5::float8, NULL::text, 0.25::float8 FROM probe")
                                 << QByteArray("tttntnnt-");
    QTest::addRow("arrays and ISO text")
        << QStringLiteral("SELECT id, to_char(TIMESTAMP '2026-12-05 10:00:01.5', "
                          "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
                          "FROM unnest(CAST('{3,1,2}' AS bigint[])) AS id")
        << QByteArray("tt");
}

void TestPostgresStatement::sameValuesAsQtStatement()
{
    QFETCH(QString, sql);
    QFETCH(QByteArray, kinds);
    QString error;
    QVERIFY2(m_server.exec(QStringLiteral("statements"),
                 QStringLiteral("INSERT INTO probe (i, s, f, t, b, n, d) VALUES "
                                "(-5, 3, true, 'é😀', '\\x00ff', 12.5, 0.25), (9223372036854775807, -32768, "
                                "false, '', '\\x', 2, -1e10), "
                                "(NULL, NULL, NULL, NULL, NULL, NULL, NULL)"),
                 &error),
        qPrintable(error));
    QStringList seen[2];
    for (const bool engine : { true, false }) {
        m_database->setEngineStatements(engine);
        const StatementPtr statement = prepare(*m_database, sql);
        QVERIFY(statement);
        QVERIFY2(statement->exec(), qPrintable(why(statement->status())));
        seen[engine] = dump(*statement, kinds);
    }
    QVERIFY(!seen[true].isEmpty());
    QCOMPARE(seen[true], seen[false]);
}

void TestPostgresStatement::prepareErrorSaysWhy()
{
    auto statement = m_database->prepare(QStringLiteral("SELECT nothing FROM no_such_table WHERE id = ?"));
    QVERIFY(!statement);
    const QString message = statement.error().message;
    QVERIFY2(message.startsWith(QLatin1String("cannot prepare query: ")), qPrintable(message));
    QVERIFY2(
        message.contains(QLatin1String("relation \"no_such_table\" does not exist")), qPrintable(message));
    QVERIFY2(message.contains(QLatin1String("42P01")), qPrintable(message));
    QCOMPARE(preparedOnServer(*m_database), 0);
}

void TestPostgresStatement::execErrorSaysWhyAndRecovers()
{
    const StatementPtr statement = prepare(*m_database, QStringLiteral("SELECT 10 / CAST(? AS integer)"));
    QVERIFY(statement);
    statement->bind(0, qint64(0));
    const Status failed = statement->exec();
    QVERIFY(!failed);
    QVERIFY2(failed.error().message.contains(QLatin1String("division by zero")),
        qPrintable(failed.error().message));
    QVERIFY(!statement->status());
    QVERIFY(!statement->next());

    // A detail from the server comes along.
    const StatementPtr insert = prepare(*m_database, QStringLiteral("INSERT INTO probe (id) VALUES (?)"));
    insert->bind(0, qint64(5));
    QVERIFY(insert->exec());
    const Status duplicate = insert->exec();
    QVERIFY(!duplicate);
    QVERIFY2(duplicate.error().message.contains(QLatin1String("Key (id)=(5) already exists")),
        qPrintable(duplicate.error().message));

    statement->bind(0, qint64(5));
    QVERIFY(statement->exec());
    QVERIFY(statement->status());
    QVERIFY(statement->next());
    QCOMPARE(statement->integer(0), 2);
}

void TestPostgresStatement::reExecAfterReset()
{
    QVERIFY(m_server.exec(QStringLiteral("statements"),
        QStringLiteral("INSERT INTO probe (i) SELECT generate_series(1, 5)"), nullptr));
    const StatementPtr statement
        = prepare(*m_database, QStringLiteral("SELECT i FROM probe WHERE i >= ? ORDER BY i"));
    QVERIFY(statement);
    statement->bind(0, qint64(2));
    QVERIFY(statement->exec());
    QVERIFY(statement->next());
    QCOMPARE(statement->integer(0), 2);
    statement->reset();
    QVERIFY(!statement->next()); // nothing after a reset until the next exec
    QVERIFY(statement->exec()); // the binding stays
    QList<qint64> all;
    while (statement->next())
        all << statement->integer(0);
    QCOMPARE(all, (QList<qint64> { 2, 3, 4, 5 }));
    QVERIFY(!statement->next());
    statement->bind(0, qint64(5));
    QVERIFY(statement->exec() && statement->next());
    QCOMPARE(statement->integer(0), 5);
}

void TestPostgresStatement::sameSqlTwiceOnOneConnection()
{
    const QString sql = QStringLiteral("SELECT CAST(? AS bigint) * 2");
    const int before = preparedOnServer(*m_database);
    StatementPtr first = prepare(*m_database, sql);
    StatementPtr second = prepare(*m_database, sql);
    QVERIFY(first && second);
    QCOMPARE(preparedOnServer(*m_database), before + 2);
    first->bind(0, qint64(3));
    second->bind(0, qint64(4));
    QVERIFY(first->exec() && second->exec());
    QVERIFY(first->next() && second->next());
    QCOMPARE(first->integer(0), 6);
    QCOMPARE(second->integer(0), 8);
    first.reset(); // deallocates its own, not the other's
    QCOMPARE(preparedOnServer(*m_database), before + 1);
    QVERIFY(second->exec() && second->next());
    QCOMPARE(second->integer(0), 8);
    for (int i = 0; i < 50; ++i)
        QVERIFY(prepare(*m_database, sql)->exec());
    second.reset();
    QCOMPARE(preparedOnServer(*m_database), before);

    // Database::prepareCached keeps one per SQL for the connection's life.
    auto cached = m_database->prepareCached(sql);
    auto again = m_database->prepareCached(sql);
    QVERIFY(cached && again);
    QCOMPARE(*cached, *again);
    QCOMPARE(preparedOnServer(*m_database), before + 1);
}

void TestPostgresStatement::resultSetsOpenSideBySide()
{
    QVERIFY(m_server.exec(QStringLiteral("statements"),
        QStringLiteral("INSERT INTO probe (i) SELECT generate_series(1, 3)"), nullptr));
    const StatementPtr a = prepare(*m_database, QStringLiteral("SELECT i FROM probe ORDER BY i"));
    const StatementPtr b = prepare(*m_database, QStringLiteral("SELECT i * 10 FROM probe ORDER BY i"));
    QVERIFY(a && b && a->exec() && b->exec());
    for (qint64 i = 1; i <= 3; ++i) {
        QVERIFY(a->next() && b->next());
        const QByteArrayView text = a->text(0);
        QVERIFY(b->exec() && b->next()); // another statement's exec leaves this row's bytes alone
        QCOMPARE(text.toByteArray(), QByteArray::number(i));
        QCOMPARE(a->integer(0), i);
        QCOMPARE(b->integer(0), 10);
    }
}

void TestPostgresStatement::transactionsOfTheDriver()
{
    const StatementPtr insert = prepare(*m_database, QStringLiteral("INSERT INTO probe (id) VALUES (?)"));
    const StatementPtr count = prepare(*m_database, QStringLiteral("SELECT count(*) FROM probe"));
    QVERIFY(insert && count);
    QSqlDatabase connection = m_database->connection();
    QVERIFY(connection.transaction());
    insert->bind(0, qint64(1));
    QVERIFY(insert->exec());
    QVERIFY(connection.rollback());
    QVERIFY(count->exec() && count->next());
    QCOMPARE(count->integer(0), 0);

    StatementPtr doomed = prepare(*m_database, QStringLiteral("SELECT 2"));
    QVERIFY(doomed);
    QVERIFY(connection.transaction());
    QVERIFY(insert->exec());
    QVERIFY(!insert->exec()); // duplicate: the transaction is now failed
    QVERIFY(!count->exec());
    QVERIFY(!m_database->prepare(QStringLiteral("SELECT 1"))); // refused until the rollback
    doomed.reset(); // no DEALLOCATE in a failed transaction: the server keeps it for the session
    QVERIFY(connection.rollback());
    QVERIFY(connection.transaction());
    QVERIFY(insert->exec());
    QVERIFY(connection.commit());
    QVERIFY(count->exec() && count->next());
    QCOMPARE(count->integer(0), 1);
}

void TestPostgresStatement::listeningConnectionKeepsQtStatement()
{
    QSqlDriver *driver = m_database->connection().driver();
    QVERIFY(driver->subscribeToNotification(QStringLiteral("preserve_probe")));
    const StatementPtr statement = prepare(*m_database, QStringLiteral("SELECT 1"));
    QVERIFY(statement);
    QVERIFY(!dynamic_cast<PostgresStatement *>(statement.get()));
    QVERIFY(statement->exec() && statement->next());
    QCOMPARE(statement->integer(0), 1);
}

void TestPostgresStatement::notificationsReadByLibpqReachTheDriver()
{
    // Prepared before the connection LISTENs (a statement Database::prepareCached kept, say).
    const StatementPtr statement = prepare(*m_database, QStringLiteral("SELECT 1"));
    QVERIFY(dynamic_cast<PostgresStatement *>(statement.get()));
    QSqlDriver *driver = m_database->connection().driver();
    QVERIFY(driver->subscribeToNotification(QStringLiteral("preserve_probe")));
    QSignalSpy spy(driver, &QSqlDriver::notification);
    QCoreApplication::processEvents(); // the driver's own check after LISTEN, which would find it too

    auto writer = open();
    QVERIFY(writer);
    QVERIFY(QSqlQuery(writer->connection()).exec(QStringLiteral("NOTIFY preserve_probe, 'seven'")));
    // Wait, without an event loop, until the NOTIFY sits in the listener's socket: libpq then reads
    // it together with the statement's result, and the driver's socket notifier has nothing to see.
    const QVariant handle = driver->handle();
    QCOMPARE(handle.typeName(), "pg_conn*");
    pollfd socket { PQsocket(*static_cast<PGconn *const *>(handle.constData())), POLLIN, 0 };
    QCOMPARE(::poll(&socket, 1, 5000), 1);
    QVERIFY(statement->exec() && statement->next());
    QCOMPARE(spy.size(), 0);
    QVERIFY(spy.wait(5000));
    QCOMPARE(spy.first().at(0).toString(), QStringLiteral("preserve_probe"));
    QCOMPARE(spy.first().at(2).toString(), QStringLiteral("seven"));
}

void TestPostgresStatement::closedConnectionIsAnError()
{
    StatementPtr statement = prepare(*m_database, QStringLiteral("SELECT 1"));
    QVERIFY(statement && statement->exec() && statement->next());
    m_database->connection().close(); // the driver frees its PGconn
    const Status failed = statement->exec();
    QVERIFY(!failed);
    QVERIFY2(failed.error().message.contains(QLatin1String("not open")), qPrintable(failed.error().message));
    QVERIFY(!statement->next());
    statement.reset(); // nothing to deallocate on a closed connection, and no crash
    QVERIFY(!m_database->prepare(QStringLiteral("SELECT 1")));
}

QTEST_GUILESS_MAIN(TestPostgresStatement)
#include "tst_postgresstatement.moc"
