#pragma once

#include <QTreeView>

// The Foo tree's view. One change from QTreeView: a dataChanged over many rows (the states of
// 100,000 Foos arriving at once) repaints the viewport instead of letting QTreeView work out which
// of those rows are on screen, a visualRect per row (wide: 100 ms on the GUI thread, per signal).
// Rows have one height (uniformRowHeights), so no row's geometry depends on its data.
class FooTreeView : public QTreeView {
    Q_OBJECT

public:
    using QTreeView::QTreeView;
    // Above this many rows in one signal, the whole viewport is repainted.
    static constexpr int manyRows = 256;

protected:
    void dataChanged(const QModelIndex &topLeft, const QModelIndex &bottomRight, const QList<int> &roles) override;
};
