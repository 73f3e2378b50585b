// Hostile and unusual HTTP through a raw socket, pagination and the admin endpoints.
#include "httpfixture.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QTest>
#include <QTimer>

#include <atomic>
#include <thread>
#include <vector>

// The status of one well-formed answer that is 200 or `refused`; -1 for anything else (none, two
// heads, a short body, another status).
int answerStatus(const QByteArray &raw, int refused)
{
    const int status = statusOf(raw);
    if (!framingProblem(raw).isEmpty() || (status != 200 && status != refused)) {
        qWarning("%s", framingProblem(raw).left(300).constData());
        return -1;
    }
    return status;
}

// 200s up to one point and `refused` from there on: one limit, no band of failures.
bool oneLimit(const QList<int> &statuses, int refused)
{
    return !statuses.isEmpty() && !statuses.contains(-1) && statuses.first() == 200 && statuses.last() == refused
        && statuses.indexOf(refused) == statuses.lastIndexOf(200) + 1;
}

QString listed(const QList<int> &statuses)
{
    QStringList texts;
    for (int status : statuses)
        texts << QString::number(status);
    return texts.join(QLatin1Char(' '));
}

class TestHttpHardening : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QLoggingCategory::setFilterRules(QStringLiteral("preserve.http.info=false\npreserve.http.warning=false")); }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::addRow("garbage line") << QByteArray("\x01\x02 garbage\r\n\r\n") << 400;
        QTest::addRow("1 MB URL") << "GET /api/foos/" + QByteArray(1024 * 1024, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n" << 414;
        QTest::addRow("huge headers") << "GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\nX-Big: " + QByteArray(64 * 1024, 'b') + "\r\n\r\n" << 431;
        // What nginx takes by default (8 KiB a line) must still pass the smaller per-connection memory.
        QTest::addRow("8 KiB header") << "GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: "
                + QByteArray(8 * 1024 - 8, 'b') + "\r\n\r\n" << 200;
        QTest::addRow("8 KiB URL") << "GET /api/foos/1/?q=" + QByteArray(8 * 1024 - 40, 'q')
                + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" << 200;
        QTest::addRow("declared body too big") << QByteArray("POST /api/foos/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n") << 413;
        // libmicrohttpd answers these itself before any handler, writing its head twice; the server
        // answers instead (LibraryAnswers), once.
        QTest::addRow("Content-Length not a number") << QByteArray("GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n") << 400;
        QTest::addRow("Content-Length negative") << QByteArray("POST /api/foos/ HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n") << 400;
        QTest::addRow("Content-Length past 64 bits") << QByteArray("POST /api/foos/ HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n") << 413;
        QTest::addRow("12 KiB Cookie") << "GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\nCookie: " + QByteArray(12 * 1024, 'c') + "\r\n\r\n" << 431;
        QTest::addRow("19 KiB Cookie") << "GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\nCookie: " + QByteArray(19 * 1024, 'c') + "\r\n\r\n" << 431;
        // Framing as nginx judges it (RFC 9112 6.3's smuggling vectors); the request after it is not answered.
        const QByteArray smuggled = "GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\n\r\n";
        QTest::addRow("Content-Length and chunked") << "POST /api/foos/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled << 400;
        QTest::addRow("two Content-Length") << "POST /api/foos/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\n" + smuggled << 400;
        QTest::addRow("unknown coding") << QByteArray("POST /api/foos/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: bogus\r\n\r\nabc") << 501;
        QTest::addRow("gzip, chunked") << QByteArray("POST /api/foos/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n") << 501;
        QTest::addRow("two Transfer-Encoding") << "POST /api/foos/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n" + smuggled << 400;
        QTest::addRow("Content-Length 2^64-1") << QByteArray("POST /api/foos/ HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551615\r\n\r\n") << 413;
        QTest::addRow("chunked body too big") << "POST /api/foos/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n"
                + QByteArray(0x200000, 'c') + "\r\n0\r\n\r\n" << 413;
    }
    void malformed()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        HttpFixture f;
        QVERIFY(f.ok);
        const QByteArray raw = rawRequest(f.port(), request);
        QCOMPARE(statusOf(raw), status);
        QVERIFY2(framingProblem(raw).isEmpty(), framingProblem(raw).constData());
        // And the server keeps serving.
        QCOMPARE(f.get(QStringLiteral("/api/foos/1/")).status, 200);
    }

    // libmicrohttpd keeps a request's headers and the answer's head in one pool per connection
    // (20 KiB here); headers that crowd out the answer's head had it close the connection without
    // a word, a Cookie it could not copy got its 431 head twice. Every size around the limits gets
    // exactly one well-formed answer: 200 below the limit, 431 above it.
    void headersNearTheConnectionMemory()
    {
        HttpFixture f;
        QVERIFY(f.ok);
        const auto with = [&f](const QByteArray &headers) {
            return answerStatus(rawRequest(f.port(), "GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + "\r\n"), 431);
        };
        QList<int> statuses;
        for (qsizetype size = 6000; size <= 24000; size += 125) // one big header, across the whole pool
            statuses.append(with("X-Big: " + QByteArray(size, 'b') + "\r\n"));
        QVERIFY2(oneLimit(statuses, 431), qPrintable(listed(statuses)));
        statuses.clear();
        for (int count = 20; count <= 400; count += 10) { // many small headers: their records fill the pool
            QByteArray headers;
            for (int i = 0; i < count; ++i)
                headers += "X-H" + QByteArray::number(i) + ": v\r\n";
            statuses.append(with(headers));
        }
        QVERIFY2(oneLimit(statuses, 431), qPrintable(listed(statuses)));
        statuses.clear();
        // A Cookie is copied once more into the pool: it passes up to about 8.5 KiB (nginx: 8 KiB a
        // line); past that libmicrohttpd refuses it itself, and the server answers (LibraryAnswers).
        for (qsizetype size = 6000; size <= 24000; size += 125)
            statuses.append(with("Cookie: " + QByteArray(size, 'c') + "\r\n"));
        QVERIFY2(oneLimit(statuses, 431), qPrintable(listed(statuses)));
        // Past the limit but inside the pool, the 431 is ours: DRF's error shape.
        const QByteArray raw = rawRequest(f.port(), "GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\nX-Big: " + QByteArray(12000, 'b') + "\r\n\r\n");
        QVERIFY2(raw.endsWith("\r\n\r\n{\"detail\":\"Request header fields too large.\"}"), raw.constData());
        QVERIFY(raw.contains("\r\nContent-Type: application/json\r\n"));
        QCOMPARE(f.get(QStringLiteral("/api/foos/1/")).status, 200);
    }

    // The request target's share of the pool. Many query parameters: libmicrohttpd, out of memory
    // for their records, queued a 431 it never sent and held the connection until the timeout. A
    // long target grows its read buffer into the half the records need (then 40 parameters had no
    // answer at all). Past what fits, both get 414 at once.
    void targetsNearTheConnectionMemory()
    {
        HttpFixture f;
        QVERIFY(f.ok);
        const auto get = [&f](const QByteArray &query) {
            return answerStatus(rawRequest(f.port(), "GET /api/foos/1/?" + query + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 414);
        };
        QList<int> statuses;
        for (int count = 20; count <= 1000; count += 20) {
            QByteArray query;
            for (int i = 0; i < count; ++i)
                query += (i ? "&p" : "p") + QByteArray::number(i) + "=1";
            statuses.append(get(query));
        }
        QVERIFY2(oneLimit(statuses, 414), qPrintable(listed(statuses)));
        statuses.clear();
        for (qsizetype size = 6000; size <= 24000; size += 250) {
            QByteArray query = "p=" + QByteArray(size, 'v');
            for (int i = 0; i < 40; ++i)
                query += "&q" + QByteArray::number(i) + "=1";
            statuses.append(get(query));
        }
        QVERIFY2(oneLimit(statuses, 414), qPrintable(listed(statuses)));
        QCOMPARE(f.get(QStringLiteral("/api/foos/1/")).status, 200);
    }

    // A Cookie past 10 KiB never fits libmicrohttpd's first read, so other connections' requests
    // come in between its request line and its headers: its error is still answered once, and
    // never on another connection.
    void libraryErrorsUnderLoad()
    {
        HttpFixture f;
        QVERIFY(f.ok);
        QCOMPARE(f.get(QStringLiteral("/api/foos/1/")).status, 200); // a hit from here on
        const quint16 port = f.port();
        std::atomic<int> wrong { 0 };
        std::atomic<int> bad { 0 };
        std::vector<std::thread> clients;
        for (int client = 0; client < 6; ++client) {
            clients.emplace_back([&, client] {
                const bool cookie = client % 2 == 0;
                const QByteArray request = "GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    + (cookie ? "Cookie: " + QByteArray(12 * 1024, 'c') + "\r\n" : QByteArray()) + "\r\n";
                for (int i = 0; i < 40; ++i) {
                    const QByteArray raw = rawRequest(port, request);
                    if (!framingProblem(raw).isEmpty() || statusOf(raw) != (cookie ? 431 : 200)) {
                        if (++wrong == 1)
                            qWarning("%s", framingProblem(raw).left(300).constData());
                    }
                    bad += cookie;
                }
            });
        }
        for (std::thread &client : clients)
            client.join();
        QCOMPARE(bad.load(), 120);
        QCOMPARE(wrong.load(), 0);
    }

    // RFC 9112 3.2 (and nginx in front of Django): exactly one Host header in HTTP/1.1, at most one
    // in HTTP/1.0, and a value Django's host validation takes — on every endpoint, before routing.
    void hostHeader_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("detail");
        const QByteArray get = "GET /api/foos/1/ ";
        QTest::addRow("HTTP/1.1 without Host") << get + "HTTP/1.1\r\nConnection: close\r\n\r\n" << 400
                                               << QByteArray("An HTTP/1.1 request needs a Host header.");
        QTest::addRow("two Host headers") << get + "HTTP/1.1\r\nHost: a\r\nhost: b\r\nConnection: close\r\n\r\n" << 400
                                          << QByteArray("More than one Host header.");
        QTest::addRow("two Host headers, HTTP/1.0") << get + "HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n" << 400
                                                    << QByteArray("More than one Host header.");
        QTest::addRow("a space in Host") << get + "HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n" << 400
                                         << QByteArray("Invalid HTTP_HOST header.");
        QTest::addRow("an underscore in Host") << get + "HTTP/1.1\r\nHost: my_host\r\nConnection: close\r\n\r\n" << 400
                                               << QByteArray("Invalid HTTP_HOST header.");
        QTest::addRow("a path in Host") << QByteArray("GET /metrics HTTP/1.1\r\nHost: a/b\r\nConnection: close\r\n\r\n") << 400
                                        << QByteArray("Invalid HTTP_HOST header.");
        QTest::addRow("port without digits") << get + "HTTP/1.1\r\nHost: a:\r\nConnection: close\r\n\r\n" << 400
                                             << QByteArray("Invalid HTTP_HOST header.");
        QTest::addRow("HTTP/1.0 without Host") << get + "HTTP/1.0\r\n\r\n" << 200 << QByteArray();
        QTest::addRow("empty Host") << get + "HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n" << 400
                                    << QByteArray("Invalid HTTP_HOST header.");
        QTest::addRow("a dot for a name") << get + "HTTP/1.1\r\nHost: .:80\r\nConnection: close\r\n\r\n" << 400
                                          << QByteArray("Invalid HTTP_HOST header.");
        QTest::addRow("a trailing dot") << get + "HTTP/1.1\r\nHost: example.com.\r\nConnection: close\r\n\r\n" << 200
                                        << QByteArray();
        QTest::addRow("name and port") << get + "HTTP/1.1\r\nHost: API.example.com:8000\r\nConnection: close\r\n\r\n" << 200
                                       << QByteArray();
        QTest::addRow("IPv6 literal") << get + "HTTP/1.1\r\nHost: [::1]:8000\r\nConnection: close\r\n\r\n" << 200 << QByteArray();
        QTest::addRow("IPv4 mapped") << get + "HTTP/1.1\r\nHost: [::ffff:127.0.0.1]\r\nConnection: close\r\n\r\n" << 200
                                     << QByteArray();
    }
    void hostHeader()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        QFETCH(QByteArray, detail);
        HttpFixture f;
        QVERIFY(f.ok);
        const QByteArray raw = rawRequest(f.port(), request);
        QCOMPARE(statusOf(raw), status);
        QVERIFY2(framingProblem(raw).isEmpty(), framingProblem(raw).constData());
        if (!detail.isEmpty())
            QVERIFY2(raw.endsWith("{\"detail\":\"" + detail + "\"}"), raw.constData());
    }

    void slowClientIsDropped()
    {
        HttpServerOptions options;
        options.timeoutSeconds = 1;
        HttpFixture f(options);
        QVERIFY(f.ok);
        QTcpSocket slow;
        slow.connectToHost(QHostAddress::LocalHost, f.port());
        QVERIFY(slow.waitForConnected(5000));
        slow.write("GET /api/fo");
        QVERIFY(slow.waitForBytesWritten(5000));
        QElapsedTimer timer;
        timer.start();
        QCOMPARE(f.get(QStringLiteral("/api/foos/2/")).status, 200); // others are served meanwhile
        QVERIFY(slow.waitForDisconnected(10000));
        QVERIFY2(timer.elapsed() >= 500, qPrintable(QString::number(timer.elapsed())));
    }

    // Slowloris: a byte every 200 ms keeps libmicrohttpd's idle timer from ever firing; the request
    // deadline drops the connection anyway, and others are served meanwhile.
    void tricklingClientIsDropped()
    {
        HttpServerOptions options;
        options.timeoutSeconds = 1;
        HttpFixture f(options);
        QVERIFY(f.ok);
        QTcpSocket slow;
        slow.connectToHost(QHostAddress::LocalHost, f.port());
        QVERIFY(slow.waitForConnected(5000));
        const QByteArray request = "GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\nX-Slow: " + QByteArray(200, 's');
        qsizetype sent = 0;
        QTimer trickle;
        trickle.setInterval(200);
        connect(&trickle, &QTimer::timeout, &slow, [&] {
            if (sent < request.size() && slow.state() == QAbstractSocket::ConnectedState)
                slow.write(request.mid(sent++, 1));
        });
        QElapsedTimer timer;
        timer.start();
        trickle.start();
        QCOMPARE(f.get(QStringLiteral("/api/foos/2/")).status, 200); // others are served meanwhile
        QTRY_VERIFY_WITH_TIMEOUT(slow.state() == QAbstractSocket::UnconnectedState, 10000);
        trickle.stop();
        QVERIFY2(sent < request.size(), "the whole request went out: the test proves nothing");
        QVERIFY2(timer.elapsed() >= 900, qPrintable(QString::number(timer.elapsed())));
        // A client that sends its request in time on a kept-alive connection is served as usual.
        QTcpSocket prompt;
        prompt.connectToHost(QHostAddress::LocalHost, f.port());
        QVERIFY(prompt.waitForConnected(5000));
        prompt.write("GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\n\r\n");
        QVERIFY(prompt.waitForReadyRead(5000));
        QCOMPARE(statusOf(prompt.readAll()), 200);
    }

    // --timeout bounds the whole request, body included: a body trickled a byte at a time used to
    // keep libmicrohttpd's idle timer from firing until the last byte.
    void tricklingBodyIsDropped()
    {
        HttpServerOptions options;
        options.timeoutSeconds = 1;
        HttpFixture f(options);
        QVERIFY(f.ok);
        QTcpSocket slow;
        slow.connectToHost(QHostAddress::LocalHost, f.port());
        QVERIFY(slow.waitForConnected(5000));
        const QByteArray body(200, 'b');
        slow.write("POST /api/foos/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n");
        qsizetype sent = 0;
        QTimer trickle;
        trickle.setInterval(100);
        connect(&trickle, &QTimer::timeout, &slow, [&] {
            if (sent < body.size() && slow.state() == QAbstractSocket::ConnectedState)
                slow.write(body.mid(sent++, 1));
        });
        trickle.start();
        QCOMPARE(f.get(QStringLiteral("/api/foos/2/")).status, 200); // others are served meanwhile
        QTRY_VERIFY_WITH_TIMEOUT(slow.state() == QAbstractSocket::UnconnectedState, 10000);
        trickle.stop();
        QVERIFY2(sent < 60, qPrintable(QStringLiteral("%1 bytes of the body went out before the drop").arg(sent)));
    }

    // A chunk size no body limit allows gets 413 at once, as nginx answers, not a wait for --timeout.
    void hugeChunkIsRefusedAtOnce_data()
    {
        QTest::addColumn<QByteArray>("size");
        QTest::addRow("2^64 - 1") << QByteArray("FFFFFFFFFFFFFFFF");
        QTest::addRow("past 2^64") << QByteArray("1FFFFFFFFFFFFFFFF0");
        QTest::addRow("past the body limit") << QByteArray("200000");
        QTest::addRow("with an extension") << QByteArray("FFFFFFFF;x=1");
    }
    void hugeChunkIsRefusedAtOnce()
    {
        QFETCH(QByteArray, size);
        HttpFixture f; // --timeout 30: an answer within rawRequest's 5 s is one that did not wait for it
        QVERIFY(f.ok);
        bool closed = false;
        const QByteArray raw = rawRequest(f.port(), "POST /api/foos/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + size + "\r\nabc", &closed);
        QCOMPARE(statusOf(raw), 413);
        QVERIFY2(raw.endsWith("{\"detail\":\"Request body too large.\"}"), raw.constData());
        QVERIFY(closed);
        // A small chunked body is read and answered as usual (405: the list takes no POST).
        const QByteArray small = rawRequest(f.port(), "POST /api/foos/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        QCOMPARE(statusOf(small), 405);
    }

    void pipelinedInOrder()
    {
        HttpFixture f;
        QVERIFY(f.ok);
        const QByteArray raw = rawRequest(f.port(), "GET /api/foos/2/ HTTP/1.1\r\nHost: x\r\n\r\n"
                                                    "GET /api/foos/999/ HTTP/1.1\r\nHost: x\r\n\r\n"
                                                    "GET /api/foos/3/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        const qsizetype first = raw.indexOf(f.live(2));
        const qsizetype second = raw.indexOf("{\"detail\":\"Not found.\"}");
        const qsizetype third = raw.indexOf(f.live(3));
        QVERIFY2(first > 0 && second > first && third > second, raw.left(300).constData());
    }

    void connectionClose_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addRow("HTTP/1.0") << QByteArray("GET /api/foos/1/ HTTP/1.0\r\n\r\n");
        QTest::addRow("Connection: close") << QByteArray("GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    }
    void connectionClose()
    {
        QFETCH(QByteArray, request);
        HttpFixture f;
        QVERIFY(f.ok);
        bool closed = false;
        const QByteArray raw = rawRequest(f.port(), request, &closed, 10000);
        QCOMPARE(statusOf(raw), 200);
        QVERIFY(raw.endsWith(f.live(1)));
        QVERIFY(closed);
    }

    void pagination_data()
    {
        QTest::addColumn<QString>("query");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("next");
        QTest::addColumn<QByteArray>("previous");
        QTest::addColumn<int>("firstPk");
        const QByteArray base = "\"http://testhost:81/api/foos/";
        QTest::addRow("first") << "" << 200 << base + "?page=2\"" << QByteArray("null") << 1;
        QTest::addRow("second") << "?page=2" << 200 << base + "?page=3\"" << base + "\"" << 6;
        QTest::addRow("middle keeps other params sorted") << "?zz=1&page=3&a=x+y" << 200 << base + "?a=x+y&page=4&zz=1\"" << base + "?a=x+y&page=2&zz=1\"" << 11;
        QTest::addRow("last") << "?page=4" << 200 << QByteArray("null") << base + "?page=3\"" << 16;
        QTest::addRow("last by name") << "?page=last" << 200 << QByteArray("null") << base + "?page=3\"" << 16;
        QTest::addRow("zero") << "?page=0" << 404 << QByteArray() << QByteArray() << 0;
        QTest::addRow("negative") << "?page=-1" << 404 << QByteArray() << QByteArray() << 0;
        QTest::addRow("word") << "?page=x" << 404 << QByteArray() << QByteArray() << 0;
        QTest::addRow("past the end") << "?page=5" << 404 << QByteArray() << QByteArray() << 0;
        QTest::addRow("float") << "?page=2.0" << 404 << QByteArray() << QByteArray() << 0;
        // DRF 3.14 takes a missing page as 1 but hands an empty one to int(''): "Invalid page."
        QTest::addRow("empty") << "?page=" << 404 << QByteArray() << QByteArray() << 0;
        QTest::addRow("bare name") << "?page" << 404 << QByteArray() << QByteArray() << 0;
        QTest::addRow("blank") << "?page=%20" << 404 << QByteArray() << QByteArray() << 0;
        QTest::addRow("last with a space") << "?page=%20last" << 404 << QByteArray() << QByteArray() << 0;
        QTest::addRow("padded number") << "?page=%202%20" << 200 << base + "?page=3\"" << base + "\"" << 6;
        QTest::addRow("empty then a number: the last wins") << "?page=&page=2" << 200 << base + "?page=3\"" << base + "\"" << 6;
        QTest::addRow("a number then empty") << "?page=2&page=" << 404 << QByteArray() << QByteArray() << 0;
    }
    void pagination()
    {
        QFETCH(QString, query);
        QFETCH(int, status);
        QFETCH(QByteArray, next);
        QFETCH(QByteArray, previous);
        QFETCH(int, firstPk);
        HttpServerOptions options;
        options.pageSize = 5;
        HttpFixture f(options);
        QVERIFY(f.ok);
        const HttpAnswer answer = f.get(QStringLiteral("/api/foos/") + query, { { "Host", "testhost:81" } });
        QCOMPARE(answer.status, status);
        if (status == 404) {
            QCOMPARE(answer.body, QByteArray("{\"detail\":\"Invalid page.\"}"));
            return;
        }
        QByteArray results;
        for (int pk = firstPk; pk < firstPk + 5; ++pk)
            results += (results.isEmpty() ? "" : ",") + f.live(pk);
        COMPARE_BODIES(answer.body, "{\"count\":20,\"next\":" + next + ",\"previous\":" + previous + ",\"results\":[" + results + "]}");
    }

    void adminNeedsTheToken()
    {
        HttpServerOptions options;
        options.adminToken = "s3cret-token";
        HttpFixture f(options);
        QVERIFY(f.ok);
        const HttpAnswer missing = f.get(QStringLiteral("/api/foos/3/refresh/"), {}, "POST");
        QCOMPARE(missing.status, 401);
        QCOMPARE(missing.body, QByteArray("{\"detail\":\"Authentication credentials were not provided.\"}"));
        QCOMPARE(missing.header("WWW-Authenticate"), QByteArray("Bearer realm=\"api\""));
        const HttpAnswer wrong = f.get(QStringLiteral("/api/foos/3/refresh/"), { { "Authorization", "Bearer s3cret-tokem" } }, "POST");
        QCOMPARE(wrong.status, 401);
        QCOMPARE(wrong.body, QByteArray("{\"detail\":\"Invalid token.\"}"));
        const QList<std::pair<QByteArray, QByteArray>> auth { { "Authorization", "Bearer s3cret-token" } };
        QSignalSpy finished(f.service.get(), &CacheService::jobFinished);
        const HttpAnswer refresh = f.get(QStringLiteral("/api/foos/3/refresh/"), auth, "POST");
        QCOMPARE(refresh.status, 202);
        QVERIFY2(refresh.body.startsWith("{\"job\":"), refresh.body.constData());
        QVERIFY(finished.wait(10000));
        QCOMPARE(f.get(QStringLiteral("/api/foos/3/")).header("X-Cache"), QByteArray("HIT")); // refreshed into memory

        auto many = auth;
        many.append(std::pair(QByteArray("Content-Type"), QByteArray("application/json")));
        QCOMPARE(f.get(QStringLiteral("/api/refresh/"), many, "POST", "{\"pks\":[1,2]}").status, 202);
        QCOMPARE(f.get(QStringLiteral("/api/refresh/"), many, "POST", "{\"pks\":[\"x\"]}").status, 400);
        QCOMPARE(f.get(QStringLiteral("/api/refresh/"), many, "POST", "not json").status, 400);
        QCOMPARE(f.get(QStringLiteral("/api/refresh/"), auth, "POST", "{\"stale\":true}").status, 415);
        QCOMPARE(f.get(QStringLiteral("/api/foos/3/cache/"), auth, "DELETE").status, 202);

        const HttpAnswer skip = f.get(QStringLiteral("/api/foos/4/?cache=skip"), auth);
        QCOMPARE(skip.header("X-Cache"), QByteArray("BYPASS"));
        COMPARE_BODIES(skip.body, f.live(4));
        QCOMPARE(f.get(QStringLiteral("/api/foos/4/?cache=skip")).status, 401);

        const HttpAnswer status = f.get(QStringLiteral("/api/status/"), auth);
        QCOMPARE(status.status, 200);
        QVERIFY2(status.body.startsWith("[{\"") && status.body.contains("\"state\""), status.body.left(200).constData());
        QCOMPARE(f.get(QStringLiteral("/api/status/")).status, 401);
    }
};

QTEST_GUILESS_MAIN(TestHttpHardening)
#include "tst_httphardening.moc"
