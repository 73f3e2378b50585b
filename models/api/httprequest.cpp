#include "httprequest.h"

namespace {

QByteArray decodeQueryPart(QByteArray part)
{
    part.replace('+', ' ');
    return QByteArray::fromPercentEncoding(part);
}

} // namespace

QList<std::pair<QByteArray, QByteArray>> HttpRequest::queryItems() const
{
    QList<std::pair<QByteArray, QByteArray>> items;
    for (const QByteArray &item : query.split('&')) {
        if (item.isEmpty())
            continue;
        const qsizetype equals = item.indexOf('=');
        items.append({ decodeQueryPart(equals < 0 ? item : item.left(equals)), equals < 0 ? QByteArray() : decodeQueryPart(item.mid(equals + 1)) });
    }
    return items;
}

bool validHost(QByteArrayView host)
{
    const auto hex = [](char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); };
    const auto nameChar = [](char c) {
        return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '.' || c == '-';
    };
    qsizetype i = 0;
    const qsizetype n = host.size();
    if (n > 0 && host[0] == '[') { // \[[a-f0-9]*:[a-f0-9.:]+\]
        const qsizetype close = host.indexOf(']');
        if (close < 0)
            return false;
        const QByteArrayView inner = host.sliced(1, close - 1);
        const qsizetype colon = inner.indexOf(':');
        if (colon < 0 || colon + 1 >= inner.size())
            return false;
        for (qsizetype k = 0; k < inner.size(); ++k) {
            const char c = inner[k];
            if (!(hex(c) || (k >= colon && (c == ':' || (k > colon && c == '.')))))
                return false;
        }
        i = close + 1;
    } else {
        while (i < n && nameChar(host[i]))
            ++i;
        if (i == 0 || (i == 1 && host[0] == '.')) // Django drops one trailing dot: nothing is left of "."
            return false;
    }
    if (i == n)
        return true;
    if (host[i] != ':' || i + 1 == n)
        return false;
    for (++i; i < n; ++i) {
        if (host[i] < '0' || host[i] > '9')
            return false;
    }
    return true;
}

const char *HttpRequest::hostProblem() const
{
    if (hostHeaders > 1)
        return "More than one Host header.";
    if (hostHeaders == 0 && version == "HTTP/1.1")
        return "An HTTP/1.1 request needs a Host header.";
    if ((!host.isNull() && !validHost(host)) || (!authority.isNull() && !validHost(authority))) // an empty one too
        return "Invalid HTTP_HOST header.";
    return nullptr;
}

std::optional<std::pair<int, QByteArray>> HttpRequest::framingProblem() const
{
    if (!transferEncoding.isNull() && contentLengthHeaders > 0)
        return std::pair<int, QByteArray>(400, "Request has both Content-Length and Transfer-Encoding.");
    if (contentLengthHeaders > 1)
        return std::pair<int, QByteArray>(400, "More than one Content-Length header.");
    if (transferEncodingHeaders > 1) // libmicrohttpd reads the first only: "chunked" then "gzip" was chunked
        return std::pair<int, QByteArray>(400, "More than one Transfer-Encoding header.");
    if (!transferEncoding.isNull() && transferEncoding.trimmed().compare("chunked", Qt::CaseInsensitive) != 0)
        return std::pair<int, QByteArray>(501, "Transfer-Encoding \"" + transferEncoding + "\" not implemented.");
    return std::nullopt;
}

std::optional<QByteArray> HttpRequest::queryValue(const QByteArray &name) const
{
    std::optional<QByteArray> value;
    for (const auto &[key, itemValue] : queryItems()) {
        if (key == name)
            value = itemValue;
    }
    return value;
}
