#include "requestsyntax.h"

#include <cstring>

namespace RequestSyntax {

namespace {

bool isTchar(char c)
{
    if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
        return true;
    return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool isControl(char c)
{
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
}

bool isHex(char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

bool startsWithCaseless(QByteArrayView text, QByteArrayView prefix)
{
    return text.size() >= prefix.size() && qstrnicmp(text.data(), prefix.data(), prefix.size()) == 0;
}

bool percentEncodingValid(QByteArrayView path)
{
    for (qsizetype i = 0; i < path.size(); ++i) {
        if (path[i] != '%')
            continue;
        if (i + 2 >= path.size() || !isHex(path[i + 1]) || !isHex(path[i + 2]))
            return false;
        if (path[i + 1] == '0' && path[i + 2] == '0') // libmicrohttpd decodes it: the path would end there
            return false;
        i += 2;
    }
    return true;
}

} // namespace

bool isToken(QByteArrayView text)
{
    if (text.isEmpty())
        return false;
    for (const char c : text) {
        if (!isTchar(c))
            return false;
    }
    return true;
}

const char *methodProblem(QByteArrayView method)
{
    return isToken(method) ? nullptr : "Malformed request method.";
}

const char *fieldProblem(QByteArrayView name, QByteArrayView value)
{
    if (name.isEmpty())
        return "Malformed header field name.";
    for (const char c : name) {
        if (c == ' ' || isControl(c))
            return "Malformed header field name.";
    }
    if (value.contains('\r'))
        return "Malformed header field value.";
    return nullptr;
}

Target originForm(QByteArrayView sent, QByteArrayView method)
{
    Target result;
    qsizetype end = sent.size();
    while (end > 0 && sent[end - 1] == ' ')
        --end;
    QByteArrayView target = sent.first(end);
    result.changed = end != sent.size();
    for (const char c : target) {
        if (c == ' ' || isControl(c)) {
            result.problem = "Malformed request target.";
            return result;
        }
    }
    if (const qsizetype hash = target.indexOf('#'); hash >= 0) {
        target = target.first(hash);
        result.changed = true;
    }
    if (target == "*") {
        if (method != "OPTIONS")
            result.problem = "Malformed request target.";
        if (result.changed)
            result.target = target.toByteArray();
        return result;
    }
    if (!target.startsWith('/')) {
        const qsizetype scheme = startsWithCaseless(target, "http://") ? 7 : startsWithCaseless(target, "https://") ? 8 : 0;
        if (scheme == 0) {
            result.problem = "Malformed request target.";
            return result;
        }
        qsizetype authorityEnd = scheme;
        while (authorityEnd < target.size() && target[authorityEnd] != '/' && target[authorityEnd] != '?')
            ++authorityEnd;
        const QByteArrayView authority = target.sliced(scheme, authorityEnd - scheme);
        if (authority.isEmpty() || authority.contains('@')) {
            result.problem = "Malformed request target.";
            return result;
        }
        result.authority = authority.toByteArray();
        const QByteArrayView rest = target.sliced(authorityEnd);
        result.target = rest.startsWith('/') ? rest.toByteArray() : "/" + rest.toByteArray();
        result.changed = true;
    } else if (result.changed) {
        result.target = target.toByteArray();
    }
    const QByteArrayView origin = result.changed ? QByteArrayView(result.target) : target;
    const qsizetype question = origin.indexOf('?');
    if (!percentEncodingValid(question < 0 ? origin : origin.first(question)))
        result.problem = "Malformed request target.";
    return result;
}

QByteArray decodedPath(QByteArrayView target)
{
    const qsizetype question = target.indexOf('?');
    return QByteArray::fromPercentEncoding((question < 0 ? target : target.first(question)).toByteArray());
}

} // namespace RequestSyntax
