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
#include <QPushButton>
#include <QScrollBar>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QValueAxis>

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

// 10, 20, 50, 100, 200, … : the smallest at or above `value`, so the axis labels stay round.
double niceCeiling(double value)
{
    double step = 10;
    while (true) {
        for (const double factor : { 1.0, 2.0, 5.0 }) {
            if (value <= step * factor)
                return step * factor;
        }
        step *= 10;
    }
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
    splitter->addWidget(createChart());
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);

    auto *content = new QWidget(this);
    auto *layout = new QVBoxLayout(content);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->addLayout(controls);
    layout->addWidget(splitter, 1);
    setWidget(content);
}

QWidget *ServerDock::createChart()
{
    m_chart = new QChart;
    m_chart->legend()->setAlignment(Qt::AlignTop);
    m_chart->setMargins(QMargins(0, 0, 0, 0));
    m_chart->layout()->setContentsMargins(0, 0, 0, 0);
    m_chart->setBackgroundRoundness(0);
    m_hitRate = new QLineSeries(m_chart);
    m_hitRate->setName(tr("Hit rate %"));
    m_requests = new QLineSeries(m_chart);
    m_requests->setName(tr("Requests/s"));
    m_chart->addSeries(m_hitRate);
    m_chart->addSeries(m_requests);
    m_timeAxis = new QValueAxis(m_chart);
    m_timeAxis->setRange(-windowSeconds, 0);
    m_timeAxis->setLabelFormat(QStringLiteral("%d s"));
    m_timeAxis->setTickCount(5);
    auto *percentAxis = new QValueAxis(m_chart);
    percentAxis->setRange(0, 100);
    percentAxis->setLabelFormat(QStringLiteral("%d%%"));
    percentAxis->setTickCount(3);
    m_rateAxis = new QValueAxis(m_chart);
    m_rateAxis->setRange(0, 10);
    m_rateAxis->setLabelFormat(QStringLiteral("%d"));
    m_rateAxis->setTickCount(3);
    m_chart->addAxis(m_timeAxis, Qt::AlignBottom);
    m_chart->addAxis(percentAxis, Qt::AlignLeft);
    m_chart->addAxis(m_rateAxis, Qt::AlignRight);
    m_hitRate->attachAxis(m_timeAxis);
    m_hitRate->attachAxis(percentAxis);
    m_requests->attachAxis(m_timeAxis);
    m_requests->attachAxis(m_rateAxis);
    // Follow the system palette: the dark theme on a dark desktop, and no chart background of its own.
    if (palette().color(QPalette::Window).lightness() < 128)
        m_chart->setTheme(QChart::ChartThemeDark);
    m_chart->setBackgroundVisible(false);
    m_chart->legend()->setLabelColor(palette().color(QPalette::WindowText));
    for (QAbstractAxis *axis : m_chart->axes())
        axis->setLabelsColor(palette().color(QPalette::WindowText));
    auto *view = new QChartView(m_chart, this);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumSize(300, 170);
    return view;
}

void ServerDock::connectSignals()
{
    connect(m_startStop, &QPushButton::clicked, this, &ServerDock::toggleServer);
    connect(&m_sampler, &QTimer::timeout, this, &ServerDock::sample);
}

void ServerDock::setSession(ConsoleSession *session)
{
    disconnect(m_logConnection);
    m_session = session;
    m_log->clear();
    m_hitRate->clear();
    m_requests->clear();
    m_seconds = 0;
    if (session) {
        m_logConnection = connect(&session->server(), &HttpServer::requestServed, m_log, &RequestLogModel::append);
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

// Once a second: the requests served since the last sample and how many were memory hits.
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
    const auto shift = [this](QLineSeries *series) {
        QList<QPointF> points = series->points();
        for (QPointF &point : points)
            point.rx() -= 1;
        while (!points.isEmpty() && points.first().x() < -windowSeconds)
            points.removeFirst();
        return points;
    };
    QList<QPointF> requests = shift(m_requests);
    requests.append({ 0, double(served) });
    QList<QPointF> hitRate = shift(m_hitRate);
    if (served > 0)
        hitRate.append({ 0, 100.0 * double(after.hits - before.hits) / double(served) });
    double peak = 0;
    for (const QPointF &point : std::as_const(requests))
        peak = qMax(peak, point.y());
    m_rateAxis->setRange(0, niceCeiling(peak));
    m_requests->replace(requests);
    m_hitRate->replace(hitRate);
}
