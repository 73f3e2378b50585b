#include "logdock.h"

#include <QPlainTextEdit>
#include <QTime>

LogDock::LogDock(QWidget *parent)
    : QDockWidget(tr("Log"), parent)
{
    setObjectName(QStringLiteral("logDock"));
    m_text = new QPlainTextEdit(this);
    m_text->setReadOnly(true);
    m_text->setMaximumBlockCount(2000);
    m_text->setLineWrapMode(QPlainTextEdit::NoWrap);
    setWidget(m_text);
}

void LogDock::append(const QString &text, bool error)
{
    const QString time = QTime::currentTime().toString(QStringLiteral("HH:mm:ss"));
    const QString colour = error ? QStringLiteral("#c62828") : QString();
    const QString line = QStringLiteral("<span style=\"color: gray\">%1</span>&nbsp;&nbsp;%2")
                             .arg(time, colour.isEmpty() ? text.toHtmlEscaped()
                                                         : QStringLiteral("<span style=\"color: %1\">%2</span>")
                                                               .arg(colour, text.toHtmlEscaped()));
    m_text->appendHtml(line);
}

QString LogDock::text() const
{
    return m_text->toPlainText();
}
