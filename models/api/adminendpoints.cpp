// The admin endpoints (only with a token), /healthz. Jobs start on the cache service's thread
// (queued: no serving thread waits for it); status and health checks run on the server's workers.
#include "adminendpoints.h"

#include "api/endpoints.h"

#include "api/drfreplies.h"
#include "api/httpstatus.h"
#include "api/negotiation.h"

#include "cache/cacheservice.h"
#include "cache/cachestore.h"
#include "cache/workerpool.h"
#include "cache/workertasks.h"
#include "db/database.h"
#include "db/missingfoos.h"
#include "serialize/serializer.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>

#include <openssl/crypto.h>

namespace {

// What each admin route accepts; every reply of the route (401, 403, 405 included) names it in Allow.
struct AdminRoute {
    QByteArray method;
    const char *allow;
    QByteArray name; // DRF's view name, for OPTIONS
};

AdminRoute describe(const QByteArray &route)
{
    if (route == "status")
        return { "GET", "GET, HEAD, OPTIONS", "Status" };
    if (route.startsWith("impact-"))
        return { "GET", "GET, HEAD, OPTIONS", "Impact" };
    if (route == "invalidate")
        return { "DELETE", "DELETE, OPTIONS", "Cache" };
    if (route == "rollback")
        return { "POST", "POST, OPTIONS", "Rollback" };
    return { "POST", "POST, OPTIONS", "Refresh" };
}

Reply unauthorized(const QByteArray &message, const char *allow)
{
    Reply reply = DrfReplies::error(HttpStatus::Unauthorized, message, allow);
    reply.headers.append(ReplyHeader { "WWW-Authenticate", "Bearer realm=\"api\"" });
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

// A read-only connection takes no refresh or invalidation, whatever the store: read-only means no
// writes anywhere (Redis included).
bool cannotWrite(const ApiShared &api)
{
    return api.service.config().database.readOnly;
}

QByteArray jobBody(int job)
{
    return QJsonDocument(QJsonObject { { QStringLiteral("job"), job } }).toJson(QJsonDocument::Compact);
}

using StartJob = std::function<int(CacheService &)>;

// Any thread. Starts a job on the service's thread and answers 202 with its id from there.
void startJob(const ApiSharedPtr &api, const std::shared_ptr<ReplyLater> &deferral, StartJob start, const char *allow)
{
    QPointer<CacheService> service(&api->service);
    QMetaObject::invokeMethod(
        &api->service,
        [service, deferral, start, allow] {
            if (service)
                deferral->complete(DrfReplies::json(HttpStatus::Accepted, jobBody(start(*service)), allow));
        },
        Qt::QueuedConnection);
}

// What POST /api/refresh/ asks for: {"stale":true}, or {"pks":[…]}.
struct RefreshRequest {
    bool stale = false;
    QList<qint64> pks;
};

std::variant<RefreshRequest, Reply> parseRefresh(const HttpRequest &request)
{
    const char *allow = "POST, OPTIONS";
    if (!request.contentType.toLower().startsWith("application/json"))
        return DrfReplies::error(HttpStatus::UnsupportedMediaType,
                                    "Unsupported media type \"" + request.contentType + "\" in request.", allow);
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(request.body, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return DrfReplies::error(HttpStatus::BadRequest, "JSON parse error - " + parseError.errorString().toUtf8(), allow);
    const QJsonObject object = document.object();
    if (object.value(QStringLiteral("stale")).toBool())
        return RefreshRequest { true, {} };
    const QJsonValue pks = object.value(QStringLiteral("pks"));
    RefreshRequest refresh;
    for (const QJsonValue &value : pks.toArray()) {
        const double number = value.toDouble(-1);
        if (!value.isDouble() || number != double(qint64(number)))
            return DrfReplies::error(HttpStatus::BadRequest, "\"pks\" must be a list of Foo primary keys.", allow);
        refresh.pks << qint64(number);
    }
    if (!pks.isArray())
        return DrfReplies::error(HttpStatus::BadRequest, "Expected {\"pks\": [...]} or {\"stale\": true}.", allow);
    return refresh;
}

// DRF's answer when a PrimaryKeyRelatedField(many=True) meets pks with no row: 400, one message per pk.
Reply unknownPks(const QList<qint64> &missing)
{
    QJsonArray messages;
    for (qint64 pk : missing)
        messages.append(QStringLiteral("Invalid pk \"%1\" - object does not exist.").arg(pk));
    return DrfReplies::json(HttpStatus::BadRequest,
                               QJsonDocument(QJsonObject { { QStringLiteral("pks"), messages } }).toJson(QJsonDocument::Compact),
                               "POST, OPTIONS");
}

// On a worker of the server's pool (the lookup may block on the database): every pk must name a
// Foo, else 404 (one pk, a detail route) or 400 (the list of POST /api/refresh/); then the job.
void startForExistingFoos(const ApiSharedPtr &api, WorkerPool &pool, const std::shared_ptr<ReplyLater> &deferral,
                          const QList<qint64> &pks, bool detailRoute, StartJob start, const char *allow)
{
    pool.post([api, deferral, pks, detailRoute, start, allow](WorkerContext &context) {
        if (!context.database) {
            deferral->complete(serverError(QStringLiteral("the database is unavailable: %1").arg(context.databaseError)));
            return;
        }
        const auto missing = missingFoos(*context.database, pks);
        if (!missing) {
            WorkerTasks::dropDatabaseIfBroken(context, missing.error()); // reopened by the next task
            deferral->complete(serverError(missing.error().message));
        } else if (missing->isEmpty()) {
            startJob(api, deferral, start, allow);
        } else {
            deferral->complete(detailRoute ? DrfReplies::error(HttpStatus::NotFound, "Not found.", allow) : unknownPks(*missing));
        }
    });
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

std::optional<Reply> Endpoints::authenticate(const ApiShared &api, const HttpRequest &request, const char *allow)
{
    // DRF's TokenAuthentication with keyword "Bearer", word for word.
    const QList<QByteArray> words = request.authorization.simplified().split(' ');
    if (request.authorization.trimmed().isEmpty() || words.first().toLower() != "bearer")
        return unauthorized("Authentication credentials were not provided.", allow);
    if (words.size() == 1)
        return unauthorized("Invalid token header. No credentials provided.", allow);
    if (words.size() > 2)
        return unauthorized("Invalid token header. Token string should not contain spaces.", allow);
    if (!sameToken(words[1], api.options.adminToken))
        return unauthorized("Invalid token.", allow);
    return std::nullopt;
}

// DRF's order: the method, then authentication (IsAuthenticated covers OPTIONS too), then the
// permission (read-only), then the object (404).
std::optional<Reply> Endpoints::admin(const ApiSharedPtr &api, WorkerPool &pool, const ApiCall &call, const QByteArray &route, qint64 pk)
{
    const HttpRequest &request = call.request;
    const AdminRoute accepted = describe(route);
    const bool options = request.method == "OPTIONS";
    if (!options && request.method != accepted.method && !(accepted.method == "GET" && request.method == "HEAD"))
        return DrfReplies::methodNotAllowed(request.method, accepted.allow);
    if (auto refused = authenticate(*api, request, accepted.allow))
        return refused;
    if (options)
        return metadataReply(accepted.name, accepted.allow);
    if (route == "status") {
        auto deferral = call.defer();
        pool.post([api, deferral](WorkerContext &) {
            const auto statuses = api->service.status(); // blocks this worker, not a serving thread
            deferral->complete(statuses ? DrfReplies::json(HttpStatus::Ok, statusJson(*statuses)) : serverError(statuses.error().message));
        });
        return std::nullopt;
    }
    if (route.startsWith("impact-")) {
        // GET /api/impact/<bar|zab|baz>/<id>/: what `preserve impact` prints with --json.
        const auto level = nodeLevelNamed(QString::fromLatin1(route.mid(7)));
        auto deferral = call.defer();
        pool.post([api, deferral, level, pk](WorkerContext &) {
            const auto impact = api->service.impact(*level, pk); // blocks this worker, not a serving thread
            if (!impact)
                deferral->complete(serverError(impact.error().message));
            else if (!impact->nodeName)
                deferral->complete(DrfReplies::error(HttpStatus::NotFound, "Not found.", "GET, HEAD, OPTIONS"));
            else
                deferral->complete(DrfReplies::json(HttpStatus::Ok, impact->toJson()));
        });
        return std::nullopt;
    }
    if (cannotWrite(*api))
        return DrfReplies::error(HttpStatus::Forbidden, "The server's connection is read-only: no refresh or invalidation.",
                                    accepted.allow);
    if (route == "refresh-many") {
        auto parsed = parseRefresh(request);
        if (auto *reply = std::get_if<Reply>(&parsed))
            return *reply;
        const RefreshRequest refresh = std::get<RefreshRequest>(parsed);
        auto deferral = call.defer();
        if (refresh.stale)
            startJob(api, deferral, [](CacheService &service) { return service.refreshStale(); }, accepted.allow);
        else
            startForExistingFoos(api, pool, deferral, refresh.pks, false,
                                 [pks = refresh.pks](CacheService &service) { return service.refresh(pks); }, accepted.allow);
        return std::nullopt;
    }
    if (route == "rollback") {
        // POST /api/foos/<pk>/rollback/: 200 and the state the entry put back has, or 404.
        auto deferral = call.defer();
        pool.post([api, deferral, pk, allow = accepted.allow](WorkerContext &) {
            const Status rolled = api->service.rollback(pk); // blocks this worker, not a serving thread
            if (!rolled) {
                deferral->complete(rolled.error().kind == Error::Kind::NotFound
                                       ? DrfReplies::error(HttpStatus::NotFound, rolled.error().message.toUtf8(), allow)
                                       : serverError(rolled.error().message));
                return;
            }
            QJsonObject body { { QStringLiteral("pk"), pk }, { QStringLiteral("rolled_back"), true } };
            if (const auto statuses = api->service.status()) {
                for (const EntryStatus &status : *statuses) {
                    if (status.pk == pk) {
                        body.insert(QStringLiteral("state"), entryStateName(status.state));
                        body.insert(QStringLiteral("reason"), status.reason);
                    }
                }
            }
            deferral->complete(DrfReplies::json(HttpStatus::Ok, QJsonDocument(body).toJson(QJsonDocument::Compact), allow));
        });
        return std::nullopt;
    }
    StartJob start = route == "refresh" ? StartJob([pk](CacheService &service) { return service.refresh({ pk }); })
                                        : StartJob([pk](CacheService &service) { return service.invalidate({ pk }); });
    startForExistingFoos(api, pool, call.defer(), { pk }, true, start, accepted.allow);
    return std::nullopt;
}

std::optional<Reply> Endpoints::health(const ApiSharedPtr &api, WorkerPool &pool, const ApiCall &call)
{
    auto deferral = call.defer();
    pool.post([deferral](WorkerContext &context) {
        QString databaseProblem = context.database ? QString() : context.databaseError;
        if (context.database) {
            // Through Django's table, not "SELECT 1": a SQLite file replaced or emptied under an open
            // connection still answers that.
            const QString sql = QStringLiteral("SELECT 1 FROM %1 LIMIT 1").arg(DjangoTables::quote(context.database->tables().foo));
            if (auto ping = context.database->run(sql); !ping) {
                databaseProblem = ping.error().message;
                WorkerTasks::dropDatabaseIfBroken(context, ping.error()); // reopened by the next task
            }
        }
        QString storeProblem = context.store ? QString() : context.storeError;
        if (context.store) {
            if (auto ping = context.store->get(-1); !ping) {
                storeProblem = ping.error().message;
                // As the cache service does: a column store with a dead connection is reopened before
                // the next task, or health would report this connection's failure forever.
                WorkerTasks::noteStoreError(context, ping.error());
            }
        }
        QJsonObject body { { QStringLiteral("status"), QStringLiteral("ok") } };
        int status = HttpStatus::Ok;
        if (!databaseProblem.isEmpty() && !storeProblem.isEmpty()) {
            status = HttpStatus::ServiceUnavailable;
            body = { { QStringLiteral("status"), QStringLiteral("unavailable") },
                     { QStringLiteral("reason"), QStringLiteral("database: %1; store: %2").arg(databaseProblem, storeProblem) } };
        } else if (!storeProblem.isEmpty() || !databaseProblem.isEmpty()) {
            body = { { QStringLiteral("status"), QStringLiteral("degraded") },
                     { QStringLiteral("reason"), storeProblem.isEmpty() ? QStringLiteral("database: %1 (serving what is cached)").arg(databaseProblem)
                                                                        : QStringLiteral("store: %1 (serving live)").arg(storeProblem) } };
        }
        deferral->complete(DrfReplies::json(status, QJsonDocument(body).toJson(QJsonDocument::Compact)));
    });
    Q_UNUSED(api);
    return std::nullopt;
}
