#include "entry.h"

#include <QCoreApplication>
#include <QObject>
#include <QScopeGuard>
#include <QSysInfo>

#include <openssl/sha.h>
#include <zlib.h>

QByteArray digestOf(QByteArrayView body)
{
    // OpenSSL's SHA-256 uses the CPU's SHA instructions: ~15x QCryptographicHash's speed here,
    // which matters at 20 MB per warm.
    unsigned char hash[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char *>(body.data()), size_t(body.size()), hash);
    return QByteArray::fromRawData(reinterpret_cast<const char *>(hash), sizeof hash).toHex();
}

QByteArray gzipCompress(QByteArrayView data, int level)
{
    z_stream stream {};
    // windowBits 15 + 16: a gzip header and trailer, what Content-Encoding: gzip means.
    if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return {};
    QByteArray out;
    out.resize(qsizetype(deflateBound(&stream, uLong(data.size()))));
    stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
    stream.avail_in = uInt(data.size());
    stream.next_out = reinterpret_cast<Bytef *>(out.data());
    stream.avail_out = uInt(out.size());
    const int rc = deflate(&stream, Z_FINISH);
    const auto written = qsizetype(stream.total_out);
    deflateEnd(&stream);
    if (rc != Z_STREAM_END)
        return {};
    out.resize(written);
    out.squeeze();
    return out;
}

Result<std::unique_ptr<SpillFile>> gzipCompressFile(const SpillFile &source, int level)
{
    auto target = SpillFile::create();
    if (!target)
        return target.error();
    z_stream stream {};
    if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return Error::io(QObject::tr("cannot compress a temporary file"));
    const auto end = qScopeGuard([&stream] { deflateEnd(&stream); });
    QByteArray out(1 << 20, Qt::Uninitialized);
    constexpr qint64 block = 1 << 20;
    for (qint64 offset = 0;; offset += block) {
        auto bytes = source.read(offset, block);
        if (!bytes)
            return bytes.error();
        const bool last = offset + block >= source.size();
        stream.next_in = reinterpret_cast<Bytef *>(bytes->data());
        stream.avail_in = uInt(bytes->size());
        int rc = Z_OK;
        do {
            stream.next_out = reinterpret_cast<Bytef *>(out.data());
            stream.avail_out = uInt(out.size());
            rc = deflate(&stream, last ? Z_FINISH : Z_NO_FLUSH);
            if (rc == Z_STREAM_ERROR)
                return Error::io(QObject::tr("cannot compress a temporary file"));
            if (auto written = (*target)->append(QByteArrayView(out.constData(), out.size() - qsizetype(stream.avail_out))); !written)
                return written.error();
        } while (stream.avail_out == 0);
        if (last) {
            if (rc != Z_STREAM_END)
                return Error::io(QObject::tr("cannot compress a temporary file"));
            break;
        }
    }
    if (auto written = (*target)->finish(); !written)
        return written.error();
    return target;
}

QByteArray gzipDecompress(QByteArrayView data)
{
    z_stream stream {};
    if (inflateInit2(&stream, 15 + 16) != Z_OK)
        return {};
    stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
    stream.avail_in = uInt(data.size());
    QByteArray out;
    char buffer[65536];
    int rc = Z_OK;
    while (rc == Z_OK) {
        stream.next_out = reinterpret_cast<Bytef *>(buffer);
        stream.avail_out = sizeof buffer;
        rc = inflate(&stream, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END)
            break;
        out.append(buffer, qsizetype(sizeof buffer - stream.avail_out));
    }
    inflateEnd(&stream);
    return rc == Z_STREAM_END ? out : QByteArray();
}

EntryPtr makeEntry(qint64 pk, QByteArray body, QByteArray gzip, QByteArray digest, const EntryMetadata &metadata)
{
    auto entry = std::make_shared<Entry>();
    entry->pk = pk;
    entry->body = std::move(body);
    entry->gzip = std::move(gzip);
    entry->digest = std::move(digest);
    entry->cachedAt = metadata.cachedAt;
    entry->serializerVersion = metadata.serializerVersion;
    entry->builtBy = metadata.builtBy;
    entry->buildMicros = metadata.buildMicros;
    entry->changePosition = metadata.changePosition;
    entry->foreign = metadata.foreign;
    return entry;
}

EntryPtr makeEntry(qint64 pk, QByteArray body, const EntryMetadata &metadata)
{
    QByteArray gzip = gzipCompress(body);
    QByteArray digest = digestOf(body);
    return makeEntry(pk, std::move(body), std::move(gzip), std::move(digest), metadata);
}

QString builderName()
{
    // The host name once per process: looking it up for every entry was a uname() per refresh.
    static const QString host = QSysInfo::machineHostName();
    return QStringLiteral("preserve %1 on %2 (pid %3)")
        .arg(QCoreApplication::applicationVersion().isEmpty() ? QStringLiteral("?")
                                                              : QCoreApplication::applicationVersion(),
             host)
        .arg(QCoreApplication::applicationPid());
}

QString isoUtc(const QDateTime &time)
{
    return time.isValid() ? time.toUTC().toString(Qt::ISODateWithMs) : QString();
}
