#include "testsupport.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QHostAddress>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <map>
#include <memory>

#include <signal.h>
#include <sys/prctl.h>

// `preserve serve` against the real thing: tests/drf/drf_reference.py serves the same database
// with Django + DRF (the middleware of a default project), and every request of the table below
// goes to both over a raw HTTP/1.1 socket. Status, body bytes and the headers the HTTP server
// issue asks us to match must be the same; Date and Server are ignored, as is the HTTP version
// (wsgiref answers HTTP/1.0).
namespace {

// Both servers build DRF's absolute `next`/`previous` links from the Host header: the same Host
// for both makes the bodies comparable although the ports differ.
constexpr char requestHost[] = "api.example.test:8000";
constexpr int requestTimeoutMs = 15000;
constexpr int startTimeoutMs = 30000;

struct HttpResponse {
    QByteArray raw;
    QByteArray statusLine;
    int status = 0;
    QList<std::pair<QByteArray, QByteArray>> headers; // names lower-cased, in order
    QByteArray body;
    QString error;

    QByteArray header(const QByteArray &name) const
    {
        for (const auto &[key, value] : headers)
            if (key == name)
                return value;
        return {};
    }
    bool hasHeader(const QByteArray &name) const
    {
        for (const auto &header : headers)
            if (header.first == name)
                return true;
        return false;
    }
};

bool parseHead(HttpResponse *response, qsizetype headEnd)
{
    const QList<QByteArray> lines = response->raw.left(headEnd).split('\n');
    response->statusLine = lines.value(0).trimmed();
    const QList<QByteArray> parts = response->statusLine.split(' ');
    bool ok = false;
    response->status = parts.value(1).toInt(&ok);
    if (!parts.value(0).startsWith("HTTP/1.") || !ok)
        return false;
    for (const QByteArray &line : lines.mid(1)) {
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            return false;
        response->headers.append({ line.left(colon).trimmed().toLower(), line.mid(colon + 1).trimmed() });
    }
    return true;
}

// `accept`: the Accept header's value; null for none.
QByteArray requestBytes(const QByteArray &method, const QByteArray &target, const QByteArray &accept)
{
    QByteArray request = method + ' ' + target + " HTTP/1.1\r\nHost: " + requestHost + "\r\n"
        + (accept.isNull() ? QByteArray() : "Accept: " + accept + "\r\n") + "User-Agent: tst_drfhttp\r\nConnection: close\r\n";
    if (method == "POST" || method == "PUT" || method == "PATCH")
        return request + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    return request + "\r\n";
}

// Reads one answer: the body ends at Content-Length, or when the server closes; a HEAD (204,
// 304) answer ends with its headers. Framing errors end up in `error`.
void readResponse(QTcpSocket &socket, bool head, HttpResponse *response)
{
    const QDeadlineTimer deadline(requestTimeoutMs);
    qsizetype headEnd = -1;
    qsizetype wanted = -1; // head + body, once known
    while (wanted < 0 || response->raw.size() < wanted) {
        if (socket.state() != QAbstractSocket::ConnectedState && socket.bytesAvailable() == 0)
            break;
        if (deadline.hasExpired()) {
            response->error = QStringLiteral("no complete answer within %1 ms").arg(requestTimeoutMs);
            return;
        }
        socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
        response->raw += socket.readAll();
        if (headEnd >= 0 || (headEnd = response->raw.indexOf("\r\n\r\n")) < 0)
            continue;
        if (!parseHead(response, headEnd)) {
            response->error = QStringLiteral("malformed response head");
            return;
        }
        bool ok = false;
        const qsizetype length = response->header("content-length").toLongLong(&ok);
        if (head || response->status == 304 || response->status == 204)
            wanted = headEnd + 4;
        else if (ok)
            wanted = headEnd + 4 + length;
    }
    if (headEnd < 0) {
        response->error = QStringLiteral("connection closed before the end of the headers");
        return;
    }
    response->body = response->raw.mid(headEnd + 4);
    if (wanted >= 0 && response->raw.size() != wanted)
        response->error = QStringLiteral("%1 bytes after the head, Content-Length (or HEAD) says %2")
                              .arg(response->body.size())
                              .arg(wanted - headEnd - 4);
}

// One request on its own connection (`Connection: close`), over a raw socket: what is on the
// wire is what gets compared.
HttpResponse sendRequest(int port, const QByteArray &method, const QByteArray &target, const QByteArray &accept = "*/*")
{
    HttpResponse response;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, quint16(port));
    if (!socket.waitForConnected(5000)) {
        response.error = QStringLiteral("connect: %1").arg(socket.errorString());
        return response;
    }
    socket.write(requestBytes(method, target, accept));
    readResponse(socket, method == "HEAD", &response);
    return response;
}

