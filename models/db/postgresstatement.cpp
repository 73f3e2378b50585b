#include "postgresstatement.h"

#include <QMetaObject>
#include <QObject>
#include <QSqlDriver>
#include <QStringList>
#include <QVariant>

#include <libpq-fe.h>

#include <atomic>
#include <cctype>
#include <charconv>
#include <cstring>

namespace {

// PostgreSQL's type OIDs (server/catalog/pg_type_d.h, not installed with libpq-fe.h).
constexpr Oid boolOid = 16;
constexpr Oid byteaOid = 17;

bool isIdentifierByte(char c)
{
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || c == '_' || c == '$' || u >= 0x80;
}

// The end of the quoted run that opens at `from`: a doubled quote stands for itself, and in an E''
// string a backslash escapes the next byte.
qsizetype skipQuoted(const QByteArray &sql, qsizetype from, bool backslashEscapes)
{
    const char quote = sql[from];
    for (qsizetype i = from + 1; i < sql.size(); ++i) {
        if (backslashEscapes && sql[i] == '\\') {
            ++i;
        } else if (sql[i] == quote) {
            if (i + 1 < sql.size() && sql[i + 1] == quote)
                ++i;
            else
                return i + 1;
        }
    }
    return sql.size();
}

// The end of a dollar-quoted string ($$…$$, $tag$…$tag$) opening at `from`; `from` itself when this
// $ opens none ($1, a $ inside an operator).
qsizetype skipDollarQuoted(const QByteArray &sql, qsizetype from)
{
    qsizetype end = from + 1;
    for (; end < sql.size() && sql[end] != '$'; ++end) {
        const auto u = static_cast<unsigned char>(sql[end]);
        if (!(u == '_' || std::isalpha(u) || u >= 0x80 || (end > from + 1 && std::isdigit(u))))
            return from;
    }
    if (end >= sql.size())
        return from;
    const QByteArray tag = sql.mid(from, end - from + 1);
    const qsizetype close = sql.indexOf(tag, end + 1);
    return close < 0 ? sql.size() : close + tag.size();
}

// The end of the comment opening at `from` ("--" to the end of the line, or a nested /* … */).
qsizetype skipComment(const QByteArray &sql, qsizetype from)
{
    if (sql[from] == '-') {
        const qsizetype newline = sql.indexOf('\n', from);
        return newline < 0 ? sql.size() : newline + 1;
    }
    int depth = 0;
    for (qsizetype i = from; i + 1 < sql.size(); ++i) {
        if (sql[i] == '/' && sql[i + 1] == '*') {
            ++depth;
            ++i;
        } else if (sql[i] == '*' && sql[i + 1] == '/') {
            ++i;
            if (--depth == 0)
                return i + 1;
        }
    }
    return sql.size();
}

// Where the run of SQL that starts at `at` ends, when it is one that may hold a `?` that is no
// placeholder; at + 1 for any other byte.
qsizetype skipOpaque(const QByteArray &sql, qsizetype at)
{
    const char c = sql[at];
    const char following = at + 1 < sql.size() ? sql[at + 1] : '\0';
    if (c == '\'') {
        const bool escaped = at > 0 && (sql[at - 1] == 'E' || sql[at - 1] == 'e')
            && !(at > 1 && isIdentifierByte(sql[at - 2]));
        return skipQuoted(sql, at, escaped);
    }
    if (c == '"')
        return skipQuoted(sql, at, false);
    if (c == '$' && !(at > 0 && isIdentifierByte(sql[at - 1])))
        return std::max(skipDollarQuoted(sql, at), at + 1);
    if ((c == '-' && following == '-') || (c == '/' && following == '*'))
        return skipComment(sql, at);
    return at + 1;
}

// The server's words on one line: its message, detail and hint, and the SQLSTATE (as QSqlError
// showed it) so a log says which check failed; libpq's own text when the server said nothing (a
// lost connection).
QString errorText(PGconn *connection, const PGresult *result)
{
    const char *primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    if (!primary) {
        const char *message = result && *PQresultErrorMessage(result) ? PQresultErrorMessage(result)
                                                                      : PQerrorMessage(connection);
        QStringList lines = QString::fromUtf8(message).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        for (QString &line : lines)
            line = line.trimmed();
        return lines.isEmpty() ? QObject::tr("unknown error from libpq") : lines.join(QStringLiteral("; "));
    }
    QString text = QString::fromUtf8(primary);
    for (const int field : { PG_DIAG_MESSAGE_DETAIL, PG_DIAG_MESSAGE_HINT }) {
        if (const char *more = PQresultErrorField(result, field))
            text += QStringLiteral("; ") + QString::fromUtf8(more);
    }
    if (const char *state = PQresultErrorField(result, PG_DIAG_SQLSTATE))
        text += QStringLiteral(" (SQLSTATE %1)").arg(QLatin1String(state));
    return text;
}

// libpq sends text parameters as C strings; a QByteArray made with fromRawData may not end in a NUL
// and may point at memory its owner frees before exec(): such a one is copied.
QByteArray owned(const QByteArray &bytes)
{
    return bytes.capacity() == 0 && !bytes.isEmpty() ? QByteArray(bytes.constData(), bytes.size()) : bytes;
}

} // namespace

