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

void PostgresFloor::learn(const QList<qint64> &foos)
{
    m_plans = planRuns(foos, [this](Serializer::Query query, qint64 low, qint64 high) {
        const QByteArray from = QByteArray::number(low);
        const QByteArray to = QByteArray::number(high);
        const char *values[] = { from.constData(), to.constData() };
        PGresult *result = PQexecPrepared(m_connection, m_names[size_t(query)].constData(), 2, values, nullptr, nullptr, 0);
        std::vector<std::array<qint64, 2>> rows;
        for (int row = 0; row < PQntuples(result); ++row)
            rows.push_back({ QByteArray(PQgetvalue(result, row, 0)).toLongLong(), QByteArray(PQgetvalue(result, row, 1)).toLongLong() });
        PQclear(result);
        return rows;
    });
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

qsizetype PostgresFloor::read()
{
    PQclear(PQexec(m_connection, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
    qsizetype bytes = 0;
    for (const RunPlan &plan : m_plans) {
        for (const auto &[query, bounds] : plan.steps)
            bytes += run(query, { QByteArray::number(bounds[0]), QByteArray::number(bounds[1]) });
        const QList<qint64> &few = plan.newBazs;
        if (few.isEmpty())
            continue;
        if (few.size() > Serializer::fewBazs) {
            bytes += run(Serializer::BazArray, { idArray(few, '{', '}') });
            continue;
        }
        std::vector<QByteArray> ids;
        for (int i = 0; i < Serializer::fewBazs; ++i) // the spare places repeat the last id
            ids.push_back(QByteArray::number(few[std::min<qsizetype>(i, few.size() - 1)]));
        bytes += run(Serializer::FewBazs, ids);
    }
    PQclear(PQexec(m_connection, "COMMIT"));
    return bytes;
}
