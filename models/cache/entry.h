#pragma once

#include "core/result.h"
#include "core/spillfile.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>
#include <QString>

#include <memory>

// One cached body, immutable and shared: the serializer (or a store) makes it, stores persist it,
// the memory tier holds it, the HTTP server sends it, the GUI shows it — nobody copies a body.
struct Entry {
    qint64 pk = 0;
    QByteArray body;   // canonical compact bytes, exactly what DRF would send
    QByteArray gzip;   // gzip of body, made once per entry (level 1: fast to make, ~5x smaller)
    QByteArray digest; // lowercase hex SHA-256 of body (the HTTP ETag comes from it)
    QDateTime cachedAt; // UTC, when the body was serialized; invalid for foreign entries
    int serializerVersion = 0; // Serializer::version that wrote it; 0 unknown (foreign)
    QString builtBy;           // "preserve 0.1.0 on host (pid 123)"; empty for foreign entries
    qint64 buildMicros = 0;    // time the serialization took
    // Position of the change log (staleness/changetracking.h) the body reflects; -1 unknown.
    qint64 changePosition = -1;
    // Written by someone else (no Preserve metadata, or metadata that does not match the body).
    bool foreign = false;

    qint64 bytes() const { return body.size() + gzip.size(); }
};
using EntryPtr = std::shared_ptr<const Entry>;

// What a writer knows besides the body.
struct EntryMetadata {
    QDateTime cachedAt;
    int serializerVersion = 0;
    QString builtBy;
    qint64 buildMicros = 0;
    qint64 changePosition = -1;
    bool foreign = false;
};

// Builds an entry: digest and gzip are computed here, once. Thread-safe.
EntryPtr makeEntry(qint64 pk, QByteArray body, const EntryMetadata &metadata);
EntryPtr makeEntry(qint64 pk, QByteArray body, QByteArray gzip, QByteArray digest, const EntryMetadata &metadata);
QByteArray digestOf(QByteArrayView body);
QByteArray gzipCompress(QByteArrayView data, int level = 1);
// The same coding of a whole temporary file, into a new one, a MiB at a time.
Result<std::unique_ptr<SpillFile>> gzipCompressFile(const SpillFile &source, int level = 1);
// Empty on a corrupt stream (tests and verification use it).
QByteArray gzipDecompress(QByteArrayView data);
// cached_at as every store writes it: UTC, ISO 8601 with milliseconds; empty when not set.
QString isoUtc(const QDateTime &time);
// "preserve <version> on <host> (pid <pid>)", for Entry::builtBy.
QString builderName();