QByteArray PostgresStatement::numberPlaceholders(const QByteArray &sql, int *count)
{
    QByteArray out;
    out.reserve(sql.size() + 16);
    int placeholders = 0;
    for (qsizetype at = 0; at < sql.size();) {
        if (sql[at] == '?') {
            out += '$' + QByteArray::number(++placeholders);
            ++at;
            continue;
        }
        const qsizetype end = skipOpaque(sql, at);
        out.append(sql.constData() + at, end - at);
        at = end;
    }
    *count = placeholders;
    return out;
}

PGconn *PostgresStatement::connectionOf(QSqlDriver *driver)
{
    if (!driver || !driver->isOpen())
        return nullptr;
    // Qt 6.4 names the type after the struct behind libpq's typedef; Qt 5 said PGconn*.
    const QVariant handle = driver->handle();
    if (!handle.isValid()
        || (qstrcmp(handle.typeName(), "pg_conn*") != 0 && qstrcmp(handle.typeName(), "PGconn*") != 0))
        return nullptr;
    return *static_cast<PGconn *const *>(handle.constData());
}

Result<std::unique_ptr<Statement>> PostgresStatement::prepare(QSqlDriver *driver, const QString &sql)
{
    PGconn *connection = connectionOf(driver);
    if (!connection)
        return Error::database(QObject::tr("cannot prepare query: the connection is not open"));
    int parameters = 0;
    const QByteArray text = numberPlaceholders(sql.toUtf8(), &parameters);
    // Unique in the process, so on every connection; QPSQL's own are named qpsqlpstmt_<n>.
    static std::atomic<quint64> counter { 0 };
    QByteArray name = "preserve_" + QByteArray::number(++counter);
    // Parameter types left to the server, as PREPARE … AS did for QSqlQuery.
    PGresult *result = PQprepare(connection, name.constData(), text.constData(), 0, nullptr);
    const bool prepared = PQresultStatus(result) == PGRES_COMMAND_OK;
    const QString message = prepared ? QString() : errorText(connection, result);
    PQclear(result);
    std::unique_ptr<PostgresStatement> statement(new PostgresStatement(driver, std::move(name), parameters));
    statement->handNotificationsToDriver();
    if (!prepared) {
        statement->m_name.clear(); // nothing to deallocate
        return Error::database(QObject::tr("cannot prepare query: %1").arg(message));
    }
    return std::unique_ptr<Statement>(std::move(statement));
}

PostgresStatement::PostgresStatement(QSqlDriver *driver, QByteArray name, int parameters)
    : m_driver(driver)
    , m_name(std::move(name))
    , m_values(size_t(parameters))
    , m_formats(size_t(parameters), 0)
    , m_bound(size_t(parameters), 0)
{
}

PostgresStatement::~PostgresStatement()
{
    PQclear(m_result);
    // The same SQL may be prepared again and again on a connection that lives for days (QSqlQuery
    // deallocated too). The server refuses any command in a failed transaction, and one in
    // progress cannot be interrupted: then the statement stays until the session ends.
    PGconn *connection = m_name.isEmpty() ? nullptr : connectionOf(m_driver);
    if (!connection)
        return;
    const PGTransactionStatusType state = PQtransactionStatus(connection);
    if (state != PQTRANS_IDLE && state != PQTRANS_INTRANS)
        return;
    PQclear(PQexec(connection, QByteArray("DEALLOCATE " + m_name).constData()));
    handNotificationsToDriver();
}

QByteArray &PostgresStatement::parameter(int index, int format, bool isNull)
{
    // Past the placeholders the server counted: sent anyway, so that it refuses the count, as it
    // refused QSqlQuery's EXECUTE.
    const auto at = size_t(index);
    if (at >= m_values.size()) {
        m_values.resize(at + 1);
        m_formats.resize(at + 1, 0);
        m_bound.resize(at + 1, 0);
    }
    m_formats[at] = format;
    m_bound[at] = isNull ? 0 : 1;
    return m_values[at];
}

void PostgresStatement::bind(int index, qint64 value)
{
    parameter(index, 0, false).setNum(value);
}

