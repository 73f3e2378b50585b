#pragma once

#include "core/result.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

// A parsed JSON value that keeps object keys in document order and numbers as written (Qt's
// QJsonObject sorts keys and turns numbers into doubles, so it can neither reproduce DRF's bytes
// nor tell "key order only" from a real difference).
struct JsonValue {
    enum class Type { Null, False, True, Number, String, Array, Object };
    Type type = Type::Null;
    QByteArray text;        // Number: the literal as written; String: the decoded UTF-8
    QList<QByteArray> keys; // Object: decoded keys, parallel to items
    QList<JsonValue> items; // Array: elements; Object: values

    bool isString() const { return type == Type::String; }
    bool isArray() const { return type == Type::Array; }
    bool isObject() const { return type == Type::Object; }
    // Object member by key, or nullptr.
    const JsonValue *member(QByteArrayView key) const;
};
// QByteArray and QList are relocatable, so lists of values may grow with realloc instead of moves.
Q_DECLARE_TYPEINFO(JsonValue, Q_RELOCATABLE_TYPE);

// Strict RFC 8259 parsing (no trailing commas, comments, NaN, leading zeros; surrogate escapes
// must pair; invalid UTF-8 is an error), nesting at most 512 deep. The error message says what and
// at which byte offset.
Result<JsonValue> parseJson(QByteArrayView bytes);

// Compact bytes as DRF's JSONRenderer writes them (appendJsonString for strings; numbers as
// written). With `fooFieldOrder`, objects whose keys are exactly a Foo tree level's fields are
// written in the serializer's field order ("name" first) — the canonical form of a body that a
// store such as PostgreSQL's jsonb gave back with its keys reordered.
QByteArray writeCompactJson(const JsonValue &value, bool fooFieldOrder = true);
// The same, appended to `out` (for callers that assemble several documents into one buffer).
void appendCompactJson(QByteArray &out, const JsonValue &value, bool fooFieldOrder = true);

// Is this the shape FooSerializer produces? {"name": string|null, "bar_set": [{"name", "zab_set":
// [{"name", "bazs": [{"name"}]}]}]} with keys in any order. The error says where it is not.
Status checkFooShape(const JsonValue &value);

// One difference between two documents. Paths look like bar_set[3].zab_set[0].bazs[2].name.
struct JsonDifference {
    enum class Kind { Changed, Added, Removed };
    Kind kind = Kind::Changed;
    QString path;
    QByteArray before; // compact JSON of the old value (empty for Added)
    QByteArray after;  // compact JSON of the new value (empty for Removed)
};

struct JsonComparison {
    bool equal = false;        // same values, same key order
    bool keyOrderOnly = false; // differs only in the order of object keys
    QList<JsonDifference> differences; // empty when equal or keyOrderOnly
    bool truncated = false;    // more than maxDifferences: the list stops there
    // "identical", "key order only", "3 changes", …
    QString summary() const;
};

// Structural comparison: objects by key (order noted separately), arrays by position with the
// surplus reported as added or removed, numbers by their literal.
JsonComparison compareJson(const JsonValue &before, const JsonValue &after, int maxDifferences = 1000);
