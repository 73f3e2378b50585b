#pragma once

#include <QList>
#include <QPointer>
#include <QWidget>

class JsonView;
class QCheckBox;
class QLabel;
class QLineEdit;
class QToolButton;

// Find in the JSON panes (Ctrl+F), as Qt Creator's find bar: every match is tinted in both panes,
// Enter / F3 goes to the next match in the target pane (Shift: the previous one), the count says
// "3 of 12", a wrap round the end is said, not silent; Esc closes the bar and clears the tints.
class FindBar : public QWidget {
    Q_OBJECT

public:
    explicit FindBar(QWidget *parent = nullptr);

    void setViews(const QList<JsonView *> &views);
    // The pane Next and Previous walk, and whose matches are counted.
    void setTarget(JsonView *view);
    JsonView *target() const;
    // Shows the bar and focuses its text, selected.
    void open();
    void close();
    void findNext();
    void findPrevious();
    // The documents changed: their matches are found again and counted.
    void refresh();
    QLineEdit *edit() const { return m_edit; }
    QString countText() const;

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void search();
    void step(bool backward);
    void showCount(bool wrapped = false);

    QList<QPointer<JsonView>> m_views;
    QPointer<JsonView> m_target;
    QLineEdit *m_edit = nullptr;
    QCheckBox *m_caseSensitive = nullptr;
    QLabel *m_count = nullptr;
    QToolButton *m_previous = nullptr;
    QToolButton *m_next = nullptr;
    QToolButton *m_close = nullptr;
};
