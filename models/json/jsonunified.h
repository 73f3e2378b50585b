#pragma once

#include "json/jsonformat.h"

#include <QList>

// Where the characters of a changed line differ from its counterpart: [first, end) in the line's
// own columns. An empty span (first == end) marks nothing.
struct CharSpan {
    int first = 0;
    int end = 0;
    bool isEmpty() const { return end <= first; }
    bool operator==(const CharSpan &) const = default;
};

// The span of `line` that differs from `other`: what is left after their common start and end.
CharSpan differingSpan(QStringView line, QStringView other);

// Per line of one side of a comparison, the characters that differ from the other side's
// corresponding changed line (empty spans elsewhere): the panes mark them more strongly, as Qt
// Creator's diff does inside a changed line.
QList<CharSpan> changedSpans(const FormattedComparison &comparison, bool beforeSide);

// Both sides of a comparison in one column, for narrow windows: unchanged lines once ("  "),
// then for each run of changed lines the cached ones ("- ") before the live ones ("+ "), with the
// characters that differ marked. Built from the line marks, so it needs no second diff; an
// unmarked line that is not the same on both sides is shown as a change, never as context.
struct UnifiedJson {
    FormattedJson document;   // text and lines only (no nodes: paths come from the sides)
    QByteArray marks;         // LineMark per line: Removed ("- "), Added ("+ "), None
    QList<CharSpan> spans;    // per line, in the line's columns (prefix included)
    QList<int> beforeLines;   // per line: the cached side's line, or -1
    QList<int> afterLines;    // per line: the live side's line, or -1
    int unifiedLineOfAfter(int afterLine) const;
    int unifiedLineOfBefore(int beforeLine) const;
};

UnifiedJson unifyComparison(const FormattedComparison &comparison);
