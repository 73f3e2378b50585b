#include "serializer.h"

#include "db/database.h"
#include "serialize/jsonstring.h"

#include <QObject>


struct Serializer::Statements {
    std::unique_ptr<Statement> foo;
    std::unique_ptr<Statement> bars;
    std::unique_ptr<Statement> zabs;
    std::unique_ptr<Statement> links;
};

namespace {

// Rows of the two child queries carry their ancestors' ids in output order, so the merge can tell a
// row that belongs further on from one that belongs to the current parent.
struct Position {
    qint64 bar;
    qint64 zab;
    auto operator<=>(const Position &) const = default;
};

} // namespace

Serializer::Serializer(Database &database)
    : m_database(database)
{
}

Serializer::~Serializer() = default;

Status Serializer::prepare()
{
    if (m_statements)
        return success();
    const DjangoTables &t = m_database.tables();
    const auto q = &DjangoTables::quote;
    // ORDER BY matches the natural nested-loop order over Django's indexes (bar.foo_id, zab.bar_id and
    // the unique (zab_id, baz_id) index), so SQLite streams the rows without sorting; the order is
    // what makes the output right, whatever plan the engine picks.
    const QString sql[] = {
        QStringLiteral("SELECT name FROM %1 WHERE id = ?").arg(q(t.foo)),
        QStringLiteral("SELECT b.id, b.name FROM %1 b WHERE b.foo_id = ? ORDER BY b.id").arg(q(t.bar)),
        QStringLiteral("SELECT b.id, z.id, z.name FROM %1 b JOIN %2 z ON z.bar_id = b.id "
                       "WHERE b.foo_id = ? ORDER BY b.id, z.id")
            .arg(q(t.bar), q(t.zab)),
        QStringLiteral("SELECT b.id, z.id, bz.name FROM %1 b JOIN %2 z ON z.bar_id = b.id "
                       "JOIN %3 l ON l.zab_id = z.id JOIN %4 bz ON bz.id = l.baz_id "
                       "WHERE b.foo_id = ? ORDER BY b.id, z.id, l.baz_id")
            .arg(q(t.bar), q(t.zab), q(t.zabBazs), q(t.baz)),
    };
    auto statements = std::make_unique<Statements>();
    std::unique_ptr<Statement> *targets[] = { &statements->foo, &statements->bars, &statements->zabs,
                                              &statements->links };
    for (int i = 0; i < 4; ++i) {
        auto prepared = m_database.prepare(sql[i]);
        if (!prepared)
            return prepared.error();
        *targets[i] = std::move(prepared.value());
    }
    m_statements = std::move(statements);
    return success();
}

Status Serializer::runQuery(Statement &statement, qint64 pk)
{
    statement.bind(0, pk);
    ++m_queryCount;
    return statement.exec();
}

void Serializer::appendName(QByteArray &out, Statement &statement, int column)
{
    // DRF renders a NULL CharField as null; Django's NOT NULL makes it rare, SQLite allows it.
    if (statement.isNull(column))
        out.append("null", 4);
    else
        m_replaced += appendJsonString(out, statement.text(column));
}

Result<QByteArray> Serializer::foo(qint64 pk)
{
    QByteArray out;
    if (auto written = appendFoo(out, pk); !written)
        return written.error();
    return out;
}

Status Serializer::appendFoo(QByteArray &out, qint64 pk)
{
    if (auto prepared = prepare(); !prepared)
        return prepared;
    const qsizetype start = out.size();
    ReadSnapshot snapshot(m_database);
    Status written = writeFoo(out, pk);
    if (!written)
        out.truncate(start);
    return written;
}

Status Serializer::writeFoo(QByteArray &out, qint64 pk)
{
    Statements &s = *m_statements;
    for (Statement *statement : { s.foo.get(), s.bars.get(), s.zabs.get(), s.links.get() }) {
        if (auto started = runQuery(*statement, pk); !started)
            return started;
    }
    if (!s.foo->next()) {
        if (auto failed = s.foo->status(); !failed)
            return failed;
        return Error::notFound(QObject::tr("no Foo with primary key %1").arg(pk));
    }
    out.append(R"({"name":)");
    appendName(out, *s.foo, 0);
    out.append(R"(,"bar_set":[)");

    bool zabRow = s.zabs->next();
    bool linkRow = s.links->next();
    const auto zabAt = [&] { return Position { s.zabs->integer(0), s.zabs->integer(1) }; };
    const auto linkAt = [&] { return Position { s.links->integer(0), s.links->integer(1) }; };
    bool firstBar = true;
    while (s.bars->next()) {
        const qint64 bar = s.bars->integer(0);
        out.append(firstBar ? R"({"name":)" : R"(,{"name":)");
        firstBar = false;
        appendName(out, *s.bars, 1);
        out.append(R"(,"zab_set":[)");
        // Rows of a parent that is not in the parent query (impossible in one snapshot) are skipped.
        while (zabRow && s.zabs->integer(0) < bar)
            zabRow = s.zabs->next();
        bool firstZab = true;
        while (zabRow && s.zabs->integer(0) == bar) {
            const Position zab = zabAt();
            out.append(firstZab ? R"({"name":)" : R"(,{"name":)");
            firstZab = false;
            appendName(out, *s.zabs, 2);
            out.append(R"(,"bazs":[)");
            while (linkRow && linkAt() < zab)
                linkRow = s.links->next();
            bool firstBaz = true;
            while (linkRow && linkAt() == zab) {
                out.append(firstBaz ? R"({"name":)" : R"(,{"name":)");
                firstBaz = false;
                appendName(out, *s.links, 2);
                out.append('}');
                linkRow = s.links->next();
            }
            out.append("]}", 2);
            zabRow = s.zabs->next();
        }
        out.append("]}", 2);
    }
    out.append("]}", 2);
    for (Statement *statement : { s.foo.get(), s.bars.get(), s.zabs.get(), s.links.get() }) {
        if (auto finished = statement->status(); !finished)
            return finished;
    }
    return success();
}

Result<QByteArray> Serializer::list()
{
    ReadSnapshot snapshot(m_database);
    auto ids = m_database.fooIds();
    if (!ids)
        return ids.error();
    QByteArray out;
    out.append('[');
    for (qsizetype i = 0; i < ids->size(); ++i) {
        if (i > 0)
            out.append(',');
        if (auto written = appendFoo(out, ids->at(i)); !written)
            return written.error();
    }
    out.append(']');
    return out;
}
