#pragma once

#include "json/jsonvalue.h"
#include "jsoncompare.h"

#include <QByteArray>
#include <QList>

#include <optional>

// How the elements of two JSON arrays correspond, for compareJson(). Internal to models/json;
// plain values, any thread.
//
// Arrays whose elements are all objects with a scalar "id" member are matched by id (the k-th
// element with an id in `before` pairs with the k-th one with the same id in `after`, so duplicate
// ids neither crash nor vanish). Other arrays are matched by a Myers diff on a structural hash of
// each element (key order ignored, so that elements differing only in key order still pair up and
// the comparison can call that "key order only"); past a work budget the middle part falls back
// to positional pairing, which is what the comparison did before alignment existed.
struct ArrayAlignment {
    struct Pair {
        qsizetype before = 0;
        qsizetype after = 0;
    };
    // Pairs increasing on both sides. Between two consecutive anchors (and before the first and
    // after the last) lies a gap of unmatched elements on each side.
    QList<Pair> anchors;
    // Matched by id: the partner of each element on the other side, or -1. An element in a gap may
    // still have a partner (it moved); otherwise gaps hold only removed and added elements.
    bool byId = false;
    QList<qsizetype> beforePartner;
    QList<qsizetype> afterPartner;

    // Matched by id and the common ids come in another order: from which element on each side the
    // order first differs, and the ids of that window as compact JSON arrays (`[7,5,6]`).
    struct Reorder {
        qsizetype before = 0;
        qsizetype after = 0;
        QByteArray beforeIds;
        QByteArray afterIds;
    };
    std::optional<Reorder> reorder;
};

ArrayAlignment alignArrays(const QList<JsonValue> &before, const QList<JsonValue> &after);

// A 64-bit hash of a value's content that ignores the order of object keys. Exposed for tests.
quint64 structuralHash(const JsonValue &value);
