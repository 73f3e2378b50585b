#include "itemformat.h"

#include <QCoreApplication>
#include <QLocale>
#include <QTextBoundaryFinder>

#include <algorithm>

QString formatAge(qint64 seconds)
{
    if (seconds < 0)
        return {};
    if (seconds < 60)
        return QCoreApplication::translate("FooTreeModel", "%1 s").arg(seconds);
    if (seconds < 3600)
        return QCoreApplication::translate("FooTreeModel", "%1 min").arg(seconds / 60);
    if (seconds < 86400)
        return QCoreApplication::translate("FooTreeModel", "%1 h").arg(seconds / 3600);
    return QCoreApplication::translate("FooTreeModel", "%1 d").arg(seconds / 86400);
}

namespace {

bool needsEscape(char16_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029 || c == 0x061c || c == 0x200e
        || c == 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0xfeff;
}

} // namespace

QString visibleText(const QString &text)
{
    if (std::none_of(text.cbegin(), text.cend(), [](QChar c) { return needsEscape(c.unicode()); }))
        return text;
    QString result;
    result.reserve(text.size() + 16);
    for (const QChar c : text) {
        if (!needsEscape(c.unicode())) {
            result += c;
            continue;
        }
        switch (c.unicode()) {
        case '\b': result += QLatin1String("\\b"); break;
        case '\f': result += QLatin1String("\\f"); break;
        case '\n': result += QLatin1String("\\n"); break;
        case '\r': result += QLatin1String("\\r"); break;
        case '\t': result += QLatin1String("\\t"); break;
        default: result += QStringLiteral("\\u%1").arg(c.unicode(), 4, 16, QLatin1Char('0')); break;
        }
    }
    return result;
}

QString elideText(const QString &text, int maxLength)
{
    if (text.size() <= maxLength)
        return text;
    // Room for the ellipsis; never inside a surrogate pair, a combining sequence or an emoji.
    QTextBoundaryFinder graphemes(QTextBoundaryFinder::Grapheme, text);
    graphemes.setPosition(std::max(0, maxLength - 1));
    qsizetype cut = graphemes.isAtBoundary() ? graphemes.position() : graphemes.toPreviousBoundary();
    if (cut < 0)
        cut = 0;
    return text.left(cut) + QChar(0x2026);
}
