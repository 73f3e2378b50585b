#include "requestlogpanel.h"

#include "items/requestlogfiltermodel.h"
#include "items/requestlogmodel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QScrollBar>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <memory>

RequestLogPanel::RequestLogPanel(RequestLogModel *log, QWidget *parent)
    : QWidget(parent)
    , m_log(log)
    , m_filter(new RequestLogFilterModel(this))
{
    m_filter->setSourceModel(m_log);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    layout->addLayout(createFilterBar());
    createTable();
    layout->addWidget(m_table, 1);
    connectSignals();
    addCacheValues(0, m_log->rowCount() - 1);
}

QLayout *RequestLogPanel::createFilterBar()
{
    using StatusClass = RequestLogFilterModel::StatusClass;
    // Short labels: the panel's minimum width counts towards the window's, which must fit an
    // 800-pixel screen.
    m_status = new QComboBox(this);
    m_status->setObjectName(QStringLiteral("statusFilter"));
    m_status->setToolTip(tr("Status; Errors: 4xx, 5xx and requests whose client left before the answer"));
    const std::pair<StatusClass, QString> classes[] = {
        { StatusClass::Any, tr("Any status") },
        { StatusClass::Success, tr("2xx") },
        { StatusClass::Redirection, tr("3xx") },
        { StatusClass::ClientError, tr("4xx") },
        { StatusClass::ServerError, tr("5xx") },
        { StatusClass::Errors, tr("Errors") },
    };
    for (const auto &[statusClass, label] : classes)
        m_status->addItem(label, int(statusClass));
    m_path = new QLineEdit(this);
    m_path->setObjectName(QStringLiteral("pathFilter"));
    m_path->setPlaceholderText(tr("Path contains…"));
    m_path->setClearButtonEnabled(true);
    m_cache = new QComboBox(this);
    m_cache->setObjectName(QStringLiteral("cacheFilter"));
    m_cache->setToolTip(tr("X-Cache"));
    m_cache->addItem(tr("Any X-Cache")); // no data: every value

    auto *bar = new QHBoxLayout;
    bar->addWidget(m_status);
    bar->addWidget(m_path, 1);
    bar->addWidget(m_cache);
    return bar;
}

void RequestLogPanel::createTable()
{
    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("requestLogTable"));
    m_table->setModel(m_filter);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    QHeaderView *header = m_table->horizontalHeader();
    header->setStretchLastSection(false);
    header->setSectionResizeMode(RequestLogModel::PathColumn, QHeaderView::Stretch);
    // Columns sized for their widest usual value (not ResizeToContents: that measures every row of
    // a log that grows by thousands), so the path gets the rest of the width.
    const QFontMetrics metrics = m_table->fontMetrics();
    const auto fit
        = [&metrics](const char *text) { return metrics.horizontalAdvance(QLatin1String(text)) + 14; };
    const std::pair<int, const char *> widest[] = {
        { RequestLogModel::TimeColumn, "00:00:00.000" },
        { RequestLogModel::MethodColumn, "DELETE" },
        { RequestLogModel::StatusColumn, "Status" },
        { RequestLogModel::BytesColumn, "999 bytes" },
        { RequestLogModel::MillisecondsColumn, "9999.99" },
        { RequestLogModel::CacheColumn, "BYPASS" },
    };
    for (const auto &[column, text] : widest)
        header->resizeSection(column, fit(text));
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
}

void RequestLogPanel::connectSignals()
{
    // Through the filter: rows that do not pass insert nothing and do not scroll.
    auto follow = std::make_shared<bool>(true);
    connect(m_filter, &QAbstractItemModel::rowsAboutToBeInserted, m_table, [this, follow] {
        *follow = m_table->verticalScrollBar()->value() >= m_table->verticalScrollBar()->maximum();
    });
    connect(m_filter, &QAbstractItemModel::rowsInserted, m_table, [this, follow] {
        if (*follow)
            m_table->scrollToBottom();
    });
    connect(m_log, &QAbstractItemModel::rowsInserted, this,
        [this](const QModelIndex &, int first, int last) { addCacheValues(first, last); });
    // A changed filter shows the newest rows that pass it.
    connect(m_status, &QComboBox::currentIndexChanged, this, [this] {
        m_filter->setStatusClass(RequestLogFilterModel::StatusClass(m_status->currentData().toInt()));
        m_table->scrollToBottom();
    });
    connect(m_path, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_filter->setPathFilter(text);
        m_table->scrollToBottom();
    });
    connect(m_cache, &QComboBox::currentIndexChanged, this, [this] {
        const QVariant value = m_cache->currentData();
        m_filter->setCacheFilter(
            value.isValid() ? std::optional<QByteArray>(value.toString().toLatin1()) : std::nullopt);
        m_table->scrollToBottom();
    });
}

// The X-Cache values offered are those seen since the panel was made: a handful (HIT, MISS,
// STALE, BYPASS, none), so they are kept rather than recounted when rows leave the log.
void RequestLogPanel::addCacheValues(int first, int last)
{
    for (int row = first; row <= last; ++row) {
        const QString value = m_log->index(row, RequestLogModel::CacheColumn).data().toString();
        const auto at = std::lower_bound(m_cacheValues.begin(), m_cacheValues.end(), value);
        if (at != m_cacheValues.end() && *at == value)
            continue;
        const int position = int(at - m_cacheValues.begin());
        m_cacheValues.insert(position, value);
        m_cache->insertItem(position + 1, value.isEmpty() ? tr("none") : value, value);
    }
}
