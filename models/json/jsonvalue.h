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

// Is this the shape FooSerializer produces? {"name": string|null, "bar_set": [{"name", "zab_set":
// [{"name", "bazs": [{"name"}]}]}]} with keys in any order. The error says where it is not.
Status checkFooShape(const JsonValue &value);
