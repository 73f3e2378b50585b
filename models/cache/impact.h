#pragma once

#include "core/result.h"
#include "db/reach.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

class CacheStore;
class Database;

// What a change to one Bar, Zab or Baz reaches: the Foos it is in, and the bytes their entries hold
// now (what a refresh of them re-serializes). "Baz 17 is in 37 Foos, 4.2 MB".
struct Impact {
    struct Foo {
        qint64 pk = 0;
        QString name;
        qint64 bytes = -1; // of its entry; -1 when it has none
    };
    NodeLevel level = NodeLevel::Baz;
    qint64 id = 0;
    std::optional<QString> nodeName; // nullopt: there is no such node
    QList<Foo> foos;
    qint64 bytes = 0; // of the entries there are
    int uncached = 0; // Foos without an entry
    double seconds = 0;

    QList<qint64> pks() const;
    // "Baz 17 "red" is in 37 Foos, 4.2 MB cached (2 not cached)", or "There is no Baz 17".
    QString sentence() const;
    // {"level":"baz","id":17,"name":"red","foos":[{"pk":1,"name":"foo-1","bytes":1234},…],"count":37,
    //  "bytes":4200000,"uncached":2,"seconds":0.004}; "name": null and no Foos when there is no such node.
    QByteArray toJson() const;
};

// The database for the Foos, the store for their sizes (CacheStore::sizes): no body is read.
Result<Impact> computeImpact(Database &database, CacheStore &store, NodeLevel level, qint64 id);
