#include "findbar.h"

#include "jsonview.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QStyle>
#include <QToolButton>

FindBar::FindBar(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("findBar"));
    m_edit = new QLineEdit(this);
    m_edit->setObjectName(QStringLiteral("findText"));
    m_edit->setPlaceholderText(tr("Find in the panes"));
    m_edit->setClearButtonEnabled(true);
    m_edit->installEventFilter(this);
    m_caseSensitive = new QCheckBox(tr("Case"), this);
    m_caseSensitive->setToolTip(tr("Match upper and lower case exactly"));
    m_count = new QLabel(this);
    m_count->setObjectName(QStringLiteral("findCount"));
    m_count->setMinimumWidth(m_count->fontMetrics().horizontalAdvance(QStringLiteral("12345 of 12345 (wrapped)")));
    m_previous = new QToolButton(this);
    m_previous->setArrowType(Qt::UpArrow);
    m_previous->setToolTip(tr("Previous match (Shift+F3, Shift+Enter)"));
    m_next = new QToolButton(this);
    m_next->setArrowType(Qt::DownArrow);
    m_next->setToolTip(tr("Next match (F3, Enter)"));
    m_close = new QToolButton(this);
    m_close->setIcon(style()->standardIcon(QStyle::SP_TitleBarCloseButton));
    m_close->setAutoRaise(true);
    m_close->setToolTip(tr("Close (Esc)"));

    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 2, 0, 2);
    layout->addWidget(m_edit, 1);
    layout->addWidget(m_caseSensitive);
    layout->addWidget(m_count);
    layout->addWidget(m_previous);
    layout->addWidget(m_next);
    layout->addWidget(m_close);

    connect(m_edit, &QLineEdit::textChanged, this, &FindBar::search);
    connect(m_caseSensitive, &QCheckBox::toggled, this, &FindBar::search);
    connect(m_next, &QToolButton::clicked, this, &FindBar::findNext);
    connect(m_previous, &QToolButton::clicked, this, &FindBar::findPrevious);
    connect(m_close, &QToolButton::clicked, this, &FindBar::close);
    hide();
}

void FindBar::setViews(const QList<JsonView *> &views)
{
    m_views.clear();
    for (JsonView *view : views)
        m_views << view;
    if (!m_target && !views.isEmpty())
        m_target = views.first();
}

void FindBar::setTarget(JsonView *view)
{
    if (view == m_target)
        return;
    m_target = view;
    showCount();
}

JsonView *FindBar::target() const
{
    return m_target;
}

void FindBar::open()
{
    show();
    m_edit->setFocus(Qt::ShortcutFocusReason);
    m_edit->selectAll();
    if (!m_edit->text().isEmpty())
        search();
}

void FindBar::close()
{
    hide();
    for (const auto &view : std::as_const(m_views)) {
        if (view)
            view->setFindText(QString());
    }
    if (m_target)
        m_target->setFocus(Qt::OtherFocusReason);
}

void FindBar::findNext()
{
    step(false);
}

void FindBar::findPrevious()
{
    step(true);
}

void FindBar::refresh()
{
    if (isVisible() && !m_edit->text().isEmpty())
        search();
}

void FindBar::search()
{
    const Qt::CaseSensitivity sensitivity = m_caseSensitive->isChecked() ? Qt::CaseSensitive : Qt::CaseInsensitive;
    for (const auto &view : std::as_const(m_views)) {
        if (view)
            view->setFindText(m_edit->text(), sensitivity);
    }
    // The first match from the top of the target's view, as one types.
    if (m_target && m_target->matchCount() > 0)
        m_target->findNext(false);
    showCount();
}

void FindBar::step(bool backward)
{
    if (!m_target)
        return;
    if (m_target->findText() != m_edit->text())
        search();
    bool wrapped = false;
    m_target->findNext(backward, &wrapped);
    showCount(wrapped);
}

QString FindBar::countText() const
{
    return m_count->text();
}

void FindBar::showCount(bool wrapped)
{
    const int count = m_target ? m_target->matchCount() : 0;
    QString text;
    if (m_edit->text().isEmpty())
        text.clear();
    else if (count == 0)
        text = tr("No matches");
    else if (m_target->currentMatch() < 0)
        text = count == 1 ? tr("1 match") : tr("%1 matches").arg(count);
    else
        text = tr("%1 of %2").arg(m_target->currentMatch() + 1).arg(count);
    if (wrapped)
        text += tr(" (wrapped)");
    m_count->setText(text);
    // "No matches" in the colour of an error, as a find bar does.
    m_count->setStyleSheet(count == 0 && !m_edit->text().isEmpty() ? QStringLiteral("color: #c62828") : QString());
    m_next->setEnabled(count > 0);
    m_previous->setEnabled(count > 0);
}

bool FindBar::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_edit && event->type() == QEvent::KeyPress) {
        const auto *key = static_cast<QKeyEvent *>(event);
        switch (key->key()) {
        case Qt::Key_Return:
        case Qt::Key_Enter:
            step(key->modifiers() & Qt::ShiftModifier);
            return true;
        case Qt::Key_Escape:
            close();
            return true;
        default:
            break;
        }
    }
    return QWidget::eventFilter(watched, event);
}
