#include "reply.h"

#include "api/negotiation.h"

const QByteArray &Reply::payload() const
{
    static const QByteArray none;
    if (status == 304 || indent > 0 || file)
        return none;
    if (entry)
        return gzip ? entry->gzip : entry->body;
    return body;
}

qint64 Reply::bodyBytes() const
{
    if (status == 304)
        return 0;
    if (file && indent <= 0)
        return file->size();
    return indent > 0 ? length : payload().size();
}

qint64 Reply::contentLength() const
{
    if (status == 304 || indent > 0)
        return qMax<qint64>(length, 0);
    return file ? file->size() : payload().size();
}

ReplyHeaders Reply::allHeaders() const
{
    if (!representation && !gzip)
        return headers;
    ReplyHeaders all = headers;
    if (representation) {
        if (!representation->digest.isEmpty())
            all.append(ReplyHeader { "ETag", Negotiation::entityTag(representation->digest, representation->gzipTag) });
        if (representation->lastModified.isValid())
            all.append(ReplyHeader { "Last-Modified", Negotiation::httpDate(representation->lastModified) });
        if (!representation->cacheControl.isEmpty())
            all.append(ReplyHeader { "Cache-Control", representation->cacheControl });
    }
    if (!cache.isEmpty() && representation)
        all.append(ReplyHeader { "X-Cache", cache });
    if (gzip && status != 304)
        all.append(ReplyHeader { "Content-Encoding", "gzip" });
    return all;
}

QByteArray Reply::header(QByteArrayView name) const
{
    for (const ReplyHeader &header : allHeaders()) {
        if (header.name.compare(name, Qt::CaseInsensitive) == 0)
            return header.value;
    }
    return {};
}
