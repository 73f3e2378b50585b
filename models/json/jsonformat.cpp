#include "jsonformat.h"

#include "jsoncompare.h"
#include "serialize/jsonstring.h"

#include <QObject>

#include <algorithm>

namespace {

constexpr int indentWidth = 2;
constexpr qsizetype inlineWidth = 100;

bool isScalar(const JsonValue &value)
{
    return !value.isArray() && !value.isObject();
}

// Scalars and empty containers fit in a one-line parent: `{ "name": "bar-2", "zab_set": [] }`.
bool hasOnlyScalars(const JsonValue &value)
{
    return std::all_of(value.items.cbegin(), value.items.cend(),
                       [](const JsonValue &item) { return isScalar(item) || item.items.isEmpty(); });
}

// Writes UTF-8 in one buffer and records a node for every value that starts a line; the text
// becomes a QString once, at the end, so line offsets are counted in the QString's units.
class Formatter {
public:
    FormattedJson run(const JsonValue &root)
    {
        m_result.nodes.append(FormattedJson::Node {});
        value(root, 0, 0);
        m_result.nodes[0].lastLine = m_line;
        m_result.text = QString::fromUtf8(m_out);
        m_out.clear();
        indexLines();
        return std::move(m_result);
    }

private:
    void value(const JsonValue &value, int depth, int node)
    {
        if (isScalar(value)) {
            scalar(value);
            return;
        }
        if (value.items.isEmpty() || hasOnlyScalars(value)) {
            const qsizetype start = m_out.size();
            oneLine(value);
            if (value.items.size() <= 1 || m_out.size() - m_lineStart <= inlineWidth)
                return;
            m_out.truncate(start); // too wide: one member per line after all
        }
        block(value, depth, node);
    }

    void block(const JsonValue &value, int depth, int node)
    {
        const bool object = value.isObject();
        m_out.append(object ? '{' : '[');
        QList<int> children(value.items.size(), -1);
        for (qsizetype i = 0; i < value.items.size(); ++i) {
            newLine(depth + 1);
            const int child = int(m_result.nodes.size());
            FormattedJson::Node entry;
            entry.parent = node;
            entry.firstLine = m_line;
            if (object)
                entry.key = value.keys.at(i);
            else
                entry.index = int(i);
            m_result.nodes.append(std::move(entry));
            children[i] = child;
            if (object) {
                appendJsonString(m_out, value.keys.at(i));
                m_out.append(": ");
            }
            this->value(value.items.at(i), depth + 1, child);
            m_result.nodes[child].lastLine = m_line;
            if (i + 1 < value.items.size())
                m_out.append(',');
        }
        newLine(depth);
        m_out.append(object ? '}' : ']');
        FormattedJson::Node &self = m_result.nodes[node];
        self.children = std::move(children);
        if (object)
            self.keys = value.keys;
    }

    void oneLine(const JsonValue &value)
    {
        const bool object = value.isObject();
        if (value.items.isEmpty()) {
            m_out.append(object ? "{}" : "[]");
            return;
        }
        m_out.append(object ? "{ " : "[");
        for (qsizetype i = 0; i < value.items.size(); ++i) {
            if (i > 0)
                m_out.append(", ");
            if (object) {
                appendJsonString(m_out, value.keys.at(i));
                m_out.append(": ");
            }
            if (isScalar(value.items.at(i)))
                scalar(value.items.at(i));
            else
                m_out.append(value.items.at(i).isObject() ? "{}" : "[]");
        }
        m_out.append(object ? " }" : "]");
    }

    void scalar(const JsonValue &value)
    {
        switch (value.type) {
        case JsonValue::Type::Null:
            m_out.append("null");
            break;
        case JsonValue::Type::False:
            m_out.append("false");
            break;
        case JsonValue::Type::True:
            m_out.append("true");
            break;
        case JsonValue::Type::Number:
            m_out.append(value.text);
            break;
        case JsonValue::Type::String:
            appendJsonString(m_out, value.text);
            break;
        default:
            break;
        }
    }

