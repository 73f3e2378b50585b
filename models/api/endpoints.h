#pragma once

#include "api/apicall.h"
#include "api/apishared.h"
#include "core/result.h"

#include <QLoggingCategory>

#include <optional>

Q_DECLARE_LOGGING_CATEGORY(lcApi) // "preserve.http": what the operator's log should say

// The answer for one entry: 304 when If-None-Match hits, the gzip copy when accepted, X-Cache as
// given. A HIT on a stored entry is marked reusable (the transport builds it once per entry).
Reply entryReply(const ApiShared &api, const HttpRequest &request, const EntryPtr &entry, const QByteArray &cache);
QByteArray cacheLabel(int outcome); // Telemetry::Outcome → "HIT", "MISS", "STALE", "BYPASS"
// 200 with what DRF's SimpleMetadata answers to OPTIONS on a view that takes no input it describes.
Reply metadataReply(const QByteArray &viewName, const char *allow);
// 500 with DRF's generic body; the reason goes to the log, never to the client.
Reply serverError(const QString &reason);

// The endpoints every route shares. Each endpoint is called on a serving thread and answers now,
// or calls call.defer() and returns std::nullopt, completing the deferral later from a worker. The
// others live in detailendpoint.h, listendpoint.h and adminendpoints.h.
namespace Endpoints {
std::optional<Reply> options(const HttpRequest &request, bool list);
std::optional<Reply> metrics(const ApiSharedPtr &api);
} // namespace Endpoints