QString show(const HttpResponse &response)
{
    const qsizetype headEnd = response.raw.indexOf("\r\n\r\n");
    const QByteArray head = headEnd < 0 ? response.raw : response.raw.left(headEnd);
    QByteArray text = "  " + head;
    text.replace("\r\n", "\n  ");
    text += "\n  [body " + QByteArray::number(response.body.size()) + " bytes] " + visible(response.body.left(300));
    if (!response.error.isEmpty())
        text += "\n  [client: " + response.error.toUtf8() + ']';
    return QString::fromUtf8(text);
}

int freePort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    return server.serverPort();
}

bool acceptsConnections(int port)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, quint16(port));
    return socket.waitForConnected(200);
}

// A server process that dies with the test program even if that crashes.
struct ServerProcess {
    std::unique_ptr<QProcess> process = std::make_unique<QProcess>();
    int port = 0;

    void start(const QString &program, const QStringList &arguments)
    {
        process->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
        process->start(program, arguments);
    }
    QString describe() const
    {
        return QStringLiteral("%1 %2 (exit %3): %4")
            .arg(process->program(), process->arguments().join(QLatin1Char(' ')))
            .arg(process->exitCode())
            .arg(QString::fromUtf8(process->readAllStandardError().right(2000)));
    }
    ~ServerProcess()
    {
        if (process->state() == QProcess::NotRunning)
            return;
        process->terminate();
        if (!process->waitForFinished(5000))
            process->kill();
        process->waitForFinished(5000);
    }
};

// The DRF reference: `serve --port 0` picks a free port and prints "ready http://127.0.0.1:N/".
bool startReference(ServerProcess *server, const QString &db, int pageSize, QString *error)
{
    QStringList arguments { drfReferenceScript(), QStringLiteral("serve"), QStringLiteral("--db"), db,
                            QStringLiteral("--port"), QStringLiteral("0") };
    if (pageSize > 0)
        arguments << QStringLiteral("--page-size") << QString::number(pageSize);
    QSignalSpy output(server->process.get(), &QProcess::readyReadStandardOutput);
    server->start(systemPython(), arguments);
    const QDeadlineTimer deadline(startTimeoutMs);
    QByteArray text;
    while (!text.contains('\n')) {
        if (server->process->state() == QProcess::NotRunning || deadline.hasExpired()) {
            *error = QStringLiteral("DRF reference did not get ready: ") + server->describe();
            return false;
        }
        // Short slices so that an early exit is noticed without waiting out the deadline.
        if (server->process->bytesAvailable() == 0)
            output.wait(int(qBound(qint64(1), deadline.remainingTime(), qint64(500))));
        text += server->process->readAllStandardOutput();
    }
    const qsizetype colon = text.lastIndexOf(':');
    server->port = text.startsWith("ready ") ? text.mid(colon + 1).split('/').value(0).toInt() : 0;
    if (server->port <= 0)
        *error = QStringLiteral("unexpected first line from the DRF reference: ") + QString::fromUtf8(text);
    return server->port > 0;
}

// `preserve serve`: ready once it prints its URL or accepts a connection (bounded polling: the
// process offers no signal for "listening" besides its output, which it may buffer).
bool startPreserve(ServerProcess *server, const QString &db, int pageSize, QString *error)
{
    server->port = freePort();
    QStringList arguments { QStringLiteral("serve"), QStringLiteral("--db"), db, QStringLiteral("--port"),
                            QString::number(server->port) };
    if (pageSize > 0)
        arguments << QStringLiteral("--page-size") << QString::number(pageSize);
    server->start(preserveBinary(), arguments);
    const QDeadlineTimer deadline(startTimeoutMs);
    QByteArray text;
    while (!deadline.hasExpired()) {
        if (server->process->state() == QProcess::NotRunning) {
            *error = QStringLiteral("preserve serve exited: ") + server->describe();
            return false;
        }
        text += server->process->readAllStandardOutput();
        if (text.contains("http://") || acceptsConnections(server->port))
            return true;
        QTest::qWait(50);
    }
    *error = QStringLiteral("preserve serve did not listen on %1 within %2 ms: ").arg(server->port).arg(startTimeoutMs)
        + server->describe();
    return false;
}

// What must match exactly whenever DRF sends it (the HTTP server issue's list).
const QList<QByteArray> &exactHeaders()
{
    static const QList<QByteArray> names { "content-type",    "allow",    "x-content-type-options", "x-frame-options",
                                           "referrer-policy", "location", "content-length" };
    return names;
}

