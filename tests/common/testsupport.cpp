#include "testsupport.h"

#include "db/database.h"
#include "db/seeder.h"

#include <QFile>
#include <QProcess>
#include <QThread>

#include <deque>
#include <memory>
#include <QTest>

#include <sqlite3.h>

TestSqlite::TestSqlite(const QString &appLabel)
    : m_label(appLabel)
    , m_path(m_dir.filePath(QStringLiteral("django.sqlite3")))
{
    if (sqlite3_open(QFile::encodeName(m_path).constData(), &m_db) != SQLITE_OK)
        qFatal("cannot create %s", qPrintable(m_path));
    // A throw-away file: no fsync per insert (thousands of single-row transactions otherwise).
    exec(QStringLiteral("PRAGMA synchronous = OFF"));
    for (const QString &sql : Seeder::sqliteSchema(appLabel))
        exec(sql);
}

TestSqlite::~TestSqlite()
{
    sqlite3_close(m_db);
}

DatabaseConfig TestSqlite::config(bool readOnly) const
{
    auto config = DatabaseConfig::parse(m_path, m_label, readOnly);
    if (!config)
        qFatal("%s", qPrintable(config.error().message));
    return *config;
}

void TestSqlite::exec(const QString &sql)
{
    char *message = nullptr;
    if (sqlite3_exec(m_db, sql.toUtf8().constData(), nullptr, nullptr, &message) != SQLITE_OK)
        qFatal("%s: %s", qPrintable(sql), message);
}

qint64 TestSqlite::insert(const char *table, const char *parentColumn, qint64 parent, const QByteArray &name,
                          qint64 id)
{
    const QString sql = parentColumn
        ? QStringLiteral("INSERT INTO \"%1_%2\" (id, name, %3) VALUES (?, ?, ?)")
              .arg(m_label, QLatin1String(table), QLatin1String(parentColumn))
        : QStringLiteral("INSERT INTO \"%1_%2\" (id, name) VALUES (?, ?)").arg(m_label, QLatin1String(table));
    sqlite3_stmt *statement = nullptr;
    if (sqlite3_prepare_v2(m_db, sql.toUtf8().constData(), -1, &statement, nullptr) != SQLITE_OK)
        qFatal("%s: %s", qPrintable(sql), sqlite3_errmsg(m_db));
    if (id > 0)
        sqlite3_bind_int64(statement, 1, id);
    if (name.isNull())
        sqlite3_bind_null(statement, 2);
    else
        sqlite3_bind_text(statement, 2, name.constData(), int(name.size()), SQLITE_TRANSIENT);
    if (parentColumn)
        sqlite3_bind_int64(statement, 3, parent);
    if (sqlite3_step(statement) != SQLITE_DONE)
        qFatal("%s: %s", qPrintable(sql), sqlite3_errmsg(m_db));
    sqlite3_finalize(statement);
    return sqlite3_last_insert_rowid(m_db);
}

qint64 TestSqlite::addFoo(const QByteArray &name, qint64 id)
{
    return insert("foo", nullptr, 0, name, id);
}

qint64 TestSqlite::addBar(qint64 foo, const QByteArray &name, qint64 id)
{
    return insert("bar", "foo_id", foo, name, id);
}

qint64 TestSqlite::addZab(qint64 bar, const QByteArray &name, qint64 id)
{
    return insert("zab", "bar_id", bar, name, id);
}

qint64 TestSqlite::addBaz(const QByteArray &name, qint64 id)
{
    return insert("baz", nullptr, 0, name, id);
}

qint64 TestSqlite::link(qint64 zab, qint64 baz)
{
    exec(QStringLiteral("INSERT INTO \"%1_zab_bazs\" (zab_id, baz_id) VALUES (%2, %3)").arg(m_label).arg(zab).arg(baz));
    return sqlite3_last_insert_rowid(m_db);
}

ProcessResult runProcess(const QString &program, const QStringList &arguments, int timeoutMs)
{
    QProcess process;
    process.start(program, arguments);
    ProcessResult result;
    if (!process.waitForStarted(timeoutMs)) {
        result.err = process.errorString().toUtf8();
        return result;
    }
    process.closeWriteChannel();
    result.finished = process.waitForFinished(timeoutMs);
    if (!result.finished)
        process.kill();
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}

