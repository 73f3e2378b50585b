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
// Arrays are aligned before they are compared (by "id" when every element has one, else by a diff
// of the elements), so one inserted element is one Added difference, not a change of every
// element after it.
struct JsonDifference {
    // Reordered: an array whose elements, matched by id, come in another order; `before` and
    // `after` then hold the ids from the first that moved to the last, in each side's order.
    enum class Kind { Changed, Added, Removed, Reordered };
    Kind kind = Kind::Changed;
    QString path;      // afterPath for Added, the array itself for Reordered, else beforePath
    QByteArray before; // compact JSON of the old value (empty for Added)
    QByteArray after;  // compact JSON of the new value (empty for Removed)
    // Where it is in each document: an element's index can differ between the sides once an
    // earlier one was inserted or removed. For a value only one side has, the other side's path
    // names the element that follows the gap it would fill (an index or key that side may lack:
    // the end of the container). For Reordered, the first element whose position differs.
    QString beforePath;
    QString afterPath;
};

struct JsonComparison {
    bool equal = false;        // same values, same key order
    bool keyOrderOnly = false; // differs only in the order of object keys
    QList<JsonDifference> differences; // empty when equal or keyOrderOnly
    bool truncated = false;    // more than maxDifferences: the list stops there
    // "identical", "key order only", "3 changes", …
    QString summary() const;
};

// Structural comparison: objects by key (order noted separately), arrays aligned as above (an
// unmatched removed and added element in the same place count as one Changed, compared inside
// when both are containers), numbers by their literal. At most maxDifferences are listed.
JsonComparison compareJson(const JsonValue &before, const JsonValue &after, int maxDifferences = 1000);
