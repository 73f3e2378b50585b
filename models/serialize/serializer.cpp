#include "serializer.h"

#include "core/largebuffer.h"
#include "db/database.h"
#include "serialize/jsonstring.h"

#include <QObject>
#include <QScopeGuard>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>


struct Serializer::Statements {
    std::array<std::unique_ptr<Statement>, QueryCount> statements;
    Statement &operator[](Query query) { return *statements[size_t(query)]; }
    void resetAll()
    {
        for (auto &statement : statements)
            statement->reset();
    }
};

Serializer::Serializer(Database &database)
    : m_database(database)
{
}

Serializer::~Serializer() = default;

std::array<QString, Serializer::QueryCount> Serializer::queries(const Database &database)
{
    const DjangoTables &t = database.tables();
    const auto q = &DjangoTables::quote;
    // Each ORDER BY is the order of an index Django creates (bar.foo_id, zab.bar_id, the unique
    // (zab_id, baz_id)), so SQLite streams the rows without sorting; the order is what makes the
    // output right, whatever plan the engine picks. The range scans read an index's stretch
    // instead of seeking it once per parent: a Foo of the wide scale has 40 Bars, 41 Zabs and 90
    // links, and the seeks were most of the engine's time.
    std::array<QString, QueryCount> sql;
    sql[Foos] = QStringLiteral("SELECT id, name FROM %1 WHERE id BETWEEN ? AND ? ORDER BY id").arg(q(t.foo));
    sql[Bars] = QStringLiteral("SELECT foo_id, id, name FROM %1 WHERE foo_id BETWEEN ? AND ? ORDER BY foo_id, id").arg(q(t.bar));
    sql[ZabsInRange] = QStringLiteral("SELECT bar_id, id, name FROM %1 WHERE bar_id BETWEEN ? AND ? ORDER BY bar_id, id").arg(q(t.zab));
    sql[ZabsOfFoos] = QStringLiteral("SELECT b.id, z.id, z.name FROM %1 b JOIN %2 z ON z.bar_id = b.id "
                                     "WHERE b.foo_id BETWEEN ? AND ? ORDER BY b.foo_id, b.id, z.id")
                          .arg(q(t.bar), q(t.zab));
    sql[LinksInRange] = QStringLiteral("SELECT zab_id, baz_id FROM %1 WHERE zab_id BETWEEN ? AND ? ORDER BY zab_id, baz_id").arg(q(t.zabBazs));
    sql[LinksOfFoos] = QStringLiteral("SELECT z.id, l.baz_id FROM %1 b JOIN %2 z ON z.bar_id = b.id JOIN %3 l ON l.zab_id = z.id "
                                      "WHERE b.foo_id BETWEEN ? AND ? ORDER BY b.foo_id, b.id, z.id, l.baz_id")
                           .arg(q(t.bar), q(t.zab), q(t.zabBazs));
    // One query for a whole set of Bazs, the ids bound as one array value. SQLite: walking the
    // array and looking each id up (CROSS JOIN keeps that order) builds nothing; `id IN (SELECT
    // … json_each)` first copied the ids into a temporary index, over half of this query's time.
    sql[BazArray] = database.isSqlite()
        ? QStringLiteral("SELECT b.id, b.name FROM json_each(?) AS j CROSS JOIN %1 AS b ON b.id = j.value").arg(q(t.baz))
        : QStringLiteral("SELECT id, name FROM %1 WHERE id = ANY (CAST(? AS bigint[]))").arg(q(t.baz));
    // Up to fewBazs of them, each bound on its own: most Foos of a large table reach one to
    // four Bazs, and setting up json_each cost more than the lookups.
    sql[FewBazs] = QStringLiteral("SELECT id, name FROM %1 WHERE id IN (%2)").arg(q(t.baz), QStringLiteral("?, ").repeated(fewBazs - 1) + QLatin1Char('?'));
    return sql;
}

