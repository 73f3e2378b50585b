#pragma once
// Shared by the item-model tests: the demo databases, what their rows are (by SQL written apart from
// the model's queries), waiting for a FooTreeModel to settle, and a gate for the model tester.

#include "db/database.h"
#include "db/seeder.h"
#include "items/footreemodel.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QIdentityProxyModel>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>

#include <optional>

using IdNameRows = QList<std::pair<qint64, QString>>;

// id and name of the rows one SQL query gives, in its order; the query may take one parameter.
inline IdNameRows queryRows(Database &database, const QString &sql, std::optional<qint64> parameter = {})
{
    auto statement = database.prepare(sql);
    if (!statement)
        qFatal("%s", qPrintable(statement.error().message));
    if (parameter)
        (*statement)->bind(0, *parameter);
    if (!(*statement)->exec())
        qFatal("exec failed: %s", qPrintable(sql));
    IdNameRows rows;
    while ((*statement)->next())
        rows.append({ (*statement)->integer(0), QString::fromUtf8((*statement)->text(1)) });
    return rows;
}

inline IdNameRows demoFoos(Database &database)
{
    return queryRows(database, QStringLiteral("SELECT id, name FROM api_foo ORDER BY id"));
}

inline IdNameRows demoChildren(Database &database, FooTreeModel::Kind kind, qint64 id)
{
    switch (kind) {
    case FooTreeModel::Kind::Foo:
        return queryRows(database, QStringLiteral("SELECT id, name FROM api_bar WHERE foo_id = ? ORDER BY id"), id);
    case FooTreeModel::Kind::Bar:
        return queryRows(database, QStringLiteral("SELECT id, name FROM api_zab WHERE bar_id = ? ORDER BY id"), id);
    case FooTreeModel::Kind::Zab:
        return queryRows(database, QStringLiteral("SELECT b.id, b.name FROM api_baz b JOIN api_zab_bazs l "
                                                  "ON l.baz_id = b.id WHERE l.zab_id = ? ORDER BY b.id"), id);
    case FooTreeModel::Kind::Baz: break;
    }
    return {};
}

// The Foo with the most Bars (ties: the lowest id).
inline qint64 biggestFoo(Database &database)
{
    const IdNameRows rows = queryRows(database, QStringLiteral("SELECT foo_id, count(*) AS c FROM api_bar GROUP BY foo_id "
                                                               "ORDER BY c DESC, foo_id LIMIT 1"));
    return rows.isEmpty() ? 0 : rows.first().first;
}

// Waits on loadingChanged (no polling) until no batch is on its way.
inline bool waitUntilIdle(FooTreeModel &model, int timeoutMs = 20000)
{
    QSignalSpy spy(&model, &FooTreeModel::loadingChanged);
    QElapsedTimer timer;
    timer.start();
    while (model.isLoading()) {
        if (timer.elapsed() > timeoutMs || !spy.wait(int(timeoutMs - timer.elapsed())))
            return !model.isLoading();
    }
    return true;
}

// A seeded demo database (Seeder's sizes, untouched) and a connection of the test's own to it.
struct DemoDatabase {
    bool seed(const QTemporaryDir &dir, const QString &scale) { return seed(dir, *Seeder::scale(scale)); }
    bool seed(const QTemporaryDir &dir, const Seeder::Scale &scale)
    {
        const QString path = dir.filePath(scale.name + QStringLiteral(".sqlite3"));
        const auto written = Seeder::write(path, scale, QStringLiteral("api"));
        if (!written) {
            qWarning("seeding %s: %s", qPrintable(scale.name), qPrintable(written.error().message));
            return false;
        }
        config = DatabaseConfig::parse(path).value();
        auto opened = Database::open(config);
        if (!opened)
            return false;
        database = std::move(*opened);
        return true;
    }

    DatabaseConfig config;
    std::unique_ptr<Database> database;
};

// Passes everything through, but lets fetchMore() reach the source only at the top level and below
// the nodes a test opened: QAbstractItemModelTester fetches every node it walks, which on `medium`
// would load the whole tree (some 200,000 rows) with the tester's quadratic checks on every batch.
// The tester on the gate still sees every signal and index of the source, one to one.
class FetchGate : public QIdentityProxyModel {
public:
    using QIdentityProxyModel::QIdentityProxyModel;

    void open(const QModelIndex &index) { m_open.insert(QPersistentModelIndex(mapToSource(index))); }
    bool canFetchMore(const QModelIndex &parent) const override
    {
        return isOpen(parent) && QIdentityProxyModel::canFetchMore(parent);
    }
    void fetchMore(const QModelIndex &parent) override
    {
        if (isOpen(parent))
            QIdentityProxyModel::fetchMore(parent);
    }

private:
    bool isOpen(const QModelIndex &parent) const
    {
        return !parent.isValid() || m_open.contains(QPersistentModelIndex(mapToSource(parent)));
    }

    QSet<QPersistentModelIndex> m_open;
};
