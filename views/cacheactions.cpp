#include "cacheactions.h"

#include "items/consolesession.h"
#include "items/joblistmodel.h"

#include <QAction>
#include <QHash>
#include <QMessageBox>
#include <QStyle>
#include <QWidget>

namespace {

QAction *makeAction(QWidget *window, const QString &text, const QKeySequence &shortcut, const QString &tip,
                    QStyle::StandardPixmap icon)
{
    auto *action = new QAction(window->style()->standardIcon(icon), text, window);
    action->setShortcut(shortcut);
    action->setStatusTip(tip);
    action->setShortcutContext(Qt::WindowShortcut);
    return action;
}

} // namespace

CacheActions::CacheActions(QWidget *window, JobListModel *jobs)
    : QObject(window)
    , m_window(window)
    , m_jobs(jobs)
{
    createActions();
    updateEnabled();
    connect(jobs, &JobListModel::jobEnded, this, [this](int, const QString &text, bool failed) { emit message(text, failed); });
}

void CacheActions::createActions()
{
    refreshSelected = makeAction(m_window, tr("&Refresh Selected"), QKeySequence(tr("Ctrl+R")),
                                 tr("Serialize the selected Foos again and store them"), QStyle::SP_BrowserReload);
    refreshStale = makeAction(m_window, tr("Refresh &Stale"), QKeySequence(tr("Ctrl+Shift+R")),
                              tr("Refresh every entry that is stale, missing or corrupt"), QStyle::SP_MediaSeekForward);
    refreshAll = makeAction(m_window, tr("Refresh &All…"), QKeySequence(),
                            tr("Serialize every Foo again and store it"), QStyle::SP_MediaSkipForward);
    verify = makeAction(m_window, tr("&Verify"), QKeySequence(tr("Ctrl+Shift+V")),
                        tr("Re-serialize the selected Foos (or all) and compare with their entries"),
                        QStyle::SP_DialogApplyButton);
    invalidate = makeAction(m_window, tr("&Invalidate…"), QKeySequence::Delete,
                            tr("Remove the selected Foos' entries from the store"), QStyle::SP_TrashIcon);
    rollback = makeAction(m_window, tr("Roll &Back to Previous Entry…"), QKeySequence(tr("Ctrl+Shift+Z")),
                          tr("Put back the entry the last refresh (or invalidation) of the selected Foos replaced"),
                          QStyle::SP_ArrowBack);
    rollback->setObjectName(QStringLiteral("rollback"));
    refreshAll->setIconText(tr("Refresh All"));
    refreshSelected->setIconText(tr("Refresh"));
    invalidate->setIconText(tr("Invalidate"));
    connect(refreshSelected, &QAction::triggered, this, &CacheActions::startRefresh);
    connect(refreshStale, &QAction::triggered, this, &CacheActions::startRefreshStale);
    connect(refreshAll, &QAction::triggered, this, &CacheActions::startRefreshAll);
    connect(verify, &QAction::triggered, this, &CacheActions::startVerify);
    connect(invalidate, &QAction::triggered, this, &CacheActions::startInvalidate);
    connect(rollback, &QAction::triggered, this, &CacheActions::startRollback);
}

void CacheActions::setSession(ConsoleSession *session)
{
    for (const auto &connection : std::as_const(m_connections))
        disconnect(connection);
    m_connections.clear();
    m_session = session;
    if (session) {
        m_connections << connect(&session->service(), &CacheService::entryFailed, this,
                                 [this](int, qint64 pk, const QString &text) {
                                     emit message(tr("Foo %1: %2").arg(pk).arg(text), true);
                                 });
    }
    updateEnabled();
}

void CacheActions::setSelectionSource(std::function<QList<qint64>()> selection)
{
    m_selection = std::move(selection);
}

void CacheActions::setFooCount(int count)
{
    m_fooCount = count;
}

void CacheActions::setConfirmation(std::function<bool(const QString &)> confirm)
{
    m_confirm = std::move(confirm);
}

void CacheActions::updateEnabled()
{
    const bool connected = m_session != nullptr;
    const bool writable = connected && !m_session->isReadOnly();
    const bool selected = m_selection && !m_selection().isEmpty();
    const QString readOnly = tr("The connection is read-only: File → Connect… to open it writable");
    const auto set = [&](QAction *action, bool enabled, const QString &why) {
        action->setEnabled(enabled);
        const QString tip = action->statusTip();
        action->setToolTip(enabled || why.isEmpty() ? tip : tip + QStringLiteral("\n") + why);
    };
    set(refreshSelected, writable && selected, connected && !writable ? readOnly : QString());
    set(refreshStale, writable, connected && !writable ? readOnly : QString());
    set(refreshAll, writable, connected && !writable ? readOnly : QString());
    set(invalidate, writable && selected, connected && !writable ? readOnly : QString());
    set(rollback, writable && selected, connected && !writable ? readOnly : QString());
    set(verify, connected, QString());
}

bool CacheActions::confirm(const QString &question)
{
    if (m_confirm)
        return m_confirm(question);
    return QMessageBox::question(m_window, tr("Preserve"), question, QMessageBox::Yes | QMessageBox::Cancel,
                                 QMessageBox::Cancel)
        == QMessageBox::Yes;
}

