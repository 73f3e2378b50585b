#pragma once

#include "core/latestjob.h"
#include "core/result.h"
#include "db/databaseconfig.h"

#include <QList>
#include <QObject>
#include <QString>
#include <QThread>

#include <functional>
#include <limits>
#include <memory>

class Database;

// The worker side of FooTreeModel: what one batch of children is, the job that loads it, and the
// thread that runs the jobs with its own connection.

enum class TreeLevel { Foo, Bar, Zab, Baz };

// What the Foo filter asks for: Foos whose own name or id matches (level Foo), or Foos that hold a
// Bar, Zab or Baz that does. "bar:970", "Zab: 17", "baz:red", "id:5", "foo:x"; text without a
// known prefix is a plain Foo search (name contains it, or id equals it when it is a number).
struct TreeSearch {
    TreeLevel level = TreeLevel::Foo;
    bool idOnly = false;  // "id:" or a level with a number: the id must equal it, names are not searched
    bool plain = true;    // no prefix: name contains, or id equals a number
    QString text;         // trimmed, without the prefix
    bool isEmpty() const { return text.isEmpty(); }
};
TreeSearch parseTreeSearch(const QString &filter);

// One batch of one node's children, by keyset pagination: rows with id > afterId, by id.
struct ChildQuery {
    TreeLevel level = TreeLevel::Foo; // the level of the rows to load
    qint64 parentId = 0;              // the Foo of Bars, the Bar of Zabs, the Zab of Bazs
    qint64 afterId = std::numeric_limits<qint64>::min();
    int limit = 200;
    QString filter;                   // Foo level only: see TreeSearch
    LatestJob::Ticket ticket = 0;     // the generation that asked (FooTreeLoader::jobs())
};

struct NodeRow {
    qint64 id = 0;
    QString name;
    qint64 childCount = -1; // Bars of a Foo, Zabs of a Bar, Bazs of a Zab; -1 for a Baz
};

struct ChildBatch {
    QList<NodeRow> rows;
    bool complete = false; // no rows after these
};

// The job: one query (limit + 1 rows, so the last batch is known without another round trip).
// Runs on the thread that opened `database`.
Result<ChildBatch> loadChildren(Database &database, const ChildQuery &query);

// Runs jobs one after the other on a thread of its own that keeps one connection open (Qt SQL: a
// connection belongs to the thread that opened it) and reopens it only when setDatabase() changes
// it. Results come back on the loader's (GUI) thread; the loader joins its thread when destroyed, so
// no result ever reaches a deleted receiver.
class FooTreeLoader : public QObject {
    Q_OBJECT

public:
    using Callback = std::function<void(const Result<ChildBatch> &)>;

    explicit FooTreeLoader(QObject *parent = nullptr);
    ~FooTreeLoader() override;

    // GUI thread. Jobs queued after this use `config`.
    void setDatabase(const DatabaseConfig &config);
    // Which jobs still count: one whose ChildQuery::ticket is stale when its turn comes is skipped
    // (no callback). The caller takes tickets and invalidates on the GUI thread, and checks the
    // answers it gets against it.
    LatestJob &jobs();
    // GUI thread. `done` runs later on this object's thread, never synchronously.
    void load(const ChildQuery &query, Callback done);

private:
    struct WorkerState;

    QThread m_thread;
    QObject *m_worker = nullptr; // lives in m_thread; its events are the jobs
    std::shared_ptr<WorkerState> m_state;
    DatabaseConfig m_config;
    int m_configSerial = 0;
};
