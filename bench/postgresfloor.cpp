#include "postgresfloor.h"

#include "benchsupport.h"
#include "db/postgresstatement.h"
#include "serialize/serializer.h"

#include <libpq-fe.h>

PostgresFloor::PostgresFloor(PGconn *connection, const Database &database, bool binaryRows)
    : m_connection(connection)
    , m_binaryRows(binaryRows)
{
    static int counter = 0;
    const auto sql = Serializer::queries(database);
    for (size_t i = 0; i < sql.size(); ++i) {
        int parameters = 0;
        const QByteArray text = PostgresStatement::numberPlaceholders(sql[i].toUtf8(), &parameters);
        m_names[i] = "floor_" + QByteArray::number(++counter);
        PGresult *result = PQprepare(m_connection, m_names[i].constData(), text.constData(), 0, nullptr);
        if (PQresultStatus(result) != PGRES_COMMAND_OK)
            qFatal("floor: %s", PQresultErrorMessage(result));
        PQclear(result);
    }
}

PostgresFloor::~PostgresFloor()
{
    for (const QByteArray &name : m_names)
        PQclear(PQexec(m_connection, QByteArray("DEALLOCATE " + name).constData()));
}

void PostgresFloor::learnBazIds(const QList<qint64> &foos)
{
    m_fewBazIds = freshBazIds(foos, [this](qint64 foo) {
        PGresult *result = nullptr;
        const QByteArray pk = QByteArray::number(foo);
        const char *values[] = { pk.constData() };
        result = PQexecPrepared(m_connection, m_names[3].constData(), 1, values, nullptr, nullptr, 0);
        QList<qint64> bazs;
        for (int row = 0; row < PQntuples(result); ++row)
            bazs << QByteArray(PQgetvalue(result, row, 2)).toLongLong();
        PQclear(result);
        return bazs;
    });
    for (auto it = m_fewBazIds.cbegin(); it != m_fewBazIds.cend(); ++it)
        m_bazIds.insert(it.key(), idArray(it.value(), '{', '}'));
}

qsizetype PostgresFloor::run(int statement, const std::vector<QByteArray> &parameters)
{
    std::vector<const char *> values;
    for (const QByteArray &parameter : parameters)
        values.push_back(parameter.constData());
    PGresult *result = PQexecPrepared(m_connection, m_names[size_t(statement)].constData(),
        int(values.size()), values.data(), nullptr, nullptr, m_binaryRows ? 1 : 0);
    if (PQresultStatus(result) != PGRES_TUPLES_OK)
        qFatal("floor: %s", PQresultErrorMessage(result));
    qsizetype bytes = 0;
    const int rows = PQntuples(result);
    const int columns = PQnfields(result);
    for (int row = 0; row < rows; ++row) {
        for (int column = 0; column < columns; ++column)
            bytes += PQgetlength(result, row, column) + (*PQgetvalue(result, row, column) & 1);
    }
    PQclear(result);
    return bytes;
}

qsizetype PostgresFloor::foo(qint64 pk)
{
    const std::vector<QByteArray> key { QByteArray::number(pk) };
    qsizetype bytes = 0;
    for (int i = 0; i < 4; ++i)
        bytes += run(i, key);
    const QList<qint64> &few = m_fewBazIds[pk];
    if (few.isEmpty())
        return bytes;
    if (few.size() > Serializer::fewBazs)
        return bytes + run(4, { m_bazIds[pk] });
    std::vector<QByteArray> ids;
    for (int i = 0; i < Serializer::fewBazs; ++i) // the spare places repeat the last id
        ids.push_back(QByteArray::number(few[std::min<qsizetype>(i, few.size() - 1)]));
    return bytes + run(5, ids);
}

qsizetype PostgresFloor::list(const QList<qint64> &foos)
{
    PQclear(PQexec(m_connection, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
    qsizetype bytes = 0;
    for (qint64 pk : foos)
        bytes += foo(pk);
    PQclear(PQexec(m_connection, "COMMIT"));
    return bytes;
}
