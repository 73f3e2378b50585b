#pragma once
// Shared by tst_cacheservice and tst_cacheserviceredis: a demo database per test, live bodies to
// compare with, and a recorder of a CacheService's job signals.

#include "cache/cacheservice.h"
#include "cache/dbcolumn/dbcolumnstore.h"
#include "db/database.h"
#include "db/seeder.h"
#include "serialize/serializer.h"
#include "testsupport.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>

#include <sqlite3.h>

#include <memory>
#include <optional>

// What one job told through signals, in order of arrival.
struct JobLog {
    int started = -1; // the total announced by jobStarted
    QList<int> progress;
    QList<qint64> refreshed;
    QHash<qint64, QString> failed;
    QHash<qint64, Verification> verified;
    std::optional<JobSummary> finished;
};

// Records every job signal of a service; wait() spins the event loop until a job has finished.
class JobRecorder {
public:
    explicit JobRecorder(CacheService &service)
        : m_spy(&service, &CacheService::jobFinished)
    {
        QObject::connect(&service, &CacheService::jobStarted, &m_context, [this](int job, int total) { m_logs[job].started = total; });
        QObject::connect(&service, &CacheService::jobProgress, &m_context,
                         [this](int job, int done, int) { m_logs[job].progress << done; });
        QObject::connect(&service, &CacheService::entryRefreshed, &m_context,
                         [this](int job, qint64 pk) { m_logs[job].refreshed << pk; });
        QObject::connect(&service, &CacheService::entryFailed, &m_context,
                         [this](int job, qint64 pk, const QString &message) { m_logs[job].failed.insert(pk, message); });
        QObject::connect(&service, &CacheService::entryVerified, &m_context,
                         [this](int job, qint64 pk, const Verification &v) { m_logs[job].verified.insert(pk, v); });
        QObject::connect(&service, &CacheService::jobFinished, &m_context,
                         [this](const JobSummary &summary) { m_logs[summary.job].finished = summary; });
    }

    JobLog &operator[](int job) { return m_logs[job]; }
    bool wait(int job, int timeoutMs = 20000)
    {
        QDeadlineTimer deadline(timeoutMs);
        while (!m_logs[job].finished && !deadline.hasExpired())
            m_spy.wait(int(qMax<qint64>(1, deadline.remainingTime())));
        return m_logs[job].finished.has_value();
    }
    JobSummary summary(int job) { return m_logs[job].finished.value_or(JobSummary {}); }

private:
    QObject m_context;
    QHash<int, JobLog> m_logs;
    QSignalSpy m_spy;
};

// The small demo, written once per test program and copied for each test.
class DemoFiles {
public:
    bool seed(const QString &scale = QStringLiteral("small"))
    {
        m_template = m_dir.filePath(scale + QStringLiteral(".template.sqlite3"));
        auto written = Seeder::write(m_template, *Seeder::scale(scale), QStringLiteral("api"));
        if (!written)
            qWarning("seeding: %s", qPrintable(written.error().message));
        return written.ok();
    }
    // A fresh copy of the demo for one test.
    QString fresh()
    {
        const QString path = m_dir.filePath(QStringLiteral("db%1.sqlite3").arg(++m_count));
        QFile::copy(m_template, path);
        return path;
    }

private:
    QTemporaryDir m_dir;
    QString m_template;
    int m_count = 0;
};

inline DatabaseConfig databaseConfig(const QString &path)
{
    return DatabaseConfig::parse(path).value();
}

inline CacheConfig cacheConfig(const QString &path, int workers = 2, bool watch = false)
{
    CacheConfig config;
    config.database = databaseConfig(path);
    config.workers = workers;
    config.watch = watch;
    return config;
}

// Runs SQL (several statements) on a connection of its own, as another program would.
inline QString sqlExec(const QString &path, const QString &sql)
{
    sqlite3 *db = nullptr;
    QString failure;
    if (sqlite3_open(QFile::encodeName(path).constData(), &db) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 10000);
        char *message = nullptr;
        if (sqlite3_exec(db, sql.toUtf8().constData(), nullptr, nullptr, &message) != SQLITE_OK)
            failure = QString::fromUtf8(message ? message : "error");
        sqlite3_free(message);
    } else {
        failure = QString::fromUtf8(sqlite3_errmsg(db));
    }
    sqlite3_close(db);
    return failure;
}

// First column of every row, as integers.
inline QList<qint64> integers(const QString &path, const QString &sql)
{
    auto database = Database::open(databaseConfig(path));
    if (!database)
        qFatal("%s", qPrintable(database.error().message));
    auto rows = (*database)->run(sql);
    if (!rows)
        qFatal("%s: %s", qPrintable(sql), qPrintable(rows.error().message));
    QList<qint64> values;
    while ((*rows)->next())
        values << (*rows)->integer(0);
    return values;
}

inline QByteArray liveBody(const QString &path, qint64 pk)
{
    auto database = Database::open(databaseConfig(path));
    if (!database)
        qFatal("%s", qPrintable(database.error().message));
    Serializer serializer(**database);
    auto body = serializer.foo(pk);
    if (!body)
        qFatal("serializing Foo %lld: %s", pk, qPrintable(body.error().message));
    return *body;
}

inline std::unique_ptr<DbColumnStore> columnStore(const QString &path)
{
    auto store = DbColumnStore::open(databaseConfig(path));
    if (!store)
        qFatal("%s", qPrintable(store.error().message));
    return std::move(store.value());
}

// The Foos that reach a Baz, by the join Django's tables define.
inline QList<qint64> foosReaching(const QString &path, qint64 baz)
{
    return integers(path, QStringLiteral("SELECT DISTINCT b.foo_id FROM api_bar b JOIN api_zab z ON z.bar_id = b.id "
                                         "JOIN api_zab_bazs l ON l.zab_id = z.id WHERE l.baz_id = %1 ORDER BY 1")
                              .arg(baz));
}

// A Baz that some Foos reach but not all of them.
inline qint64 bazOfSomeFoos(const QString &path, qsizetype fooCount)
{
    for (qint64 baz : integers(path, QStringLiteral("SELECT DISTINCT baz_id FROM api_zab_bazs ORDER BY baz_id"))) {
        const auto reached = foosReaching(path, baz).size();
        if (reached > 0 && reached < fooCount)
            return baz;
    }
    return 0;
}
