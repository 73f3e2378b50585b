#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QMetaType>

// One line of the request log, apart from HttpServer so that what shows the log needs no server.
struct HttpLogEntry {
    QDateTime at; // UTC, when the request arrived
    QByteArray peer;
    QByteArray method;
    QByteArray target;
    QByteArray version;
    int status = 0; // 0: the client went away before an answer
    qint64 bytes = 0;
    double milliseconds = 0;
    QByteArray cache; // X-Cache
};
Q_DECLARE_METATYPE(HttpLogEntry)
