#include "negotiation.h"

#include <QList>
#include <QLocale>

#include <optional>

namespace Negotiation {

namespace {

// A q-value of an Accept-Encoding element ("gzip;q=0.5"); 1 when absent, 0 when unreadable.
double qualityOf(const QByteArray &parameters)
{
    for (const QByteArray &parameter : parameters.split(';')) {
        const QByteArray trimmed = parameter.trimmed();
        if (!trimmed.startsWith("q=") && !trimmed.startsWith("Q="))
            continue;
        bool ok = false;
        const double q = trimmed.mid(2).trimmed().toDouble(&ok);
        return ok ? q : 0;
    }
    return 1;
}

// Django's parse_header: the parameter names lower-cased, values stripped and unquoted.
std::optional<QByteArray> parameter(const QByteArray &range, const QByteArray &name)
{
    const QList<QByteArray> parts = range.split(';');
    for (qsizetype i = 1; i < parts.size(); ++i) {
        const QByteArray &part = parts.at(i);
        const qsizetype equals = part.indexOf('=');
        if (equals < 0 || part.left(equals).trimmed().toLower() != name)
            continue;
        QByteArray value = part.mid(equals + 1).trimmed();
        if (value.size() >= 2 && value.startsWith('"') && value.endsWith('"'))
            value = value.mid(1, value.size() - 2).replace("\\\\", "\\").replace("\\\"", "\"");
        return value;
    }
    return std::nullopt;
}

// DRF's _MediaType.precedence: 3 with a parameter other than q, 2 a full type, 1 type/*, 0 */*.
int precedence(const QByteArray &range)
{
    const qsizetype semicolon = range.indexOf(';');
    const QByteArray type = (semicolon < 0 ? range : range.left(semicolon)).trimmed();
    if (type.startsWith('*'))
        return 0;
    if (type.endsWith("/*"))
        return 1;
    const QList<QByteArray> parts = range.split(';');
    for (qsizetype i = 1; i < parts.size(); ++i) {
        const qsizetype equals = parts.at(i).indexOf('=');
        const QByteArray name = (equals < 0 ? parts.at(i) : parts.at(i).left(equals)).trimmed().toLower();
        if (!name.isEmpty() && name != "q")
            return 3;
    }
    return 2;
}

// Python's int() on a str: surrounding whitespace, an optional sign, ASCII digits.
std::optional<int> pythonInt(QByteArray text)
{
    text = text.trimmed();
    bool ok = false;
    const qlonglong value = text.toLongLong(&ok);
    if (!ok || text.isEmpty() || text.contains('.'))
        return std::nullopt;
    return int(qBound(qlonglong(-1), value, qlonglong(1000)));
}

} // namespace

QByteArray entityTag(const QByteArray &digest, bool gzip)
{
    return '"' + digest + (gzip ? "-gzip\"" : "\"");
}

bool noneMatchHits(const QByteArray &ifNoneMatch, const QByteArray &digest)
{
    if (ifNoneMatch.isEmpty() || digest.isEmpty())
        return false;
    if (ifNoneMatch.trimmed() == "*")
        return true;
    return listsTag(ifNoneMatch, entityTag(digest, false)) || listsTag(ifNoneMatch, entityTag(digest, true));
}

bool listsTag(const QByteArray &ifNoneMatch, const QByteArray &entityTag)
{
    for (QByteArray tag : ifNoneMatch.split(',')) {
        tag = tag.trimmed();
        if (tag.startsWith("W/")) // If-None-Match compares weakly
            tag = tag.mid(2);
        if (tag == entityTag)
            return true;
    }
    return false;
}

bool acceptsJson(const QByteArray &accept)
{
    if (accept.isNull())
        return true;
    for (const QByteArray &range : accept.split(',')) {
        const qsizetype semicolon = range.indexOf(';');
        const QByteArray type = (semicolon < 0 ? range : range.left(semicolon)).trimmed().toLower();
        if (type == "*/*" || type == "application/*" || type == "application/json")
            return true;
    }
    return false;
}

int acceptedIndent(const QByteArray &accept)
{
    if (accept.isEmpty())
        return 0;
    std::optional<QByteArray> chosen;
    int best = -1;
    for (const QByteArray &token : accept.split(',')) {
        const QByteArray range = token.trimmed();
        if (!acceptsJson(range))
            continue;
        if (const int rank = precedence(range); rank > best) {
            best = rank;
            chosen = range;
        }
    }
    if (!chosen)
        return 0;
    const auto value = parameter(*chosen, "indent");
    const auto number = value ? pythonInt(*value) : std::nullopt;
    return number ? qBound(0, *number, 8) : 0;
}

bool acceptsGzip(const QByteArray &acceptEncoding)
{
    double gzip = -1;
    double any = -1;
    for (const QByteArray &element : acceptEncoding.split(',')) {
        const qsizetype semicolon = element.indexOf(';');
        const QByteArray coding = (semicolon < 0 ? element : element.left(semicolon)).trimmed().toLower();
        const double q = semicolon < 0 ? 1.0 : qualityOf(element.mid(semicolon + 1));
        if (coding == "gzip" || coding == "x-gzip")
            gzip = q;
        else if (coding == "*")
            any = q;
    }
    return gzip >= 0 ? gzip > 0 : any > 0;
}

QByteArray httpDate(const QDateTime &at)
{
    return QLocale::c().toString(at.toUTC(), QStringLiteral("ddd, dd MMM yyyy hh:mm:ss 'GMT'")).toLatin1();
}

} // namespace Negotiation
