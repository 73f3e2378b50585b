// What every endpoint shares: entry answers, outcomes, errors, OPTIONS and /metrics.
#include "endpoints.h"

#include "api/drfreplies.h"
#include "api/httpstatus.h"
#include "api/negotiation.h"
#include "cache/cacheservice.h"
#include "serialize/jsonstring.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcApi, "preserve.http", QtInfoMsg)

QByteArray cacheLabel(int outcome)
{
    switch (Telemetry::Outcome(outcome)) {
    case Telemetry::Outcome::Hit: return "HIT";
    case Telemetry::Outcome::Miss: return "MISS";
    case Telemetry::Outcome::Stale: return "STALE";
    case Telemetry::Outcome::Bypass: return "BYPASS";
    case Telemetry::Outcome::Error: break;
    }
    return "MISS";
}

Reply serverError(const QString &reason)
{
    qCWarning(lcApi).noquote() << "answering 500:" << reason;
    return DrfReplies::error(HttpStatus::InternalServerError, "A server error occurred.");
}

Reply entryReply(const ApiShared &api, const HttpRequest &request, const EntryPtr &entry, const QByteArray &cache)
{
    static const ReplyHeaders notModifiedHeaders = { { QByteArrayLiteral("Vary"), QByteArrayLiteral("Accept, Accept-Encoding") } };
    const bool gzip = !entry->gzip.isEmpty() && Negotiation::acceptsGzip(request.acceptEncoding);
    const bool notModified = Negotiation::noneMatchHits(request.ifNoneMatch, entry->digest);
    Reply reply;
    reply.status = notModified ? HttpStatus::NotModified : HttpStatus::Ok;
    reply.headers = notModified ? notModifiedHeaders : DrfReplies::apiHeaders(true);
    reply.representation = Representation { entry->digest, gzip, entry->cachedAt, api.options.cacheControl };
    reply.entry = entry;
    reply.gzip = gzip;
    if (notModified)
        reply.length = (gzip ? entry->gzip : entry->body).size();
    else
        reply.json = entry->body;
    reply.cache = cache;
    reply.reusable = cache == "HIT" && entry->pk > 0; // pages and lists (pk 0) are not stored entries
    return reply;
}

Reply metadataReply(const QByteArray &viewName, const char *allow)
{
    QByteArray body = "{\"name\":";
    appendJsonString(body, viewName);
    body += ",\"description\":\"\",\"renders\":[\"application/json\"],\"parses\":[\"application/json\","
            "\"application/x-www-form-urlencoded\",\"multipart/form-data\"]}";
    return DrfReplies::json(HttpStatus::Ok, body, allow);
}

std::optional<Reply> Endpoints::options(const HttpRequest &request, bool list)
{
    Q_UNUSED(request);
    // What DRF's SimpleMetadata answers for a read-only view (no "actions": no POST/PUT allowed).
    return metadataReply(list ? "Foo List" : "Foo Instance", "GET, HEAD, OPTIONS");
}

std::optional<Reply> Endpoints::metrics(const ApiSharedPtr &api)
{
    Reply reply;
    reply.status = HttpStatus::Ok;
    reply.body = api->service.telemetry().prometheus();
    reply.body += "# HELP preserve_api_foo_id_reads_total Times the list read every Foo id from the database.\n"
                  "# TYPE preserve_api_foo_id_reads_total counter\n"
                  "preserve_api_foo_id_reads_total "
        + QByteArray::number(api->pksReads.load()) + '\n';
    if (api->transportMetrics)
        reply.body += api->transportMetrics();
    reply.headers = { { "Content-Type", "text/plain; version=0.0.4; charset=utf-8" } };
    return reply;
}
