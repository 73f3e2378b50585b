#include "reach.h"

#include "db/database.h"

#include <QObject>

QString nodeLevelName(NodeLevel level)
{
    switch (level) {
    case NodeLevel::Bar: return QStringLiteral("bar");
    case NodeLevel::Zab: return QStringLiteral("zab");
    case NodeLevel::Baz: return QStringLiteral("baz");
    }
    return {};
}

std::optional<NodeLevel> nodeLevelNamed(const QString &name)
{
    for (NodeLevel level : { NodeLevel::Bar, NodeLevel::Zab, NodeLevel::Baz }) {
        if (name.compare(nodeLevelName(level), Qt::CaseInsensitive) == 0)
            return level;
    }
    return std::nullopt;
}

QString holdsNodeCondition(const DjangoTables &t, NodeLevel level, bool byName, const QString &like)
{
    const auto q = &DjangoTables::quote;
    const QString equals = QStringLiteral("%1 = CAST(? AS BIGINT)");
    switch (level) {
    case NodeLevel::Bar:
        return QStringLiteral("f.id IN (SELECT b.foo_id FROM %1 b WHERE %2)")
            .arg(q(t.bar), (byName ? like : equals).arg(byName ? QStringLiteral("b.name") : QStringLiteral("b.id")));
    case NodeLevel::Zab:
        return QStringLiteral("f.id IN (SELECT b.foo_id FROM %1 b JOIN %2 z ON z.bar_id = b.id WHERE %3)")
            .arg(q(t.bar), q(t.zab),
                 (byName ? like : equals).arg(byName ? QStringLiteral("z.name") : QStringLiteral("z.id")));
    case NodeLevel::Baz:
        if (!byName)
            return QStringLiteral("f.id IN (SELECT b.foo_id FROM %1 b JOIN %2 z ON z.bar_id = b.id JOIN %3 l ON "
                                  "l.zab_id = z.id WHERE %4)")
                .arg(q(t.bar), q(t.zab), q(t.zabBazs), equals.arg(QStringLiteral("l.baz_id")));
        return QStringLiteral("f.id IN (SELECT b.foo_id FROM %1 b JOIN %2 z ON z.bar_id = b.id JOIN %3 l ON "
                              "l.zab_id = z.id JOIN %4 n ON n.id = l.baz_id WHERE %5)")
            .arg(q(t.bar), q(t.zab), q(t.zabBazs), q(t.baz), like.arg(QStringLiteral("n.name")));
    }
    return {};
}

namespace {

QString tableOf(const DjangoTables &t, NodeLevel level)
{
    switch (level) {
    case NodeLevel::Bar: return t.bar;
    case NodeLevel::Zab: return t.zab;
    case NodeLevel::Baz: return t.baz;
    }
    return {};
}

} // namespace

Result<Reach> foosReachedBy(Database &database, NodeLevel level, qint64 id)
{
    const DjangoTables &t = database.tables();
    ReadSnapshot snapshot(database); // the node and its Foos as of one moment
    Reach reach;
    auto node = database.prepare(QStringLiteral("SELECT name FROM %1 WHERE id = CAST(? AS BIGINT)")
                                     .arg(DjangoTables::quote(tableOf(t, level))));
    if (!node)
        return node.error();
    (*node)->bind(0, id);
    if (auto run = (*node)->exec(); !run)
        return run.error();
    if (!(*node)->next()) {
        if (auto done = (*node)->status(); !done)
            return done.error();
        return reach; // no such node: it reaches nothing
    }
    reach.nodeName = QString::fromUtf8((*node)->text(0));
    auto foos = database.prepare(QStringLiteral("SELECT f.id, f.name FROM %1 f WHERE %2 ORDER BY f.id")
                                     .arg(DjangoTables::quote(t.foo), holdsNodeCondition(t, level)));
    if (!foos)
        return foos.error();
    (*foos)->bind(0, id);
    if (auto run = (*foos)->exec(); !run)
        return run.error();
    while ((*foos)->next())
        reach.foos.append({ (*foos)->integer(0), QString::fromUtf8((*foos)->text(1)) });
    if (auto done = (*foos)->status(); !done)
        return done.error();
    return reach;
}
