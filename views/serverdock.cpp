#include "serverdock.h"

#include "items/consolesession.h"
#include "items/requestlogmodel.h"

#include <QChart>
#include <QChartView>
#include <QGraphicsLayout>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPushButton>
#include <QScrollBar>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <tuple>

namespace {

constexpr int windowSeconds = 60;

struct Totals {
    qint64 hits = 0;
    qint64 served = 0;
};

Totals totals(const Telemetry::Snapshot &snapshot)
{
    Totals result;
    for (const auto &store : snapshot.stores) {
        result.hits += store.requests[size_t(Telemetry::Outcome::Hit)];
        for (const auto outcome : { Telemetry::Outcome::Hit, Telemetry::Outcome::Miss, Telemetry::Outcome::Stale,
                                    Telemetry::Outcome::Bypass })
            result.served += store.requests[size_t(outcome)];
    }
    return result;
}

// 1, 2, 5 times a power of ten, the smallest at or above `value` (and at least `smallest`), so
// the axis labels stay round.
double niceCeiling(double value, double smallest)
{
    double step = smallest;
    for (int decade = 0; decade < 30; ++decade, step *= 10) {
        for (const double factor : { 1.0, 2.0, 5.0 }) {
            if (value <= step * factor)
                return step * factor;
        }
    }
    return value;
}

// Nearest rank: the smallest value with at least `fraction` of the values at or below it.
double percentile(QList<double> values, double fraction)
{
    const qsizetype rank = qBound<qsizetype>(1, qsizetype(std::ceil(fraction * double(values.size()))),
                                             values.size());
    std::nth_element(values.begin(), values.begin() + (rank - 1), values.end());
    return values.at(rank - 1);
}

QValueAxis *valueAxis(QChart *chart, double maximum, const QString &format, const QString &title)
{
    auto *axis = new QValueAxis(chart);
    axis->setRange(0, maximum);
    axis->setLabelFormat(format);
    axis->setTickCount(3);
    axis->setTitleText(title);
    return axis;
}

// The series moved one second to the left, without what fell out of the window.
QList<QPointF> shifted(const QLineSeries *series)
{
    QList<QPointF> points = series->points();
    for (QPointF &point : points)
        point.rx() -= 1;
    while (!points.isEmpty() && points.first().x() < -windowSeconds)
        points.removeFirst();
    return points;
}

} // namespace

ServerDock::ServerDock(QWidget *parent)
    : QDockWidget(tr("Server"), parent)
{
    setObjectName(QStringLiteral("serverDock"));
    m_log = new RequestLogModel(this);
    createWidgets();
    connectSignals();
    m_sampler.setInterval(1000);
    updateState();
}