// A null QByteArray is NULL, as QSqlQuery made it (a null QString). (The SQLite statement binds it
// as empty text: Qt 6 hands out "" for its data, not a null pointer.)
void PostgresStatement::bind(int index, const QByteArray &utf8Text)
{
    // QSqlQuery went through QString, which turns invalid UTF-8 into U+FFFD; the server would refuse it.
    parameter(index, 0, utf8Text.isNull())
        = utf8Text.isValidUtf8() ? owned(utf8Text) : QString::fromUtf8(utf8Text).toUtf8();
}

void PostgresStatement::bindBlob(int index, const QByteArray &bytes)
{
    // Binary format: the bytes as they are, no bytea escaping on either side.
    parameter(index, 1, bytes.isNull()) = owned(bytes);
}

Status PostgresStatement::exec()
{
    reset();
    PGconn *connection = connectionOf(m_driver);
    if (!connection)
        return m_status = Error::database(QObject::tr("the connection to the database is not open"));
    m_pointers.assign(m_values.size(), nullptr); // unbound parameters are NULL
    m_lengths.assign(m_values.size(), 0);
    for (size_t i = 0; i < m_values.size(); ++i) {
        if (m_bound[i]) {
            m_pointers[i] = m_values[i].constData();
            m_lengths[i] = int(m_values[i].size());
        }
    }
    m_result = PQexecPrepared(connection, m_name.constData(), int(m_values.size()), m_pointers.data(),
        m_lengths.data(), m_formats.data(), 0);
    handNotificationsToDriver();
    const ExecStatusType state = PQresultStatus(m_result);
    if (state == PGRES_TUPLES_OK || state == PGRES_COMMAND_OK) {
        m_rows = PQntuples(m_result);
        m_types.resize(size_t(PQnfields(m_result)));
        for (size_t column = 0; column < m_types.size(); ++column)
            m_types[column] = PQftype(m_result, int(column));
        return m_status = success();
    }
    m_status = Error::database(errorText(connection, m_result));
    reset();
    return m_status;
}

bool PostgresStatement::next()
{
    if (m_row + 1 >= m_rows) {
        m_row = m_rows;
        return false;
    }
    ++m_row;
    return true;
}

void PostgresStatement::reset()
{
    PQclear(m_result);
    m_result = nullptr;
    m_row = -1;
    m_rows = 0;
    m_types.clear();
}

// The accessors are called for every value the serializer reads (a quarter of a million for the
// largest Foo): each makes as few libpq calls as it can.
bool PostgresStatement::onRow(int column) const
{
    return m_row >= 0 && m_row < m_rows && column >= 0 && size_t(column) < m_types.size();
}

bool PostgresStatement::isNull(int column) const
{
    return !onRow(column) || PQgetisnull(m_result, m_row, column);
}

qint64 PostgresStatement::integer(int column) const
{
    if (!onRow(column))
        return 0;
    // Text-format values end in a NUL; a NULL reads as "", which parses to nothing: 0, as with QVariant.
    const char *value = PQgetvalue(m_result, m_row, column);
    if (m_types[size_t(column)] == boolOid)
        return value[0] == 't' ? 1 : 0;
    const char *end = value + std::strlen(value);
    qint64 number = 0;
    const auto [stop, failure] = std::from_chars(value, end, number);
    if (failure == std::errc() && stop == end)
        return number;
    // numeric, real: QSqlQuery gave a double, and QVariant rounds that to the nearest integer.
    return qRound64(QByteArray::fromRawData(value, end - value).toDouble());
}

QByteArrayView PostgresStatement::text(int column) const
{
    if (!onRow(column))
        return {};
    return { PQgetvalue(m_result, m_row, column), PQgetlength(m_result, m_row, column) }; // "" for NULL
}

QByteArray PostgresStatement::blob(int column) const
{
    if (isNull(column))
        return {};
    const char *value = PQgetvalue(m_result, m_row, column);
    if (m_types[size_t(column)] != byteaOid)
        return QByteArray(value, PQgetlength(m_result, m_row, column));
    size_t length = 0;
    unsigned char *bytes = PQunescapeBytea(reinterpret_cast<const unsigned char *>(value), &length);
    QByteArray copy(reinterpret_cast<const char *>(bytes), qsizetype(length));
    PQfreemem(bytes);
    return copy;
}

void PostgresStatement::handNotificationsToDriver() const
{
    // libpq keeps the NOTIFYs it read while it waited for a result, and the driver's socket
    // notifier never fires for bytes already read. QPSQL asks for them after each of its own
    // queries; this does the same for a connection that began to LISTEN after this statement was
    // prepared (prepare() is not used on one that already listens).
    if (!m_driver->subscribedToNotifications().isEmpty())
        QMetaObject::invokeMethod(m_driver, "_q_handleNotification", Qt::QueuedConnection);
}
