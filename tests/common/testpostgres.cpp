#include "testpostgres.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QProcess>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTest>
#include <QUrl>
#include <QVersionNumber>

#include <algorithm>

#include <cerrno>

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

struct TestPostgres::Run {
    bool started = false;
    bool finished = false;
    int exitCode = -1;
    QByteArray out;
    QByteArray err;

    bool ok() const { return finished && exitCode == 0; }
    QString describe(const QString &what) const
    {
        if (!started)
            return QStringLiteral("%1 did not start: %2").arg(what, QString::fromUtf8(err));
        if (!finished)
            return QStringLiteral("%1 did not finish in time").arg(what);
        return QStringLiteral("%1 failed (exit code %2): %3")
            .arg(what)
            .arg(exitCode)
            .arg(QString::fromUtf8(err + out).trimmed());
    }
};

namespace {

constexpr int maxStartAttempts = 5;
constexpr char folderPrefix[] = "preserve-pg-";
constexpr char ownerFile[] = "owner.pid"; // the test program's pid, to tell an orphaned cluster

// Children get none of the PG* variables a test may have set for the code under test: the fixture
// always says exactly which server and user it means.
QProcessEnvironment cleanEnvironment()
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    for (const QString &key : environment.keys()) {
        if (key.startsWith(QLatin1String("PG")))
            environment.remove(key);
    }
    environment.insert(QStringLiteral("PGCLIENTENCODING"), QStringLiteral("UTF8"));
    environment.insert(QStringLiteral("LC_ALL"), QStringLiteral("C"));
    return environment;
}

QString randomPassword()
{
    static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    QString password = QStringLiteral("pw-");
    for (int i = 0; i < 20; ++i)
        password += QLatin1Char(alphabet[QRandomGenerator::global()->bounded(int(sizeof alphabet) - 1)]);
    return password;
}

QString quoteIdentifier(QString name)
{
    name.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + name + QLatin1Char('"');
}

} // namespace

TestPostgres::TestPostgres() = default;

TestPostgres::~TestPostgres()
{
    stop();
}

int TestPostgres::freePort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    const int port = server.serverPort();
    server.close();
    return port;
}

QString TestPostgres::findBinDir(QString *error)
{
    const QString fromEnvironment = qEnvironmentVariable("PRESERVE_PG_BINDIR");
    if (!fromEnvironment.isEmpty()) {
        if (QFileInfo(fromEnvironment + QStringLiteral("/initdb")).isExecutable())
            return fromEnvironment;
        *error = QStringLiteral("PRESERVE_PG_BINDIR=%1 holds no initdb").arg(fromEnvironment);
        return {};
    }
    // Debian/Ubuntu: /usr/lib/postgresql/<major>/bin, several majors may sit side by side: take the newest.
    QDir root(QStringLiteral("/usr/lib/postgresql"));
    QStringList versions = root.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    std::sort(versions.begin(), versions.end(), [](const QString &a, const QString &b) {
        return QVersionNumber::fromString(a) > QVersionNumber::fromString(b);
    });
    for (const QString &version : versions) {
        const QString dir = root.filePath(version + QStringLiteral("/bin"));
        if (QFileInfo(dir + QStringLiteral("/initdb")).isExecutable()
            && QFileInfo(dir + QStringLiteral("/pg_ctl")).isExecutable())
            return dir;
    }
    // Other distributions put the server tools in PATH.
    const QString initdb = QStandardPaths::findExecutable(QStringLiteral("initdb"));
    if (!initdb.isEmpty() && !QStandardPaths::findExecutable(QStringLiteral("pg_ctl")).isEmpty())
        return QFileInfo(initdb).absolutePath();
    *error = QStringLiteral("the PostgreSQL server binaries are not installed (looked for "
                            "/usr/lib/postgresql/*/bin/initdb and initdb in PATH); install them "
                            "(Debian: apt-get install postgresql; ./dev does this)");
    return {};
}

