#include "namedelegate.h"

#include <algorithm>

QString NameDelegate::displayText(const QVariant &value, const QLocale &locale) const
{
    if (value.userType() == QMetaType::QString)
        return visibleControls(value.toString());
    return QStyledItemDelegate::displayText(value, locale);
}

QString NameDelegate::visibleControls(const QString &text)
{
    const auto isControl = [](QChar c) { return c.unicode() < 0x20 || c.unicode() == 0x7f; };
    if (std::none_of(text.cbegin(), text.cend(), isControl))
        return text;
    QString result;
    result.reserve(text.size() + 8);
    for (const QChar c : text) {
        if (!isControl(c)) {
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
