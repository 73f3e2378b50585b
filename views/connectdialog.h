#pragma once

#include "items/consolesession.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;

// File → Connect…: a SQLite file (with a file picker) or a PostgreSQL URL, the Django app label,
// the store (the database column, or Redis URL + prefix) and read-only. Recent connections come
// from QSettings; the demo database is offered when it exists, and how to make one is said when it
// does not. Passwords in URLs show as *** (the real one is kept for connecting: spec() has it, also
// after the operator edits another part of the URL). The dialog does not connect: it
// emits connectRequested(), the window probes the connection on a worker and answers with
// connectionFailed() (the error shows here, the dialog stays) or accept().
class ConnectDialog : public QDialog {
    Q_OBJECT

public:
    ConnectDialog(const QString &demoDatabase, QWidget *parent = nullptr);

    void setSpec(const ConnectionSpec &spec);
    ConnectionSpec spec() const;
    void connectionFailed(const QString &message);

    static QList<ConnectionSpec> recentConnections();
    static void remember(const ConnectionSpec &spec);

signals:
    void connectRequested(const ConnectionSpec &spec);

private:
    void createWidgets();
    void connectSignals();
    void chooseFile();
    void requestConnection();
    void updateStoreFields();
    void createHint();
    // Shows `url` in `field` with its password masked; `real` keeps it.
    static void showUrl(QLineEdit *field, QString *real, const QString &url);

    QString m_demoDatabase;
    QComboBox *m_recent = nullptr;
    QLineEdit *m_database = nullptr;
    QLineEdit *m_appLabel = nullptr;
    QComboBox *m_store = nullptr;
    QLineEdit *m_redisUrl = nullptr;
    QLineEdit *m_redisPrefix = nullptr;
    QCheckBox *m_readOnly = nullptr;
    QLabel *m_error = nullptr;
    QLabel *m_hint = nullptr;
    QString m_realDatabase; // what the Database field shows masked
    QString m_realRedisUrl; // likewise for the Redis URL
    QDialogButtonBox *m_buttons = nullptr;
};