qsizetype Serializer::runEnd(const QList<qint64> &pks, qsizetype start)
{
    qsizetype end = start + 1;
    // At most half as many pks not asked for as asked for, plus four: a warm's pks run on with
    // only deleted Foos between them; a refresh of a few scattered ones reads them one by one.
    while (end < pks.size() && end - start < runLength && pks[end] > pks[end - 1]) {
        const quint64 count = quint64(end - start + 1);
        if (quint64(pks[end]) - quint64(pks[start]) >= count + count / 2 + 4) // unsigned: see denseIds
            break;
        ++end;
    }
    return end;
}

Status Serializer::prepare()
{
    if (m_statements)
        return success();
    const auto sql = queries(m_database);
    auto statements = std::make_unique<Statements>();
    for (size_t i = 0; i < sql.size(); ++i) {
        auto prepared = m_database.prepare(sql[i]);
        if (!prepared)
            return prepared.error();
        statements->statements[i] = std::move(prepared.value());
    }
    m_statements = std::move(statements);
    return success();
}

Status Serializer::exec(Statement &statement)
{
    ++m_queryCount;
    return statement.exec();
}

Serializer::Text Serializer::keepName(Statement &statement, int column)
{
    // Kept as the JSON it is written as, once, however many Foos of the run write it.
    const qsizetype offset = m_text.size();
    const bool null = statement.isNull(column);
    appendNameOrNull(m_text, null, null ? QByteArrayView() : statement.text(column));
    return { offset, int(m_text.size() - offset) };
}

void Serializer::appendNameOrNull(QByteArray &out, bool null, QByteArrayView utf8)
{
    // DRF renders a NULL CharField as null; Django's NOT NULL makes it rare, SQLite allows it.
    if (null)
        out.append("null", 4);
    else
        m_replaced += appendJsonString(out, utf8);
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
    // Baz names are remembered for one call only (a list, or SharedBazs, shares them across its
    // Foos, in one snapshot), so a renamed Baz is never written with its old name.
    if (!m_sharingBazs)
        forgetBazs();
    Status written = readRun(pk, pk);
    if (written)
        written = writeFoo(out, pk);
    if (!written) {
        out.truncate(start);
        // A failure can leave Bazs met but not looked up; Foos after it must not take them for
        // Bazs that do not exist.
        forgetBazs();
    }
    return written;
}

std::vector<Result<QByteArray>> Serializer::foos(const QList<qint64> &pks)
{
    std::vector<Result<QByteArray>> bodies;
    bodies.reserve(size_t(pks.size()));
    if (auto prepared = prepare(); !prepared) {
        for (qsizetype i = 0; i < pks.size(); ++i)
            bodies.emplace_back(prepared.error());
        return bodies;
    }
    ReadSnapshot snapshot(m_database);
    const SharedBazs shared(*this);
    const auto write = [this, &bodies](qint64 pk) {
        QByteArray out;
        if (auto written = writeFoo(out, pk); !written)
            bodies.emplace_back(written.error());
        else
            bodies.emplace_back(std::move(out));
    };
    for (qsizetype start = 0; start < pks.size();) {
        const qsizetype end = runEnd(pks, start);
        if (readRun(pks[start], pks[end - 1])) {
            for (qsizetype i = start; i < end; ++i)
                write(pks[i]);
            start = end;
            continue;
        }
        // A failure can leave Bazs met but not looked up; Foos after it must not take them for
        // Bazs that do not exist. Then each Foo alone (the run may hold Foos not asked for), up to
        // the one that fails.
        forgetBazs();
        for (; start < end; ++start) {
            if (Status read = readRun(pks[start], pks[start]); !read) {
                forgetBazs();
                bodies.emplace_back(read.error());
                return bodies;
            }
            write(pks[start]);
        }
    }
    return bodies;
}

Serializer::SharedBazs::SharedBazs(Serializer &serializer, Scope scope)
    : m_serializer(serializer)
    , m_outer(!serializer.m_sharingBazs)
    , m_scope(scope)
{
    if (!m_outer)
        return;
    m_serializer.m_sharingBazs = true;
    std::optional<Database::ChangeMark> now;
    if (scope == Scope::WhileUnchanged) {
        now = m_serializer.m_database.snapshotChangeMark();
        const auto &kept = m_serializer.m_bazsMark;
        const bool small = m_serializer.m_bazJson.size() <= maxKeptBazs && m_serializer.m_bazArena.size() <= maxKeptBazBytes;
        if (now && kept && small && m_serializer.m_database.onlyCacheCommitsBetween(*kept, *now)) {
            m_serializer.m_bazsMark = now; // the names kept are this snapshot's too
            return;
        }
        if (!small) { // forgetBazs() keeps the memory for the next snapshot; not this much
            m_serializer.m_bazOrdinals = IdOrdinals();
            m_serializer.m_bazJson = {};
            m_serializer.m_bazArena = QByteArray();
        }
    }
    m_serializer.forgetBazs();
    m_serializer.m_bazsMark = now; // the names read from here on are this snapshot's
}