    void newLine(int depth)
    {
        m_out.append('\n');
        m_lineStart = m_out.size();
        m_out.append(QByteArray(depth * indentWidth, ' '));
        ++m_line;
    }

    // Line offsets, and for each line its innermost node: nodes come parent first, so a later
    // (deeper) node overwrites its ancestors' claim on its lines.
    void indexLines()
    {
        const QString &text = m_result.text;
        m_result.lineStarts.reserve(m_line + 1);
        m_result.lineStarts.append(0);
        for (qsizetype i = 0; i < text.size(); ++i) {
            if (text.at(i) == QLatin1Char('\n'))
                m_result.lineStarts.append(i + 1);
        }
        m_result.lineNodes.fill(0, m_result.lineStarts.size());
        for (int node = 1; node < m_result.nodes.size(); ++node) {
            const FormattedJson::Node &entry = m_result.nodes.at(node);
            for (int line = entry.firstLine; line <= entry.lastLine; ++line)
                m_result.lineNodes[line] = node;
        }
    }

    FormattedJson m_result;
    QByteArray m_out;
    qsizetype m_lineStart = 0;
    int m_line = 0;
};

void mark(QByteArray &marks, const FormattedJson::LineRange &range, LineMark kind)
{
    for (int line = qMax(0, range.first); line <= range.last && line < marks.size(); ++line)
        marks[line] = char(kind);
}

QString shortened(const QByteArray &json, int maxValue)
{
    const QString text = QString::fromUtf8(json);
    return text.size() <= maxValue ? text : text.left(maxValue) + QChar(0x2026);
}

} // namespace

QStringView FormattedJson::line(int number) const
{
    if (number < 0 || number >= lineStarts.size())
        return {};
    const qsizetype start = lineStarts.at(number);
    const qsizetype end = number + 1 < lineStarts.size() ? lineStarts.at(number + 1) - 1 : text.size();
    return QStringView(text).mid(start, end - start);
}

int FormattedJson::nodeOf(QStringView path, bool *exact) const
{
    if (exact)
        *exact = true;
    if (nodes.isEmpty())
        return -1;
    int current = 0;
    qsizetype at = 0;
    while (at < path.size()) {
        const Node &node = nodes.at(current);
        qsizetype item = -1;
        if (path.at(at) == QLatin1Char('[')) {
            const qsizetype close = path.indexOf(QLatin1Char(']'), at);
            bool ok = false;
            item = close < 0 ? -1 : path.mid(at + 1, close - at - 1).toInt(&ok);
            if (!ok)
                item = -1;
            at = close < 0 ? path.size() : close + 1;
        } else {
            if (path.at(at) == QLatin1Char('.'))
                ++at;
            qsizetype end = at;
            while (end < path.size() && path.at(end) != QLatin1Char('.') && path.at(end) != QLatin1Char('['))
                ++end;
            item = node.keys.indexOf(path.mid(at, end - at).toUtf8());
            at = end;
        }
        if (item < 0 || item >= node.children.size() || node.children.at(item) < 0) {
            if (exact)
                *exact = false;
            return current;
        }
        current = node.children.at(item);
    }
    return current;
}

FormattedJson::LineRange FormattedJson::rangeOf(QStringView path) const
{
    const int node = nodeOf(path);
    if (node < 0)
        return {};
    return { nodes.at(node).firstLine, nodes.at(node).lastLine };
}

QString FormattedJson::pathOf(int node) const
{
    QList<const Node *> chain;
    for (int at = node; at > 0 && at < nodes.size(); at = nodes.at(at).parent)
        chain.prepend(&nodes.at(at));
    QByteArray path;
    for (const Node *step : chain) {
        if (step->index >= 0)
            path.append('[').append(QByteArray::number(step->index)).append(']');
        else
            path.append(path.isEmpty() ? "" : ".").append(step->key);
    }
    return QString::fromUtf8(path);
}

