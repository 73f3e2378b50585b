#pragma once

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

    // See freshBazIds (benchsupport.h).
    void learnBazIds(const QList<qint64> &foos);
    // One Foo as in list(): the four queries bound to its pk, then its new Bazs; bytes seen.
    qsizetype foo(qint64 pk);
    // Every Foo in one REPEATABLE READ transaction, as list() reads them.
    qsizetype list(const QList<qint64> &foos);

private:
    qsizetype run(int statement, const std::vector<QByteArray> &parameters);

    pg_conn *m_connection;
    bool m_binaryRows;
    std::array<QByteArray, 6> m_names;
    QHash<qint64, QList<qint64>> m_fewBazIds;
    QHash<qint64, QByteArray> m_bazIds;
};
