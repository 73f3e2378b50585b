#pragma once

#include <QDockWidget>

class QPlainTextEdit;

// Everything the workers reported, newest last, with the time: where errors go instead of a storm
// of modal dialogs. Errors also show in the status bar (the window's job).
class LogDock : public QDockWidget {
    Q_OBJECT

public:
    explicit LogDock(QWidget *parent = nullptr);

    void append(const QString &text, bool error = false);
    QString text() const;

private:
    QPlainTextEdit *m_text = nullptr;
};