QStringList differences(const HttpResponse &drf, const HttpResponse &ours)
{
    QStringList found;
    if (!ours.error.isEmpty())
        found << QStringLiteral("ours: ") + ours.error;
    if (drf.status != ours.status)
        found << QStringLiteral("status %1, DRF %2").arg(ours.status).arg(drf.status);
    for (const QByteArray &name : exactHeaders()) {
        if (drf.hasHeader(name) && drf.header(name) != ours.header(name))
            found << QStringLiteral("%1: \"%2\", DRF \"%3\"")
                         .arg(QString::fromLatin1(name), QString::fromUtf8(ours.header(name)),
                              QString::fromUtf8(drf.header(name)));
    }
    // We may vary on more (Accept-Encoding) but never on less than DRF.
    QList<QByteArray> ourVary;
    for (const QByteArray &token : ours.header("vary").split(','))
        ourVary << token.trimmed().toLower();
    for (const QByteArray &token : drf.header("vary").split(','))
        if (!token.trimmed().isEmpty() && !ourVary.contains(token.trimmed().toLower()))
            found << QStringLiteral("Vary lacks DRF's \"%1\"").arg(QString::fromUtf8(token.trimmed()));
    if (drf.body != ours.body)
        found << QStringLiteral("body: ") + firstDifference(ours.body, drf.body);
    return found;
}

} // namespace

class TestDrfHttp : public QObject {
    Q_OBJECT

private:
    struct Pair {
        ServerProcess drf;
        ServerProcess ours;
    };
    QTemporaryDir m_dir;
    QString m_drfDb;
    QString m_ourDb;
    std::map<int, std::unique_ptr<Pair>> m_servers; // by page size, started on first use
    std::map<int, QString> m_startErrors;            // a pair that failed to start is not retried

    Pair *servers(int pageSize)
    {
        auto &pair = m_servers[pageSize];
        if (pair || m_startErrors.count(pageSize))
            return pair.get();
        pair = std::make_unique<Pair>();
        QString error;
        if (!startReference(&pair->drf, m_drfDb, pageSize, &error) || !startPreserve(&pair->ours, m_ourDb, pageSize, &error)) {
            qWarning("%s", qPrintable(error));
            m_startErrors[pageSize] = error;
            pair.reset();
        }
        return pair.get();
    }

