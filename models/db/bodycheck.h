#pragma once

#include <QByteArrayView>
#include <QtGlobal>

struct sqlite3;

// A cheap 64-bit check of stored bytes: zlib's CRC-32 and Adler-32 side by side (~1 GB/s).
// Deterministic on every machine. It tells whether a body is still the one that was written; it is
// no defence against someone who wants to forge one.
qint64 bodyCheck(QByteArrayView body);

// Makes bodyCheck() callable from SQL on this connection as preserve_body_check(x), so a query can
// check every stored body without bringing any into this process. false when SQLite refused.
bool registerBodyCheck(sqlite3 *handle);
