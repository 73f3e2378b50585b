#pragma once
// Shared by the HTTP server tests: a small demo database, a cache service and a server on a free
// port, a QNetworkAccessManager client and a raw socket client for what QNAM would not send.

#include "cache/cacheservice.h"
#include "db/database.h"
#include "db/seeder.h"
#include "http/httpserver.h"
#include "serialize/serializer.h"
#include "testsupport.h"

#include <QDeadlineTimer>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>

#include <memory>

struct HttpAnswer {
    int status = 0;
    QByteArray body;
    QHash<QByteArray, QByteArray> headers; // lower-case names
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QByteArray header(const QByteArray &name) const { return headers.value(name.toLower()); }
};

// An ordinary request through QNAM (redirects not followed, no automatic decompression).
inline HttpAnswer httpRequest(QNetworkAccessManager &manager, const QUrl &url, const QByteArray &method = "GET",
                              const QList<std::pair<QByteArray, QByteArray>> &headers = {}, const QByteArray &body = {})
{
    QNetworkRequest request(url);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    bool hasEncoding = false;
    for (const auto &[name, value] : headers) {
        request.setRawHeader(name, value);
        hasEncoding = hasEncoding || name.compare("Accept-Encoding", Qt::CaseInsensitive) == 0;
    }
    if (!hasEncoding)
        request.setRawHeader("Accept-Encoding", "identity");
    QNetworkReply *reply = manager.sendCustomRequest(request, method, body);
    QSignalSpy finished(reply, &QNetworkReply::finished);
    if (!reply->isFinished())
        finished.wait(20000);
    HttpAnswer answer;
    answer.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    answer.body = reply->readAll();
    answer.error = reply->error();
    for (const auto &pair : reply->rawHeaderPairs())
        answer.headers.insert(pair.first.toLower(), pair.second);
    reply->deleteLater();
    return answer;
}

// Raw bytes to the server; everything it answers until it closes the connection or `timeoutMs`
// passes without a byte. `closed` tells which.
inline QByteArray rawRequest(quint16 port, const QByteArray &bytes, bool *closed = nullptr, int timeoutMs = 5000)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return "connect failed";
    socket.write(bytes);
    socket.waitForBytesWritten(5000);
    QByteArray answer;
    while (socket.state() == QAbstractSocket::ConnectedState && socket.waitForReadyRead(timeoutMs))
        answer += socket.readAll();
    answer += socket.readAll();
    if (closed)
        *closed = socket.state() != QAbstractSocket::ConnectedState;
    return answer;
}

inline int statusOf(const QByteArray &raw)
{
    return raw.mid(9, 3).toInt(); // "HTTP/1.1 200 OK"
}

