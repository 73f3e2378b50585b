#pragma once

#include <QDialog>

class QMenuBar;
class QTreeWidget;

// Help → Keyboard Shortcuts: every menu action that has a shortcut, read from the menus when it
// opens (so the page never disagrees with them), then the keys that belong to a widget (the
// filter, the find bar, the panes).
class ShortcutsDialog : public QDialog {
    Q_OBJECT

public:
    ShortcutsDialog(const QMenuBar *menus, QWidget *parent = nullptr);

    QTreeWidget *list() const { return m_list; }
    // "Ctrl+R" for "Refresh Selected" (as the list shows it); empty when it is not listed.
    QString shortcutOf(const QString &command) const;

private:
    void addMenus(const QMenuBar *menus);
    void addWidgetKeys();

    QTreeWidget *m_list = nullptr;
};
