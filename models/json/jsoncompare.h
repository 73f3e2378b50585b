#pragma once

#include "json/jsonvalue.h"

#include <QByteArray>
#include <QList>
#include <QString>

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
