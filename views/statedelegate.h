#pragma once

#include <QStyledItemDelegate>

// The State column of the Foo tree: a coloured dot before the state's name, in the colour the
// model gives (Qt::ForegroundRole), so "stale" and "fresh" read at a glance in light and dark themes.
class StateDelegate : public QStyledItemDelegate {
    Q_OBJECT

public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;

    // Wide enough for the longest usual text ("refreshing · key order", "fresh · identical"), the
    // dot and the style's margins: the states and verdicts land after the rows, so sizing the
    // column to its contents when it is first filled would still cut them.
    static int minimumWidth(const QFontMetrics &metrics);
};
