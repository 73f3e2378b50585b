// The request grammar libmicrohttpd lets through and nginx refuses (RequestSyntax), as pure
// functions and on the wire: each malformed request gets one DRF-style 400 and the connection
// closes; absolute-form targets, fragments and spaces before the version are served.
#include "httpfixture.h"

#include "http/quirks/requestsyntax.h"

#include <QLoggingCategory>
#include <QTest>

class TestRequestSyntax : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QLoggingCategory::setFilterRules(QStringLiteral("preserve.http.info=false")); }

    void tokens()
    {
        QVERIFY(RequestSyntax::isToken("GET"));
        QVERIFY(RequestSyntax::isToken("X-Custom_Header.1!#$%&'*+^`|~"));
        QVERIFY(!RequestSyntax::isToken(""));
        QVERIFY(!RequestSyntax::isToken("G@T"));
        QVERIFY(!RequestSyntax::isToken("GET\t"));
        QVERIFY(!RequestSyntax::isToken("Transfer-Encoding "));
        QVERIFY(!RequestSyntax::isToken("X-\xc3\xa9"));
        QVERIFY(!RequestSyntax::methodProblem("get")); // no syntax error: 405, as DRF
        QVERIFY(RequestSyntax::methodProblem("G(T)"));
        QVERIFY(!RequestSyntax::fieldProblem("Accept", "application/json; indent=2"));
        QVERIFY(!RequestSyntax::fieldProblem("X-A", "a\tb \x80\xff"));
        QVERIFY(!RequestSyntax::fieldProblem("X-Empty", ""));
        // As nginx: control bytes other than CR pass in a value, names that are no token but have
        // no space or control byte pass (nginx ignores them; no handler reads them).
        QVERIFY(!RequestSyntax::fieldProblem("X-A", "a\x01\x7f"));
        QVERIFY(!RequestSyntax::fieldProblem("X/Y", "1"));
        QVERIFY(!RequestSyntax::fieldProblem("X-\xc3\xa9", "1"));
        QVERIFY(RequestSyntax::fieldProblem("X-A", "a\rb"));
        QVERIFY(RequestSyntax::fieldProblem("", "b"));
        QVERIFY(RequestSyntax::fieldProblem("X A", "b"));
        QVERIFY(RequestSyntax::fieldProblem("X-A\t", "b"));
        QVERIFY(RequestSyntax::fieldProblem("X\x7f", "b"));
    }

    void originForm_data()
    {
        QTest::addColumn<QByteArray>("sent");
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target"); // null: unchanged
        QTest::addColumn<QByteArray>("authority");
        QTest::addColumn<bool>("malformed");
        const QByteArray same;
        QTest::addRow("origin-form") << QByteArray("/api/foos/1/?page=2") << QByteArray("GET") << same << QByteArray() << false;
        QTest::addRow("percent-encoded path") << QByteArray("/api/foos/%31/") << QByteArray("GET") << same << QByteArray() << false;
        QTest::addRow("bytes past ASCII") << QByteArray("/api/\xc3\xa9/") << QByteArray("GET") << same << QByteArray() << false;
        QTest::addRow("a bad escape in the query is Django's to judge") << QByteArray("/api/foos/?a=%zz") << QByteArray("GET") << same << QByteArray() << false;
        QTest::addRow("absolute-form") << QByteArray("http://api.example:8000/api/foos/1/?x=1") << QByteArray("GET")
                                       << QByteArray("/api/foos/1/?x=1") << QByteArray("api.example:8000") << false;
        QTest::addRow("absolute-form, scheme in capitals, no path") << QByteArray("HTTPS://h?x") << QByteArray("GET")
                                                                    << QByteArray("/?x") << QByteArray("h") << false;
        QTest::addRow("a fragment") << QByteArray("/api/foos/1/#top?x") << QByteArray("GET") << QByteArray("/api/foos/1/") << QByteArray() << false;
        QTest::addRow("spaces before the version") << QByteArray("/api/foos/1/  ") << QByteArray("GET") << QByteArray("/api/foos/1/") << QByteArray() << false;
        QTest::addRow("OPTIONS *") << QByteArray("*") << QByteArray("OPTIONS") << same << QByteArray() << false;
        QTest::addRow("GET *") << QByteArray("*") << QByteArray("GET") << same << QByteArray() << true;
        QTest::addRow("a space inside") << QByteArray("/api/foos/1 /") << QByteArray("GET") << same << QByteArray() << true;
        QTest::addRow("a tab") << QByteArray("/api/\tfoos/") << QByteArray("GET") << same << QByteArray() << true;
        QTest::addRow("DEL") << QByteArray("/api/foos/1/\x7f") << QByteArray("GET") << same << QByteArray() << true;
        QTest::addRow("bad escape") << QByteArray("/api/foos/%zz/") << QByteArray("GET") << same << QByteArray() << true;
        QTest::addRow("an escaped NUL") << QByteArray("/api/foos/%00x/") << QByteArray("GET") << same << QByteArray() << true;
        QTest::addRow("escape cut short") << QByteArray("/api/foos/%3") << QByteArray("GET") << same << QByteArray() << true;
        QTest::addRow("no slash") << QByteArray("api/foos/1/") << QByteArray("GET") << same << QByteArray() << true;
        QTest::addRow("authority-form") << QByteArray("example.com:443") << QByteArray("CONNECT") << same << QByteArray() << true;
        QTest::addRow("userinfo") << QByteArray("http://user:pw@h/api/foos/") << QByteArray("GET") << same << QByteArray() << true;
        QTest::addRow("empty authority") << QByteArray("http:///api/foos/") << QByteArray("GET") << same << QByteArray() << true;
        QTest::addRow("another scheme") << QByteArray("ftp://h/api/foos/") << QByteArray("GET") << same << QByteArray() << true;
    }
    void originForm()
    {
        QFETCH(QByteArray, sent);
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, authority);
        QFETCH(bool, malformed);
        const RequestSyntax::Target form = RequestSyntax::originForm(sent, method);
        QCOMPARE(form.problem != nullptr, malformed);
        if (malformed)
            return;
        QCOMPARE(form.changed, !target.isNull());
        if (form.changed)
            QCOMPARE(form.target, target);
        QCOMPARE(form.authority, authority);
    }

    void decodedPath()
    {
        QCOMPARE(RequestSyntax::decodedPath("/api/foos/%31/?page=%32"), QByteArray("/api/foos/1/"));
        QCOMPARE(RequestSyntax::decodedPath("/a+b%20c"), QByteArray("/a+b c"));
    }

    // Each refused as nginx refuses it, with one DRF-style answer, and the connection closes.
    void refusedOnTheWire_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<QByteArray>("detail");
        const QByteArray end = " HTTP/1.1\r\nHost: x\r\n\r\n";
        const QByteArray target = "Malformed request target.";
        const QByteArray name = "Malformed header field name.";
        const QByteArray value = "Malformed header field value.";
        QTest::addRow("method not a token") << "G@T /api/foos/1/" + end << QByteArray("Malformed request method.");
        QTest::addRow("space in the target") << "GET /api/foos/1 /" + end << target;
        QTest::addRow("control byte in the target") << "GET /api/foos/\x01/" + end << target;
        QTest::addRow("NUL in the target") << QByteArray("GET /api/foos/1/\0", 17) + end << target;
        QTest::addRow("NUL inside the target") << QByteArray("GET /api/\0foos/1/", 17) + end << target;
        QTest::addRow("bad escape") << "GET /api/foos/%zz/" + end << target;
        QTest::addRow("no leading slash") << "GET api/foos/1/" + end << target;
        QTest::addRow("GET *") << "GET *" + end << target;
        QTest::addRow("CONNECT") << "CONNECT example.com:443" + end << target;
        QTest::addRow("userinfo") << "GET http://u@x/api/foos/1/" + end << target;
        QTest::addRow("space before the colon (smuggling)")
            << QByteArray("POST /api/foos/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n") << name;
        QTest::addRow("space in a name") << QByteArray("GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n") << name;
        QTest::addRow("bare CR in a value") << QByteArray("GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n") << value;
        QTest::addRow("NUL in the method") << QByteArray("GE\0T /api/foos/1/", 17) + end << QByteArray("Malformed request method.");
        QTest::addRow("NUL in the method, two spaces") << QByteArray("GE\0T  /api/foos/1/", 18) + end << QByteArray("Malformed request method.");
        QTest::addRow("escaped NUL in the path") << "GET /api/foos/%00x/" + end << target;
        // libmicrohttpd's value ends at a NUL; the rest of the line must not vanish unseen.
        QTest::addRow("NUL in a value") << QByteArray("GET /api/foos/1/ HTTP/1.1\r\nX-A: a\0junk\r\nHost: x\r\n\r\n", 51) << value;
        QTest::addRow("NUL in the last value") << QByteArray("GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\nX-A: a\0junk\r\n\r\n", 51) << value;
        QTest::addRow("NUL ending a value") << QByteArray("GET /api/foos/1/ HTTP/1.1\r\nX-A: a\0\r\nHost: x\r\n\r\n", 47) << value;
        QTest::addRow("NUL in a value, bare LF") << QByteArray("GET /api/foos/1/ HTTP/1.1\nX-A: a\0junk\nHost: x\n\n", 47) << value;
        // obs-fold in a framing header: a proxy that unfolds it reads chunked, we read the length.
        QTest::addRow("folded Transfer-Encoding with Content-Length")
            << QByteArray("POST /api/foos/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n") << value;
        QTest::addRow("folded value, tab") << QByteArray("GET /api/foos/1/ HTTP/1.1\r\nX-A: a\r\n\tb\r\nHost: x\r\n\r\n") << value;
        QTest::addRow("absolute-form, invalid Host header")
            << QByteArray("GET http://x/api/foos/1/ HTTP/1.1\r\nHost: a b\r\n\r\n") << QByteArray("Invalid HTTP_HOST header.");
    }
    void refusedOnTheWire()
    {
        QFETCH(QByteArray, request);
        QFETCH(QByteArray, detail);
        HttpFixture f;
        QVERIFY(f.ok);
        bool closed = false;
        const QByteArray raw = rawRequest(f.port(), request, &closed);
        QCOMPARE(statusOf(raw), 400);
        QVERIFY2(framingProblem(raw).isEmpty(), framingProblem(raw).constData());
        QVERIFY2(raw.endsWith("\r\n\r\n{\"detail\":\"" + detail + "\"}"), raw.constData());
        QVERIFY(raw.contains("\r\nContent-Type: application/json\r\n"));
        QVERIFY(closed);
        QCOMPARE(f.get(QStringLiteral("/api/foos/1/")).status, 200);
    }

    // What a client may send and nginx serves: the same bytes as the plain request.
    void servedOnTheWire_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addRow("absolute-form") << QByteArray("GET http://x/api/foos/2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        QTest::addRow("absolute-form, escaped pk") << QByteArray("GET http://x:80/api/foos/%32/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        QTest::addRow("a fragment") << QByteArray("GET /api/foos/2/#bars HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        QTest::addRow("two spaces before the version") << QByteArray("GET /api/foos/2/  HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        QTest::addRow("a tab in a value") << QByteArray("GET /api/foos/2/ HTTP/1.1\r\nHost: x\r\nX-A: a\tb\r\nConnection: close\r\n\r\n");
        QTest::addRow("a control byte in a value") << QByteArray("GET /api/foos/2/ HTTP/1.1\r\nHost: x\r\nX-A: a\x01\r\nConnection: close\r\n\r\n");
        QTest::addRow("a name nginx ignores") << QByteArray("GET /api/foos/2/ HTTP/1.1\r\nHost: x\r\nX/Y: 1\r\nConnection: close\r\n\r\n");
        QTest::addRow("two spaces after the method") << QByteArray("GET  /api/foos/2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        QTest::addRow("bare LF line ends") << QByteArray("GET /api/foos/2/ HTTP/1.1\nHost: x\nX-A: b\nConnection: close\n\n");
        QTest::addRow("an empty value") << QByteArray("GET /api/foos/2/ HTTP/1.1\r\nHost: x\r\nX-A:\r\nX-B: \r\nConnection: close\r\n\r\n");
        QTest::addRow("a value with trailing spaces") << QByteArray("GET /api/foos/2/ HTTP/1.1\r\nHost: x\r\nX-A: b  \r\nConnection: close\r\n\r\n");
        QTest::addRow("keep-alive, then the same") << QByteArray("GET /api/foos/1/ HTTP/1.1\r\nHost: x\r\n\r\nGET http://x/api/foos/2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    }
    void servedOnTheWire()
    {
        QFETCH(QByteArray, request);
        HttpFixture f;
        QVERIFY(f.ok);
        QByteArray raw = rawRequest(f.port(), request);
        if (request.count("HTTP/1.1\r\n") == 2) { // the first answer is Foo 1's
            const QByteArray first = "\r\n\r\n" + f.live(1);
            QVERIFY2(raw.indexOf(first) > 0, raw.constData());
            raw = raw.mid(raw.indexOf(first) + first.size());
        }
        QCOMPARE(statusOf(raw), 200);
        QVERIFY2(framingProblem(raw).isEmpty(), framingProblem(raw).constData());
        QVERIFY(raw.endsWith("\r\n\r\n" + f.live(2)));
    }

    // An absolute-form target's authority stands in for the Host header (RFC 9112 3.2.2): the
    // pagination links name it.
    void absoluteFormAuthorityMakesTheLinks()
    {
        HttpServerOptions options;
        options.pageSize = 2;
        HttpFixture f(options);
        QVERIFY(f.ok);
        const QByteArray raw = rawRequest(f.port(), "GET http://api.example:8000/api/foos/?page=2 HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n");
        QCOMPARE(statusOf(raw), 200);
        QVERIFY2(raw.contains("\"next\":\"http://api.example:8000/api/foos/?page=3\""), raw.constData());
        QVERIFY2(raw.contains("\"previous\":\"http://api.example:8000/api/foos/\""), raw.constData());
        const QByteArray bad = rawRequest(f.port(), "GET http://a_b/api/foos/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        QCOMPARE(statusOf(bad), 400);
        QVERIFY2(bad.endsWith("{\"detail\":\"Invalid HTTP_HOST header.\"}"), bad.constData());
    }
};

QTEST_MAIN(TestRequestSyntax)
#include "tst_requestsyntax.moc"
