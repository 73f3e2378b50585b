#include "jsonsnippet.h"

namespace {

qsizetype leadingSpaces(QStringView line)
{
    qsizetype count = 0;
    while (count < line.size() && line.at(count) == QLatin1Char(' '))
        ++count;
    return count;
}

// Where the value starts on a member's line: after `"key": ` (the key written with DRF's escapes,
// so a quote inside it is always preceded by a backslash).
qsizetype afterMemberName(QStringView line, qsizetype at)
{
    if (at >= line.size() || line.at(at) != QLatin1Char('"'))
        return at;
    ++at;
    while (at < line.size() && line.at(at) != QLatin1Char('"'))
        at += line.at(at) == QLatin1Char('\\') ? 2 : 1;
    ++at; // the closing quote
    while (at < line.size() && (line.at(at) == QLatin1Char(':') || line.at(at) == QLatin1Char(' ')))
        ++at;
    return qMin(at, line.size());
}

} // namespace

QString nodeJson(const FormattedJson &document, int node)
{
    if (node < 0 || node >= document.nodes.size())
        return {};
    const FormattedJson::Node &n = document.nodes.at(node);
    const QStringView first = document.line(n.firstLine);
    const qsizetype indent = leadingSpaces(first);
    // A member of an object has no index; the root has no parent.
    const bool member = n.parent >= 0 && n.index < 0;
    QString text;
    for (int line = n.firstLine; line <= n.lastLine; ++line) {
        QStringView part = document.line(line);
        if (line == n.firstLine)
            part = part.mid(member ? afterMemberName(part, indent) : indent);
        else
            part = part.mid(qMin(indent, leadingSpaces(part)));
        // A value never ends in a comma of its own: a last one separates it from the next member.
        if (line == n.lastLine && part.endsWith(QLatin1Char(',')))
            part.chop(1);
        if (line > n.firstLine)
            text += QLatin1Char('\n');
        text += part;
    }
    return text;
}

QString lineJson(const FormattedJson &document, int line)
{
    if (line < 0 || line >= document.lineNodes.size())
        return {};
    return nodeJson(document, document.lineNodes.at(line));
}

int longestLine(const FormattedJson &document)
{
    qsizetype longest = 0;
    for (int line = 0; line < document.lineCount(); ++line)
        longest = qMax(longest, document.line(line).size());
    return int(qMin<qsizetype>(longest, std::numeric_limits<int>::max()));
}
