#include "testredis.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QHostAddress>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QUrl>

#include <signal.h>
#include <sys/prctl.h>

namespace {

constexpr int maxStartAttempts = 5;

int freePort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    const int port = server.serverPort();
    server.close();
    return port;
}

// Any answer to PING means the server listens: +PONG, or -NOAUTH with --requirepass.
bool answersPing(int port)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, quint16(port));
    if (!socket.waitForConnected(200))
        return false;
    socket.write("PING\r\n");
    if (!socket.waitForReadyRead(500))
        return false;
    const QByteArray reply = socket.readAll();
    return reply.startsWith('+') || reply.startsWith('-');
}

} // namespace

TestRedis::TestRedis(QString password)
    : m_dir(QDir::tempPath() + QStringLiteral("/preserve-redis-XXXXXX"))
    , m_password(std::move(password))
{
}

TestRedis::~TestRedis()
{
    stop();
}

QString TestRedis::serverBinary()
{
    return QStandardPaths::findExecutable(QStringLiteral("redis-server"));
}

QString TestRedis::socketPath() const
{
    return m_dir.filePath(QStringLiteral("redis.sock"));
}

QString TestRedis::url(int database) const
{
    QUrl url;
    url.setScheme(QStringLiteral("redis"));
    if (!m_password.isEmpty())
        url.setPassword(m_password);
    url.setHost(QStringLiteral("127.0.0.1"));
    url.setPort(m_port);
    url.setPath(QStringLiteral("/%1").arg(database));
    return url.toString(QUrl::FullyEncoded);
}

bool TestRedis::isRunning() const
{
    return m_process && m_process->state() == QProcess::Running;
}

bool TestRedis::start(QString *error)
{
    QString ignored;
    if (!error)
        error = &ignored;
    if (isRunning())
        return true;
    if (serverBinary().isEmpty()) {
        *error = QStringLiteral("redis-server is not installed (not found in PATH); install it "
                                "(Debian: apt-get install redis-server; ./dev does this)");
        return false;
    }
    if (!m_dir.isValid()) {
        *error = QStringLiteral("cannot create a temporary folder: %1").arg(m_dir.errorString());
        return false;
    }
    QStringList failures;
    for (int attempt = 0; attempt < maxStartAttempts; ++attempt) {
        const int port = freePort();
        QString failure;
        if (port > 0 && startOn(port, &failure))
            return true;
        failures << (port > 0 ? failure : QStringLiteral("no free loopback port"));
    }
    *error = QStringLiteral("redis-server did not start after %1 attempts:\n%2")
                 .arg(maxStartAttempts)
                 .arg(failures.join(QStringLiteral("\n---\n")));
    return false;
}

bool TestRedis::startOn(int port, QString *error)
{
    QStringList arguments { QStringLiteral("--port"), QString::number(port),
                            QStringLiteral("--bind"), QStringLiteral("127.0.0.1"),
                            QStringLiteral("--save"), QString(),
                            QStringLiteral("--appendonly"), QStringLiteral("no"),
                            QStringLiteral("--daemonize"), QStringLiteral("no"),
                            QStringLiteral("--dir"), m_dir.path(),
                            QStringLiteral("--unixsocket"), socketPath(),
                            QStringLiteral("--unixsocketperm"), QStringLiteral("700") };
    if (!m_password.isEmpty())
        arguments << QStringLiteral("--requirepass") << m_password;
    m_process = std::make_unique<QProcess>();
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    // A crashed test program must not leave servers behind.
    m_process->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
    m_process->start(serverBinary(), arguments);
    if (!m_process->waitForStarted(5000)) {
        *error = QStringLiteral("redis-server did not start: %1").arg(m_process->errorString());
        m_process.reset();
        return false;
    }
    m_port = port;
    if (waitUntilReady(error))
        return true;
    m_process->kill();
    m_process->waitForFinished(5000);
    m_process.reset();
    return false;
}