Serializer::SharedBazs::~SharedBazs()
{
    if (m_outer) {
        m_serializer.m_sharingBazs = false;
        if (m_scope == Scope::Snapshot)
            m_serializer.forgetBazs();
    }
}

void Serializer::forgetRun()
{
    m_foos.clear();
    m_bars.clear();
    m_zabs.clear();
    m_links.clear();
    m_fooIds.clear();
    m_barIds.clear();
    m_zabIds.clear();
    m_text.truncate(0); // keeps the capacity
}

void Serializer::forgetBazs()
{
    m_bazsMark.reset();
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
    Statement &bazs = few ? (*m_statements)[FewBazs] : (*m_statements)[BazArray];
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
    m_bazLookups += qint64(m_newBazIds.size());
    m_newBazIds.clear();
    if (auto started = exec(bazs); !started)
        return started;
    while (bazs.next()) {
        const int ordinal = m_bazOrdinals.find(bazs.integer(0));
        if (ordinal < 0)
            continue;
        const qsizetype offset = m_bazArena.size();
        m_bazArena.append(R"({"name":)");
        appendNameOrNull(m_bazArena, bazs.isNull(1), bazs.isNull(1) ? QByteArrayView() : bazs.text(1));
        m_bazArena.append('}');
        m_bazJson[size_t(ordinal)] = { offset, int(m_bazArena.size() - offset) };
    }
    return bazs.status();
}

namespace {

// Steps `statement`, whose rows carry their parent's id in column 0 and come grouped by parent (as
// each query's ORDER BY has them). Rows of a parent not in `parentIds` are skipped: a range scan
// meets other parents' rows, and a child whose parent is gone (Django's DO_NOTHING keys allow it)
// is never reached by DRF, which starts from the Foo. So is a row whose key is not a whole number:
// SQLite keeps a REAL such as 10.5 in a key column, BETWEEN 10 AND 11 meets it, integer() would
// read it as 10, and Django's `bar_id = 10` never matches it. For the others `keep()` keeps the child and
// returns how many children are kept now (0: it kept none), which extends the parent's span.
template <typename Row, typename Keep>
Status readLevel(Statement &statement, const IdOrdinals &parentIds, std::vector<Row> &parents, Keep keep)
{
    qint64 lastParent = 0;
    Row *parent = nullptr;
    bool firstRow = true;
    while (statement.next()) {
        const std::optional<qint64> key = statement.wholeNumber(0);
        if (!key)
            continue;
        const qint64 parentId = *key;
        if (firstRow || parentId != lastParent) {
            firstRow = false;
            lastParent = parentId;
            const int index = parentIds.find(parentId);
            parent = index < 0 ? nullptr : &parents[size_t(index)];
            if (parent && parent->begin != parent->end)
                return Error::database(QObject::tr("the database returned a parent's rows apart; cannot serialize"));
        }
        if (!parent)
            continue;
        const size_t kept = keep();
        if (kept == 0)
            continue;
        if (parent->begin == parent->end)
            parent->begin = quint32(kept - 1);
        parent->end = quint32(kept);
    }
    return statement.status();
}

} // namespace

