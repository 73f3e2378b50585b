#pragma once

#include "json/jsonvalue.h"
#include "jsoncompare.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringView>

// A JSON document pretty-printed for reading, and where each part of it is: the desktop console's
// panes paint these lines and scroll to a JSON path, and the work of making them (seconds of UI
// freeze for a 2 MB body in a QTextDocument) runs on a worker. Plain values, no widgets; any thread.
//
// Layout: two-space indent, `"key": value`; an object or array whose members are all scalars and
// that fits in 100 columns stays on one line (`{ "name": "baz-17" }`), so the 80,000 Bazs of the
// largest demo Foo take one line each. Strings are written with DRF's escaping, so a control
// character or U+2028 shows as its escape and no line ever holds a raw line break.
struct FormattedJson {
    struct LineRange {
        int first = -1;
        int last = -1;
        bool isValid() const { return first >= 0; }
    };
    // A value that starts a line of its own (values inside a one-line container have none).
    struct Node {
        int parent = -1;
        QByteArray key;  // member name, when the parent is an object
        int index = -1;  // position, when the parent is an array
        int firstLine = 0;
        int lastLine = 0;
        QList<QByteArray> keys; // objects: member names (shared with the parsed document)
        QList<int> children;    // per member/element: its node, or -1 when it has none
    };

    QString text;                // lines joined by '\n'
    QList<qsizetype> lineStarts; // offset of each line in text
    QList<Node> nodes;           // nodes[0] is the root, then document order
    QList<int> lineNodes;        // per line: the innermost node on or around it

    int lineCount() const { return int(lineStarts.size()); }
    QStringView line(int number) const;
    // The lines of `path` ("bar_set[3].zab_set[0]"); a path inside a one-line value gives that
    // line; a path the document does not have gives its nearest ancestor's lines.
    LineRange rangeOf(QStringView path) const;
    // The innermost node at `line`, as a path ("" for the root).
    QString pathAt(int line) const;
    // The node of `path` and how much of it matched; exact when the whole path did.
    int nodeOf(QStringView path, bool *exact = nullptr) const;
    QString pathOf(int node) const;
};

FormattedJson formatJson(const JsonValue &value);

// How a line of one side of a comparison differs from the other side.
enum class LineMark : char { None = 0, Changed, Added, Removed };

struct FormattedDifference {
    JsonDifference difference;
    QString text;        // `bar_set[3].name: "a" → "b"`
    // Where it shows in each side, so both panes can scroll to it. For a value one side lacks,
    // that side's line after the gap it would fill (the next element's first line, or the
    // container's closing line); for a reorder, the first element whose position differs.
    int beforeLine = -1;
    int afterLine = -1;
};

// Both sides of a comparison, formatted, with the differing lines marked (one LineMark per line)
// and the differences listed in document order.
struct FormattedComparison {
    FormattedJson before;
    FormattedJson after;
    QByteArray beforeMarks;
    QByteArray afterMarks;
    QList<FormattedDifference> differences;
    bool equal = false;
    bool keyOrderOnly = false;
    bool truncated = false;
    QString summary; // "identical", "key order only", "3 changes", …
};

FormattedComparison formatComparison(const JsonValue &before, const JsonValue &after, int maxDifferences = 1000);
// `bar_set[3].zab_set[0].bazs[2].name: "a" → "b"`, `bar_set[7]: removed {"name":…}`,
// `bar_set: order of ids [7,5] → [5,7]` (values cut at `maxValue` characters).
QString describeDifference(const JsonDifference &difference, int maxValue = 80);
// The line of `to` that shows what `line` of `from` shows (the same path, the same offset within
// it as far as it goes), for scrolling two panes together.
int correspondingLine(const FormattedJson &from, const FormattedJson &to, int line);
