#pragma once

#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>

// A throw-away PostgreSQL cluster for one test program: initdb into a temporary folder, a server on
// 127.0.0.1 at a free port (its unix socket inside the folder too), fsync off, a superuser `preserve`
// with a generated password (scram-sha-256), so url() is the full postgresql://user:password@host:port/db
// form operators type. Stopped (immediate mode) and removed with the object.
//
// PostgreSQL refuses to run as root; tests and CI do run as root, so then initdb and pg_ctl run as the
// `postgres` system user (Debian's postgresql package creates it) through runuser, and the folder is
// handed to that user. Missing server binaries are a broken setup (./dev installs them): start() says
// so and the test fails, it does not skip.
//
// Not thread-safe; use it from the test's main thread.
class TestPostgres {
public:
    TestPostgres();
    ~TestPostgres();
    TestPostgres(const TestPostgres &) = delete;
    TestPostgres &operator=(const TestPostgres &) = delete;

    // initdb + start, retrying with other ports if one was taken meanwhile. Returns once the server
    // accepts connections; on failure `error` says why (with the tail of the server log).
    bool start(QString *error);
    // Immediate shutdown; nothing in the cluster is meant to survive. Safe to call twice.
    void stop();
    // An outage: the server stops (fast mode: every connection is cut) and keeps its cluster and
    // port; restart() brings the same databases back where clients left them, once it accepts
    // connections again.
    bool pause(QString *error);
    bool restart(QString *error);
    // A server that stops answering without closing anything (a host gone from the network, a
    // stopped VM): SIGSTOP to the postmaster and every backend; thaw() sends SIGCONT.
    bool freeze(QString *error);
    void thaw();
    bool isRunning() const { return m_running; }

    QString url(const QString &database = QStringLiteral("postgres")) const;
    int port() const { return m_port; }
    QString host() const { return QStringLiteral("127.0.0.1"); }
    // The folder of the server's unix socket (libpq's host=<folder>, with port()).
    QString socketDir() const { return m_socketDir; }
    QString user() const { return QStringLiteral("preserve"); }
    QString password() const { return m_password; }
    // The folder holding the server binaries (initdb, pg_ctl, psql, pg_isready).
    QString binDir() const { return m_binDir; }

    bool createDatabase(const QString &name, QString *error);
    // Runs `sql` (any number of statements) through psql with ON_ERROR_STOP, as the superuser.
    bool exec(const QString &database, const QString &sql, QString *error);

    // A loopback TCP port nobody listened on a moment ago (bind to port 0, read it, close).
    static int freePort();
    // Where the server binaries are, or an empty string with `error` set.
    static QString findBinDir(QString *error);

private:
    struct Run;
    bool initCluster(QString *error);
    void stopOrphans(const QString &base) const;
    bool startServer(int port, QString *error);
    bool waitUntilReady(QString *error);
    // Runs a server binary, as the postgres user when we are root.
    Run runServerTool(const QString &tool, const QStringList &arguments, int timeoutMs) const;
    QString logTail() const;
    QList<int> serverPids() const;

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_binDir;
    QString m_dataDir;
    QString m_socketDir;
    QString m_logFile;
    QString m_password;
    int m_port = 0;
    bool m_running = false;
    bool m_asPostgresUser = false;
    unsigned m_postgresUid = 0;
    unsigned m_postgresGid = 0;
};
