#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QString>

// Here, below the cache, because the status rules (entrystatus.h) read it and the stores
// (cache/cachestore.h) write it: the arrow goes from the cache to staleness only.
// What a store knows of an entry without reading its body.
struct EntryInfo {
    qint64 pk = 0;
    qint64 size = 0;         // bytes of the body as stored
    QByteArray digest;       // empty when unknown (foreign)
    QDateTime cachedAt;
    int serializerVersion = 0;
    qint64 changePosition = -1;
    bool foreign = false;
    QString problem;         // non-empty: the entry is corrupt, and why
};
