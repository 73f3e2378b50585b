#pragma once

#include <QStyledItemDelegate>

// Names as the tree shows them: real data (and the demo's hard cases) holds control characters,
// which fonts draw as empty boxes or not at all; they are shown escaped as in the JSON panes
// (\n, \t, \u0007), so a name reads the same in the tree and in the body.
class NameDelegate : public QStyledItemDelegate {
    Q_OBJECT

public:
    using QStyledItemDelegate::QStyledItemDelegate;

    QString displayText(const QVariant &value, const QLocale &locale) const override;
    static QString visibleControls(const QString &text);
};
