#pragma once

#include "api/apicall.h"
#include "api/apishared.h"

#include <QList>

struct WorkerContext;

// DRF's PageNumberPagination over `pks`: one page, its results spliced from the cached bodies.
Reply pagedList(ApiShared &api, const HttpRequest &request, WorkerContext &context, const QList<qint64> &pks, bool live);
