// The HTTP server against a real client on a free port: endpoints, DRF's bytes and headers,
// conditional and compressed answers, hostile input, single flight, graceful stop.
#include "httpfixture.h"

#include "json/jsonvalue.h"
#include "json/jsonwrite.h"
#include "staleness/changetracking.h"

#include <QLoggingCategory>
#include <QTest>
#include <QTimer>

#include <unistd.h>


namespace {

// Every cached body in the sendfile() band, so the small demo takes that path.
HttpServerOptions wholeFileBand()
{
    HttpServerOptions options;
    options.fileResponseMin = 0;
    options.fileResponseMax = -1;
    options.maxConnections = 64; // leaves descriptors for the files under any usual limit
    return options;
}

// One sample of /metrics, -1 when absent.
qint64 metricValue(HttpFixture &f, const QByteArray &name)
{
    const HttpAnswer metrics = f.get(QStringLiteral("/metrics"));
    for (const QByteArray &line : metrics.body.split('\n')) {
        if (line.startsWith(name + ' '))
            return line.mid(name.size() + 1).toLongLong();
    }
    return -1;
}

} // namespace

class TestHttpServer : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QLoggingCategory::setFilterRules(QStringLiteral("preserve.http.info=false")); }

    void detailIsTheLiveBodyWithDrfHeaders()
    {
        HttpFixture f;
        QVERIFY(f.ok);
        const QByteArray live = f.live(3);
        const HttpAnswer miss = f.get(QStringLiteral("/api/foos/3/"));
        QCOMPARE(miss.status, 200);
        COMPARE_BODIES(miss.body, live);
        QCOMPARE(miss.header("X-Cache"), QByteArray("MISS"));
        const HttpAnswer hit = f.get(QStringLiteral("/api/foos/3/"));
        COMPARE_BODIES(hit.body, live);
        QCOMPARE(hit.header("X-Cache"), QByteArray("HIT"));
        QCOMPARE(hit.header("Content-Type"), QByteArray("application/json"));
        QCOMPARE(hit.header("Allow"), QByteArray("GET, HEAD, OPTIONS"));
        QCOMPARE(hit.header("X-Content-Type-Options"), QByteArray("nosniff"));
        QCOMPARE(hit.header("X-Frame-Options"), QByteArray("DENY"));
        QCOMPARE(hit.header("Referrer-Policy"), QByteArray("same-origin"));
        QCOMPARE(hit.header("Vary"), QByteArray("Accept, Accept-Encoding"));
        QCOMPARE(hit.header("ETag"), '"' + digestOf(live) + '"');
        QCOMPARE(hit.header("Content-Length").toLongLong(), live.size());
        const QDateTime modified = QLocale::c().toDateTime(QString::fromLatin1(hit.header("Last-Modified")),
                                                           QStringLiteral("ddd, dd MMM yyyy hh:mm:ss 'GMT'"));
        QVERIFY2(modified.isValid(), hit.header("Last-Modified").constData());
        QVERIFY(qAbs(modified.secsTo(QDateTime::currentDateTimeUtc())) < 120);
        QVERIFY(hit.header("Cache-Control").isEmpty());
    }

    void listIsSplicedFromTheEntries()
    {
        HttpFixture f;
        QVERIFY(f.ok);
        const QByteArray live = f.liveList();
        const HttpAnswer first = f.get(QStringLiteral("/api/foos/"));
        QCOMPARE(first.status, 200);
        COMPARE_BODIES(first.body, live);
        QCOMPARE(first.header("X-Cache"), QByteArray("MISS"));
        const HttpAnswer second = f.get(QStringLiteral("/api/foos/"));
        COMPARE_BODIES(second.body, live);
        QCOMPARE(second.header("X-Cache"), QByteArray("HIT"));
        QCOMPARE(second.header("ETag"), first.header("ETag"));
        // One Foo renamed and refreshed: a new list with a new tag.
        QVERIFY(f.renameAndRefresh(3));
        const HttpAnswer third = f.get(QStringLiteral("/api/foos/"));
        QVERIFY(third.body.contains("\"renamed\""));
        COMPARE_BODIES(third.body, f.liveList());
        QVERIFY(third.header("ETag") != first.header("ETag"));
    }

    // A list longer than half the memory tier goes out from a temporary file (sendfile): the same
    // bytes, Content-Length, gzip coding, 304 and HEAD as a list held in memory.
    void aLongListIsSentFromAFile()
    {
        HttpFixture f({}, QStringLiteral("small"), 16 * 1024);
        QVERIFY(f.ok);
        const QByteArray live = f.liveList();
        QVERIFY(live.size() > 8 * 1024);
        for (int round = 0; round < 2; ++round) { // spliced, then the same file again
            const HttpAnswer answer = f.get(QStringLiteral("/api/foos/"));
            QCOMPARE(answer.status, 200);
            COMPARE_BODIES(answer.body, live);
            QCOMPARE(answer.header("Content-Length"), QByteArray::number(live.size()));
            const HttpAnswer gzip = f.get(QStringLiteral("/api/foos/"), { { "Accept-Encoding", "gzip" } });
            QCOMPARE(gzip.header("Content-Encoding"), QByteArray("gzip"));
            COMPARE_BODIES(gzipDecompress(gzip.body), live);
            const HttpAnswer same = f.get(QStringLiteral("/api/foos/"), { { "If-None-Match", answer.header("ETag") } });
            QCOMPARE(same.status, 304);
            QCOMPARE(same.header("Content-Length"), QByteArray::number(live.size()));
            // Indented as DRF would, streamed from a map of the file (gzip asked for too: not given).
            const HttpAnswer indented = f.get(QStringLiteral("/api/foos/"), { { "Accept", "application/json; indent=4" },
                                                                               { "Accept-Encoding", "gzip" } });
            QCOMPARE(indented.status, 200);
            QCOMPARE(indented.header("Content-Encoding"), QByteArray());
            QVERIFY2(indented.body.startsWith("[\n    {\n        \"name\": "), indented.body.left(80).constData());
            const auto reparsed = parseJson(indented.body);
            QVERIFY(reparsed);
            COMPARE_BODIES(writeCompactJson(*reparsed), live);
        }
        bool closed = false;
        const QByteArray raw = rawRequest(f.port(), "HEAD /api/foos/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &closed);
        QCOMPARE(statusOf(raw), 200);
        QVERIFY2(raw.endsWith("\r\n\r\n"), raw.constData());
        QVERIFY2(raw.contains("\r\nContent-Length: " + QByteArray::number(live.size()) + "\r\n"), raw.constData());
        // One Foo renamed and refreshed: the file is written again, with a new tag.
        const QByteArray tag = f.get(QStringLiteral("/api/foos/")).header("ETag");
        QVERIFY(f.renameAndRefresh(3));
        const HttpAnswer changed = f.get(QStringLiteral("/api/foos/"));
        QVERIFY(changed.body.contains("\"renamed\""));
        COMPARE_BODIES(changed.body, f.liveList());
        QVERIFY(changed.header("ETag") != tag);
    }

    // Entries not in memory are read from the store in bulk; one whose Foo changed since (a
    // tracked change) is never among them: the list has that Foo's live body.
    void listNeverSplicesAStaleStoredEntry()
    {
        HttpFixture f;
        QVERIFY(f.ok);
        {
            auto database = Database::open(f.config.database);
            QVERIFY(ChangeTracking::install(**database));
        }
        const HttpAnswer first = f.get(QStringLiteral("/api/foos/"));
        COMPARE_BODIES(first.body, f.liveList());
        f.service->memory().clear(); // every entry now comes from the store
        {
            auto database = Database::open(f.config.database);
            QVERIFY((*database)->run(QStringLiteral("UPDATE api_foo SET name = 'renamed' WHERE id = 3")));
        }
        const HttpAnswer second = f.get(QStringLiteral("/api/foos/"));
        QCOMPARE(second.status, 200);
        QVERIFY(second.body.contains("\"renamed\""));
        COMPARE_BODIES(second.body, f.liveList());
        QCOMPARE(second.header("X-Cache"), QByteArray("MISS")); // Foo 3 was serialized again
        // The fresh ones were kept in memory on the way: the next list is a hit.
        const HttpAnswer third = f.get(QStringLiteral("/api/foos/"));
        COMPARE_BODIES(third.body, second.body);
        QCOMPARE(third.header("X-Cache"), QByteArray("HIT"));
    }

    void notModified_data()
    {
        QTest::addColumn<QString>("target");
        QTest::addColumn<QByteArray>("ifNoneMatch"); // %1: the body's digest
        QTest::addColumn<int>("status");
        QTest::addRow("detail exact") << "/api/foos/2/" << QByteArray("\"%1\"") << 304;
        QTest::addRow("detail weak") << "/api/foos/2/" << QByteArray("W/\"%1\"") << 304;
        QTest::addRow("detail star") << "/api/foos/2/" << QByteArray("*") << 304;
        QTest::addRow("detail in a list") << "/api/foos/2/" << QByteArray("\"x\", W/\"y\", \"%1\"") << 304;
        QTest::addRow("detail other") << "/api/foos/2/" << QByteArray("\"0123\"") << 200;
        QTest::addRow("list exact") << "/api/foos/" << QByteArray("\"%1\"") << 304;
        QTest::addRow("list star") << "/api/foos/" << QByteArray("*") << 304;
        QTest::addRow("list other") << "/api/foos/" << QByteArray("W/\"nope\"") << 200;
    }
    void notModified()
    {
        QFETCH(QString, target);
        QFETCH(QByteArray, ifNoneMatch);
        QFETCH(int, status);
        HttpFixture f;
        QVERIFY(f.ok);
        const HttpAnswer first = f.get(target);
        const QByteArray tag = first.header("ETag").mid(1).chopped(1);
        const HttpAnswer answer = f.get(target, { { "If-None-Match", QByteArray(ifNoneMatch).replace("%1", tag) } });
        QCOMPARE(answer.status, status);
        if (status == 304) {
            QVERIFY(answer.body.isEmpty());
            QCOMPARE(answer.header("ETag"), first.header("ETag"));
            // RFC 9110 §8.6: the length the 200 would have, or none; never 0 for a body.
            QCOMPARE(answer.header("Content-Length"), QByteArray::number(first.body.size()));
        } else {
            QCOMPARE(answer.body, first.body);
        }
    }

    void gzipRoundTrip_data()
    {
        QTest::addColumn<QString>("target");
        QTest::addColumn<QByteArray>("acceptEncoding");
        QTest::addColumn<bool>("gzip");
        QTest::addRow("detail gzip") << "/api/foos/5/" << QByteArray("gzip") << true;
        QTest::addRow("detail q-values") << "/api/foos/5/" << QByteArray("br;q=1.0, gzip;q=0.5") << true;
        QTest::addRow("detail gzip refused") << "/api/foos/5/" << QByteArray("gzip;q=0, deflate") << false;
        QTest::addRow("detail star") << "/api/foos/5/" << QByteArray("*") << true;
        QTest::addRow("list gzip") << "/api/foos/" << QByteArray("deflate, gzip") << true;
        QTest::addRow("list identity") << "/api/foos/" << QByteArray("identity") << false;
    }
    void gzipRoundTrip()
    {
        QFETCH(QString, target);
        QFETCH(QByteArray, acceptEncoding);
        QFETCH(bool, gzip);
        HttpFixture f;
        QVERIFY(f.ok);
        const QByteArray live = target.endsWith(QLatin1String("foos/")) ? f.liveList() : f.live(5);
        for (int round = 0; round < 2; ++round) { // a miss, then a hit (prebuilt answer)
            const HttpAnswer answer = f.get(target, { { "Accept-Encoding", acceptEncoding } });
            QCOMPARE(answer.status, 200);
            QCOMPARE(answer.header("Content-Encoding"), gzip ? QByteArray("gzip") : QByteArray());
            COMPARE_BODIES(gzip ? gzipDecompress(answer.body) : answer.body, live);
            QCOMPARE(answer.header("Vary"), QByteArray("Accept, Accept-Encoding"));
            // Revalidating this coding: a 304 that announces this coding's length.
            const HttpAnswer same = f.get(target, { { "Accept-Encoding", acceptEncoding }, { "If-None-Match", answer.header("ETag") } });
            QCOMPARE(same.status, 304);
            QCOMPARE(same.header("Content-Length"), QByteArray::number(answer.body.size()));
            QCOMPARE(same.body, QByteArray());
        }
    }

    // Cached bodies in the sendfile() band go out from an in-memory file (the whole range here, so
    // the small demo takes that path): the same bytes, headers, gzip and HEAD as from a buffer.
    void fileResponses()
    {
        const HttpServerOptions options = wholeFileBand();
        HttpFixture f(options);
        QVERIFY(f.ok);
        const QByteArray live = f.live(8);
        QCOMPARE(f.get(QStringLiteral("/api/foos/8/")).header("X-Cache"), QByteArray("MISS"));
        QCOMPARE(metricValue(f, "preserve_http_response_file_bytes"), 0); // a miss keeps no file
        qint64 gzipSize = 0;
        for (int round = 0; round < 3; ++round) { // the first builds the files, the others reuse them
            const HttpAnswer plain = f.get(QStringLiteral("/api/foos/8/"));
            QCOMPARE(plain.header("X-Cache"), QByteArray("HIT"));
            COMPARE_BODIES(plain.body, live);
            QCOMPARE(plain.header("Content-Length").toLongLong(), live.size());
            QCOMPARE(plain.header("ETag"), '"' + digestOf(live) + '"');
            const HttpAnswer gzip = f.get(QStringLiteral("/api/foos/8/"), { { "Accept-Encoding", "gzip" } });
            QCOMPARE(gzip.header("Content-Encoding"), QByteArray("gzip"));
            COMPARE_BODIES(gzipDecompress(gzip.body), live);
            gzipSize = gzip.body.size();
            const QByteArray head = rawRequest(f.port(), "HEAD /api/foos/8/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            QCOMPARE(statusOf(head), 200);
            QVERIFY2(head.endsWith("\r\n\r\n"), head.constData()); // no body
            QVERIFY2(head.contains("\r\nContent-Length: " + QByteArray::number(live.size()) + "\r\n"), head.constData());
        }
        QCOMPARE(metricValue(f, "preserve_http_response_file_bytes"), live.size() + gzipSize);
        // A new entry for the pk: its files replace the old ones, which are freed.
        {
            auto database = Database::open(f.config.database);
            QVERIFY((*database)->run(QStringLiteral("UPDATE api_foo SET name = 'renamed for the file' WHERE id = 8")));
        }
        QSignalSpy finished(f.service.get(), &CacheService::jobFinished);
        f.service->refresh({ 8 });
        QVERIFY(finished.wait(10000));
        const QByteArray renamed = f.live(8);
        QVERIFY(renamed.contains("renamed for the file"));
        COMPARE_BODIES(f.get(QStringLiteral("/api/foos/8/")).body, renamed);
        COMPARE_BODIES(f.get(QStringLiteral("/api/foos/8/")).body, renamed);
        QCOMPARE(metricValue(f, "preserve_http_response_file_bytes"), renamed.size());
    }

    // A file answer is corked while libmicrohttpd sends headers and body, and uncorked when it is
    // complete: on a keep-alive connection each answer arrives whole, also pipelined and after a
    // HEAD. A cork left on would hold every answer until the kernel's 200 ms limit: 25 in a row
    // would take four seconds or more, where they take milliseconds.
    void fileResponsesOnKeepAlive()
    {
        const HttpServerOptions options = wholeFileBand();
        HttpFixture f(options);
        QVERIFY(f.ok);
        const QByteArray live = f.live(8);
        QCOMPARE(f.get(QStringLiteral("/api/foos/8/")).header("X-Cache"), QByteArray("MISS"));
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, f.port());
        QVERIFY(socket.waitForConnected(5000));
        QElapsedTimer timer;
        timer.start();
        for (int round = 0; round < 25; ++round) {
            const bool gzip = round % 3 == 1;
            socket.write(QByteArray(round == 5 ? "HEAD" : "GET") + " /api/foos/8/ HTTP/1.1\r\nHost: x\r\n"
                         + (gzip ? "Accept-Encoding: gzip\r\n" : "") + "\r\n");
            const RawAnswer answer = readAnswer(socket, 10000, round == 5);
            QVERIFY2(answer.complete, answer.head.constData());
            QCOMPARE(answer.status, 200);
            QCOMPARE(answer.header("X-Cache"), QByteArray("HIT"));
            if (round == 5) { // headers only; the next answer starts right after them
                QCOMPARE(answer.header("Content-Length").toLongLong(), live.size());
                continue;
            }
            COMPARE_BODIES(gzip ? gzipDecompress(answer.body) : answer.body, live);
        }
        // Pipelined: the second answer is corked and uncorked right after the first.
        socket.write("GET /api/foos/8/ HTTP/1.1\r\nHost: x\r\n\r\nGET /api/foos/8/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        QByteArray both;
        while (socket.state() == QAbstractSocket::ConnectedState && socket.waitForReadyRead(5000))
            both += socket.readAll();
        both += socket.readAll();
        QCOMPARE(both.count("HTTP/1.1 200 OK"), 2);
        QVERIFY2(both.endsWith(live) && both.indexOf(live) < both.lastIndexOf(live), both.left(200).constData());
        QVERIFY2(timer.elapsed() < 2500, QByteArray::number(timer.elapsed()).constData());
        // Two files (plain and gzip), each with room for a response per serving thread.
        QCOMPARE(metricValue(f, "preserve_http_response_file_descriptors"), 2 * (1 + options.threads));
        QCOMPARE(metricValue(f, "preserve_http_response_file_bytes"), live.size() + f.get(QStringLiteral("/api/foos/8/"), { { "Accept-Encoding", "gzip" } }).body.size());
    }

    // `Accept: application/json; indent=N` is a representation of its own: the body DRF would
    // indent, its own strong ETag (so no cache mixes it with the compact one), identity coding
    // even when gzip is accepted, and a 304 only for its own tag. Byte parity with DRF is in
    // tst_drfhttp.
    void indentedRepresentation()
    {
        HttpFixture f;
        QVERIFY(f.ok);
        const QByteArray live = f.live(3);
        QCOMPARE(f.get(QStringLiteral("/api/foos/3/")).header("X-Cache"), QByteArray("MISS"));
        const QList<std::pair<QByteArray, QByteArray>> indented { { "Accept", "application/json; indent=4" }, { "Accept-Encoding", "gzip" } };
        qsizetype indentedSize = -1;
        for (int round = 0; round < 2; ++round) {
            const HttpAnswer answer = f.get(QStringLiteral("/api/foos/3/"), indented);
            QCOMPARE(answer.status, 200);
            QCOMPARE(answer.header("Content-Encoding"), QByteArray());
            QVERIFY2(answer.body.startsWith("{\n    \"name\": "), answer.body.left(80).constData());
            QVERIFY(answer.body.contains(",\n    \"bar_set\": ["));
            const auto reparsed = parseJson(answer.body);
            QVERIFY(reparsed);
            COMPARE_BODIES(writeCompactJson(*reparsed), live);
            QCOMPARE(answer.header("ETag"), '"' + digestOf(live) + "-indent4\"");
            QCOMPARE(answer.header("X-Cache"), QByteArray("HIT"));
            QCOMPARE(answer.header("Vary"), QByteArray("Accept, Accept-Encoding"));
            indentedSize = answer.body.size();
        }
        auto conditional = indented;
        conditional.append({ "If-None-Match", "W/\"" + digestOf(live) + "-indent4\"" });
        const HttpAnswer notModified = f.get(QStringLiteral("/api/foos/3/"), conditional);
        QCOMPARE(notModified.status, 304);
        QCOMPARE(notModified.header("ETag"), '"' + digestOf(live) + "-indent4\"");
        QCOMPARE(notModified.header("Content-Type"), QByteArray());
        QCOMPARE(notModified.body, QByteArray());
        QCOMPARE(notModified.header("Content-Length"), QByteArray::number(indentedSize));
        conditional.last().second = "\"" + digestOf(live) + "-indent2\""; // another indent's tag
        QCOMPARE(f.get(QStringLiteral("/api/foos/3/"), conditional).status, 200);
        const HttpAnswer compact = f.get(QStringLiteral("/api/foos/3/"), { { "Accept", "application/json; q=0.9" } });
        COMPARE_BODIES(compact.body, live);
    }

    void headSendsHeadersOnly()
    {
        HttpFixture f;
        QVERIFY(f.ok);
        const QByteArray live = f.live(4);
        for (int round = 0; round < 2; ++round) {
            bool closed = false;
            const QByteArray raw = rawRequest(f.port(), "HEAD /api/foos/4/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &closed);
            QCOMPARE(statusOf(raw), 200);
            QVERIFY2(raw.endsWith("\r\n\r\n"), raw.constData()); // no body
            QVERIFY2(raw.contains("\r\nContent-Length: " + QByteArray::number(live.size()) + "\r\n"), raw.constData());
            QVERIFY(closed);
        }
    }

    void redirects_data()
    {
        QTest::addColumn<QString>("target");
        QTest::addColumn<QByteArray>("location");
        QTest::addRow("list") << "/api/foos" << QByteArray("/api/foos/");
        QTest::addRow("list with query") << "/api/foos?page=2&x=a%20b" << QByteArray("/api/foos/?page=2&x=a%20b");
        QTest::addRow("detail") << "/api/foos/3" << QByteArray("/api/foos/3/");
        QTest::addRow("detail with query") << "/api/foos/3?a=1" << QByteArray("/api/foos/3/?a=1");
    }
    void redirects()
    {
        QFETCH(QString, target);
        QFETCH(QByteArray, location);
        HttpFixture f;
        QVERIFY(f.ok);
        const QByteArray raw = rawRequest(f.port(), "GET " + target.toLatin1() + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        QCOMPARE(statusOf(raw), 301);
        QVERIFY2(raw.contains("\r\nLocation: " + location + "\r\n"), raw.constData());
    }

    void errors_data()
    {
        QTest::addColumn<QString>("target");
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        const QByteArray notFound = "{\"detail\":\"Not found.\"}";
        QTest::addRow("unknown pk") << "/api/foos/999999/" << QByteArray("GET") << 404 << notFound;
        QTest::addRow("non-numeric pk") << "/api/foos/abc/" << QByteArray("GET") << 404 << notFound;
        QTest::addRow("negative pk") << "/api/foos/-1/" << QByteArray("GET") << 404 << notFound;
        // Django's <int:pk> is [0-9]+: a sign is no pk, escaped or not (Foo 1 and Foo 2 exist).
        QTest::addRow("plus-signed pk") << "/api/foos/+1/" << QByteArray("GET") << 404 << notFound;
        QTest::addRow("escaped plus-signed pk") << "/api/foos/%2B2/" << QByteArray("GET") << 404 << notFound;
        QTest::addRow("pk with a space") << "/api/foos/%201/" << QByteArray("GET") << 404 << notFound;
        QTest::addRow("huge pk") << "/api/foos/99999999999999999999999/" << QByteArray("GET") << 404 << notFound;
        QTest::addRow("unknown path") << "/api/bars/" << QByteArray("GET") << 404 << notFound;
        QTest::addRow("admin without token") << "/api/status/" << QByteArray("GET") << 404 << notFound;
        QTest::addRow("POST list") << "/api/foos/" << QByteArray("POST") << 405 << QByteArray("{\"detail\":\"Method \\\"POST\\\" not allowed.\"}");
        QTest::addRow("PUT detail") << "/api/foos/1/" << QByteArray("PUT") << 405 << QByteArray("{\"detail\":\"Method \\\"PUT\\\" not allowed.\"}");
        QTest::addRow("DELETE detail") << "/api/foos/1/" << QByteArray("DELETE") << 405 << QByteArray("{\"detail\":\"Method \\\"DELETE\\\" not allowed.\"}");
        QTest::addRow("PATCH detail") << "/api/foos/1/" << QByteArray("PATCH") << 405 << QByteArray("{\"detail\":\"Method \\\"PATCH\\\" not allowed.\"}");
        QTest::addRow("OPTIONS list") << "/api/foos/" << QByteArray("OPTIONS") << 200
                                      << QByteArray("{\"name\":\"Foo List\",\"description\":\"\",\"renders\":[\"application/json\"],"
                                                    "\"parses\":[\"application/json\",\"application/x-www-form-urlencoded\",\"multipart/form-data\"]}");
    }
    void errors()
    {
        QFETCH(QString, target);
        QFETCH(QByteArray, method);
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        HttpFixture f;
        QVERIFY(f.ok);
        const HttpAnswer answer = f.get(target, {}, method);
        QCOMPARE(answer.status, status);
        QCOMPARE(answer.body, body);
        QCOMPARE(answer.header("Content-Type"), QByteArray("application/json"));
        QCOMPARE(answer.header("Allow"), QByteArray("GET, HEAD, OPTIONS"));
    }

    void metricsAndHealth()
    {
        HttpFixture f;
        QVERIFY(f.ok);
        QCOMPARE(f.get(QStringLiteral("/api/foos/1/")).status, 200);
        const HttpAnswer metrics = f.get(QStringLiteral("/metrics"));
        QCOMPARE(metrics.status, 200);
        QVERIFY(metrics.header("Content-Type").startsWith("text/plain; version=0.0.4"));
        QVERIFY2(metrics.body.contains("preserve_cache_requests_total{store=\"db\",result=\"miss\"} 1"), metrics.body.constData());
        QVERIFY(metrics.body.contains("preserve_http_requests_total{code=\"2xx\"} 1"));
        const HttpAnswer health = f.get(QStringLiteral("/healthz"));
        QCOMPARE(health.status, 200);
        QCOMPARE(health.body, QByteArray("{\"status\":\"ok\"}"));
        // The database gone: no store (the column store lives in it) and no database.
        QVERIFY(QFile::rename(f.path, f.path + QStringLiteral(".gone")));
        f.server->stop(); // workers keep their open connections: start afresh
        QVERIFY(f.server->start({}));
        const HttpAnswer down = httpRequest(f.manager, QUrl(f.server->url().toString() + QStringLiteral("healthz")));
        QCOMPARE(down.status, 503);
        QVERIFY2(down.body.startsWith("{\"reason\":") || down.body.contains("\"status\":\"unavailable\""), down.body.constData());
    }

    void requestLogSignal()
    {
        HttpFixture f;
        QVERIFY(f.ok);
        QSignalSpy served(f.server.get(), &HttpServer::requestServed);
        QCOMPARE(f.get(QStringLiteral("/api/foos/7/?a=1")).status, 200);
        QTRY_COMPARE(served.count(), 1);
        const auto entry = served.first().first().value<HttpLogEntry>();
        QCOMPARE(entry.method, QByteArray("GET"));
        QCOMPARE(entry.target, QByteArray("/api/foos/7/?a=1"));
        QCOMPARE(entry.status, 200);
        QCOMPARE(entry.cache, QByteArray("MISS"));
        QCOMPARE(entry.bytes, f.live(7).size());
        QVERIFY(entry.milliseconds > 0);
        QVERIFY(formatLogLine(entry).contains(QLatin1String("\"GET /api/foos/7/?a=1 HTTP/1.1\" 200")));
    }

    void livePolicyBypasses()
    {
        HttpServerOptions options;
        options.policy = CachePolicy::Live;
        options.cacheControl = "max-age=0";
        HttpFixture f(options);
        QVERIFY(f.ok);
        for (int round = 0; round < 2; ++round) {
            const HttpAnswer detail = f.get(QStringLiteral("/api/foos/6/"));
            COMPARE_BODIES(detail.body, f.live(6));
            QCOMPARE(detail.header("X-Cache"), QByteArray("BYPASS"));
            QCOMPARE(detail.header("Cache-Control"), QByteArray("max-age=0"));
            const HttpAnswer list = f.get(QStringLiteral("/api/foos/"), { { "Accept-Encoding", "gzip" } });
            COMPARE_BODIES(gzipDecompress(list.body), f.liveList());
            QCOMPARE(list.header("X-Cache"), QByteArray("BYPASS"));
        }
        QCOMPARE(f.service->memory().stats().entries, 0);
    }

    // A live page reads its Foos together (one run); each must come out as that Foo alone does.
    void livePolicyPagesAsFoosAlone()
    {
        HttpServerOptions options;
        options.policy = CachePolicy::Live;
        options.pageSize = 5;
        HttpFixture f(options);
        QVERIFY(f.ok);
        const HttpAnswer page = f.get(QStringLiteral("/api/foos/?page=2"));
        QCOMPARE(page.status, 200);
        QCOMPARE(page.header("X-Cache"), QByteArray("BYPASS"));
        QByteArray results = "[";
        for (qint64 pk = 6; pk <= 10; ++pk)
            results += (pk > 6 ? "," : "") + f.live(pk);
        results += ']';
        QVERIFY(page.body.endsWith(R"("results":)" + results + '}'));
    }

    void fiftyParallelMissesSerializeOnce()
    {
        HttpFixture f;
        QVERIFY(f.ok);
        QCOMPARE(f.get(QStringLiteral("/api/foos/1/")).status, 200); // a hit for later
        const auto missesBefore = f.service->telemetry().snapshot().stores.value(QStringLiteral("db")).requests[size_t(Telemetry::Outcome::Miss)];
        f.service->holdWorkers(true);
        std::vector<std::unique_ptr<QTcpSocket>> sockets;
        for (int i = 0; i < 50; ++i) {
            sockets.push_back(std::make_unique<QTcpSocket>());
            sockets.back()->connectToHost(QHostAddress::LocalHost, f.port());
            QVERIFY(sockets.back()->waitForConnected(5000));
            sockets.back()->write("GET /api/foos/12/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            QVERIFY(sockets.back()->waitForBytesWritten(5000));
        }
        QTRY_VERIFY_WITH_TIMEOUT(f.get(QStringLiteral("/metrics")).body.contains("preserve_http_requests_waiting 50\n"), 10000);
        // Hits do not wait behind the suspended misses.
        const HttpAnswer hit = f.get(QStringLiteral("/api/foos/1/"));
        QCOMPARE(hit.header("X-Cache"), QByteArray("HIT"));
        f.service->holdWorkers(false);
        const QByteArray live = f.live(12);
        int misses = 0;
        for (auto &socket : sockets) {
            QByteArray raw;
            while (socket->state() == QAbstractSocket::ConnectedState && socket->waitForReadyRead(10000))
                raw += socket->readAll();
            raw += socket->readAll();
            QCOMPARE(statusOf(raw), 200);
            QVERIFY(raw.endsWith(live));
            misses += raw.contains("X-Cache: MISS") ? 1 : 0;
        }
        QCOMPARE(misses, 50); // all waited for the one serialization
        const auto snapshot = f.service->telemetry().snapshot();
        QCOMPARE(snapshot.stores.value(QStringLiteral("db")).requests[size_t(Telemetry::Outcome::Miss)], missesBefore + 1);
    }

    void gracefulStopFinishesInFlight()
    {
        HttpFixture f;
        QVERIFY(f.ok);
        f.service->holdWorkers(true);
        QNetworkRequest request(f.url(QStringLiteral("/api/foos/9/")));
        QNetworkReply *reply = f.manager.get(request);
        QTRY_VERIFY_WITH_TIMEOUT(f.get(QStringLiteral("/metrics")).body.contains("preserve_http_requests_waiting 1\n"), 10000);
        QTimer::singleShot(0, f.service.get(), [&] { f.service->holdWorkers(false); });
        f.server->stop(); // waits, processing events: the timer releases the workers
        QVERIFY(!f.server->isRunning());
        QSignalSpy finished(reply, &QNetworkReply::finished);
        if (!reply->isFinished())
            QVERIFY(finished.wait(10000));
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        COMPARE_BODIES(reply->readAll(), f.live(9));
        delete reply;
        QCOMPARE(rawRequest(quint16(f.base.port()), "GET / HTTP/1.1\r\n\r\n"), QByteArray("connect failed")); // nobody listens
    }
};

QTEST_GUILESS_MAIN(TestHttpServer)
#include "tst_httpserver.moc"