    void compare(int pageSize, const QByteArray &method, const QByteArray &target, const QByteArray &accept = "*/*")
    {
        Pair *pair = servers(pageSize);
        if (!pair)
            QFAIL(qPrintable(QStringLiteral("no servers: ") + m_startErrors[pageSize].section(QLatin1Char('\n'), 0, 0)));
        const HttpResponse drf = sendRequest(pair->drf.port, method, target, accept);
        if (!drf.error.isEmpty())
            QFAIL(qPrintable(QStringLiteral("DRF reference: ") + drf.error + QLatin1Char('\n') + show(drf)));
        const HttpResponse ours = sendRequest(pair->ours.port, method, target, accept);
        const QStringList found = differences(drf, ours);
        if (!found.isEmpty())
            QFAIL(qPrintable(QStringLiteral("%1 %2 (page size %3):\n- %4\nDRF:\n%5\nours:\n%6")
                                 .arg(QString::fromLatin1(method), QString::fromLatin1(target))
                                 .arg(pageSize)
                                 .arg(found.join(QStringLiteral("\n- ")), show(drf), show(ours))));
    }

private slots:
    // The reference writes its Django app into a temporary directory; stopped as the tests stop it
    // (SIGTERM), it removes that directory. It used to leave one behind per run.
    void referenceRemovesItsTemporaryDirectory()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        ServerProcess server;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("TMPDIR"), tmp.path());
        server.process->setProcessEnvironment(environment);
        QString error;
        QVERIFY2(startReference(&server, m_drfDb, 0, &error), qPrintable(error));
        QVERIFY(!QDir(tmp.path()).isEmpty()); // the app's directory, while it serves
        server.process->terminate();
        QVERIFY(server.process->waitForFinished(10000));
        QCOMPARE(server.process->exitStatus(), QProcess::NormalExit);
        QCOMPARE(QDir(tmp.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden), QStringList());
    }

    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_drfDb = m_dir.filePath(QStringLiteral("drf.sqlite3"));
        m_ourDb = m_dir.filePath(QStringLiteral("preserve.sqlite3"));
        const auto seeded = runProcess(preserveBinary(), { QStringLiteral("seed"), QStringLiteral("--scale"),
                                                           QStringLiteral("small"), QStringLiteral("--out"), m_drfDb });
        QVERIFY2(seeded.exitCode == 0, qPrintable(describe(seeded)));
        // Two copies of the same bytes: our server may write its cache into pre_serialized, and
        // neither server should wait on the other's locks.
        QVERIFY(QFile::copy(m_drfDb, m_ourDb));
    }

    // The reference serves the seeded file, not something else: its detail body is the live
    // serializer's (which tst_drfparity holds to DRF's bytes).
    void referenceServesTheSeed()
    {
        Pair *pair = servers(0);
        if (!pair)
            QFAIL(qPrintable(QStringLiteral("no servers: ") + m_startErrors[0].section(QLatin1Char('\n'), 0, 0)));
        const HttpResponse drf = sendRequest(pair->drf.port, "GET", "/api/foos/3/");
        QCOMPARE(drf.status, 200);
        const auto dumped = runProcess(preserveBinary(), { QStringLiteral("dump"), QStringLiteral("--db"), m_drfDb,
                                                           QStringLiteral("3") });
        QVERIFY2(dumped.exitCode == 0, qPrintable(describe(dumped)));
        COMPARE_BODIES(drf.body, dumped.out);
    }

    void sameAsDrf_data()
    {
        QTest::addColumn<int>("pageSize");
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        for (const int pageSize : { 0, 5 }) {
            const auto row = [pageSize](const char *name, const char *method, const char *target) {
                QTest::addRow("%s%s", pageSize ? "paged: " : "", name) << pageSize << QByteArray(method) << QByteArray(target);
            };
            row("detail first", "GET", "/api/foos/1/");
            row("detail middle", "GET", "/api/foos/11/");
            row("detail last", "GET", "/api/foos/20/");
            row("detail leading zero", "GET", "/api/foos/07/");
            row("list", "GET", "/api/foos/");
            row("list page 1", "GET", "/api/foos/?page=1");
            row("list page 2", "GET", "/api/foos/?page=2");
            row("list page 4", "GET", "/api/foos/?page=4");
            row("list page last", "GET", "/api/foos/?page=last");
            row("list page 2, other parameter", "GET", "/api/foos/?zeta=1&page=2");
            row("list page 5 (past the end)", "GET", "/api/foos/?page=5");
            row("list page 0", "GET", "/api/foos/?page=0");
            row("list page abc", "GET", "/api/foos/?page=abc");
            row("unknown pk", "GET", "/api/foos/999/");
            row("pk 0", "GET", "/api/foos/0/");
            row("negative pk", "GET", "/api/foos/-1/");
            row("non-numeric pk", "GET", "/api/foos/abc/");
            row("POST list", "POST", "/api/foos/");
            row("POST detail", "POST", "/api/foos/1/");
            row("PUT detail", "PUT", "/api/foos/1/");
            row("DELETE detail", "DELETE", "/api/foos/1/");
            row("list without slash", "GET", "/api/foos");
            row("list without slash, query", "GET", "/api/foos?page=2");
            row("detail without slash", "GET", "/api/foos/1");
            row("unknown pk without slash", "GET", "/api/foos/999");
            row("HEAD without slash", "HEAD", "/api/foos/1");
            row("HEAD detail", "HEAD", "/api/foos/1/");
            row("HEAD list", "HEAD", "/api/foos/");
            row("HEAD list page 2", "HEAD", "/api/foos/?page=2");
            row("HEAD unknown pk", "HEAD", "/api/foos/999/");
            row("OPTIONS list", "OPTIONS", "/api/foos/");
            row("OPTIONS detail", "OPTIONS", "/api/foos/1/");
        }
    }

    void sameAsDrf()
    {
        QFETCH(int, pageSize);
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        compare(pageSize, method, target);
    }

    // DRF's content negotiation (one renderer, application/json): what the client accepts.
    void negotiation_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QByteArray>("accept");
        const QByteArray none; // no Accept header at all
        QTest::addRow("no header") << QByteArray("GET") << QByteArray("/api/foos/1/") << none;
        QTest::addRow("application/json") << QByteArray("GET") << QByteArray("/api/foos/1/") << QByteArray("application/json");
        QTest::addRow("application/*") << QByteArray("GET") << QByteArray("/api/foos/") << QByteArray("application/*");
        QTest::addRow("browser") << QByteArray("GET") << QByteArray("/api/foos/1/")
                                 << QByteArray("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        QTest::addRow("json with q=0") << QByteArray("GET") << QByteArray("/api/foos/1/") << QByteArray("application/json;q=0");
        QTest::addRow("text/html") << QByteArray("GET") << QByteArray("/api/foos/1/") << QByteArray("text/html");
        QTest::addRow("text/html, list") << QByteArray("GET") << QByteArray("/api/foos/") << QByteArray("text/html");
        QTest::addRow("text/*") << QByteArray("GET") << QByteArray("/api/foos/1/") << QByteArray("text/*");
        QTest::addRow("xml, unknown pk") << QByteArray("GET") << QByteArray("/api/foos/999/") << QByteArray("application/xml");
        QTest::addRow("xml, POST") << QByteArray("POST") << QByteArray("/api/foos/") << QByteArray("application/xml");
        QTest::addRow("xml, HEAD") << QByteArray("HEAD") << QByteArray("/api/foos/1/") << QByteArray("application/xml");
        QTest::addRow("xml, OPTIONS") << QByteArray("OPTIONS") << QByteArray("/api/foos/1/") << QByteArray("application/xml");
        QTest::addRow("xml, no slash") << QByteArray("GET") << QByteArray("/api/foos/1") << QByteArray("application/xml");
        QTest::addRow("?format=json") << QByteArray("GET") << QByteArray("/api/foos/1/?format=json") << QByteArray("*/*");
        QTest::addRow("?format=xml") << QByteArray("GET") << QByteArray("/api/foos/1/?format=xml") << QByteArray("*/*");
        QTest::addRow("?format=api, list") << QByteArray("GET") << QByteArray("/api/foos/?format=api") << QByteArray("*/*");
        QTest::addRow("?format= (empty)") << QByteArray("GET") << QByteArray("/api/foos/1/?format=") << QByteArray("*/*");
        QTest::addRow("?format=xml&format=json") << QByteArray("GET") << QByteArray("/api/foos/1/?format=xml&format=json") << QByteArray("*/*");
        QTest::addRow("?format=json, text/html") << QByteArray("GET") << QByteArray("/api/foos/1/?format=json") << QByteArray("text/html");
        QTest::addRow("?format=xml, unknown pk") << QByteArray("GET") << QByteArray("/api/foos/999/?format=xml") << QByteArray("*/*");
        // DRF's JSONRenderer indents for `indent` in the media range its negotiation picks.
        const QByteArray get("GET");
        const QByteArray detail("/api/foos/2/");
        QTest::addRow("indent=4") << get << detail << QByteArray("application/json; indent=4");
        QTest::addRow("indent=4, list") << get << QByteArray("/api/foos/") << QByteArray("application/json; indent=4");
        QTest::addRow("indent=2, unknown pk") << get << QByteArray("/api/foos/999/") << QByteArray("application/json; indent=2");
        QTest::addRow("indent=2, POST") << QByteArray("POST") << detail << QByteArray("application/json; indent=2");
        QTest::addRow("indent=2, OPTIONS") << QByteArray("OPTIONS") << detail << QByteArray("application/json; indent=2");
        QTest::addRow("indent=2, HEAD") << QByteArray("HEAD") << detail << QByteArray("application/json; indent=2");
        QTest::addRow("indent=0") << get << detail << QByteArray("application/json; indent=0");
        QTest::addRow("indent=12 (capped at 8)") << get << detail << QByteArray("application/json; indent=12");
        QTest::addRow("indent=-3") << get << detail << QByteArray("application/json; indent=-3");
        QTest::addRow("indent=x") << get << detail << QByteArray("application/json; indent=x");
        QTest::addRow("INDENT=\"3\"") << get << detail << QByteArray("application/json; INDENT=\"3\"");
        QTest::addRow("*/*; indent=2") << get << detail << QByteArray("*/*; indent=2");
        QTest::addRow("plain range first") << get << detail << QByteArray("application/json, application/json; indent=2");
        QTest::addRow("indent after text/html") << get << detail << QByteArray("text/html, application/json; indent=3");
        QTest::addRow("indent on text/html only") << get << detail << QByteArray("text/html; indent=3, application/json");
    }

    void negotiation()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, accept);
        compare(0, method, target, accept);
    }

    // Every detail of the seed, and a few pks past the end.
    void everyDetail()
    {
        for (int pk = 1; pk <= 25; ++pk) {
            compare(0, "GET", "/api/foos/" + QByteArray::number(pk) + '/');
            if (QTest::currentTestFailed())
                return;
        }
    }

    void cleanupTestCase()
    {
        m_servers.clear();
    }
};

QTEST_GUILESS_MAIN(TestDrfHttp)
#include "tst_drfhttp.moc"
