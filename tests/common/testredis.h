#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>

class QProcess;

// A throw-away redis-server for one test: `--port <free> --bind 127.0.0.1 --save '' --appendonly no`
// (plus a unix socket in a temporary folder, and --requirepass when a password is given), started
// with QProcess and waited for until it answers PING. No persistence: restart() gives an empty
// server on the same port, as a production Redis without persistence does after a restart. The
// server dies with the test program even when that crashes (PR_SET_PDEATHSIG).
//
// A missing redis-server is a broken setup (./dev installs it): start() says so and the test fails,
// it does not skip. Not thread-safe; use it from the test's main thread.
class TestRedis {
public:
    explicit TestRedis(QString password = {});
    ~TestRedis();
    TestRedis(const TestRedis &) = delete;
    TestRedis &operator=(const TestRedis &) = delete;

    // Starts on a free loopback port, retrying with other ports if one was taken meanwhile.
    bool start(QString *error);
    // SIGTERM and wait. Safe to call twice.
    void stop();
    // SIGKILL, for failure tests: no goodbye to the clients.
    void kill();
    // SIGSTOP / SIGCONT: a server that accepts bytes but never answers (the kernel still does the TCP part).
    void freeze();
    void thaw();
    // An empty server on the same port (stops the current one first if it still runs).
    bool restart(QString *error);
    bool isRunning() const;

    int port() const { return m_port; }
    QString password() const { return m_password; }
    QString socketPath() const;
    // redis://[:password@]127.0.0.1:<port>/<database>
    QString url(int database = 0) const;

    // Runs redis-cli (--raw) against the server; its standard output, trimmed. On failure (also an
    // error reply) `error` says why and the output is empty.
    QByteArray command(const QStringList &arguments, int database = 0, QString *error = nullptr) const;
    // A field of INFO (e.g. "total_commands_processed"); empty when there is no such field.
    QByteArray info(const QByteArray &field, const QString &section = QStringLiteral("all")) const;
    // calls= of INFO commandstats for one command (lower case: "hgetall"); 0 when never called.
    qint64 commandCalls(const QByteArray &command) const;

    static QString serverBinary();

private:
    bool startOn(int port, QString *error);
    bool waitUntilReady(QString *error);

    QTemporaryDir m_dir;
    std::unique_ptr<QProcess> m_process;
    QString m_password;
    int m_port = 0;
};
