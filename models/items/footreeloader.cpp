#include "footreeloader.h"

#include "db/database.h"
#include "db/djangotables.h"
#include "db/reach.h"

#include <QLoggingCategory>
#include <QMetaObject>

#include <atomic>

Q_LOGGING_CATEGORY(lcItems, "preserve.items", QtInfoMsg) // debug lines only when asked for (QT_LOGGING_RULES)

namespace {

NodeLevel nodeLevelOf(TreeLevel level)
{
    return level == TreeLevel::Bar ? NodeLevel::Bar : level == TreeLevel::Zab ? NodeLevel::Zab : NodeLevel::Baz;
}

// LIKE pattern for "contains `text`", with '!' as the escape character (a backslash would mean
// different things to SQLite and to PostgreSQL with standard_conforming_strings off).
QByteArray containsPattern(const QString &text)
{
    QString escaped;
    escaped.reserve(text.size() + 2);
    for (const QChar c : text) {
        if (c == QLatin1Char('!') || c == QLatin1Char('%') || c == QLatin1Char('_'))
            escaped += QLatin1Char('!');
        escaped += c;
    }
    return (QLatin1Char('%') + escaped + QLatin1Char('%')).toUtf8();
}

struct BuiltQuery {
    QString sql;
    bool filterById = false;
    bool filterByName = false;
};

BuiltQuery fooQuery(const Database &database, const QString &filter)
{
    const DjangoTables &t = database.tables();
    const auto q = &DjangoTables::quote;
    BuiltQuery built;
    // CAST: PostgreSQL types a parameter after its column (integer, 32 bits), and the first batch's
    // afterId (the smallest qint64) or an id typed into the filter would not fit: "integer out of range".
    QString where = QStringLiteral("f.id > CAST(? AS BIGINT)");
    const TreeSearch search = parseTreeSearch(filter);
    if (!search.isEmpty()) {
        // SQLite's LIKE ignores ASCII case already; PostgreSQL's does not.
        const QString like = database.isSqlite() ? QStringLiteral("%1 LIKE ? ESCAPE '!'")
                                                 : QStringLiteral("%1 ILIKE ? ESCAPE '!'");
        const QString equals = QStringLiteral("%1 = CAST(? AS BIGINT)");
        bool isNumber = false;
        search.text.toLongLong(&isNumber);
        built.filterById = isNumber;
        built.filterByName = !search.idOnly;
        if (search.idOnly && !isNumber)
            where += QStringLiteral(" AND 1 = 0"); // "id:abc" matches nothing
        else if (search.level == TreeLevel::Foo && built.filterById && built.filterByName)
            where += QStringLiteral(" AND (%1 OR %2)").arg(equals.arg(QStringLiteral("f.id")), like.arg(QStringLiteral("f.name")));
        else if (search.level == TreeLevel::Foo)
            where += QStringLiteral(" AND %1").arg(built.filterById ? equals.arg(QStringLiteral("f.id")) : like.arg(QStringLiteral("f.name")));
        else
            where += QStringLiteral(" AND %1").arg(holdsNodeCondition(t, nodeLevelOf(search.level), !built.filterById, like));
        // A level's number is its id only; its name is searched when it is not a number.
        if (search.level != TreeLevel::Foo)
            built.filterByName = !built.filterById;
    }
    built.sql = QStringLiteral("SELECT f.id, f.name, (SELECT count(*) FROM %1 b WHERE b.foo_id = f.id) "
                               "FROM %2 f WHERE %3 ORDER BY f.id LIMIT ?")
                    .arg(q(t.bar), q(t.foo), where);
    return built;
}

QString childSql(const DjangoTables &t, TreeLevel level)
{
    const auto q = &DjangoTables::quote;
    switch (level) {
    case TreeLevel::Bar:
        return QStringLiteral("SELECT b.id, b.name, (SELECT count(*) FROM %1 z WHERE z.bar_id = b.id) "
                              "FROM %2 b WHERE b.foo_id = ? AND b.id > CAST(? AS BIGINT) ORDER BY b.id LIMIT ?")
            .arg(q(t.zab), q(t.bar));
    case TreeLevel::Zab:
        return QStringLiteral("SELECT z.id, z.name, (SELECT count(*) FROM %1 l WHERE l.zab_id = z.id) "
                              "FROM %2 z WHERE z.bar_id = ? AND z.id > CAST(? AS BIGINT) ORDER BY z.id LIMIT ?")
            .arg(q(t.zabBazs), q(t.zab));
    case TreeLevel::Baz:
        // The serializer's order: the link table's baz ids ascending (a Zab links a Baz once).
        return QStringLiteral("SELECT l.baz_id, b.name, -1 FROM %1 l JOIN %2 b ON b.id = l.baz_id "
                              "WHERE l.zab_id = ? AND l.baz_id > CAST(? AS BIGINT) ORDER BY l.baz_id LIMIT ?")
            .arg(q(t.zabBazs), q(t.baz));
    case TreeLevel::Foo:
        break;
    }
    return {};
}

// Prepares and binds the statement of `query`.
Result<std::unique_ptr<Statement>> prepareQuery(Database &database, const ChildQuery &query)
{
    const bool foos = query.level == TreeLevel::Foo;
    const BuiltQuery built = foos ? fooQuery(database, query.filter) : BuiltQuery { childSql(database.tables(), query.level) };
    auto statement = database.prepare(built.sql);
    if (!statement)
        return statement.error();
    Statement &s = **statement;
    int parameter = 0;
    if (!foos)
        s.bind(parameter++, query.parentId);
    s.bind(parameter++, query.afterId);
    const TreeSearch search = parseTreeSearch(query.filter);
    if (built.filterById)
        s.bind(parameter++, search.text.toLongLong());
    if (built.filterByName)
        s.bind(parameter++, containsPattern(search.text));
    s.bind(parameter, qint64(query.limit) + 1);
    return statement;
}

} // namespace

