#include "footreeview.h"

#include <QAccessible>

void FooTreeView::dataChanged(const QModelIndex &topLeft, const QModelIndex &bottomRight, const QList<int> &roles)
{
    // Editors (none here: the tree is not editable) and accessibility need the base's per-row work.
    if (uniformRowHeights() && bottomRight.row() - topLeft.row() >= manyRows && state() != EditingState
        && !QAccessible::isActive()) {
        viewport()->update();
        return;
    }
    QTreeView::dataChanged(topLeft, bottomRight, roles);
}
