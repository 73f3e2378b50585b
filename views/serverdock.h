#pragma once

#include "telemetry/telemetry.h"

#include <QDockWidget>
#include <QTimer>

class ConsoleSession;
class QChart;
class QLabel;
class QLineEdit;
class QLineSeries;
class QPushButton;
class QSpinBox;
class QTableView;
class QValueAxis;
class RequestLogModel;

// The built-in HTTP server of the current connection: start/stop, address, port, token file, the
// URL as a link, the request log (RequestLogModel) and hit rate and requests per second over the
// last two minutes (Qt Charts, fed from Telemetry snapshots once a second).
class ServerDock : public QDockWidget {
    Q_OBJECT

public:
    explicit ServerDock(QWidget *parent = nullptr);

    void setSession(ConsoleSession *session);
    RequestLogModel *requestLog() const { return m_log; }
    bool isServing() const;
    // Starts serving on the address and port in the fields (the same as clicking Start).
    void startServer(quint16 port);

signals:
    void message(const QString &text, bool error);

private:
    void createWidgets();
    QWidget *createChart();
    void connectSignals();
    void toggleServer();
    void chooseTokenFile();
    void sample();
    void updateState();

    ConsoleSession *m_session = nullptr;
    RequestLogModel *m_log = nullptr;
    QLineEdit *m_address = nullptr;
    QSpinBox *m_port = nullptr;
    QLineEdit *m_tokenFile = nullptr;
    QPushButton *m_startStop = nullptr;
    QLabel *m_url = nullptr;
    QTableView *m_table = nullptr;
    QChart *m_chart = nullptr;
    QLineSeries *m_hitRate = nullptr;
    QLineSeries *m_requests = nullptr;
    QValueAxis *m_timeAxis = nullptr;
    QValueAxis *m_rateAxis = nullptr;
    QTimer m_sampler;
    Telemetry::Snapshot m_last;
    int m_seconds = 0;
    QMetaObject::Connection m_logConnection;
};
