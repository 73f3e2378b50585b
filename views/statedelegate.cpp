#include "statedelegate.h"

#include <QApplication>
#include <QPainter>
#include <QStyle>

namespace {
constexpr int dotSize = 8;
constexpr int gap = 6;
} // namespace

void StateDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    const QVariant colour = index.data(Qt::ForegroundRole);
    if (!colour.isValid() || index.data(Qt::DisplayRole).toString().isEmpty()) {
        QStyledItemDelegate::paint(painter, option, index);
        return;
    }
    QStyleOptionViewItem shifted = option;
    shifted.rect.adjust(dotSize + gap, 0, 0, 0);
    // Selected rows keep the palette's highlighted text colour, as every other column does.
    if (option.state & QStyle::State_Selected)
        shifted.palette.setColor(QPalette::Text, option.palette.color(QPalette::HighlightedText));
    QStyledItemDelegate::paint(painter, shifted, index);
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setPen(Qt::NoPen);
    painter->setBrush(colour.value<QColor>());
    const QRect dot(option.rect.left() + gap / 2, option.rect.center().y() - dotSize / 2 + 1, dotSize, dotSize);
    painter->drawEllipse(dot);
    painter->restore();
}

QSize StateDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    QSize size = QStyledItemDelegate::sizeHint(option, index);
    size.rwidth() += dotSize + gap;
    return size;
}

int StateDelegate::minimumWidth(const QFontMetrics &metrics)
{
    // The model's words (entryStateName() · verdictWord()); untranslated there, so measured as is.
    static const char *const widest[] = { "refreshing \u00b7 key order", "missing \u00b7 identical",
                                          "unknown \u00b7 identical", "corrupt \u00b7 differs" };
    int text = 0;
    for (const char *sample : widest)
        text = qMax(text, metrics.horizontalAdvance(QString::fromUtf8(sample)));
    // The item view's text margin on both sides, and a little room for the sort indicator's column.
    const int margin = QApplication::style()->pixelMetric(QStyle::PM_FocusFrameHMargin) + 1;
    return text + dotSize + gap + 2 * margin + 8;
}