void ServerDock::createWidgets()
{
    m_address = new QLineEdit(QStringLiteral("127.0.0.1"), this);
    m_address->setMaximumWidth(160);
    m_port = new QSpinBox(this);
    m_port->setRange(0, 65535);
    m_port->setValue(8000);
    m_port->setToolTip(tr("0 picks a free port"));
    m_tokenFile = new QLineEdit(this);
    m_tokenFile->setPlaceholderText(tr("none: admin endpoints off"));
    auto *browse = new QPushButton(tr("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, &ServerDock::chooseTokenFile);
    m_startStop = new QPushButton(this);
    m_startStop->setObjectName(QStringLiteral("startStop"));
    m_url = new QLabel(this);
    m_url->setOpenExternalLinks(true);
    m_url->setTextInteractionFlags(Qt::TextBrowserInteraction);

    auto *controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Address"), this));
    controls->addWidget(m_address);
    controls->addWidget(new QLabel(tr("Port"), this));
    controls->addWidget(m_port);
    controls->addWidget(new QLabel(tr("Token file"), this));
    controls->addWidget(m_tokenFile, 1);
    controls->addWidget(browse);
    controls->addWidget(m_startStop);
    controls->addSpacing(12);
    controls->addWidget(m_url);

    m_table = new QTableView(this);
    m_table->setModel(m_log);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->horizontalHeader()->setSectionResizeMode(RequestLogModel::PathColumn, QHeaderView::Stretch);
    // Columns sized for their widest usual value (not ResizeToContents: that measures every row of
    // a log that grows by thousands), so the path gets the rest of the width.
    const QFontMetrics metrics = m_table->fontMetrics();
    const std::pair<int, const char *> widest[] = {
        { RequestLogModel::TimeColumn, "00:00:00.000" }, { RequestLogModel::MethodColumn, "DELETE" },
        { RequestLogModel::StatusColumn, "Status" },     { RequestLogModel::BytesColumn, "999.9 kB" },
        { RequestLogModel::MillisecondsColumn, "9999.99" }, { RequestLogModel::CacheColumn, "BYPASS" },
    };
    for (const auto &[column, text] : widest)
        m_table->horizontalHeader()->resizeSection(column, metrics.horizontalAdvance(QLatin1String(text)) + 18);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    // Follow the newest request while the view is at the bottom; leave it alone when scrolled up.
    auto follow = std::make_shared<bool>(true);
    connect(m_log, &QAbstractItemModel::rowsAboutToBeInserted, m_table, [this, follow] {
        *follow = m_table->verticalScrollBar()->value() >= m_table->verticalScrollBar()->maximum();
    });
    connect(m_log, &QAbstractItemModel::rowsInserted, m_table, [this, follow] {
        if (*follow)
            m_table->scrollToBottom();
    });

    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(m_table);
    splitter->addWidget(createCharts());
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);

    auto *content = new QWidget(this);
    auto *layout = new QVBoxLayout(content);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->addLayout(controls);
    layout->addWidget(splitter, 1);
    setWidget(content);
}

QChart *ServerDock::newChart()
{
    auto *chart = new QChart;
    chart->legend()->setAlignment(Qt::AlignTop);
    chart->setMargins(QMargins(0, 0, 0, 0));
    chart->layout()->setContentsMargins(0, 0, 0, 0);
    chart->setBackgroundRoundness(0);
    auto *time = new QValueAxis(chart);
    time->setRange(-windowSeconds, 0);
    time->setLabelFormat(QStringLiteral("%d s"));
    time->setTickCount(5);
    chart->addAxis(time, Qt::AlignBottom);
    return chart;
}

QWidget *ServerDock::createCharts()
{
    QChart *traffic = newChart();
    m_hitRate = new QLineSeries(traffic);
    m_hitRate->setName(tr("Hit rate"));
    m_requests = new QLineSeries(traffic);
    m_requests->setName(tr("Requests/s"));
    // Headroom above 100 %: a warm cache's line would lie on the plot's top edge, invisible.
    QValueAxis *percent = valueAxis(traffic, 105, QStringLiteral("%d%%"), tr("hit rate"));
    percent->setTickType(QValueAxis::TicksDynamic);
    percent->setTickAnchor(0);
    percent->setTickInterval(50);
    m_rateAxis = valueAxis(traffic, 10, QStringLiteral("%d"), tr("requests/s"));
    traffic->addAxis(percent, Qt::AlignLeft);
    traffic->addAxis(m_rateAxis, Qt::AlignRight);

    QChart *latency = newChart();
    m_p50 = new QLineSeries(latency);
    m_p50->setName(tr("Median"));
    m_p99 = new QLineSeries(latency);
    m_p99->setName(tr("99th percentile"));
    m_latencyAxis = new QLogValueAxis(latency);
    m_latencyAxis->setBase(10);
    m_latencyAxis->setRange(latencyFloor, 10);
    m_latencyAxis->setLabelFormat(QStringLiteral("%g"));
    m_latencyAxis->setTitleText(tr("latency (ms)"));
    latency->addAxis(m_latencyAxis, Qt::AlignLeft);

    const std::tuple<QChart *, QLineSeries *, QAbstractAxis *> attached[] = { { traffic, m_hitRate, percent },
                                                                          { traffic, m_requests, m_rateAxis },
                                                                          { latency, m_p50, m_latencyAxis },
                                                                          { latency, m_p99, m_latencyAxis } };
    for (const auto &[chart, series, axis] : attached) {
        chart->addSeries(series);
        series->attachAxis(chart->axes(Qt::Horizontal).constFirst());
        series->attachAxis(axis);
    }

    auto *charts = new QWidget(this);
    auto *layout = new QHBoxLayout(charts);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    for (QChart *chart : { traffic, latency }) {
        // Follow the system palette: the dark theme on a dark desktop, no chart background of its own.
        if (palette().color(QPalette::Window).lightness() < 128)
            chart->setTheme(QChart::ChartThemeDark);
        chart->setBackgroundVisible(false);
        chart->legend()->setLabelColor(palette().color(QPalette::WindowText));
        for (QAbstractAxis *axis : chart->axes()) {
            axis->setLabelsColor(palette().color(QPalette::WindowText));
            axis->setTitleBrush(palette().color(QPalette::WindowText));
            QFont font = axis->titleFont();
            font.setPointSizeF(font.pointSizeF() * 0.85);
            font.setBold(false);
            axis->setTitleFont(font);
        }
        auto *view = new QChartView(chart, charts);
        view->setRenderHint(QPainter::Antialiasing);
        view->setMinimumSize(260, 170);
        layout->addWidget(view);
    }
    return charts;
}

void ServerDock::connectSignals()
{
    connect(m_startStop, &QPushButton::clicked, this, &ServerDock::toggleServer);
    connect(&m_sampler, &QTimer::timeout, this, &ServerDock::sample);
}

void ServerDock::setSession(ConsoleSession *session)
{
    for (const auto &connection : std::as_const(m_logConnections))
        disconnect(connection);
    m_logConnections.clear();
    m_session = session;
    m_log->clear();
    for (QLineSeries *series : { m_hitRate, m_requests, m_p50, m_p99 })
        series->clear();
    m_milliseconds.clear();
    m_seconds = 0;
    if (session) {
        m_logConnections << connect(&session->server(), &HttpServer::requestServed, m_log, &RequestLogModel::append)
                         << connect(&session->server(), &HttpServer::requestServed, this, &ServerDock::logged);
        m_last = session->telemetry().snapshot();
        m_sampler.start();
    } else {
        m_sampler.stop();
    }
    updateState();
}

bool ServerDock::isServing() const
{
    return m_session && m_session->server().isRunning();
}

void ServerDock::toggleServer()
{
    if (!m_session)
        return;
    if (m_session->server().isRunning()) {
        m_session->server().stop();
        emit message(tr("Server stopped"), false);
    } else {
        HttpServerOptions options;
        options.address = m_address->text().trimmed();
        options.port = quint16(m_port->value());
        const auto port = m_session->startServer(options, m_tokenFile->text().trimmed());
        if (port)
            emit message(tr("Serving %1api/foos/").arg(m_session->server().url().toString()), false);
        else
            emit message(tr("Cannot start the server: %1").arg(port.error().message), true);
    }
    updateState();
}

void ServerDock::startServer(quint16 port)
{
    m_port->setValue(port);
    if (!isServing())
        toggleServer();
}

void ServerDock::chooseTokenFile()
{
    const QString file = QFileDialog::getOpenFileName(this, tr("Token File"), m_tokenFile->text());
    if (!file.isEmpty())
        m_tokenFile->setText(file);
}

void ServerDock::updateState()
{
    const bool running = isServing();
    m_startStop->setEnabled(m_session != nullptr);
    m_startStop->setText(running ? tr("Stop") : tr("Start"));
    for (QWidget *field : { static_cast<QWidget *>(m_address), static_cast<QWidget *>(m_port),
                            static_cast<QWidget *>(m_tokenFile) })
        field->setEnabled(!running);
    if (running) {
        const QString url = m_session->server().url().toString() + QStringLiteral("api/foos/");
        m_url->setText(QStringLiteral("<a href=\"%1\">%1</a>").arg(url.toHtmlEscaped()));
    } else {
        m_url->setText(tr("not serving"));
    }
}

QString ServerDock::urlText() const
{
    return m_url->text();
}

// Status 0: the client went away before an answer; its time says nothing about the server.
void ServerDock::logged(const HttpLogEntry &entry)
{
    if (entry.status != 0)
        m_milliseconds.append(entry.milliseconds);
}

// Once a second: the requests served since the last sample, how many were memory hits, and the
// latency of those the log reported meanwhile (it arrives in batches: a request may count in the
// second after it was served).
void ServerDock::sample()
{
    if (!m_session)
        return;
    const Telemetry::Snapshot now = m_session->telemetry().snapshot();
    const Totals before = totals(m_last);
    const Totals after = totals(now);
    m_last = now;
    ++m_seconds;
    const qint64 served = after.served - before.served;
    // While stopped the seconds pass without points: a line at 0 would claim an idle server.
    const bool serving = m_session->server().isRunning();
    QList<QPointF> requests = shifted(m_requests);
    if (serving || served > 0)
        requests.append({ 0, double(served) });
    QList<QPointF> hitRate = shifted(m_hitRate);
    if (served > 0)
        hitRate.append({ 0, 100.0 * double(after.hits - before.hits) / double(served) });
    QList<QPointF> p50 = shifted(m_p50);
    QList<QPointF> p99 = shifted(m_p99);
    if (!m_milliseconds.isEmpty()) {
        p50.append({ 0, qMax(latencyFloor, percentile(m_milliseconds, 0.5)) });
        p99.append({ 0, qMax(latencyFloor, percentile(m_milliseconds, 0.99)) });
        m_milliseconds.clear();
    }
    double peak = 0;
    for (const QPointF &point : std::as_const(requests))
        peak = qMax(peak, point.y());
    m_rateAxis->setRange(0, niceCeiling(peak, 10));
    double slowest = 0;
    for (const QPointF &point : std::as_const(p99))
        slowest = qMax(slowest, point.y());
    // A power of ten (a log axis labels those), at least 10 ms.
    m_latencyAxis->setRange(latencyFloor, slowest <= 10 ? 10.0 : std::pow(10.0, std::ceil(std::log10(slowest))));
    m_requests->replace(requests);
    m_hitRate->replace(hitRate);
    m_p50->replace(p50);
    m_p99->replace(p99);
}
