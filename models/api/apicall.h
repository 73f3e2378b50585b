#pragma once

#include "api/httprequest.h"
#include "api/replylater.h"

#include <functional>
#include <memory>

// One request as the API sees it: what was asked, and how to answer later. An endpoint answers
// now (a Reply), or calls defer() and answers through what it returns from a worker.
struct ApiCall {
    const HttpRequest &request;
    std::function<std::shared_ptr<ReplyLater>()> defer;
};