void CacheActions::started(int job, const QString &what, int count)
{
    m_jobs->nameJob(job, what, true, count > 0 ? count : -1);
    if (count > 0)
        emit message(count == 1 ? tr("%1 (job %2): 1 Foo queued").arg(what).arg(job)
                                : tr("%1 (job %2): %3 Foos queued").arg(what).arg(job).arg(count),
                     false);
    else
        emit message(tr("%1 (job %2) started").arg(what).arg(job), false);
}

QList<qint64> CacheActions::notQueued(const QList<qint64> &pks, const QString &what)
{
    const QHash<qint64, int> queued = m_session->service().queuedRefreshes();
    QList<qint64> left;
    QList<qint64> already;
    for (const qint64 pk : pks)
        (queued.contains(pk) ? already : left) << pk;
    if (already.size() == 1)
        emit message(tr("%1: Foo %2 is already queued in “%3” (job %4), not queued again")
                         .arg(what)
                         .arg(already.first())
                         .arg(m_jobs->name(queued.value(already.first())))
                         .arg(queued.value(already.first())),
                     false);
    else if (!already.isEmpty())
        emit message(tr("%1: %2 Foos are already queued, not queued again").arg(what).arg(already.size()), false);
    return left;
}

bool CacheActions::alreadyRunning(const QStringList &names, const QString &what)
{
    for (const int job : m_jobs->running()) {
        if (names.contains(m_jobs->name(job))) {
            emit message(tr("%1: “%2” (job %3) is still running, nothing more to queue").arg(what, m_jobs->name(job)).arg(job),
                         false);
            return true;
        }
    }
    return false;
}

void CacheActions::startRefresh()
{
    const QList<qint64> pks = m_selection ? m_selection() : QList<qint64>();
    if (!m_session || pks.isEmpty() || m_session->isReadOnly())
        return;
    const QString what = tr("Refresh selected");
    const QList<qint64> left = notQueued(pks, what);
    if (!left.isEmpty())
        started(m_session->service().refresh(left), what, int(left.size()));
}

void CacheActions::refreshFoos(const QList<qint64> &pks, const QString &what)
{
    if (!m_session || pks.isEmpty())
        return;
    if (m_session->isReadOnly()) {
        emit message(tr("%1: the connection is read-only, nothing is refreshed").arg(what), true);
        return;
    }
    const QList<qint64> left = notQueued(pks, what);
    if (!left.isEmpty())
        started(m_session->service().refresh(left), what, int(left.size()));
}

void CacheActions::startRefreshStale()
{
    if (!m_session || m_session->isReadOnly())
        return;
    const QString what = tr("Refresh stale");
    if (!alreadyRunning({ what, tr("Refresh all") }, what))
        started(m_session->service().refreshStale(), what, 0);
}

void CacheActions::startRefreshAll()
{
    if (!m_session || m_session->isReadOnly())
        return;
    const QString what = tr("Refresh all");
    if (alreadyRunning({ what }, what))
        return;
    // No English translation is loaded to pick the plural of "%n Foo(s)": the text chooses it.
    const QString question = m_fooCount == 1
        ? tr("Refresh the only Foo? Its entry is serialized again and replaced.")
        : tr("Refresh all %n Foos? Every entry is serialized again and replaced.", nullptr, m_fooCount);
    if (!confirm(question))
        return;
    started(m_session->service().refreshAll(), what, 0);
}

void CacheActions::startVerify()
{
    if (!m_session)
        return;
    const QList<qint64> pks = m_selection ? m_selection() : QList<qint64>();
    started(m_session->service().verify(pks), pks.isEmpty() ? tr("Verify all") : tr("Verify"), int(pks.size()));
}

void CacheActions::startInvalidate()
{
    const QList<qint64> pks = m_selection ? m_selection() : QList<qint64>();
    if (!m_session || pks.isEmpty() || m_session->isReadOnly())
        return;
    const int count = int(pks.size());
    const QString question = count == 1
        ? tr("Remove the cache entry of 1 Foo? The API serializes it live until refreshed.")
        : tr("Remove the cache entries of %n Foos? The API serializes them live until refreshed.", nullptr, count);
    if (!confirm(question))
        return;
    started(m_session->service().invalidate(pks), tr("Invalidate"), count);
}

// Each Foo's previous entry comes back (a second rollback undoes it); its state then says what it is.
void CacheActions::startRollback()
{
    const QList<qint64> pks = m_selection ? m_selection() : QList<qint64>();
    if (!m_session || pks.isEmpty() || m_session->isReadOnly())
        return;
    const QString question = pks.size() == 1
        ? tr("Put back the previous entry of Foo %1, the one its last refresh or invalidation replaced? Rolling "
             "back again undoes it.").arg(pks.first())
        : tr("Put back the previous entries of %1 Foos? Rolling back again undoes it.").arg(pks.size());
    if (!confirm(question))
        return;
    started(m_session->service().rollbackJob(pks), tr("Roll back"), int(pks.size()));
}
