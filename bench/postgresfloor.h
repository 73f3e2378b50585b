#pragma once

#include "benchsupport.h"

#include <QByteArray>
#include <QHash>
#include <QList>

#include <array>
#include <vector>

class Database;
struct pg_conn;

// PostgreSQL's floor for the serializer: its own statements (Serializer::queries) prepared once
// through libpq on a connection of its own, executed per Foo as the serializer does, every value
// of every row looked at with PQgetvalue, nothing built. Rows come in the text format (what
// PostgresStatement asks for) or, to show what the row format costs, in the binary one.
class PostgresFloor {
public:
    PostgresFloor(pg_conn *connection, const Database &database, bool binaryRows);
    ~PostgresFloor();
    PostgresFloor(const PostgresFloor &) = delete;
    PostgresFloor &operator=(const PostgresFloor &) = delete;

    // Works out what the serializer reads for `foos`, run by run (planRuns in benchsupport.h).
    void learn(const QList<qint64> &foos);
    const std::vector<RunPlan> &plans() const { return m_plans; }
    // Every run learned, in one REPEATABLE READ transaction, as list() reads them; bytes seen.
    qsizetype read();

private:
    qsizetype run(int statement, const std::vector<QByteArray> &parameters);

    pg_conn *m_connection;
    bool m_binaryRows;
    std::array<QByteArray, Serializer::QueryCount> m_names;
    std::vector<RunPlan> m_plans;
};