Status Serializer::readRun(qint64 low, qint64 high)
{
    forgetRun();
    Statements &s = *m_statements;
    const auto resetAll = qScopeGuard([&s] { s.resetAll(); });
    const auto start = [this](Statement &statement, qint64 from, qint64 to) {
        statement.bind(0, from);
        statement.bind(1, to);
        return exec(statement);
    };
    struct Span {
        qint64 low = std::numeric_limits<qint64>::max();
        qint64 high = std::numeric_limits<qint64>::min();
    };
    // The next level's statement for `count` parents spanning `span`: a range scan over their ids
    // where they are dense, else joined from the run's Foos. Started; nullptr when that failed.
    Status levelStarted = success();
    const auto startLevel = [&](Query inRange, Query ofFoos, qsizetype count, const Span &span) {
        const bool range = m_plan == Plan::Ranges || (m_plan == Plan::Auto && denseIds(count, span.low, span.high));
        ++(range ? m_rangeReads : m_joinReads);
        Statement &statement = s[range ? inRange : ofFoos];
        levelStarted = range ? start(statement, span.low, span.high) : start(statement, low, high);
        return levelStarted ? &statement : nullptr;
    };
    // Keeps a Bar's or a Zab's row (id, name in columns 1 and 2) in `rows`, its id in `ids`.
    const auto keepRow = [this](Statement &statement, std::vector<Row> &rows, IdOrdinals &ids, Span &span) {
        const qint64 id = statement.integer(1);
        bool added = false;
        ids.insert(id, &added);
        if (!added) // a primary key: cannot repeat
            return size_t(0);
        rows.push_back({ id, keepName(statement, 2) });
        span = { std::min(span.low, id), std::max(span.high, id) };
        return rows.size();
    };

    Statement &foos = s[Foos];
    if (auto started = start(foos, low, high); !started)
        return started;
    while (foos.next()) {
        const qint64 id = foos.integer(0);
        bool added = false;
        m_fooIds.insert(id, &added);
        if (added) // a primary key: cannot repeat
            m_foos.push_back({ id, keepName(foos, 1) });
    }
    if (auto finished = foos.status(); !finished)
        return finished;
    if (m_foos.empty())
        return success();

    Statement &bars = s[Bars];
    Span barSpan;
    if (auto started = start(bars, low, high); !started)
        return started;
    if (auto read = readLevel(bars, m_fooIds, m_foos, [&] { return keepRow(bars, m_bars, m_barIds, barSpan); }); !read)
        return read;
    if (m_bars.empty())
        return success();

    Statement *zabs = startLevel(ZabsInRange, ZabsOfFoos, qsizetype(m_bars.size()), barSpan);
    if (!zabs)
        return levelStarted;
    Span zabSpan;
    if (auto read = readLevel(*zabs, m_barIds, m_bars, [&] { return keepRow(*zabs, m_zabs, m_zabIds, zabSpan); }); !read)
        return read;
    if (m_zabs.empty())
        return success();

    // Links, in Baz id order within each Zab; each Baz numbered once per call.
    Statement *links = startLevel(LinksInRange, LinksOfFoos, qsizetype(m_zabs.size()), zabSpan);
    if (!links)
        return levelStarted;
    const auto keepLink = [&] {
        const std::optional<qint64> key = links->wholeNumber(1);
        if (!key) // a REAL Baz id matches no Baz (see readLevel)
            return size_t(0);
        const qint64 baz = *key;
        bool added = false;
        const int ordinal = m_bazOrdinals.insert(baz, &added);
        if (added) {
            m_newBazIds.push_back(baz);
            m_bazJson.emplace_back();
        }
        m_links.push_back(ordinal);
        return m_links.size();
    };
    if (auto read = readLevel(*links, m_zabIds, m_zabs, keepLink); !read)
        return read;
    return loadBazNames();
}

namespace {

constexpr char objectOpen[] = R"({"name":)";
constexpr char nextObjectOpen[] = R"(,{"name":)";
constexpr char barSetOpen[] = R"(,"bar_set":[)";
constexpr char zabSetOpen[] = R"(,"zab_set":[)";
constexpr char bazsOpen[] = R"(,"bazs":[)";
constexpr char setClose[] = "]}";

// Sums the bytes a Foo's body takes.
class Counter {
public:
    template <size_t N>
    void literal(const char (&)[N])
    {
        m_size += qsizetype(N - 1);
    }
    void bytes(const char *, qsizetype size) { m_size += size; }
    void byte(char) { ++m_size; }
    qsizetype size() const { return m_size; }

private:
    qsizetype m_size = 0;
};

// Writes them at a pointer into memory already sized for them.
class Cursor {
public:
    explicit Cursor(char *at)
        : m_at(at)
    {
    }
    template <size_t N>
    void literal(const char (&text)[N])
    {
        std::memcpy(m_at, text, N - 1);
        m_at += N - 1;
    }
    void bytes(const char *data, qsizetype size)
    {
        std::memcpy(m_at, data, size_t(size));
        m_at += size;
    }
    void byte(char c) { *m_at++ = c; }

private:
    char *m_at;
};

} // namespace

