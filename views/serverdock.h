#pragma once

#include "http/httpserver.h"
#include "items/samplewindow.h"
#include "telemetry/telemetry.h"

#include <QDockWidget>
#include <QTimer>

class ConsoleSession;
class QChart;
class QLabel;
class QLineEdit;
class QLogValueAxis;
class QPushButton;
class QSpinBox;
class QValueAxis;
class RequestLogModel;
class RequestLogPanel;
class SegmentedLine;

// The built-in HTTP server of the current connection: start/stop, address, port, token file, the
// URL as a link, the request log (RequestLogModel, filtered in a RequestLogPanel), and over the last
// minute two charts (Qt Charts, sampled once a second): hit rate and requests per second from
// Telemetry snapshots, and the median and 99th-percentile latency of the requests the log reported
// in that second. A second with nothing to measure is a gap in its line (SampleWindow).
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
    RequestLogPanel *requestLogPanel() const { return m_logPanel; }
    SegmentedLine *hitRateLine() const { return m_hitRate; }
    SegmentedLine *requestRateLine() const { return m_requests; }
    SegmentedLine *medianLatencyLine() const { return m_p50; }
    SegmentedLine *tailLatencyLine() const { return m_p99; }
    QValueAxis *requestRateAxis() const { return m_rateAxis; }
    // Starts serving on the address and port in the fields (the same as clicking Start).
    void startServer(quint16 port);
    // Adds the last second to the charts; the dock's timer calls it once a second while connected
    // (public so that tests need not wait for the timer).
    void sample();

signals:
    void message(const QString &text, bool error);

private:
    static constexpr int windowSeconds = 60;

    void createWidgets();
    QWidget *createCharts();
    QChart *newChart();
    void logged(const HttpLogEntry &entry);
    void drawSamples();
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
    RequestLogPanel *m_logPanel = nullptr;
    SegmentedLine *m_hitRate = nullptr;
    SegmentedLine *m_requests = nullptr;
    SegmentedLine *m_p50 = nullptr;
    SegmentedLine *m_p99 = nullptr;
    SampleWindow m_hitRateSamples { windowSeconds };
    SampleWindow m_requestSamples { windowSeconds };
    SampleWindow m_p50Samples { windowSeconds };
    SampleWindow m_p99Samples { windowSeconds };
    QValueAxis *m_rateAxis = nullptr;
    QLogValueAxis *m_latencyAxis = nullptr;
    QList<double> m_milliseconds; // of the requests logged since the last sample
    QTimer m_sampler;
    Telemetry::Snapshot m_last;
    QList<QMetaObject::Connection> m_logConnections;
};
