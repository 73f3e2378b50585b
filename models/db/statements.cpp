#include "statements.h"

#include <QList>
#include <QObject>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <sqlite3.h>

namespace {

class SqliteStatement final : public Statement {
public:
    SqliteStatement(sqlite3 *handle, sqlite3_stmt *statement)
        : m_handle(handle)
        , m_statement(statement)
    {
    }
    ~SqliteStatement() override { sqlite3_finalize(m_statement); }

    void bind(int index, qint64 value) override
    {
        rewind();
        sqlite3_bind_int64(m_statement, index + 1, value);
    }
    void bind(int index, const QByteArray &utf8Text) override
    {
        rewind();
        sqlite3_bind_text(m_statement, index + 1, utf8Text.constData(), int(utf8Text.size()), SQLITE_TRANSIENT);
    }
    // Takes the first step, so that a statement without rows (an INSERT) runs here as it does with
    // QSqlQuery, and an error shows at exec(); next() then hands out that first row.
    void bindBlob(int index, const QByteArray &bytes) override
    {
        rewind();
        sqlite3_bind_blob(m_statement, index + 1, bytes.constData(), int(bytes.size()), SQLITE_TRANSIENT);
    }
    Status exec() override
    {
        rewind();
        m_status = success();
        m_active = true;
        m_firstRowWaiting = step();
        return m_status;
    }
    bool next() override
    {
        if (m_firstRowWaiting) {
            m_firstRowWaiting = false;
            return true;
        }
        return m_active && step();
    }
    Status status() const override { return m_status; }
    void reset() override { rewind(); }
    qint64 integer(int column) const override { return sqlite3_column_int64(m_statement, column); }
    bool isNull(int column) const override { return sqlite3_column_type(m_statement, column) == SQLITE_NULL; }
    std::optional<qint64> wholeNumber(int column) const override
    {
        // One column call (each takes the connection's mutex); the value calls take none.
        sqlite3_value *value = sqlite3_column_value(m_statement, column);
        if (sqlite3_value_type(value) != SQLITE_INTEGER)
            return std::nullopt;
        return sqlite3_value_int64(value);
    }
    QByteArrayView text(int column) const override
    {
        // column_text before column_bytes, as SQLite documents, so the size is that of the UTF-8 form.
        const auto *data = reinterpret_cast<const char *>(sqlite3_column_text(m_statement, column));
        return { data, sqlite3_column_bytes(m_statement, column) };
    }
    QByteArray blob(int column) const override
    {
        const void *data = sqlite3_column_blob(m_statement, column);
        return QByteArray(static_cast<const char *>(data), sqlite3_column_bytes(m_statement, column));
    }

private:
    bool step()
    {
        const int rc = sqlite3_step(m_statement);
        if (rc == SQLITE_ROW)
            return true;
        m_active = false;
        if (rc != SQLITE_DONE)
            m_status = Error::database(QString::fromUtf8(sqlite3_errmsg(m_handle)));
        return false;
    }
    void rewind()
    {
        sqlite3_reset(m_statement);
        m_active = false;
        m_firstRowWaiting = false;
    }

    sqlite3 *m_handle;
    sqlite3_stmt *m_statement;
    bool m_active = false;
    bool m_firstRowWaiting = false;
    Status m_status = success();
};

class QtStatement final : public Statement {
public:
    explicit QtStatement(QSqlQuery query)
        : m_query(std::move(query))
    {
    }

    void bind(int index, qint64 value) override { m_query.bindValue(index, value); }
    void bind(int index, const QByteArray &utf8Text) override
    {
        m_query.bindValue(index, QString::fromUtf8(utf8Text));
    }
    void bindBlob(int index, const QByteArray &bytes) override { m_query.bindValue(index, bytes); }
    Status exec() override
    {
        if (!m_query.exec())
            return m_status = Error::database(m_query.lastError().text());
        m_status = success();
        return success();
    }
    bool next() override
    {
        if (!m_query.isActive())
            return false;
        m_cached.clear();
        if (m_query.next())
            return true;
        if (m_query.lastError().isValid())
            m_status = Error::database(m_query.lastError().text());
        return false;
    }
    Status status() const override { return m_status; }
    void reset() override { m_query.finish(); }
    qint64 integer(int column) const override { return m_query.value(column).toLongLong(); }
    bool isNull(int column) const override { return m_query.isNull(column); }
    std::optional<qint64> wholeNumber(int column) const override
    {
        if (m_query.isNull(column))
            return std::nullopt;
        const QVariant value = m_query.value(column);
        switch (value.typeId()) {
        case QMetaType::Int:
        case QMetaType::UInt:
        case QMetaType::LongLong:
        case QMetaType::ULongLong: return value.toLongLong();
        default: return std::nullopt;
        }
    }
    QByteArrayView text(int column) const override
    {
        if (m_cached.size() <= column)
            m_cached.resize(column + 1);
        m_cached[column] = m_query.value(column).toString().toUtf8();
        return m_cached[column];
    }
    QByteArray blob(int column) const override { return m_query.value(column).toByteArray(); }

private:
    QSqlQuery m_query;
    mutable QList<QByteArray> m_cached;
    Status m_status = success();
};

} // namespace

Result<std::unique_ptr<Statement>> prepareSqliteStatement(sqlite3 *handle, const QString &sql)
{
    sqlite3_stmt *statement = nullptr;
    const QByteArray utf8 = sql.toUtf8();
    if (sqlite3_prepare_v3(handle, utf8.constData(), int(utf8.size()), SQLITE_PREPARE_PERSISTENT, &statement,
                           nullptr)
        != SQLITE_OK) {
        const QString message = QString::fromUtf8(sqlite3_errmsg(handle));
        sqlite3_finalize(statement);
        return Error::database(QObject::tr("cannot prepare query: %1").arg(message));
    }
    return std::unique_ptr<Statement>(std::make_unique<SqliteStatement>(handle, statement));
}

Result<std::unique_ptr<Statement>> prepareQtStatement(const QSqlDatabase &db, const QString &sql)
{
    // Not forward-only: QPSQL's forward-only mode allows one active query per connection, and the
    // serializer walks three result sets at once.
    QSqlQuery query(db);
    if (!query.prepare(sql))
        return Error::database(QObject::tr("cannot prepare query: %1").arg(query.lastError().text()));
    return std::unique_ptr<Statement>(std::make_unique<QtStatement>(std::move(query)));
}