// The body of `foo`, piece by piece, into `sink`: a Counter, then a Cursor. The rows' names and
// the Bazs' objects are JSON already.
template <typename Sink>
void Serializer::emitFoo(const Row &foo, Sink &sink) const
{
    const char *text = m_text.constData();
    const char *bazs = m_bazArena.constData();
    // `{"name":…,"<set>":[`, after a comma unless it is its parent's first child.
    const auto object = [&](bool first, const Row &row, const auto &setOpen) {
        if (first)
            sink.literal(objectOpen);
        else
            sink.literal(nextObjectOpen);
        sink.bytes(text + row.name.offset, row.name.length);
        sink.literal(setOpen);
    };
    object(true, foo, barSetOpen);
    for (quint32 b = foo.begin; b < foo.end; ++b) {
        const Row &bar = m_bars[b];
        object(b == foo.begin, bar, zabSetOpen);
        for (quint32 z = bar.begin; z < bar.end; ++z) {
            const Row &zab = m_zabs[z];
            object(z == bar.begin, zab, bazsOpen);
            bool firstBaz = true;
            for (quint32 l = zab.begin; l < zab.end; ++l) {
                // A link to a Baz that does not exist is dropped, as DRF's INNER JOIN drops it.
                const BazJson &json = m_bazJson[size_t(m_links[l])];
                if (json.length < 0)
                    continue;
                if (!firstBaz)
                    sink.byte(',');
                firstBaz = false;
                sink.bytes(bazs + json.offset, json.length);
            }
            sink.literal(setClose);
        }
        sink.literal(setClose);
    }
    sink.literal(setClose);
}

// The Foo's size is summed first, then its bytes are copied into place, by the same walk.
// Appending them piece by piece to a growing QByteArray (some 400 appends for a Foo of wide) was
// a sixth of a warm's CPU.
Status Serializer::writeFoo(QByteArray &out, qint64 pk)
{
    const int index = m_fooIds.find(pk);
    if (index < 0)
        return Error::notFound(QObject::tr("no Foo with primary key %1").arg(pk));
    const Row &foo = m_foos[size_t(index)];
    Counter counter;
    emitFoo(foo, counter);
    const qsizetype start = out.size();
    const qsizetype size = counter.size();
    if (out.capacity() < start + size) // an empty `out` gets exactly the body's size
        out.reserve(start == 0 ? size : std::max(start + size, out.capacity() + out.capacity() / 2));
    out.resize(start + size);
    Cursor cursor(out.data() + start);
    emitFoo(foo, cursor);
    return success();
}

Result<QByteArray> Serializer::list()
{
    if (auto prepared = prepare(); !prepared)
        return prepared.error();
    ReadSnapshot snapshot(m_database);
    auto ids = m_database.fooIds();
    if (!ids)
        return ids.error();
    QByteArray out;
    out.append('[');
    const SharedBazs shared(*this);
    for (qsizetype start = 0; start < ids->size();) {
        const qsizetype end = runEnd(*ids, start);
        if (auto read = readRun(ids->at(start), ids->at(end - 1)); !read) {
            forgetBazs(); // see appendFoo (a caller may hold SharedBazs around this call)
            return read.error();
        }
        for (qsizetype i = start; i < end; ++i) {
            if (i > 0)
                out.append(',');
            reserveLarge(out, 4 * 1024 * 1024);
            if (auto written = writeFoo(out, ids->at(i)); !written)
                return written.error();
        }
        start = end;
        // Between runs: the next run reads again whatever names it needs.
        if (m_bazArena.size() + qsizetype(m_bazJson.size() * sizeof(BazJson)) > m_listBazBytes)
            forgetBazs();
    }
    out.append(']');
    return out;
}
