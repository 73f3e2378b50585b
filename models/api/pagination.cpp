// DRF's PageNumberPagination over the list: {"count":…,"next":…,"previous":…,"results":[…]},
// the results spliced from the cached bodies, next/previous built as DRF builds them.
#include "pagination.h"

#include "api/endpoints.h"
#include "api/listendpoint.h"

#include "api/drfreplies.h"
#include "api/httpstatus.h"
#include "api/negotiation.h"

#include "cache/cacheservice.h"
#include "cache/workerpool.h"
#include "core/largebuffer.h"
#include "db/database.h"
#include "serialize/jsonstring.h"
#include "serialize/serializer.h"

#include <QRegularExpression>

#include <algorithm>

namespace {

// Pages from this size on are written into huge pages (reserveLarge).
constexpr qsizetype largePage = 1024 * 1024;

// Python's int() on the query value, as Django's Paginator.validate_number uses it: surrounding
// whitespace, a sign, ASCII digits with single underscores between them. DRF 3.14 maps "last" to
// the last page and a missing parameter to 1; an empty one (`?page=`, `?page`) reaches int('') and
// is "Invalid page.", as is one of only whitespace.
std::optional<qint64> pageNumber(const std::optional<QByteArray> &value, qint64 pages)
{
    if (!value)
        return 1;
    if (*value == "last") // compared as sent: " last" goes on to int() and fails
        return pages;
    QByteArray text = value->trimmed();
    bool negative = false;
    if (text.startsWith('+') || text.startsWith('-')) {
        negative = text.startsWith('-');
        text = text.mid(1);
    }
    static const QRegularExpression digits(QStringLiteral("^[0-9]+(_[0-9]+)*$"));
    if (!digits.match(QString::fromLatin1(text)).hasMatch())
        return std::nullopt;
    bool ok = false;
    const qint64 number = text.replace('_', "").toLongLong(&ok);
    if (!ok)
        return std::nullopt;
    return negative ? -number : number;
}

QByteArray quotePlus(const QByteArray &text)
{
    return text.toPercentEncoding(" ").replace(' ', '+'); // Python's urllib.parse.quote_plus
}

// DRF's replace_query_param / remove_query_param: the query parsed, `page` set or removed, the
// keys sorted, encoded again with quote_plus.
QByteArray pageUrl(const QByteArray &base, const HttpRequest &request, std::optional<qint64> page)
{
    QList<std::pair<QByteArray, QList<QByteArray>>> keys; // first appearance order, then sorted
    for (const auto &[key, value] : request.queryItems()) {
        auto found = std::find_if(keys.begin(), keys.end(), [&](const auto &item) { return item.first == key; });
        if (found == keys.end())
            keys.append(std::pair(key, QList<QByteArray> { value }));
        else
            found->second.append(value);
    }
    keys.removeIf([](const auto &item) { return item.first == "page"; });
    if (page)
        keys.append(std::pair(QByteArray("page"), QList<QByteArray> { QByteArray::number(*page) }));
    std::stable_sort(keys.begin(), keys.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    QByteArrayList pairs;
    for (const auto &[key, values] : keys) {
        for (const QByteArray &value : values)
            pairs << quotePlus(key) + '=' + quotePlus(value);
    }
    return pairs.isEmpty() ? base : base + '?' + pairs.join('&');
}

void appendUrlOrNull(QByteArray &out, const std::optional<QByteArray> &url)
{
    if (url)
        appendJsonString(out, *url);
    else
        out += "null";
}

// The results: spliced from the cache, or serialized live from one snapshot. Spliced entries go
// to `identity` too.
Result<int> appendResults(QByteArray &body, ApiShared &api, WorkerContext &context, const QList<qint64> &slice, bool live,
                          ListIdentity &identity)
{
    if (live) {
        if (!context.database)
            return Error::unavailable(context.databaseError);
        // One snapshot, the page's close pks read in runs; a Foo deleted meanwhile is left out.
        bool first = true;
        for (Result<QByteArray> &foo : context.serializer->foos(slice)) {
            if (!foo) {
                if (foo.error().kind != Error::Kind::NotFound)
                    return foo.error();
                continue;
            }
            if (!std::exchange(first, false))
                body += ',';
            body += *foo;
        }
        return int(Telemetry::Outcome::Bypass);
    }
    auto gathered = gatherEntries(api.service, context, slice);
    if (!gathered)
        return gathered.error();
    // One allocation for the page: appending 100 bodies of a wide file (up to 4.5 MB) to a growing
    // buffer copied and page-faulted it over and over, 40% of such a page's time.
    qsizetype more = 2; // "]}"
    for (const EntryPtr &entry : gathered->entries)
        more += entry ? entry->body.size() + 1 : 0;
    if (more >= largePage)
        reserveLarge(body, more);
    else
        body.reserve(body.size() + more);
    bool first = true;
    for (const EntryPtr &entry : gathered->entries) {
        if (!entry)
            continue;
        if (!std::exchange(first, false))
            body += ',';
        body += entry->body;
        identity.add(*entry);
    }
    return gathered->outcome;
}

} // namespace

Reply pagedList(ApiShared &api, const HttpRequest &request, WorkerContext &context, const QList<qint64> &pks, bool live)
{
    const qint64 size = api.options.pageSize;
    const qint64 count = pks.size();
    const qint64 pages = count == 0 ? 1 : (count + size - 1) / size; // Django: an empty first page is allowed
    const auto page = pageNumber(request.queryValue("page"), pages);
    if (!page || *page < 1 || *page > pages)
        return DrfReplies::error(HttpStatus::NotFound, "Invalid page.");
    const QByteArray host = request.linkHost().isEmpty() ? api.defaultHost() : request.linkHost();
    if (!validHost(host))
        return DrfReplies::error(HttpStatus::BadRequest, "Invalid HTTP_HOST header.");
    const QByteArray base = "http://" + host + request.path;
    QByteArray body = "{\"count\":" + QByteArray::number(count) + ",\"next\":";
    appendUrlOrNull(body, *page < pages ? std::optional(pageUrl(base, request, *page + 1)) : std::nullopt);
    body += ",\"previous\":";
    appendUrlOrNull(body, *page > 1 ? std::optional(pageUrl(base, request, *page == 2 ? std::nullopt : std::optional(*page - 1)))
                                    : std::nullopt);
    body += ",\"results\":[";
    // A spliced page's ETag, like the whole list's, is SHA-256 over its frame and the entries'
    // digests (each the SHA-256 of its body): hashing a page of wide's largest Foos again, 4.5 MB,
    // was a third of its time.
    ListIdentity identity;
    identity.addFrame(body);
    const auto outcome = appendResults(body, api, context, pks.mid((*page - 1) * size, size), live, identity);
    if (!outcome)
        return serverError(outcome.error().message);
    body += "]}";
    const bool gzip = Negotiation::acceptsGzip(request.acceptEncoding);
    const QByteArray digest = live ? digestOf(body) : identity.digest();
    EntryMetadata metadata;
    metadata.cachedAt = identity.lastModified();
    const EntryPtr entry = makeEntry(0, body, gzip ? gzipCompress(body) : QByteArray(), digest, metadata);
    return entryReply(api, request, entry, cacheLabel(*outcome));
}
