#pragma once

#include <optional>

#include "core/result.h"

#include <QByteArrayView>

// A prepared query that yields rows, forward only. Statements go straight to the engine, sqlite3 or
// libpq (the serializer reads ~1 million rows a second this way, where QSqlQuery's per-value QVariant
// would cost several times that); QSqlQuery remains for what has no engine API here (a PostgreSQL
// connection that LISTENs). A Statement belongs to the thread of the Database that prepared it and
// must be destroyed before that Database.
class Statement {
public:
    virtual ~Statement() = default;

    // Parameters are numbered from 0 and stay bound across exec() calls.
    virtual void bind(int index, qint64 value) = 0;
    virtual void bind(int index, const QByteArray &utf8Text) = 0;
    // Binary data (SQLite blob, PostgreSQL bytea).
    virtual void bindBlob(int index, const QByteArray &bytes) = 0;
    virtual Status exec() = 0;
    // False at the end of the rows or on an error; status() tells which.
    virtual bool next() = 0;
    virtual Status status() const = 0;
    // Ends the current result set early and lets go of what it holds (SQLite keeps a read lock for
    // a statement that was not stepped to its end).
    virtual void reset() = 0;

    virtual qint64 integer(int column) const = 0;
    virtual bool isNull(int column) const = 0;
    // The column's value when it is a whole number, else nothing: SQLite keeps whatever a column is
    // given (a REAL such as 10.5 in an integer key), which integer() would truncate.
    virtual std::optional<qint64> wholeNumber(int column) const = 0;
    // The column's bytes as stored (UTF-8 text; may hold NULs or invalid sequences in SQLite),
    // valid until the next call to next() or exec().
    virtual QByteArrayView text(int column) const = 0;
    // A blob/bytea column's bytes (copied out of the row).
    virtual QByteArray blob(int column) const = 0;
};