QString FormattedJson::pathAt(int line) const
{
    if (line < 0 || line >= lineNodes.size())
        return {};
    return pathOf(lineNodes.at(line));
}

FormattedJson formatJson(const JsonValue &value)
{
    return Formatter().run(value);
}

int correspondingLine(const FormattedJson &from, const FormattedJson &to, int line)
{
    if (to.lineCount() == 0)
        return 0;
    if (line < 0 || line >= from.lineNodes.size())
        return qBound(0, line, to.lineCount() - 1);
    const int node = from.lineNodes.at(line);
    bool exact = false;
    const int target = to.nodeOf(from.pathOf(node), &exact);
    const FormattedJson::Node &there = to.nodes.at(target);
    if (!exact)
        return there.firstLine;
    return qMin(there.firstLine + (line - from.nodes.at(node).firstLine), there.lastLine);
}

QString describeDifference(const JsonDifference &difference, int maxValue)
{
    const QString path = difference.path.isEmpty() ? QObject::tr("(document)") : difference.path;
    switch (difference.kind) {
    case JsonDifference::Kind::Added:
        return QObject::tr("%1: added %2").arg(path, shortened(difference.after, maxValue));
    case JsonDifference::Kind::Removed:
        return QObject::tr("%1: removed %2").arg(path, shortened(difference.before, maxValue));
    case JsonDifference::Kind::Reordered:
        return QObject::tr("%1: order of ids %2 \u2192 %3")
            .arg(path, shortened(difference.before, maxValue), shortened(difference.after, maxValue));
    case JsonDifference::Kind::Changed:
        break;
    }
    return QStringLiteral("%1: %2 \u2192 %3")
        .arg(path, shortened(difference.before, maxValue), shortened(difference.after, maxValue));
}

namespace {

// Where a difference shows in one pane and how its lines are marked. A value this side lacks
// points at the line after the gap it would fill: the element that follows it there, or the
// container's closing line when nothing follows (or the container is a single line).
void place(const FormattedJson &side, QByteArray &marks, const QString &path,
    const JsonDifference &difference, bool isBefore, int *line)
{
    bool exact = false;
    const FormattedJson::Node &node = side.nodes.at(side.nodeOf(path, &exact));
    using Kind = JsonDifference::Kind;
    if (difference.kind == (isBefore ? Kind::Added : Kind::Removed)) {
        *line = exact ? node.firstLine : node.lastLine;
        return;
    }
    *line = node.firstLine;
    LineMark kind = LineMark::Changed;
    if (difference.kind == Kind::Added || difference.kind == Kind::Removed)
        kind = isBefore ? LineMark::Removed : LineMark::Added;
    mark(marks, { node.firstLine, node.lastLine }, kind);
}

} // namespace

FormattedComparison formatComparison(const JsonValue &before, const JsonValue &after, int maxDifferences)
{
    FormattedComparison result;
    result.before = formatJson(before);
    result.after = formatJson(after);
    result.beforeMarks = QByteArray(result.before.lineCount(), char(LineMark::None));
    result.afterMarks = QByteArray(result.after.lineCount(), char(LineMark::None));
    JsonComparison comparison = compareJson(before, after, maxDifferences);
    result.equal = comparison.equal;
    result.keyOrderOnly = comparison.keyOrderOnly;
    result.truncated = comparison.truncated;
    result.summary = comparison.summary();
    result.differences.reserve(comparison.differences.size());
    for (JsonDifference &difference : comparison.differences) {
        FormattedDifference entry;
        place(result.before, result.beforeMarks, difference.beforePath, difference, true, &entry.beforeLine);
        place(result.after, result.afterMarks, difference.afterPath, difference, false, &entry.afterLine);
        entry.text = describeDifference(difference);
        entry.difference = std::move(difference);
        result.differences.append(std::move(entry));
    }
    return result;
}
