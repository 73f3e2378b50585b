#include "serverdock.h"

#include "requestlogpanel.h"
#include "segmentedline.h"

#include "items/consolesession.h"
#include "items/requestlogmodel.h"

#include <QChart>
#include <QChartView>
#include <QGraphicsLayout>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLogValueAxis>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <tuple>

namespace {

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

    m_logPanel = new RequestLogPanel(m_log, this);

    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(m_logPanel);
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
    m_hitRate = new SegmentedLine(tr("Hit rate"), traffic);
    m_requests = new SegmentedLine(tr("Requests/s"), traffic);
    // Headroom above 100 %: a warm cache's line would lie on the plot's top edge, invisible.
    QValueAxis *percent = valueAxis(traffic, 105, QStringLiteral("%d%%"), tr("hit rate"));
    percent->setTickType(QValueAxis::TicksDynamic);
    percent->setTickAnchor(0);
    percent->setTickInterval(50);
    m_rateAxis = valueAxis(traffic, 10, QStringLiteral("%d"), tr("requests/s"));
    traffic->addAxis(percent, Qt::AlignLeft);
    traffic->addAxis(m_rateAxis, Qt::AlignRight);

    QChart *latency = newChart();
    m_p50 = new SegmentedLine(tr("Median"), latency);
    m_p99 = new SegmentedLine(tr("99th percentile"), latency);
    m_latencyAxis = new QLogValueAxis(latency);
    m_latencyAxis->setBase(10);
    m_latencyAxis->setRange(latencyFloor, 10);
    m_latencyAxis->setLabelFormat(QStringLiteral("%g"));
    m_latencyAxis->setTitleText(tr("latency (ms)"));
    latency->addAxis(m_latencyAxis, Qt::AlignLeft);

    const std::tuple<QChart *, SegmentedLine *, QAbstractAxis *> attached[] = { { traffic, m_hitRate, percent },
                                                                            { traffic, m_requests, m_rateAxis },
                                                                            { latency, m_p50, m_latencyAxis },
                                                                            { latency, m_p99, m_latencyAxis } };
    for (const auto &[chart, line, axis] : attached)
        line->attachAxes(chart->axes(Qt::Horizontal).constFirst(), axis);

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
        // Narrow enough that at a 1024-pixel window the log beside them keeps a readable path; the
        // traffic chart has an axis on each side and needs more to show "100%" whole.
        view->setMinimumSize(chart == traffic ? 255 : 180, 170);
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
    for (SampleWindow *samples : { &m_hitRateSamples, &m_requestSamples, &m_p50Samples, &m_p99Samples })
        samples->clear();
    drawSamples();
    m_milliseconds.clear();
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
// second after it was served). A second without requests has no hit rate and no latency, and a
// stopped server serves no requests: those are gaps, not zeros.
void ServerDock::sample()
{
    if (!m_session)
        return;
    const Telemetry::Snapshot now = m_session->telemetry().snapshot();
    const Totals before = totals(m_last);
    const Totals after = totals(now);
    m_last = now;
    const qint64 served = after.served - before.served;
    const bool serving = m_session->server().isRunning();
    using Sample = std::optional<double>;
    m_requestSamples.advance(serving || served > 0 ? Sample(double(served)) : std::nullopt);
    m_hitRateSamples.advance(served > 0 ? Sample(100.0 * double(after.hits - before.hits) / double(served))
                                        : std::nullopt);
    Sample p50;
    Sample p99;
    if (!m_milliseconds.isEmpty()) {
        p50 = qMax(latencyFloor, percentile(m_milliseconds, 0.5));
        p99 = qMax(latencyFloor, percentile(m_milliseconds, 0.99));
        m_milliseconds.clear();
    }
    m_p50Samples.advance(p50);
    m_p99Samples.advance(p99);
    drawSamples();
}

// The axes follow the samples still in the window: after a burst has scrolled out, the scale
// comes back down.
void ServerDock::drawSamples()
{
    m_rateAxis->setRange(0, m_requestSamples.roundCeiling(10));
    m_latencyAxis->setRange(latencyFloor, m_p99Samples.decadeCeiling(10));
    m_requests->setSegments(m_requestSamples.segments());
    m_hitRate->setSegments(m_hitRateSamples.segments());
    m_p50->setSegments(m_p50Samples.segments());
    m_p99->setSegments(m_p99Samples.segments());
}