bool TestRedis::waitUntilReady(QString *error)
{
    // Bounded polling: a fresh redis-server answers within a few ms; a port taken meanwhile makes
    // it exit at once.
    QDeadlineTimer deadline(10000);
    while (!deadline.hasExpired()) {
        if (m_process->state() != QProcess::Running) {
            *error = QStringLiteral("redis-server on port %1 exited: %2")
                         .arg(m_port)
                         .arg(QString::fromUtf8(m_process->readAll().right(1500)).trimmed());
            return false;
        }
        if (answersPing(m_port))
            return true;
        QTest::qWait(10);
    }
    *error = QStringLiteral("redis-server on port %1 did not answer PING within 10 s: %2")
                 .arg(m_port)
                 .arg(QString::fromUtf8(m_process->readAll().right(1500)).trimmed());
    return false;
}

void TestRedis::stop()
{
    if (!m_process)
        return;
    if (m_process->state() != QProcess::NotRunning) {
        thaw(); // a stopped process ignores SIGTERM until continued
        m_process->terminate();
        if (!m_process->waitForFinished(10000)) {
            m_process->kill();
            m_process->waitForFinished(5000);
        }
    }
    m_process.reset();
}

void TestRedis::kill()
{
    if (!m_process)
        return;
    m_process->kill();
    m_process->waitForFinished(5000);
    m_process.reset();
}

void TestRedis::freeze()
{
    if (isRunning())
        ::kill(pid_t(m_process->processId()), SIGSTOP);
}

void TestRedis::thaw()
{
    if (isRunning())
        ::kill(pid_t(m_process->processId()), SIGCONT);
}

bool TestRedis::restart(QString *error)
{
    QString ignored;
    if (!error)
        error = &ignored;
    stop();
    if (m_port <= 0)
        return start(error);
    QStringList failures;
    for (int attempt = 0; attempt < maxStartAttempts; ++attempt) {
        QString failure;
        if (startOn(m_port, &failure))
            return true;
        failures << failure;
        QTest::qWait(100); // the old socket may linger for a moment
    }
    *error = QStringLiteral("redis-server did not start again on port %1:\n%2")
                 .arg(m_port)
                 .arg(failures.join(QStringLiteral("\n---\n")));
    return false;
}

QByteArray TestRedis::command(const QStringList &arguments, int database, QString *error) const
{
    QString ignored;
    if (!error)
        error = &ignored;
    QProcess process;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    if (!m_password.isEmpty())
        environment.insert(QStringLiteral("REDISCLI_AUTH"), m_password);
    process.setProcessEnvironment(environment);
    process.start(QStringLiteral("redis-cli"),
                  QStringList { QStringLiteral("-h"), QStringLiteral("127.0.0.1"), QStringLiteral("-p"),
                                QString::number(m_port), QStringLiteral("-n"), QString::number(database),
                                QStringLiteral("--raw") }
                      + arguments);
    if (!process.waitForStarted(5000)) {
        *error = QStringLiteral("redis-cli did not start: %1").arg(process.errorString());
        return {};
    }
    process.closeWriteChannel();
    if (!process.waitForFinished(20000)) {
        process.kill();
        process.waitForFinished(1000);
        *error = QStringLiteral("redis-cli did not finish within 20 s");
        return {};
    }
    const QByteArray out = process.readAllStandardOutput().trimmed();
    const QByteArray err = process.readAllStandardError().trimmed();
    // --raw prints error replies like values, but exits with 1 (redis-cli 7).
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0 || out.startsWith("ERR ")
        || out.startsWith("WRONGTYPE") || out.startsWith("NOAUTH")) {
        *error = QStringLiteral("redis-cli %1 failed: %2")
                     .arg(arguments.join(QLatin1Char(' ')), QString::fromUtf8(err + out));
        return {};
    }
    return out;
}

QByteArray TestRedis::info(const QByteArray &field, const QString &section) const
{
    const QByteArray text = command({ QStringLiteral("INFO"), section });
    for (const QByteArray &line : text.split('\n')) {
        const QByteArray trimmed = line.trimmed();
        if (trimmed.startsWith(field + ':'))
            return trimmed.mid(field.size() + 1);
    }
    return {};
}

qint64 TestRedis::commandCalls(const QByteArray &name) const
{
    // cmdstat_hgetall:calls=100,usec=…,usec_per_call=…
    const QByteArray stats = info("cmdstat_" + name.toLower(), QStringLiteral("commandstats"));
    for (const QByteArray &part : stats.split(',')) {
        if (part.startsWith("calls="))
            return part.mid(6).toLongLong();
    }
    return 0;
}