TreeSearch parseTreeSearch(const QString &filter)
{
    TreeSearch search;
    const QString text = filter.trimmed();
    const qsizetype colon = text.indexOf(QLatin1Char(':'));
    const QString prefix = colon > 0 ? text.left(colon).trimmed().toLower() : QString();
    static const std::pair<const char *, TreeLevel> prefixes[] = {
        { "foo", TreeLevel::Foo }, { "bar", TreeLevel::Bar }, { "zab", TreeLevel::Zab }, { "baz", TreeLevel::Baz },
    };
    if (prefix == QLatin1String("id")) {
        search.idOnly = true;
        search.plain = false;
        search.text = text.mid(colon + 1).trimmed();
        return search;
    }
    for (const auto &[name, level] : prefixes) {
        if (prefix == QLatin1String(name)) {
            search.level = level;
            search.plain = false;
            search.text = text.mid(colon + 1).trimmed();
            return search;
        }
    }
    search.text = text;
    return search;
}

Result<ChildBatch> loadChildren(Database &database, const ChildQuery &query)
{
    auto statement = prepareQuery(database, query);
    if (!statement)
        return statement.error();
    Statement &s = **statement;
    if (Status executed = s.exec(); !executed)
        return executed.error();
    ChildBatch batch;
    batch.rows.reserve(query.limit);
    bool more = false;
    while (s.next()) {
        if (batch.rows.size() == query.limit) {
            more = true; // the extra row
            break;
        }
        batch.rows.append({ s.integer(0), s.isNull(1) ? QString() : QString::fromUtf8(s.text(1)), s.integer(2) });
    }
    if (Status status = s.status(); !status)
        return status.error();
    s.reset();
    batch.complete = !more;
    return batch;
}

// Touched only on the worker thread, except `jobs` and `stopping`.
struct FooTreeLoader::WorkerState {
    std::unique_ptr<Database> database;
    int serial = -1;
    LatestJob jobs;
    std::atomic<bool> stopping { false };
};

FooTreeLoader::FooTreeLoader(QObject *parent)
    : QObject(parent)
    , m_state(std::make_shared<WorkerState>())
{
    m_thread.setObjectName(QStringLiteral("FooTreeLoader"));
    m_worker = new QObject;
    m_worker->moveToThread(&m_thread);
    m_thread.start();
}

FooTreeLoader::~FooTreeLoader()
{
    m_state->stopping = true;
    // The connection is closed on the thread that opened it, then the thread ends; jobs queued
    // before run first but return at once (stopping).
    QMetaObject::invokeMethod(m_worker, [state = m_state] {
        state->database.reset();
        QThread::currentThread()->quit();
    }, Qt::QueuedConnection);
    m_thread.wait();
    delete m_worker;
}

void FooTreeLoader::setDatabase(const DatabaseConfig &config)
{
    m_config = config;
    ++m_configSerial;
}

LatestJob &FooTreeLoader::jobs()
{
    return m_state->jobs;
}

void FooTreeLoader::load(const ChildQuery &query, Callback done)
{
    // Inputs by value; the receiver is this loader, which outlives the thread (see the destructor).
    auto job = [state = m_state, config = m_config, serial = m_configSerial, query, done = std::move(done),
                receiver = this]() mutable {
        if (state->stopping || !state->jobs.isCurrent(query.ticket))
            return;
        if (state->serial != serial || !state->database) {
            state->database.reset();
            auto opened = Database::open(config);
            if (!opened) {
                qCWarning(lcItems) << "cannot open" << config.displayName() << opened.error().message;
                Result<ChildBatch> failed = opened.error();
                QMetaObject::invokeMethod(receiver, [done, failed] { done(failed); }, Qt::QueuedConnection);
                return;
            }
            state->database = std::move(*opened);
            state->serial = serial;
        }
        Result<ChildBatch> result = loadChildren(*state->database, query);
        QMetaObject::invokeMethod(receiver, [done = std::move(done), result = std::move(result)] { done(result); },
                                  Qt::QueuedConnection);
    };
    QMetaObject::invokeMethod(m_worker, std::move(job), Qt::QueuedConnection);
}
