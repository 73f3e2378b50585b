#pragma once

#include "staleness/entrystatus.h"

#include <QSet>
#include <QSortFilterProxyModel>

// "Show only stale / missing / corrupt" and sorting by state, age or size over a FooTreeModel.
// Filters Foo rows only (their children are always accepted) by FooTreeModel::StateRole; sorts Foo
// rows by FooTreeModel::SortRole and keeps children in the source's (primary key) order, which is
// the order of the serializer's output. Fetching is forwarded to the source as usual.
class FooFilterProxyModel : public QSortFilterProxyModel {
    Q_OBJECT

public:
    explicit FooFilterProxyModel(QObject *parent = nullptr);

    // Empty: every Foo. Otherwise only Foos whose state is in the set (Foos without a known state
    // are hidden).
    // `alsoDiffering`: Foos a verification found different from live pass too, whatever their state.
    void setStateFilter(const QSet<EntryState> &states, bool alsoDiffering = false);
    QSet<EntryState> stateFilter() const { return m_states; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    QSet<EntryState> m_states;
    bool m_alsoDiffering = false;
};
