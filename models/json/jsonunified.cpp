#include "jsonunified.h"

#include <algorithm>

namespace {

bool marked(const QByteArray &marks, int line)
{
    return line < marks.size() && marks.at(line) != char(LineMark::None);
}

class Builder {
public:
    explicit Builder(const FormattedComparison &comparison)
        : c(comparison)
    {
        const qsizetype lines = c.before.lineCount() + c.after.lineCount();
        out.document.lineStarts.reserve(lines);
        out.document.text.reserve(c.after.text.size() + lines * 2);
    }

    UnifiedJson build()
    {
        int before = 0;
        int after = 0;
        const int beforeCount = c.before.lineCount();
        const int afterCount = c.after.lineCount();
        while (before < beforeCount || after < afterCount) {
            const bool same = before < beforeCount && after < afterCount && !marked(c.beforeMarks, before)
                && !marked(c.afterMarks, after) && c.before.line(before) == c.after.line(after);
            if (same) {
                append(u"  ", c.after.line(after), LineMark::None, before, after);
                ++before;
                ++after;
                continue;
            }
            // A run: the marked lines of each side from here (at least one line of a side that has any).
            int beforeEnd = before;
            while (beforeEnd < beforeCount && (beforeEnd == before || marked(c.beforeMarks, beforeEnd)))
                ++beforeEnd;
            int afterEnd = after;
            while (afterEnd < afterCount && (afterEnd == after || marked(c.afterMarks, afterEnd)))
                ++afterEnd;
            // A side whose line here is unmarked only joins the run when the other has nothing to pair.
            if (before < beforeCount && !marked(c.beforeMarks, before) && after < afterCount && marked(c.afterMarks, after))
                beforeEnd = before;
            if (after < afterCount && !marked(c.afterMarks, after) && before < beforeCount && marked(c.beforeMarks, before))
                afterEnd = after;
            run(before, beforeEnd, after, afterEnd);
            before = beforeEnd;
            after = afterEnd;
        }
        if (!out.document.text.isEmpty())
            out.document.text.chop(1); // lines are joined, not ended, by '\n'
        return std::move(out);
    }

private:
    void run(int before, int beforeEnd, int after, int afterEnd)
    {
        const int pairs = std::min(beforeEnd - before, afterEnd - after);
        for (int line = before; line < beforeEnd; ++line) {
            const int partner = line - before < pairs ? after + (line - before) : -1;
            append(u"- ", c.before.line(line), LineMark::Removed, line, -1,
                   partner < 0 ? QStringView() : c.after.line(partner), partner >= 0);
        }
        for (int line = after; line < afterEnd; ++line) {
            const int partner = line - after < pairs ? before + (line - after) : -1;
            append(u"+ ", c.after.line(line), LineMark::Added, -1, line,
                   partner < 0 ? QStringView() : c.before.line(partner), partner >= 0);
        }
    }

    void append(QStringView prefix, QStringView text, LineMark mark, int before, int after,
                QStringView partner = {}, bool paired = false)
    {
        out.document.lineStarts.append(out.document.text.size());
        out.document.text.append(prefix);
        out.document.text.append(text);
        out.document.text.append(QLatin1Char('\n'));
        out.marks.append(char(mark));
        CharSpan span;
        if (paired) {
            span = differingSpan(text, partner);
            span.first += int(prefix.size());
            span.end += int(prefix.size());
        }
        out.spans.append(span);
        out.beforeLines.append(before);
        out.afterLines.append(after);
    }

    const FormattedComparison &c;
    UnifiedJson out;
};

int unifiedLineOf(const QList<int> &lines, int line)
{
    if (line < 0)
        return -1;
    // The side's lines appear in order (with -1 between): the first unified line at or after it.
    int best = -1;
    for (qsizetype i = 0; i < lines.size(); ++i) {
        if (lines.at(i) >= line) {
            best = int(i);
            break;
        }
    }
    return best < 0 ? int(lines.size()) - 1 : best;
}

} // namespace

CharSpan differingSpan(QStringView line, QStringView other)
{
    const qsizetype shortest = std::min(line.size(), other.size());
    qsizetype start = 0;
    while (start < shortest && line.at(start) == other.at(start))
        ++start;
    qsizetype tail = 0;
    while (tail < shortest - start && line.at(line.size() - 1 - tail) == other.at(other.size() - 1 - tail))
        ++tail;
    // Never split a surrogate pair: widen to whole characters.
    if (start > 0 && line.at(start - 1).isHighSurrogate())
        --start;
    qsizetype end = line.size() - tail;
    if (end < line.size() && end > 0 && line.at(end).isLowSurrogate())
        ++end;
    return { int(start), int(std::max(start, end)) };
}

QList<CharSpan> changedSpans(const FormattedComparison &comparison, bool beforeSide)
{
    const FormattedJson &own = beforeSide ? comparison.before : comparison.after;
    const FormattedJson &other = beforeSide ? comparison.after : comparison.before;
    const QByteArray &ownMarks = beforeSide ? comparison.beforeMarks : comparison.afterMarks;
    const QByteArray &otherMarks = beforeSide ? comparison.afterMarks : comparison.beforeMarks;
    QList<CharSpan> spans(own.lineCount());
    for (int line = 0; line < own.lineCount() && line < ownMarks.size(); ++line) {
        if (ownMarks.at(line) != char(LineMark::Changed))
            continue;
        const int partner = correspondingLine(own, other, line);
        if (partner >= 0 && partner < otherMarks.size() && otherMarks.at(partner) == char(LineMark::Changed))
            spans[line] = differingSpan(own.line(line), other.line(partner));
    }
    return spans;
}

UnifiedJson unifyComparison(const FormattedComparison &comparison)
{
    return Builder(comparison).build();
}

int UnifiedJson::unifiedLineOfAfter(int afterLine) const
{
    return unifiedLineOf(afterLines, afterLine);
}

int UnifiedJson::unifiedLineOfBefore(int beforeLine) const
{
    return unifiedLineOf(beforeLines, beforeLine);
}