TestPostgres::Run TestPostgres::runServerTool(const QString &tool, const QStringList &arguments, int timeoutMs) const
{
    QString program = m_binDir + QLatin1Char('/') + tool;
    QStringList allArguments = arguments;
    if (m_asPostgresUser) {
        allArguments = QStringList { QStringLiteral("-u"), QStringLiteral("postgres"), QStringLiteral("--"), program }
            + arguments;
        program = QStringLiteral("runuser");
    }
    QProcess process;
    process.setProcessEnvironment(cleanEnvironment());
    // The postgres user may not enter our working directory (root's home); the cluster's folder it may.
    process.setWorkingDirectory(m_dir ? m_dir->path() : QDir::rootPath());
    process.start(program, allArguments);
    Run run;
    run.started = process.waitForStarted(timeoutMs);
    if (!run.started) {
        run.err = process.errorString().toUtf8();
        return run;
    }
    process.closeWriteChannel();
    run.finished = process.waitForFinished(timeoutMs);
    if (!run.finished) {
        process.kill();
        process.waitForFinished(1000);
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

QString TestPostgres::logTail() const
{
    QFile log(m_logFile);
    if (!log.open(QIODevice::ReadOnly))
        return QStringLiteral("(no server log)");
    const QByteArray text = log.readAll();
    return QString::fromUtf8(text.right(1500)).trimmed();
}

void TestPostgres::stopOrphans(const QString &base) const
{
    // A test program that crashed never ran its destructor: its server still runs on a folder nobody
    // will delete. Those of dead owners (never of a live one: tests may run in parallel) are stopped.
    const QDir dir(base);
    const QStringList folders = dir.entryList({ QLatin1String(folderPrefix) + QLatin1Char('*') }, QDir::Dirs);
    for (const QString &folder : folders) {
        const QString path = dir.filePath(folder);
        QFile owner(path + QLatin1Char('/') + QLatin1String(ownerFile));
        if (!owner.open(QIODevice::ReadOnly))
            continue;
        bool number = false;
        const qint64 pid = owner.readAll().trimmed().toLongLong(&number);
        if (!number || pid <= 0 || ::kill(pid_t(pid), 0) == 0 || errno != ESRCH)
            continue;
        if (QFileInfo::exists(path + QStringLiteral("/data/postmaster.pid"))) {
            runServerTool(QStringLiteral("pg_ctl"),
                          { QStringLiteral("-D"), path + QStringLiteral("/data"), QStringLiteral("-m"),
                            QStringLiteral("immediate"), QStringLiteral("-w"), QStringLiteral("stop") },
                          30000);
        }
        qInfo("removed the PostgreSQL test cluster %s left by process %lld", qPrintable(path), pid);
        QDir(path).removeRecursively();
    }
}

bool TestPostgres::initCluster(QString *error)
{
    m_binDir = findBinDir(error);
    if (m_binDir.isEmpty())
        return false;

    m_asPostgresUser = geteuid() == 0;
    if (m_asPostgresUser) {
        const passwd *account = getpwnam("postgres");
        if (!account) {
            *error = QStringLiteral("running as root, and PostgreSQL refuses root: there is no `postgres` "
                                    "system user to run it as (Debian's postgresql package creates it)");
            return false;
        }
        m_postgresUid = account->pw_uid;
        m_postgresGid = account->pw_gid;
    }
    // The socket path must stay under ~107 bytes and, as root, be reachable by the postgres user:
    // /tmp is both; a long or private TMPDIR would not be.
    const QString base = m_asPostgresUser || QDir::tempPath().size() > 60 ? QStringLiteral("/tmp") : QDir::tempPath();
    stopOrphans(base);
    m_dir = std::make_unique<QTemporaryDir>(base + QStringLiteral("/") + QLatin1String(folderPrefix)
                                            + QStringLiteral("XXXXXX"));
    if (!m_dir->isValid()) {
        *error = QStringLiteral("cannot create a temporary folder: %1").arg(m_dir->errorString());
        return false;
    }
    {
        QFile owner(m_dir->filePath(QLatin1String(ownerFile)));
        if (!owner.open(QIODevice::WriteOnly) || owner.write(QByteArray::number(::getpid())) < 0) {
            *error = QStringLiteral("cannot write %1: %2").arg(owner.fileName(), owner.errorString());
            return false;
        }
    }
    m_dataDir = m_dir->filePath(QStringLiteral("data"));
    m_socketDir = m_dir->path();
    m_logFile = m_dir->filePath(QStringLiteral("server.log"));
    m_password = randomPassword();

    const QString passwordFile = m_dir->filePath(QStringLiteral("password"));
    {
        QFile file(passwordFile);
        if (!file.open(QIODevice::WriteOnly) || file.write(m_password.toUtf8() + '\n') < 0) {
            *error = QStringLiteral("cannot write %1: %2").arg(passwordFile, file.errorString());
            return false;
        }
    }
    if (m_asPostgresUser) {
        for (const QString &path : { m_dir->path(), passwordFile }) {
            if (::chown(QFile::encodeName(path).constData(), m_postgresUid, m_postgresGid) != 0) {
                *error = QStringLiteral("cannot hand %1 to the postgres user: %2").arg(path, qt_error_string(errno));
                return false;
            }
        }
    }

    const Run initdb = runServerTool(QStringLiteral("initdb"),
                                     { QStringLiteral("-D"), m_dataDir, QStringLiteral("-U"), user(),
                                       QStringLiteral("--pwfile=") + passwordFile,
                                       QStringLiteral("-A"), QStringLiteral("scram-sha-256"),
                                       QStringLiteral("-E"), QStringLiteral("UTF8"), QStringLiteral("--locale=C"),
                                       QStringLiteral("--no-sync"), QStringLiteral("--no-instructions") },
                                     60000);
    QFile::remove(passwordFile);
    if (!initdb.ok()) {
        *error = initdb.describe(QStringLiteral("initdb"));
        return false;
    }

    // Appended settings win over initdb's. Throw-away data: no durability, no background noise.
    QFile config(m_dataDir + QStringLiteral("/postgresql.conf"));
    if (!config.open(QIODevice::Append)) {
        *error = QStringLiteral("cannot extend %1: %2").arg(config.fileName(), config.errorString());
        return false;
    }
    config.write(QStringLiteral("\n# preserve test cluster\n"
                                "listen_addresses = '127.0.0.1'\n"
                                "unix_socket_directories = '%1'\n"
                                "fsync = off\n"
                                "synchronous_commit = off\n"
                                "full_page_writes = off\n"
                                "max_connections = 50\n"
                                "shared_buffers = 32MB\n"
                                "autovacuum = off\n"
                                "logging_collector = off\n")
                     .arg(m_socketDir)
                     .toUtf8());
    return true;
}

bool TestPostgres::startServer(int port, QString *error)
{
    const Run started = runServerTool(QStringLiteral("pg_ctl"),
                                      { QStringLiteral("-D"), m_dataDir, QStringLiteral("-l"), m_logFile,
                                        QStringLiteral("-o"), QStringLiteral("-p %1").arg(port),
                                        QStringLiteral("-w"), QStringLiteral("-t"), QStringLiteral("20"),
                                        QStringLiteral("start") },
                                      30000);
    if (!started.ok()) {
        *error = started.describe(QStringLiteral("pg_ctl start on port %1").arg(port))
            + QStringLiteral("\nserver log:\n") + logTail();
        // A half-started postmaster must not hold the data folder for the next attempt.
        runServerTool(QStringLiteral("pg_ctl"),
                      { QStringLiteral("-D"), m_dataDir, QStringLiteral("-m"), QStringLiteral("immediate"),
                        QStringLiteral("stop") },
                      10000);
        return false;
    }
    m_port = port;
    m_running = true;
    return true;
}

bool TestPostgres::waitUntilReady(QString *error)
{
    // pg_ctl -w already waited for the postmaster; this confirms the TCP listener answers, bounded.
    const QString isReady = m_binDir + QStringLiteral("/pg_isready");
    if (!QFileInfo(isReady).isExecutable())
        return true;
    QDeadlineTimer deadline(10000);
    QString last;
    while (!deadline.hasExpired()) {
        QProcess process;
        process.setProcessEnvironment(cleanEnvironment());
        process.start(isReady, { QStringLiteral("-h"), host(), QStringLiteral("-p"), QString::number(m_port),
                                 QStringLiteral("-d"), QStringLiteral("postgres"), QStringLiteral("-t"),
                                 QStringLiteral("2") });
        if (process.waitForFinished(5000) && process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0)
            return true;
        last = QString::fromUtf8(process.readAllStandardOutput() + process.readAllStandardError()).trimmed();
        QTest::qWait(50);
    }
    *error = QStringLiteral("the server on port %1 did not become ready: %2\nserver log:\n%3")
                 .arg(m_port)
                 .arg(last, logTail());
    return false;
}

bool TestPostgres::start(QString *error)
{
    QString ignored;
    if (!error)
        error = &ignored;
    if (m_running)
        return true;
    if (!initCluster(error))
        return false;
    QStringList failures;
    for (int attempt = 0; attempt < maxStartAttempts; ++attempt) {
        const int port = freePort();
        if (port <= 0) {
            failures << QStringLiteral("no free loopback port");
            continue;
        }
        QString failure;
        if (startServer(port, &failure))
            return waitUntilReady(error);
        failures << failure;
    }
    *error = QStringLiteral("PostgreSQL did not start after %1 attempts:\n%2")
                 .arg(maxStartAttempts)
                 .arg(failures.join(QStringLiteral("\n---\n")));
    return false;
}

void TestPostgres::stop()
{
    if (!m_running)
        return;
    m_running = false;
    runServerTool(QStringLiteral("pg_ctl"),
                  { QStringLiteral("-D"), m_dataDir, QStringLiteral("-m"), QStringLiteral("immediate"),
                    QStringLiteral("-w"), QStringLiteral("stop") },
                  30000);
}

bool TestPostgres::pause(QString *error)
{
    const Run stopped = runServerTool(QStringLiteral("pg_ctl"),
                                      { QStringLiteral("-D"), m_dataDir, QStringLiteral("-m"), QStringLiteral("fast"),
                                        QStringLiteral("-w"), QStringLiteral("stop") },
                                      30000);
    if (!stopped.ok()) {
        *error = stopped.describe(QStringLiteral("pg_ctl stop"));
        return false;
    }
    m_running = false;
    return true;
}

bool TestPostgres::restart(QString *error)
{
    return startServer(m_port, error) && waitUntilReady(error);
}

QList<int> TestPostgres::serverPids() const
{
    QFile pidFile(m_dataDir + QStringLiteral("/postmaster.pid"));
    if (!pidFile.open(QIODevice::ReadOnly))
        return {};
    const int postmaster = pidFile.readLine().trimmed().toInt();
    QList<int> pids { postmaster };
    for (const QString &entry : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs)) {
        QFile stat(QStringLiteral("/proc/%1/stat").arg(entry));
        if (!stat.open(QIODevice::ReadOnly))
            continue;
        const QByteArray line = stat.readAll();
        const QList<QByteArray> fields = line.mid(line.lastIndexOf(')') + 2).split(' '); // state, ppid, …
        if (fields.size() > 1 && fields.at(1).toInt() == postmaster)
            pids << entry.toInt();
    }
    return pids;
}

bool TestPostgres::freeze(QString *error)
{
    const QList<int> pids = serverPids();
    if (pids.isEmpty() || pids.first() <= 0) {
        *error = QStringLiteral("no postmaster.pid in %1").arg(m_dataDir);
        return false;
    }
    for (const int pid : pids)
        ::kill(pid, SIGSTOP);
    return true;
}

void TestPostgres::thaw()
{
    for (const int pid : serverPids())
        ::kill(pid, SIGCONT);
}

QString TestPostgres::url(const QString &database) const
{
    QUrl url;
    url.setScheme(QStringLiteral("postgresql"));
    url.setUserName(user());
    url.setPassword(m_password);
    url.setHost(host());
    url.setPort(m_port);
    url.setPath(QLatin1Char('/') + database);
    return url.toString(QUrl::FullyEncoded);
}

bool TestPostgres::createDatabase(const QString &name, QString *error)
{
    return exec(QStringLiteral("postgres"), QStringLiteral("CREATE DATABASE %1").arg(quoteIdentifier(name)), error);
}

bool TestPostgres::exec(const QString &database, const QString &sql, QString *error)
{
    QString ignored;
    if (!error)
        error = &ignored;
    if (!m_running) {
        *error = QStringLiteral("the PostgreSQL test server is not running");
        return false;
    }
    const QString psql = m_binDir + QStringLiteral("/psql");
    QProcess process;
    process.setProcessEnvironment(cleanEnvironment());
    process.start(QFileInfo(psql).isExecutable() ? psql : QStringLiteral("psql"),
                  { QStringLiteral("-X"), QStringLiteral("-q"), QStringLiteral("-v"), QStringLiteral("ON_ERROR_STOP=1"),
                    QStringLiteral("-d"), url(database), QStringLiteral("-f"), QStringLiteral("-") });
    if (!process.waitForStarted(10000)) {
        *error = QStringLiteral("psql did not start: %1").arg(process.errorString());
        return false;
    }
    process.write(sql.toUtf8());
    process.closeWriteChannel();
    if (!process.waitForFinished(60000)) {
        process.kill();
        process.waitForFinished(1000);
        *error = QStringLiteral("psql did not finish within 60 s");
        return false;
    }
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        *error = QStringLiteral("psql failed (exit code %1): %2")
                     .arg(process.exitCode())
                     .arg(QString::fromUtf8(process.readAllStandardError()).trimmed());
        return false;
    }
    return true;
}
