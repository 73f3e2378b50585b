#pragma once

#include <QByteArrayView>
#include <QtGlobal>

struct sqlite3;

// seal64() (core/seal.h) of a stored body, as the signed 64 bits SQL keeps: tells whether a body
// is still the one that was written.
qint64 bodyCheck(QByteArrayView body);

// Makes bodyCheck() callable from SQL on this connection as preserve_body_check(x), so a query can
// check every stored body without bringing any into this process. false when SQLite refused.
bool registerBodyCheck(sqlite3 *handle);
