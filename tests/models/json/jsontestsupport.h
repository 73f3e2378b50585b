#pragma once
// Helpers of the JSON comparison tests: a parsed literal, and differences as comparable lines.

#include "json/jsoncompare.h"
#include "json/jsonvalue.h"

#include <QStringList>

inline JsonValue parsed(const QByteArray &json)
{
    auto value = parseJson(json);
    if (!value)
        qFatal("test input does not parse: %s", qPrintable(value.error().message));
    return std::move(value.value());
}

inline QString kindName(JsonDifference::Kind kind)
{
    switch (kind) {
    case JsonDifference::Kind::Changed:
        return QStringLiteral("changed");
    case JsonDifference::Kind::Added:
        return QStringLiteral("added");
    case JsonDifference::Kind::Removed:
        return QStringLiteral("removed");
    case JsonDifference::Kind::Reordered:
        return QStringLiteral("reordered");
    }
    return {};
}

inline QStringList describe(const QList<JsonDifference> &differences)
{
    QStringList lines;
    for (const JsonDifference &difference : differences) {
        lines << QStringLiteral("%1 %2 %3 %4")
                     .arg(kindName(difference.kind), difference.path, QString::fromUtf8(difference.before),
                         QString::fromUtf8(difference.after));
    }
    return lines;
}