QString preserveBinary()
{
    return QStringLiteral(PRESERVE_BINARY);
}

QString drfReferenceScript()
{
    return QStringLiteral(DRF_REFERENCE);
}

QString systemPython()
{
    // Debian's python3-django and python3-djangorestframework live under the system interpreter,
    // not under whatever python3 comes first in PATH.
    return QStringLiteral("/usr/bin/python3");
}

ProcessResult runReference(const QStringList &arguments, int timeoutMs)
{
    return runProcess(systemPython(), QStringList { drfReferenceScript() } + arguments, timeoutMs);
}

QByteArray visible(const QByteArray &bytes)
{
    QByteArray text;
    for (const char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f)
            text += c;
        else
            text += "\\x" + QByteArray::number(u, 16).rightJustified(2, '0');
    }
    return text;
}

QString firstDifference(const QByteArray &ours, const QByteArray &theirs)
{
    qsizetype offset = 0;
    while (offset < ours.size() && offset < theirs.size() && ours[offset] == theirs[offset])
        ++offset;
    const qsizetype from = qMax<qsizetype>(0, offset - 40);
    return QStringLiteral("bodies differ at byte %1 (ours %2 bytes, DRF %3 bytes)\n  ours: %4\n  DRF:  %5")
        .arg(offset)
        .arg(ours.size())
        .arg(theirs.size())
        .arg(QString::fromLatin1(visible(ours.mid(from, 80))), QString::fromLatin1(visible(theirs.mid(from, 80))));
}

QString describe(const ProcessResult &result)
{
    return QStringLiteral("exit code %1, finished %2, stderr: %3")
        .arg(result.exitCode)
        .arg(result.finished)
        .arg(QString::fromUtf8(result.err));
}

QList<ProcessResult> runInParallel(const QList<std::pair<QString, QStringList>> &commands)
{
    const int maxRunning = qMax(2, QThread::idealThreadCount() + 1);
    QList<ProcessResult> results(commands.size());
    std::deque<std::pair<qsizetype, std::unique_ptr<QProcess>>> running;
    qsizetype next = 0;
    while (next < commands.size() || !running.empty()) {
        while (next < commands.size() && qsizetype(running.size()) < maxRunning) {
            auto process = std::make_unique<QProcess>();
            process->start(commands[next].first, commands[next].second);
            running.emplace_back(next++, std::move(process));
        }
        auto [index, process] = std::move(running.front());
        running.pop_front();
        ProcessResult &result = results[index];
        if (!process->waitForStarted(30000)) {
            result.err = process->errorString().toUtf8();
            continue;
        }
        process->closeWriteChannel();
        result.finished = process->waitForFinished(300000);
        if (!result.finished) {
            process->kill();
            process->waitForFinished(1000);
        }
        result.exitCode = process->exitStatus() == QProcess::NormalExit ? process->exitCode() : -1;
        result.out = process->readAllStandardOutput();
        result.err = process->readAllStandardError();
    }
    return results;
}

std::pair<QString, QStringList> referenceCommand(const QStringList &arguments)
{
    return { systemPython(), QStringList { drfReferenceScript() } + arguments };
}

QList<ProcessResult> runReferences(const QList<QStringList> &argumentLists)
{
    QList<std::pair<QString, QStringList>> commands;
    for (const QStringList &arguments : argumentLists)
        commands << referenceCommand(arguments);
    return runInParallel(commands);
}

std::unique_ptr<Database> openDatabaseOrWarn(const QString &spec, const QString &appLabel)
{
    const auto config = DatabaseConfig::parse(spec, appLabel);
    if (!config) {
        qWarning("%s", qPrintable(config.error().message));
        return nullptr;
    }
    auto database = Database::open(*config);
    if (!database) {
        qWarning("%s", qPrintable(database.error().message));
        return nullptr;
    }
    return std::move(*database);
}

std::unique_ptr<Database> openOrFail(const TestSqlite &sqlite)
{
    auto database = Database::open(sqlite.config());
    if (!database)
        qFatal("%s", qPrintable(database.error().message));
    return std::move(database.value());
}
