#include "serializer.h"

#include "core/largebuffer.h"
#include "db/database.h"
#include "serialize/jsonstring.h"

#include <QObject>
#include <QScopeGuard>

#include <algorithm>
#include <charconv>


struct Serializer::Statements {
    std::unique_ptr<Statement> foo;
    std::unique_ptr<Statement> bars;
    std::unique_ptr<Statement> zabs;
    std::unique_ptr<Statement> links;
    std::unique_ptr<Statement> bazs;
    std::unique_ptr<Statement> fewBazs;
};

Serializer::Serializer(Database &database)
    : m_database(database)
{
}

Serializer::~Serializer() = default;

std::array<QString, 6> Serializer::queries(const Database &database)
{
    const DjangoTables &t = database.tables();
    const auto q = &DjangoTables::quote;
    // ORDER BY matches the natural nested-loop order over Django's indexes (bar.foo_id, zab.bar_id and
    // the unique (zab_id, baz_id) index), so SQLite streams the rows without sorting; the order is
    // what makes the output right, whatever plan the engine picks.
    return {
        QStringLiteral("SELECT name FROM %1 WHERE id = ?").arg(q(t.foo)),
        QStringLiteral("SELECT b.id, b.name FROM %1 b WHERE b.foo_id = ? ORDER BY b.id").arg(q(t.bar)),
        QStringLiteral("SELECT b.id, z.id, z.name FROM %1 b JOIN %2 z ON z.bar_id = b.id "
                       "WHERE b.foo_id = ? ORDER BY b.id, z.id")
            .arg(q(t.bar), q(t.zab)),
        QStringLiteral("SELECT b.id, z.id, l.baz_id FROM %1 b JOIN %2 z ON z.bar_id = b.id "
                       "JOIN %3 l ON l.zab_id = z.id WHERE b.foo_id = ? ORDER BY b.id, z.id, l.baz_id")
            .arg(q(t.bar), q(t.zab), q(t.zabBazs)),
        // One query for a whole set of Bazs, the ids bound as one array value. SQLite: walking the
        // array and looking each id up (CROSS JOIN keeps that order) builds nothing; `id IN (SELECT
        // … json_each)` first copied the ids into a temporary index, over half of this query's time.
        database.isSqlite()
            ? QStringLiteral("SELECT b.id, b.name FROM json_each(?) AS j CROSS JOIN %1 AS b ON b.id = j.value").arg(q(t.baz))
            : QStringLiteral("SELECT id, name FROM %1 WHERE id = ANY (CAST(? AS bigint[]))").arg(q(t.baz)),
        // Up to fewBazs of them, each bound on its own: most Foos of a large table reach one to
        // four Bazs, and setting up json_each cost more than the lookups.
        QStringLiteral("SELECT id, name FROM %1 WHERE id IN (%2)").arg(q(t.baz), QStringLiteral("?, ").repeated(fewBazs - 1) + QLatin1Char('?')),
    };
}

