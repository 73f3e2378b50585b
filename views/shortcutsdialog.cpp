#include "shortcutsdialog.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QMenu>
#include <QMenuBar>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace {

QString plain(QString text)
{
    text.remove(QLatin1Char('&'));
    if (text.endsWith(QStringLiteral("…")))
        text.chop(1);
    return text;
}

// Every action with a shortcut in `menu` and its submenus, under `group`.
void addMenuActions(const QMenu *menu, QTreeWidgetItem *group)
{
    for (QAction *action : menu->actions()) {
        if (action->menu()) {
            addMenuActions(action->menu(), group);
            continue;
        }
        const QList<QKeySequence> keys = action->shortcuts();
        if (action->isSeparator() || keys.isEmpty())
            continue;
        QStringList texts;
        for (const QKeySequence &key : keys)
            texts << key.toString(QKeySequence::NativeText);
        new QTreeWidgetItem(group, { plain(action->text()), texts.join(QStringLiteral(", ")) });
    }
}

// A bold group row spanning both columns.
QTreeWidgetItem *groupItem(QTreeWidget *list, const QString &title)
{
    auto *group = new QTreeWidgetItem(list, { title });
    QFont bold = group->font(0);
    bold.setBold(true);
    group->setFont(0, bold);
    group->setFirstColumnSpanned(true);
    return group;
}

} // namespace

ShortcutsDialog::ShortcutsDialog(const QMenuBar *menus, QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Keyboard Shortcuts — Preserve"));
    m_list = new QTreeWidget(this);
    m_list->setColumnCount(2);
    m_list->setHeaderLabels({ tr("Command"), tr("Keys") });
    m_list->setRootIsDecorated(false);
    m_list->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_list->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_list->header()->setStretchLastSection(false);
    addMenus(menus);
    addWidgetKeys();
    m_list->expandAll();
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_list);
    layout->addWidget(buttons);
    resize(520, 560);
}

void ShortcutsDialog::addMenus(const QMenuBar *menus)
{
    for (QAction *top : menus->actions()) {
        if (!top->menu())
            continue;
        QTreeWidgetItem *group = groupItem(m_list, plain(top->text()));
        addMenuActions(top->menu(), group);
        if (group->childCount() == 0)
            delete group;
    }
}

void ShortcutsDialog::addWidgetKeys()
{
    QTreeWidgetItem *group = groupItem(m_list, tr("In the tree, the find bar and the panes"));
    const QList<std::pair<QString, QString>> keys {
        { tr("Clear the tree's filter (in the filter)"), tr("Esc") },
        { tr("Next match (in the find bar)"), tr("Enter, F3") },
        { tr("Previous match (in the find bar)"), tr("Shift+Enter, Shift+F3") },
        { tr("Close the find bar"), tr("Esc") },
        { tr("Copy the selected lines (in a pane)"), QKeySequence(QKeySequence::Copy).toString(QKeySequence::NativeText) },
        { tr("Move between the tree and the panes"), tr("Tab, Shift+Tab") },
    };
    for (const auto &[command, key] : keys)
        new QTreeWidgetItem(group, { command, key });
}

QString ShortcutsDialog::shortcutOf(const QString &command) const
{
    const QList<QTreeWidgetItem *> found = m_list->findItems(command, Qt::MatchExactly | Qt::MatchRecursive, 0);
    return found.isEmpty() ? QString() : found.first()->text(1);
}
