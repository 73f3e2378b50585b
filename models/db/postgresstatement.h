#pragma once

#include "db/statement.h"

#include <QByteArray>
#include <QString>

#include <memory>
#include <vector>

class QSqlDriver;
struct pg_conn;
struct pg_result;

// A Statement on libpq itself, for a PostgreSQL connection that Qt SQL opened and still owns: the
// query is prepared once on the server (PQprepare), run with PQexecPrepared, and values are read
// straight out of the PGresult. QSqlQuery turned every value into a QVariant, text into a QString
// and back to UTF-8, and sent parameters as literals in an EXECUTE string; for the serializer that
// was most of its time above the server's.
//
// Results come in libpq's text format: integer() parses digits, text() is the server's UTF-8, blob()
// unescapes a bytea. Everything else (connecting, transactions, schema checks) stays with Qt SQL on
// the same PGconn; the driver hands it over with QSqlDriver::handle(). Database::prepare() does not
// use this on a connection that LISTENs (see handNotificationsToDriver()). Same thread rules as
// every Statement.
class PostgresStatement final : public Statement {
public:
    // Fails with the server's message, like QSqlQuery::prepare() did.
    static Result<std::unique_ptr<Statement>> prepare(QSqlDriver *driver, const QString &sql);
    // `?` placeholders as $1..$n, except inside string literals, quoted identifiers, dollar quotes
    // and comments (where QSqlQuery left them too); `count` gets n.
    static QByteArray numberPlaceholders(const QByteArray &sql, int *count);

    ~PostgresStatement() override;
    PostgresStatement(const PostgresStatement &) = delete;
    PostgresStatement &operator=(const PostgresStatement &) = delete;

    void bind(int index, qint64 value) override;
    void bind(int index, const QByteArray &utf8Text) override;
    void bindBlob(int index, const QByteArray &bytes) override;
    Status exec() override;
    bool next() override;
    Status status() const override { return m_status; }
    void reset() override;

    qint64 integer(int column) const override;
    bool isNull(int column) const override;
    // PostgreSQL's integer columns hold nothing else.
    std::optional<qint64> wholeNumber(int column) const override
    {
        return isNull(column) ? std::nullopt : std::optional<qint64>(integer(column));
    }
    QByteArrayView text(int column) const override;
    QByteArray blob(int column) const override;

private:
    PostgresStatement(QSqlDriver *driver, QByteArray name, int parameters);
    // The driver's PGconn while it is open, else null (the driver may have closed and freed it).
    static pg_conn *connectionOf(QSqlDriver *driver);
    QByteArray &parameter(int index, int format, bool isNull);
    bool onRow(int column) const;
    void handNotificationsToDriver() const;

    QSqlDriver *m_driver;
    QByteArray m_name; // the server-side prepared statement, unique in this process
    std::vector<QByteArray> m_values;
    std::vector<int> m_formats; // 0 text, 1 binary (bytea)
    std::vector<char> m_bound; // 0: NULL
    std::vector<const char *> m_pointers; // what exec() hands to libpq, kept to spare allocations
    std::vector<int> m_lengths;
    pg_result *m_result = nullptr;
    std::vector<unsigned int> m_types; // the result's column type OIDs
    int m_row = -1;
    int m_rows = 0;
    Status m_status = success();
};
