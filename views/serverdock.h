#pragma once

#include "http/httpserver.h"
#include "telemetry/telemetry.h"

#include <QDockWidget>
#include <QTimer>

class ConsoleSession;
class QChart;
class QLabel;
class QLineEdit;
class QLineSeries;
class QLogValueAxis;
class QPushButton;
class QSpinBox;
class QTableView;
class QValueAxis;
class RequestLogModel;

// The built-in HTTP server of the current connection: start/stop, address, port, token file, the
// URL as a link, the request log (RequestLogModel), and over the last minute two charts (Qt Charts,
// sampled once a second): hit rate and requests per second from Telemetry snapshots, and the
// median and 99th-percentile latency of the requests the log reported in that second.
class ServerDock : public QDockWidget {
    Q_OBJECT

public:
    // The latency axis is logarithmic (a hit takes microseconds, a miss tens of milliseconds: on a
    // linear axis the median of a warm cache lies flat on zero); it starts here, in milliseconds.
    static constexpr double latencyFloor = 0.01;

    explicit ServerDock(QWidget *parent = nullptr);

    void setSession(ConsoleSession *session);
    RequestLogModel *requestLog() const { return m_log; }
    bool isServing() const;
    QString urlText() const;
    QLineSeries *hitRateSeries() const { return m_hitRate; }
    QLineSeries *requestRateSeries() const { return m_requests; }
    QLineSeries *medianLatencySeries() const { return m_p50; }
    QLineSeries *tailLatencySeries() const { return m_p99; }
    // Starts serving on the address and port in the fields (the same as clicking Start).
    void startServer(quint16 port);
    // Adds the last second to the charts; the dock's timer calls it once a second while connected
    // (public so that tests need not wait for the timer).
    void sample();

signals:
    void message(const QString &text, bool error);

private:
    void createWidgets();
    QWidget *createCharts();
    QChart *newChart();
    void logged(const HttpLogEntry &entry);
    void connectSignals();
    void toggleServer();
    void chooseTokenFile();
    void updateState();

    ConsoleSession *m_session = nullptr;
    RequestLogModel *m_log = nullptr;
    QLineEdit *m_address = nullptr;
    QSpinBox *m_port = nullptr;
    QLineEdit *m_tokenFile = nullptr;
    QPushButton *m_startStop = nullptr;
    QLabel *m_url = nullptr;
    QTableView *m_table = nullptr;
    QLineSeries *m_hitRate = nullptr;
    QLineSeries *m_requests = nullptr;
    QLineSeries *m_p50 = nullptr;
    QLineSeries *m_p99 = nullptr;
    QValueAxis *m_rateAxis = nullptr;
    QLogValueAxis *m_latencyAxis = nullptr;
    QList<double> m_milliseconds; // of the requests logged since the last sample
    QTimer m_sampler;
    Telemetry::Snapshot m_last;
    int m_seconds = 0;
    QList<QMetaObject::Connection> m_logConnections;
};
