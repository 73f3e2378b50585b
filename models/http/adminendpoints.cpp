// The admin endpoints (only with a token), /healthz. Jobs start on the cache service's thread
// (queued: no serving thread waits for it); status and health checks run on the server's workers.
#include "apicontext.h"

#include "cache/cachestore.h"
#include "cache/cacheservice.h"
#include "cache/serviceinternals.h"
#include "cache/workerpool.h"
#include "db/database.h"
#include "serialize/serializer.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>

#include <openssl/crypto.h>

#include <microhttpd.h>

namespace {

Reply unauthorized(const QByteArray &message)
{
    Reply reply = HttpResponses::error(MHD_HTTP_UNAUTHORIZED, message);
    HttpResponses::addHeader(reply.response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"api\"");
    return reply;
}

// Compares digests of both, with CRYPTO_memcmp: the time taken says nothing of how much of the
// token was right, nor of its length.
bool sameToken(const QByteArray &given, const QByteArray &expected)
{
    const QByteArray a = QCryptographicHash::hash(given, QCryptographicHash::Sha256);
    const QByteArray b = QCryptographicHash::hash(expected, QCryptographicHash::Sha256);
    return CRYPTO_memcmp(a.constData(), b.constData(), size_t(a.size())) == 0;
}

QByteArray jobBody(int job)
{
    return QJsonDocument(QJsonObject { { QStringLiteral("job"), job } }).toJson(QJsonDocument::Compact);
}

// Starts a job on the service's thread and answers 202 with its id from there.
void startJob(const ApiSharedPtr &api, const std::shared_ptr<Deferral> &deferral, std::function<int(CacheService &)> start)
{
    QPointer<CacheService> service(&api->service);
    QMetaObject::invokeMethod(
        &api->service,
        [service, deferral, start] {
            if (service)
                deferral->complete(HttpResponses::json(MHD_HTTP_ACCEPTED, jobBody(start(*service)), "POST, DELETE, OPTIONS"));
        },
        Qt::QueuedConnection);
}

// {"pks":[1,2]} or {"stale":true}; the service call to make, or the 400 to send.
std::variant<std::function<int(CacheService &)>, Reply> parseRefresh(const HttpRequest &request)
{
    if (!request.contentType.toLower().startsWith("application/json"))
        return HttpResponses::error(MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                    "Unsupported media type \"" + request.contentType + "\" in request.", "POST, OPTIONS");
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(request.body, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return HttpResponses::error(MHD_HTTP_BAD_REQUEST, "JSON parse error - " + parseError.errorString().toUtf8(), "POST, OPTIONS");
    const QJsonObject object = document.object();
    if (object.value(QStringLiteral("stale")).toBool())
        return [](CacheService &service) { return service.refreshStale(); };
    const QJsonValue pks = object.value(QStringLiteral("pks"));
    QList<qint64> list;
    for (const QJsonValue &value : pks.toArray()) {
        const double number = value.toDouble(-1);
        if (!value.isDouble() || number != double(qint64(number)))
            return HttpResponses::error(MHD_HTTP_BAD_REQUEST, "\"pks\" must be a list of Foo primary keys.", "POST, OPTIONS");
        list << qint64(number);
    }
    if (!pks.isArray())
        return HttpResponses::error(MHD_HTTP_BAD_REQUEST, "Expected {\"pks\": [...]} or {\"stale\": true}.", "POST, OPTIONS");
    return [list](CacheService &service) { return service.refresh(list); };
}

QByteArray statusJson(const QList<EntryStatus> &statuses)
{
    QJsonArray entries;
    for (const EntryStatus &status : statuses) {
        entries.append(QJsonObject {
            { QStringLiteral("pk"), status.pk },
            { QStringLiteral("name"), status.name },
            { QStringLiteral("state"), entryStateName(status.state) },
            { QStringLiteral("reason"), status.reason },
            { QStringLiteral("cached_at"), status.cachedAt.isValid() ? QJsonValue(status.cachedAt.toString(Qt::ISODateWithMs)) : QJsonValue() },
            { QStringLiteral("size"), status.size },
            { QStringLiteral("digest"), QString::fromLatin1(status.digest) },
            { QStringLiteral("serializer_version"), status.serializerVersion },
        });
    }
    return QJsonDocument(entries).toJson(QJsonDocument::Compact);
}

} // namespace

std::optional<Reply> Endpoints::authenticate(const ApiShared &api, const HttpRequest &request)
{
    // DRF's TokenAuthentication with keyword "Bearer", word for word.
    const QList<QByteArray> words = request.authorization.simplified().split(' ');
    if (request.authorization.trimmed().isEmpty() || words.first().toLower() != "bearer")
        return unauthorized("Authentication credentials were not provided.");
    if (words.size() == 1)
        return unauthorized("Invalid token header. No credentials provided.");
    if (words.size() > 2)
        return unauthorized("Invalid token header. Token string should not contain spaces.");
    if (!sameToken(words[1], api.options.adminToken))
        return unauthorized("Invalid token.");
    return std::nullopt;
}

std::optional<Reply> Endpoints::admin(const ApiSharedPtr &api, WorkerPool &pool, HttpExchange &exchange, const QByteArray &route, qint64 pk)
{
    const HttpRequest &request = exchange.request;
    const QByteArray method = route == "status" ? "GET" : route == "invalidate" ? "DELETE" : "POST";
    if (request.method != method && !(method == "GET" && request.method == "HEAD"))
        return HttpResponses::methodNotAllowed(request.method, method == "GET" ? "GET, HEAD, OPTIONS" : method + ", OPTIONS");
    if (auto refused = authenticate(*api, request))
        return refused;
    if (route == "status") {
        auto deferral = exchange.defer();
        pool.post([api, deferral](WorkerContext &) {
            const auto statuses = api->service.status(); // blocks this worker, not a serving thread
            deferral->complete(statuses ? HttpResponses::json(MHD_HTTP_OK, statusJson(*statuses)) : serverError(statuses.error().message));
        });
        return std::nullopt;
    }
    std::function<int(CacheService &)> start;
    if (route == "refresh-many") {
        auto parsed = parseRefresh(request);
        if (auto *reply = std::get_if<Reply>(&parsed))
            return *reply;
        start = std::get<0>(parsed);
    } else if (route == "refresh") {
        start = [pk](CacheService &service) { return service.refresh({ pk }); };
    } else {
        start = [pk](CacheService &service) { return service.invalidate({ pk }); };
    }
    auto deferral = exchange.defer();
    startJob(api, deferral, start);
    return std::nullopt;
}

std::optional<Reply> Endpoints::health(const ApiSharedPtr &api, WorkerPool &pool, HttpExchange &exchange)
{
    auto deferral = exchange.defer();
    pool.post([deferral](WorkerContext &context) {
        QString databaseProblem = context.database ? QString() : context.databaseError;
        if (context.database) {
            // Through Django's table, not "SELECT 1": a SQLite file replaced or emptied under an open
            // connection still answers that.
            const QString sql = QStringLiteral("SELECT 1 FROM %1 LIMIT 1").arg(DjangoTables::quote(context.database->tables().foo));
            if (auto ping = context.database->run(sql); !ping) {
                databaseProblem = ping.error().message;
                ServiceInternals::dropDatabaseIfBroken(context, ping.error()); // reopened by the next task
            }
        }
        QString storeProblem = context.store ? QString() : context.storeError;
        if (context.store) {
            if (auto ping = context.store->get(-1); !ping) {
                storeProblem = ping.error().message;
                // As the cache service does: a column store with a dead connection is reopened before
                // the next task, or health would report this connection's failure forever.
                ServiceInternals::noteStoreError(context, ping.error());
            }
        }
        QJsonObject body { { QStringLiteral("status"), QStringLiteral("ok") } };
        int status = MHD_HTTP_OK;
        if (!databaseProblem.isEmpty() && !storeProblem.isEmpty()) {
            status = MHD_HTTP_SERVICE_UNAVAILABLE;
            body = { { QStringLiteral("status"), QStringLiteral("unavailable") },
                     { QStringLiteral("reason"), QStringLiteral("database: %1; store: %2").arg(databaseProblem, storeProblem) } };
        } else if (!storeProblem.isEmpty() || !databaseProblem.isEmpty()) {
            body = { { QStringLiteral("status"), QStringLiteral("degraded") },
                     { QStringLiteral("reason"), storeProblem.isEmpty() ? QStringLiteral("database: %1 (serving what is cached)").arg(databaseProblem)
                                                                        : QStringLiteral("store: %1 (serving live)").arg(storeProblem) } };
        }
        deferral->complete(HttpResponses::json(status, QJsonDocument(body).toJson(QJsonDocument::Compact)));
    });
    Q_UNUSED(api);
    return std::nullopt;
}
