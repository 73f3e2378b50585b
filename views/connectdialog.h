#pragma once

#include "items/consolesession.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

// File → Connect…: a SQLite file (with a file picker) or a PostgreSQL URL, the Django app label,
// the store (the database column, or Redis URL + prefix) and read-only. Recent connections come
// from QSettings; the demo database is offered when it exists, and a button writes it when it
// does not. While a connection is tried the dialog says so (busy bar) and Cancel abandons it. Passwords in URLs show as *** (the real one is kept for connecting: spec() has it, also
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
    // While the window tries a connection (or writes the demo): `text` with a busy bar, the form
    // disabled, Cancel abandoning it. An empty text ends that.
    void setBusy(const QString &text);
    bool isBusy() const { return m_busy; }
    // Reads the recent connections again (the list changes with every connection made).
    void refreshRecent();
    // Connects with what the form holds, as the Connect button does.
    void connectNow();
    QPushButton *createDemoButton() const { return m_createDemo; }

    static QList<ConnectionSpec> recentConnections();
    static void remember(const ConnectionSpec &spec);
    static void clearRecent();

signals:
    void connectRequested(const ConnectionSpec &spec);
    void cancelRequested();
    void createDemoRequested();

public slots:
    // Cancel or Esc: abandons the attempt under way, if any (the dialog stays); else closes.
    void reject() override;

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
    QPushButton *m_createDemo = nullptr;
    QWidget *m_busyRow = nullptr;
    QLabel *m_busyText = nullptr;
    QWidget *m_form = nullptr;
    bool m_busy = false;
    QString m_realDatabase; // what the Database field shows masked
    QString m_realRedisUrl; // likewise for the Redis URL
    QDialogButtonBox *m_buttons = nullptr;
};
