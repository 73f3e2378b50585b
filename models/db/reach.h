#pragma once

#include "core/result.h"
#include "db/djangotables.h"

#include <QList>
#include <QString>

#include <optional>

class Database;

// The levels below a Foo, and which Foos a node of one of them is in: the Foos a change to it
// reaches (what a refresh re-serializes), and what the console's "baz:17" search lists.
enum class NodeLevel { Bar, Zab, Baz };
QString nodeLevelName(NodeLevel level); // "bar", "zab", "baz"
std::optional<NodeLevel> nodeLevelNamed(const QString &name); // case-insensitive

// "f.id IN (…)": a condition on a Foo aliased `f` that holds a node of `level` whose id equals the
// one parameter (or, `byName`, whose name is LIKE it: `like` is "%1 LIKE ? ESCAPE '!'" or the
// ILIKE form). A semi-join along the foreign keys, so each indexed step is one lookup.
QString holdsNodeCondition(const DjangoTables &tables, NodeLevel level, bool byName = false,
                           const QString &like = QString());

struct ReachedFoo {
    qint64 pk = 0;
    QString name;
};
// The node's own name (nullopt: there is no such node) and the Foos it is in, by pk.
struct Reach {
    std::optional<QString> nodeName;
    QList<ReachedFoo> foos;
};
Result<Reach> foosReachedBy(Database &database, NodeLevel level, qint64 id);