// One answer read off a raw keep-alive connection: the head, then Content-Length bytes of body.
struct RawAnswer {
    int status = 0;
    QByteArray head;
    QByteArray body;
    bool complete = false;
    QByteArray header(const QByteArray &name) const
    {
        for (const QByteArray &line : head.split('\n')) {
            const qsizetype colon = line.indexOf(':');
            if (colon > 0 && line.left(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
                return line.mid(colon + 1).trimmed();
        }
        return {};
    }
};

// Empty when `raw` (everything read until the server closed) is exactly one answer: a head, then
// Content-Length bytes of body and no second head; else what is wrong, with the bytes. One thing
// may follow: libmicrohttpd's own HTML error of the same status, which it sends after the server's
// answer to the errors it finds before any handler (LibraryAnswers); a client reading by
// Content-Length and Connection: close never sees it, and it is no second answer to anything.
inline QByteArray framingProblem(const QByteArray &raw)
{
    const qsizetype end = raw.indexOf("\r\n\r\n");
    if (end < 0)
        return "no complete head: " + raw.left(200);
    RawAnswer answer { statusOf(raw), raw.left(end + 2), raw.mid(end + 4), true };
    bool number = false;
    const qint64 length = answer.header("Content-Length").toLongLong(&number);
    if (!number || length > answer.body.size() || answer.head.contains("\r\nHTTP/1."))
        return "not one answer: " + raw.left(400);
    const QByteArray rest = answer.body.mid(length);
    answer.body.truncate(length);
    const bool libraryLeftover = rest.startsWith(raw.left(12)) && rest.contains("<html><head><title>")
        && !answer.body.contains("HTTP/1.");
    if (!rest.isEmpty() && !libraryLeftover)
        return "not one answer: " + raw.left(400);
    return {};
}

// `head`: the answer to a HEAD request (Content-Length tells, but no body follows).
inline RawAnswer readAnswer(QTcpSocket &socket, int timeoutMs = 10000, bool head = false)
{
    RawAnswer answer;
    QByteArray buffer;
    qsizetype headEnd = -1;
    qint64 length = -1;
    QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        buffer += socket.readAll();
        if (headEnd < 0 && (headEnd = buffer.indexOf("\r\n\r\n")) >= 0) {
            answer.head = buffer.left(headEnd + 2);
            answer.status = statusOf(answer.head);
            length = head ? 0 : answer.header("Content-Length").toLongLong();
        }
        if (headEnd >= 0 && buffer.size() >= headEnd + 4 + length) {
            answer.body = buffer.mid(headEnd + 4, length);
            answer.complete = true;
            return answer;
        }
        if (deadline.hasExpired() || (socket.state() != QAbstractSocket::ConnectedState && !socket.bytesAvailable()))
            return answer;
        socket.waitForReadyRead(int(qBound(qint64(1), deadline.remainingTime(), qint64(1000))));
    }
}

// A seeded small database, a service and a server for one test.
class HttpFixture {
public:
    // `memoryBytes` > 0: the memory tier's size instead of the default.
    explicit HttpFixture(HttpServerOptions options = {}, const QString &scale = QStringLiteral("small"),
                         qint64 memoryBytes = 0)
    {
        path = dir.filePath(QStringLiteral("demo.sqlite3"));
        const auto written = Seeder::write(path, *Seeder::scale(scale), QStringLiteral("api"));
        QVERIFY2(written, qPrintable(why(written)));
        config.database = DatabaseConfig::parse(path).value();
        config.watch = false;
        if (memoryBytes > 0)
            config.memoryBytes = memoryBytes;
        service = std::make_unique<CacheService>(config);
        server = std::make_unique<HttpServer>(*service);
        const auto port = server->start(options);
        QVERIFY2(port, qPrintable(why(port)));
        base = server->url();
        ok = true;
    }

    QUrl url(const QString &pathAndQuery) const { return QUrl(base.toString().chopped(1) + pathAndQuery); }
    QByteArray live(qint64 pk)
    {
        auto database = Database::open(config.database);
        Serializer serializer(**database);
        return serializer.foo(pk).value();
    }
    QByteArray liveList()
    {
        auto database = Database::open(config.database);
        Serializer serializer(**database);
        return serializer.list().value();
    }
    HttpAnswer get(const QString &target, const QList<std::pair<QByteArray, QByteArray>> &headers = {},
                   const QByteArray &method = "GET", const QByteArray &body = {})
    {
        return httpRequest(manager, url(target), method, headers, body);
    }
    quint16 port() const { return server->port(); }
    // Renames Foo `pk` to "renamed" in the database and refreshes its entry; false if either failed
    // or the refresh did not end within 10 s.
    bool renameAndRefresh(qint64 pk)
    {
        {
            auto database = Database::open(config.database);
            if (!database || !(*database)->run(QStringLiteral("UPDATE api_foo SET name = 'renamed' WHERE id = %1").arg(pk)))
                return false;
        }
        QSignalSpy finished(service.get(), &CacheService::jobFinished);
        service->refresh({ pk });
        return finished.wait(10000);
    }

    QTemporaryDir dir;
    QString path;
    CacheConfig config;
    std::unique_ptr<CacheService> service;
    std::unique_ptr<HttpServer> server;
    QNetworkAccessManager manager;
    QUrl base;
    bool ok = false;
};
