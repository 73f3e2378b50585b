#include "statedelegate.h"

#include <QPainter>

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