Status Serializer::prepare()
{
    if (m_statements)
        return success();
    const auto sql = queries(m_database);
    auto statements = std::make_unique<Statements>();
    std::unique_ptr<Statement> *targets[] = { &statements->foo, &statements->bars, &statements->zabs,
                                              &statements->links, &statements->bazs, &statements->fewBazs };
    static_assert(std::size(targets) == std::tuple_size_v<decltype(sql)>);
    for (size_t i = 0; i < sql.size(); ++i) {
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
    const auto resetAll = qScopeGuard([this] {
        for (auto *statement : { m_statements->foo.get(), m_statements->bars.get(), m_statements->zabs.get(),
                                 m_statements->links.get(), m_statements->bazs.get(), m_statements->fewBazs.get() })
            statement->reset();
    });
    // Baz names are remembered for one call only (a list, or SharedBazs, shares them across its
    // Foos, in one snapshot), so a renamed Baz is never written with its old name.
    if (!m_sharingBazs)
        forgetBazs();
    Status written = writeFoo(out, pk);
    if (!written) {
        out.truncate(start);
        // A failure can leave Bazs met but not looked up; Foos after it must not take them for
        // Bazs that do not exist.
        forgetBazs();
    }
    return written;
}

Serializer::SharedBazs::SharedBazs(Serializer &serializer)
    : m_serializer(serializer)
    , m_outer(!serializer.m_sharingBazs)
{
    if (m_outer) {
        m_serializer.forgetBazs();
        m_serializer.m_sharingBazs = true;
    }
}

Serializer::SharedBazs::~SharedBazs()
{
    if (m_outer) {
        m_serializer.m_sharingBazs = false;
        m_serializer.forgetBazs();
    }
}

void Serializer::forgetBazs()
{
    m_bazOrdinals.clear();
    m_bazJson.clear();
    m_bazArena.truncate(0); // keeps the capacity
    m_newBazIds.clear();
}

Status Serializer::loadBazNames()
{
    // Each Baz is looked up once per call, by primary key, in ascending order: the largest Foo has
    // 80,000 links to 4,000 Bazs, and a lookup per link was the serializer's biggest cost.
    if (m_newBazIds.empty())
        return success();
    std::sort(m_newBazIds.begin(), m_newBazIds.end());
    const bool few = m_newBazIds.size() <= size_t(fewBazs);
    Statement &bazs = few ? *m_statements->fewBazs : *m_statements->bazs;
    if (few) {
        for (int i = 0; i < fewBazs; ++i) // the spare places repeat the last id
            bazs.bind(i, m_newBazIds[std::min(size_t(i), m_newBazIds.size() - 1)]);
    } else {
        QByteArray ids(qsizetype(m_newBazIds.size()) * 21 + 2, Qt::Uninitialized);
        char *write = ids.data();
        *write++ = m_database.isSqlite() ? '[' : '{';
        for (qint64 id : m_newBazIds) {
            write = std::to_chars(write, ids.data() + ids.size(), id).ptr;
            *write++ = ',';
        }
        write[-1] = m_database.isSqlite() ? ']' : '}';
        ids.truncate(write - ids.data());
        bazs.bind(0, ids);
    }
    m_newBazIds.clear();
    ++m_queryCount;
    if (auto started = bazs.exec(); !started)
        return started;
    while (bazs.next()) {
        const int ordinal = m_bazOrdinals.find(bazs.integer(0));
        if (ordinal < 0)
            continue;
        const qsizetype offset = m_bazArena.size();
        m_bazArena.append(R"({"name":)");
        appendName(m_bazArena, bazs, 1);
        m_bazArena.append('}');
        m_bazJson[size_t(ordinal)] = { offset, int(m_bazArena.size() - offset) };
    }
    return bazs.status();
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
    m_links.clear();
    while (s.links->next()) {
        const qint64 baz = s.links->integer(2);
        bool added = false;
        const int ordinal = m_bazOrdinals.insert(baz, &added);
        if (added) {
            m_newBazIds.push_back(baz);
            m_bazJson.emplace_back();
        }
        m_links.push_back({ { s.links->integer(0), s.links->integer(1) }, ordinal });
    }
    if (auto loaded = loadBazNames(); !loaded)
        return loaded;

    out.append(R"({"name":)");
    appendName(out, *s.foo, 0);
    out.append(R"(,"bar_set":[)");
    auto link = m_links.cbegin();
    const auto linksEnd = m_links.cend();
    bool zabRow = s.zabs->next();
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
            const Position zab { bar, s.zabs->integer(1) };
            out.append(firstZab ? R"({"name":)" : R"(,{"name":)");
            firstZab = false;
            appendName(out, *s.zabs, 2);
            out.append(R"(,"bazs":[)");
            while (link != linksEnd && link->position < zab)
                ++link;
            bool firstBaz = true;
            for (; link != linksEnd && link->position == zab; ++link) {
                // A link to a Baz that does not exist is dropped, as DRF's INNER JOIN drops it.
                const BazJson &json = m_bazJson[size_t(link->baz)];
                if (json.length < 0)
                    continue;
                if (!firstBaz)
                    out.append(',');
                firstBaz = false;
                out.append(m_bazArena.constData() + json.offset, json.length);
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
    const SharedBazs shared(*this);
    for (qsizetype i = 0; i < ids->size(); ++i) {
        if (i > 0)
            out.append(',');
        reserveLarge(out, 4 * 1024 * 1024);
        if (auto written = appendFoo(out, ids->at(i)); !written)
            return written.error();
    }
    out.append(']');
    return out;
}
