#pragma once

#include <QStringList>
#include <QWidget>

class QComboBox;
class QLineEdit;
class QTableView;
class RequestLogFilterModel;
class RequestLogModel;

// The server's request log under a filter bar: a class of status, a piece of the path, an X-Cache
// value (those the log has shown so far). Follows the newest request while scrolled to the bottom,
// filtered or not; leaves the view alone when scrolled up.
class RequestLogPanel : public QWidget {
    Q_OBJECT

public:
    explicit RequestLogPanel(RequestLogModel *log, QWidget *parent = nullptr);

    QTableView *table() const { return m_table; }
    RequestLogFilterModel *filter() const { return m_filter; }

private:
    QLayout *createFilterBar();
    void createTable();
    void connectSignals();
    void addCacheValues(int first, int last);

    RequestLogModel *m_log;
    RequestLogFilterModel *m_filter = nullptr;
    QComboBox *m_status = nullptr;
    QLineEdit *m_path = nullptr;
    QComboBox *m_cache = nullptr;
    QStringList m_cacheValues; // sorted, as in the combo after "All"
    QTableView *m_table = nullptr;
};
