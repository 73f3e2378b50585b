#include "mainwindow.h"

#include "cacheactions.h"
#include "comparepanel.h"
#include "connectdialog.h"
#include "db/databaseconfig.h"
#include "foobrowser.h"
#include "items/documentloader.h"
#include "items/footreemodel.h"
#include "items/joblistmodel.h"
#include "items/statusloader.h"
#include "jobdock.h"
#include "jobprogresswidget.h"
#include "logdock.h"
#include "serverdock.h"
#include "shortcutsdialog.h"

#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QLabel>
#include <QMenu>
#include <QToolButton>
#include <QProgressBar>
#include <QHBoxLayout>
#include <QMenuBar>
#include <QMessageBox>
#include <QScreen>
#include <QSettings>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QToolBar>
#include <QTreeView>

// Outside any namespace, as Q_INIT_RESOURCE requires.
static void initResources()
{
    Q_INIT_RESOURCE(preserve);
}

MainWindow::MainWindow(const QString &demoDatabase, QWidget *parent)
    : QMainWindow(parent)
    , m_demoDatabase(demoDatabase)
{
    initResources();
    setWindowIcon(QIcon(QStringLiteral(":/icons/preserve.svg")));
    setWindowTitle(tr("Preserve"));
    createWidgets();
    createActions();
    createMenus();
    connectSignals();
    restoreSettings();
    m_compare->clear(tr("File → Connect… opens a Django database."));
    updateActions();
}

MainWindow::~MainWindow()
{
    // The session's server and loaders go first, while the widgets that listen to them still exist.
    m_serverDock->setSession(nullptr);
    m_jobs->setService(nullptr);
    m_cacheActions->setSession(nullptr);
    m_browser->model()->setService(nullptr);
    m_session.reset();
}

void MainWindow::createWidgets()
{
    m_browser = new FooBrowser(this);
    m_compare = new ComparePanel(this);
    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setObjectName(QStringLiteral("mainSplitter"));
    splitter->addWidget(m_browser);
    splitter->addWidget(m_compare);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);
    splitter->setSizes({ 600, 900 });
    setCentralWidget(splitter);

    m_serverDock = new ServerDock(this);
    m_logDock = new LogDock(this);
    addDockWidget(Qt::BottomDockWidgetArea, m_serverDock);
    addDockWidget(Qt::BottomDockWidgetArea, m_logDock);
    m_jobs = new JobListModel(this);
    m_jobDock = new JobDock(m_jobs, this);
    addDockWidget(Qt::BottomDockWidgetArea, m_jobDock);
    tabifyDockWidget(m_serverDock, m_logDock);
    tabifyDockWidget(m_logDock, m_jobDock);
    m_serverDock->raise();

    m_progress = new JobProgressWidget(m_jobs, this);
    m_connectionLabel = new QLabel(tr("Not connected"), this);
    m_workersLabel = new QLabel(this);
    m_workersLabel->setObjectName(QStringLiteral("workersLabel"));
    m_statesLabel = new QLabel(this);
    m_statesLabel->setObjectName(QStringLiteral("statesLabel"));
    // While a connection is tried: a busy bar and Cancel (the attempt may come from --db, not the dialog).
    m_connectingBar = new QWidget(this);
    m_connectingBar->setObjectName(QStringLiteral("connecting"));
    auto *busy = new QProgressBar(m_connectingBar);
    busy->setRange(0, 0);
    busy->setMaximumSize(80, 14);
    busy->setTextVisible(false);
    auto *cancelConnect = new QToolButton(m_connectingBar);
    cancelConnect->setText(tr("Cancel"));
    cancelConnect->setObjectName(QStringLiteral("cancelConnecting"));
    cancelConnect->setToolTip(tr("Stop trying this connection: the current one stays"));
    connect(cancelConnect, &QToolButton::clicked, this, &MainWindow::cancelConnecting);
    auto *connectingLayout = new QHBoxLayout(m_connectingBar);
    connectingLayout->setContentsMargins(0, 0, 0, 0);
    connectingLayout->addWidget(busy);
    connectingLayout->addWidget(cancelConnect);
    m_connectingBar->hide();
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_statesLabel);
    statusBar()->addPermanentWidget(m_workersLabel);
    statusBar()->addPermanentWidget(m_connectionLabel);
    statusBar()->addPermanentWidget(m_connectingBar);
    m_cacheActions = new CacheActions(this, m_jobs);
    m_cacheActions->setSelectionSource([this] { return m_browser->selectedFooIds(); });
    m_statusDelay.setSingleShot(true);
    m_statusDelay.setInterval(250);
    m_statusRetry.setSingleShot(true);
    m_statusRetry.setInterval(2000);
    m_documentDelay.setSingleShot(true);
    m_documentDelay.setInterval(400);
}

void MainWindow::createActions()
{
    m_connectAction = new QAction(style()->standardIcon(QStyle::SP_DialogOpenButton), tr("&Connect…"), this);
    m_connectAction->setShortcut(QKeySequence::Open);
    m_reloadAction = new QAction(style()->standardIcon(QStyle::SP_BrowserReload), tr("Re&load"), this);
    m_reloadAction->setShortcut(QKeySequence(Qt::Key_F5));
    m_reloadAction->setStatusTip(tr("Load the tree and the states again, keeping what is expanded and selected"));
    m_quitAction = new QAction(tr("&Quit"), this);
    m_quitAction->setShortcut(QKeySequence::Quit);
    m_nextDifference = new QAction(style()->standardIcon(QStyle::SP_ArrowDown), tr("&Next Difference"), this);
    m_nextDifference->setIconText(tr("Next")); // the toolbar's text: it fits a 1024-pixel screen
    m_nextDifference->setShortcut(QKeySequence(Qt::Key_F7));
    m_previousDifference = new QAction(style()->standardIcon(QStyle::SP_ArrowUp), tr("&Previous Difference"), this);
    m_previousDifference->setIconText(tr("Previous"));
    m_previousDifference->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_F7));
    m_copyPath = new QAction(tr("Copy JSON &Path"), this);
    m_copyPath->setShortcut(QKeySequence(tr("Ctrl+Shift+C")));
    m_copyPath->setStatusTip(tr("Copy the path of the selected node (bar_set[3].zab_set[0])"));
    m_copyJson = new QAction(tr("Copy as &JSON"), this);
    m_copyJson->setShortcut(QKeySequence(tr("Ctrl+Shift+J")));
    m_copyJson->setStatusTip(tr("Copy the JSON of the selected node, or of the whole side"));
    m_saveCached = new QAction(tr("Save &Cached Body As…"), this);
    m_saveCached->setObjectName(QStringLiteral("saveCached"));
    m_saveCached->setShortcut(QKeySequence(tr("Ctrl+Shift+S")));
    m_saveCached->setStatusTip(tr("Write the cached body to a file: compact, byte for byte as the store holds it, "
                                  "or pretty-printed"));
    m_saveLive = new QAction(tr("Save &Live Body As…"), this);
    m_saveLive->setObjectName(QStringLiteral("saveLive"));
    m_saveLive->setShortcut(QKeySequence::Save);
    m_saveLive->setStatusTip(tr("Write the live body to a file: compact, byte for byte as the serializer writes it, "
                                "or pretty-printed"));
    m_find = new QAction(tr("&Find in Panes…"), this);
    m_find->setObjectName(QStringLiteral("find"));
    m_find->setShortcut(QKeySequence::Find);
    m_find->setStatusTip(tr("Find text in the Cached and Live panes"));
    m_findNext = new QAction(tr("Find &Next"), this);
    m_findNext->setShortcut(QKeySequence::FindNext);
    m_findPrevious = new QAction(tr("Find Pre&vious"), this);
    m_findPrevious->setShortcut(QKeySequence::FindPrevious);
    // Narrow windows get one unified column (Automatic); either layout can be chosen for good.
    m_paneLayouts = new QActionGroup(this);
    const QList<std::pair<QString, ComparePanel::PaneLayout>> layouts {
        { tr("&Automatic (One Column When Narrow)"), ComparePanel::PaneLayout::Automatic },
        { tr("&Side by Side"), ComparePanel::PaneLayout::SideBySide },
        { tr("&One Column (Unified)"), ComparePanel::PaneLayout::Unified },
    };
    for (const auto &[text, layout] : layouts) {
        QAction *action = m_paneLayouts->addAction(text);
        action->setCheckable(true);
        action->setData(int(layout));
        action->setObjectName(QStringLiteral("paneLayout%1").arg(int(layout)));
        action->setChecked(layout == ComparePanel::PaneLayout::Automatic);
    }
    connect(m_paneLayouts, &QActionGroup::triggered, this,
            [this](QAction *action) { m_compare->setPaneLayout(ComparePanel::PaneLayout(action->data().toInt())); });
    m_comparePrevious = new QAction(tr("Compare with &Previous Entry"), this);
    m_comparePrevious->setObjectName(QStringLiteral("comparePrevious"));
    m_comparePrevious->setCheckable(true);
    m_comparePrevious->setShortcut(QKeySequence(tr("Ctrl+Shift+P")));
    m_comparePrevious->setStatusTip(tr("Show the entry the last refresh replaced on the right instead of a live "
                                       "serialization: what that refresh changed (Cache ▸ Roll Back puts it back)"));
    m_findFoos = new QAction(tr("&Filter Foos…"), this);
    m_findFoos->setObjectName(QStringLiteral("filterFoos"));
    m_findFoos->setShortcut(QKeySequence(tr("Ctrl+L")));
    m_findFoos->setStatusTip(tr("Filter the tree: a name or id, or bar:, zab:, baz: and an id or name to list the Foos "
                                "that hold it"));
    m_aboutAction = new QAction(tr("&About Preserve"), this);
    m_keepFresh = new QAction(tr("&Keep Fresh Here"), this);
    m_keepFresh->setCheckable(true);
    m_keepFresh->setObjectName(QStringLiteral("keepFresh"));
    m_keepFresh->setStatusTip(tr("Run a keep-fresh worker in this console: it follows the change log and refreshes "
                                 "what each change reaches (as 'preserve worker'), until unchecked or disconnected"));
    // For the tests, and for whoever scripts the window.
    m_reloadAction->setObjectName(QStringLiteral("reload"));
    m_nextDifference->setObjectName(QStringLiteral("nextDifference"));
    m_previousDifference->setObjectName(QStringLiteral("previousDifference"));
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_connectAction);
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    m_recentMenu->setObjectName(QStringLiteral("recentMenu"));
    connect(m_recentMenu, &QMenu::aboutToShow, this, &MainWindow::fillRecentMenu);
    file->addAction(m_reloadAction);
    file->addSeparator();
    file->addAction(m_quitAction);
    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    edit->addActions({ m_copyJson, m_copyPath });
    edit->addSeparator();
    edit->addActions({ m_find, m_findNext, m_findPrevious, m_findFoos });
    edit->addSeparator();
    edit->addActions({ m_saveCached, m_saveLive });
    QMenu *cache = menuBar()->addMenu(tr("&Cache"));
    cache->addActions({ m_cacheActions->refreshSelected, m_cacheActions->refreshStale, m_cacheActions->refreshAll });
    cache->addSeparator();
    cache->addActions({ m_cacheActions->verify, m_cacheActions->invalidate, m_cacheActions->rollback });
    cache->addSeparator();
    cache->addAction(m_keepFresh);
    QMenu *view = menuBar()->addMenu(tr("&View"));
    view->addActions({ m_nextDifference, m_previousDifference });
    view->addAction(m_comparePrevious);
    QMenu *panes = view->addMenu(tr("P&anes"));
    panes->addActions(m_paneLayouts->actions());
    view->addSeparator();
    view->addAction(m_serverDock->toggleViewAction());
    view->addAction(m_logDock->toggleViewAction());
    view->addAction(m_jobDock->toggleViewAction());
    QMenu *help = menuBar()->addMenu(tr("&Help"));
    QAction *shortcuts = help->addAction(tr("&Keyboard Shortcuts"), this, &MainWindow::showShortcuts);
    shortcuts->setShortcut(QKeySequence::HelpContents);
    shortcuts->setObjectName(QStringLiteral("keyboardShortcuts"));
    help->addSeparator();
    help->addAction(m_aboutAction);
    help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);

    QToolBar *tools = addToolBar(tr("Main"));
    tools->setObjectName(QStringLiteral("mainToolBar"));
    tools->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    tools->addActions({ m_connectAction, m_reloadAction });
    tools->addSeparator();
    tools->addActions({ m_cacheActions->refreshSelected, m_cacheActions->refreshStale, m_cacheActions->refreshAll,
                        m_cacheActions->verify, m_cacheActions->invalidate });
    tools->addSeparator();
    tools->addActions({ m_previousDifference, m_nextDifference });

    auto *separator = new QAction(this);
    separator->setSeparator(true);
    m_browser->view()->addActions({ m_cacheActions->refreshSelected, m_cacheActions->verify,
                                    m_cacheActions->invalidate, m_cacheActions->rollback, separator, m_copyJson,
                                    m_copyPath });
}

void MainWindow::connectSignals()
{
    connect(m_connectAction, &QAction::triggered, this, [this] { showConnectDialog(); });
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);
    connect(m_aboutAction, &QAction::triggered, this, &MainWindow::showAbout);
    connect(m_findFoos, &QAction::triggered, m_browser, &FooBrowser::focusFilter);
    connect(m_jobs, &JobListModel::runningChanged, m_browser, &FooBrowser::holdRows);
    connect(m_progress, &JobProgressWidget::showJobs, this, [this] {
        m_jobDock->show();
        m_jobDock->raise();
    });
    connect(m_comparePrevious, &QAction::toggled, this, [this](bool on) {
        // The right side is the previous entry now: its save action says so.
        m_saveLive->setText(on ? tr("Save &Previous Entry As…") : tr("Save &Live Body As…"));
        m_saveLive->setStatusTip(on ? tr("Write the previous entry (the one the last refresh replaced) to a file")
                                    : tr("Write the live body to a file: compact, byte for byte as the serializer "
                                         "writes it, or pretty-printed"));
        if (!m_session)
            return;
        m_session->documents().setAgainstPrevious(on);
        if (m_shownFoo != 0)
            m_session->documents().load(m_shownFoo);
    });
    connect(m_find, &QAction::triggered, m_compare, &ComparePanel::find);
    connect(m_findNext, &QAction::triggered, m_compare, &ComparePanel::findNext);
    connect(m_findPrevious, &QAction::triggered, m_compare, &ComparePanel::findPrevious);
    connect(m_browser, &FooBrowser::stateSummaryChanged, m_statesLabel, &QLabel::setText);
    connect(m_browser, &FooBrowser::impactWanted, this, [this](NodeLevel level, qint64 id) {
        if (m_session)
            m_session->readImpact(level, id);
    });
    connect(m_browser, &FooBrowser::refreshRequested, m_cacheActions, &CacheActions::refreshFoos);
    connect(m_keepFresh, &QAction::toggled, this, [this](bool on) {
        if (!m_session || on == m_session->isWorkerRunning())
            return;
        if (!on) {
            m_session->stopWorker();
            report(tr("Keep-fresh worker stopping (after the refresh under way)"), false);
            return;
        }
        if (const Status started = m_session->startWorker(); !started) {
            const QSignalBlocker blocker(m_keepFresh);
            m_keepFresh->setChecked(false);
            report(tr("Cannot keep fresh: %1").arg(started.error().message), true);
            return;
        }
        report(tr("Keep-fresh worker running in this console"), false);
    });
    connect(m_nextDifference, &QAction::triggered, m_compare, &ComparePanel::nextDifference);
    connect(m_previousDifference, &QAction::triggered, m_compare, &ComparePanel::previousDifference);
    connect(m_copyPath, &QAction::triggered, this, [this] {
        const QString path = m_compare->hasPaneFocus() ? m_compare->selectionPath() : m_browser->currentPath();
        QApplication::clipboard()->setText(path);
        report(path.isEmpty() ? tr("Copied the path of the whole document (empty)") : tr("Copied the path %1").arg(path),
               false);
    });
    connect(m_copyJson, &QAction::triggered, m_compare, &ComparePanel::copySelectionJson);
    connect(m_saveCached, &QAction::triggered, this, [this] { m_compare->saveSideAs(ComparePanel::Side::Cached); });
    connect(m_saveLive, &QAction::triggered, this, [this] { m_compare->saveSideAs(ComparePanel::Side::Live); });
    connect(m_compare, &ComparePanel::message, this, &MainWindow::report);
    connect(m_compare, &ComparePanel::differencesChanged, this, &MainWindow::updateActions);
    connect(m_reloadAction, &QAction::triggered, this, [this] {
        if (!m_session)
            return;
        m_browser->reload();
        m_session->statuses().request();
        m_documentDelay.start();
    });
    connect(m_browser, &FooBrowser::currentChanged, this, &MainWindow::currentFooChanged);
    connect(m_browser, &FooBrowser::selectionChanged, m_cacheActions, &CacheActions::updateEnabled);
    connect(m_browser->model(), &FooTreeModel::loadFailed, this, [this](const QString &text) { report(text, true); });
    connect(m_cacheActions, &CacheActions::message, this, &MainWindow::report);
    connect(m_serverDock, &ServerDock::message, this, &MainWindow::report);
    connect(&m_statusDelay, &QTimer::timeout, this, [this] {
        if (m_session)
            m_session->statuses().request();
    });
    connect(&m_statusRetry, &QTimer::timeout, &m_statusDelay, qOverload<>(&QTimer::start));
    connect(&m_documentDelay, &QTimer::timeout, this, [this] {
        if (m_session && m_shownFoo != 0)
            m_session->documents().load(m_shownFoo);
    });
}

void MainWindow::openConnection(const ConnectionSpec &spec)
{
    tryConnection(spec, false);
}

// One attempt at a time: a newer one, or Cancel, makes the answer of an older one arrive to
// nobody (the attempt number no longer matches), so a cancelled connection is never adopted.
void MainWindow::tryConnection(const ConnectionSpec &spec, bool fromDialog)
{
    const auto fail = [this, fromDialog](const QString &text) {
        report(text, true);
        emit connectionFailed(text);
        if (fromDialog)
            m_connectDialog->connectionFailed(text);
    };
    const auto config = spec.cacheConfig();
    if (!config)
        return fail(config.error().message);
    if (!mayEndJobs(tr("Connect to %1").arg(spec.displayName())))
        return fail(tr("Kept the current connection: its jobs are still running"));
    const quint64 attempt = ++m_attempt;
    setConnecting(spec.displayName());
    ConsoleSession::probe(*config, this, [this, spec, fromDialog, attempt, config = *config](const Status &status) {
        if (attempt != m_attempt) {
            report(tr("%1 answered after that attempt was cancelled or replaced: not used").arg(spec.displayName()), false);
            return;
        }
        setConnecting(QString());
        if (status) {
            if (fromDialog) {
                m_connectDialog->connectionFailed(QString());
                m_connectDialog->accept();
            }
            adopt(spec, config);
            return;
        }
        const QString text = tr("Cannot connect to %1: %2").arg(spec.displayName(), status.error().message);
        report(text, true);
        emit connectionFailed(text);
        if (!fromDialog) {
            showConnectDialog(status.error().message);
            m_connectDialog->setSpec(spec);
        } else {
            m_connectDialog->connectionFailed(status.error().message);
        }
    });
}

void MainWindow::cancelConnecting()
{
    if (m_connecting.isEmpty())
        return;
    ++m_attempt;
    report(tr("Connecting to %1 cancelled").arg(m_connecting), false);
    setConnecting(QString());
    emit connectionFailed(tr("cancelled"));
}

// "Connecting to X…" in the status bar with a busy bar and Cancel, and in the dialog; empty: done.
void MainWindow::setConnecting(const QString &name)
{
    m_connecting = name;
    m_connectingBar->setVisible(!name.isEmpty());
    m_connectionLabel->setText(!name.isEmpty() ? tr("Connecting to %1…").arg(name)
                               : m_session     ? m_session->spec().displayName()
                                               : tr("Not connected"));
    if (m_connectDialog)
        m_connectDialog->setBusy(name.isEmpty() ? QString() : tr("Connecting to %1…").arg(name));
}

void MainWindow::createDemo()
{
    m_connectDialog->setBusy(tr("Writing the demo database…"));
    report(tr("Writing the demo database to %1").arg(m_demoDatabase), false);
    ConsoleSession::createDemo(m_demoDatabase, this, [this](const Status &written) {
        if (!written) {
            report(tr("Cannot write the demo database: %1").arg(written.error().message), true);
            m_connectDialog->connectionFailed(written.error().message);
            return;
        }
        ConnectionSpec demo;
        demo.database = m_demoDatabase;
        m_connectDialog->setBusy(QString());
        m_connectDialog->refreshRecent();
        m_connectDialog->setSpec(demo);
        m_connectDialog->connectNow();
    });
}

void MainWindow::showConnectDialog(const QString &error)
{
    if (!m_connectDialog) {
        m_connectDialog = new ConnectDialog(m_demoDatabase, this);
        connect(m_connectDialog, &ConnectDialog::connectRequested, this,
                [this](const ConnectionSpec &spec) { tryConnection(spec, true); });
        connect(m_connectDialog, &ConnectDialog::cancelRequested, this, &MainWindow::cancelConnecting);
        connect(m_connectDialog, &ConnectDialog::createDemoRequested, this, &MainWindow::createDemo);
    }
    m_connectDialog->refreshRecent();
    if (!error.isEmpty())
        m_connectDialog->connectionFailed(error);
    m_connectDialog->setBusy(m_connecting.isEmpty() ? QString() : tr("Connecting to %1…").arg(m_connecting));
    m_connectDialog->open();
}

// File → Open Recent: the last connections, newest first, read when the menu opens.
void MainWindow::fillRecentMenu()
{
    m_recentMenu->clear();
    const QList<ConnectionSpec> recent = ConnectDialog::recentConnections();
    // A menu takes "&" for a mnemonic: "R&D.sqlite3" would show as "RD.sqlite3" with D underlined.
    for (const ConnectionSpec &spec : recent)
        m_recentMenu->addAction(QString(spec.displayName()).replace(QLatin1Char('&'), QLatin1String("&&")), this,
                                [this, spec] { openConnection(spec); });
    if (recent.isEmpty())
        m_recentMenu->addAction(tr("No recent connections"))->setEnabled(false);
    m_recentMenu->addSeparator();
    QAction *clear = m_recentMenu->addAction(tr("&Clear Recent"), this, [] { ConnectDialog::clearRecent(); });
    clear->setEnabled(!recent.isEmpty());
}

void MainWindow::adopt(const ConnectionSpec &spec, const CacheConfig &config)
{
    // A server running for the old connection moves to the new one, on the same port, and says so:
    // its clients' next requests are answered from the new connection instead of failing.
    const int servedPort = m_session && m_session->server().isRunning() ? int(m_session->server().port()) : -1;
    const QString servedFrom = m_session ? m_session->spec().displayName() : QString();
    m_serverDock->setSession(nullptr);
    m_jobs->setService(nullptr);
    m_cacheActions->setSession(nullptr);
    m_browser->model()->setService(nullptr);
    m_session.reset();
    m_shownFoo = 0;
    m_documentDelay.stop();
    m_compare->clear(tr("Select a Foo to compare its cached body with a live serialization."));

    m_session = std::make_unique<ConsoleSession>(spec, config);
    m_session->documents().setAgainstPrevious(m_comparePrevious->isChecked());
    connectSession();
    m_browser->setDatabase(config.database);
    m_session->statuses().request();
    m_serverDock->setSession(m_session.get());
    m_jobs->setService(&m_session->service());
    m_cacheActions->setSession(m_session.get());
    m_browser->model()->setService(&m_session->service()); // verify outcomes land per row
    ConnectDialog::remember(spec);
    setWindowTitle(tr("%1 — Preserve").arg(spec.displayName()));
    m_connectionLabel->setText(spec.displayName());
    m_workersLabel->setText(tr("Workers: …"));
    m_session->readWorkers();
    report(tr("Connected to %1").arg(spec.displayName()), false);
    if (servedPort >= 0) {
        m_serverDock->startServer(quint16(servedPort));
        report(m_session->server().isRunning()
                   ? tr("The built-in server moved from %1 to %2, on port %3").arg(servedFrom, spec.displayName()).arg(servedPort)
                   : tr("The built-in server for %1 stopped; it could not start again on port %2").arg(servedFrom).arg(servedPort),
               !m_session->server().isRunning());
    }
    updateActions();
    emit connected();
}

void MainWindow::connectSession()
{
    ConsoleSession *session = m_session.get();
    {
        const QSignalBlocker blocker(m_keepFresh);
        m_keepFresh->setChecked(false);
    }
    connect(session, &ConsoleSession::workersRead, this, &MainWindow::showWorkers);
    connect(session, &ConsoleSession::keepFreshJobStarted, m_jobs,
            [this](int job) { m_jobs->nameJob(job, tr("Keep fresh"), false); });
    connect(session, &ConsoleSession::impactRead, m_browser, &FooBrowser::showImpact);
    connect(session, &ConsoleSession::impactFailed, m_browser,
            [this](const QString &text) { m_browser->showImpactText(tr("Cannot tell what it reaches: %1").arg(text)); });
    connect(session, &ConsoleSession::workersFailed, this, [this](const QString &text) {
        m_workersLabel->setText(tr("Workers: unknown"));
        m_workersLabel->setToolTip(tr("Cannot read the workers' heartbeats: %1").arg(text));
    });
    CacheService *service = &session->service();
    connect(&session->statuses(), &StatusLoader::loaded, this, [this](const StatusSnapshot &statuses) {
        const bool wasUnreadable = !m_browser->model()->statesReadable();
        m_statusRetry.stop();
        m_browser->updateStates(statuses);
        m_cacheActions->setFooCount(int(statuses.byPk.size()));
        if (wasUnreadable)
            report(tr("Cache states readable again"), false);
        emit statesUpdated();
    });
    // Never the last states read as if they still held: every row says unknown, and why, until a
    // read succeeds again (tried every two seconds).
    connect(&session->statuses(), &StatusLoader::failed, this, [this](const QString &text) {
        const QString reason = tr("cannot read the cache states: %1").arg(text);
        if (m_browser->model()->statesReadable() || m_lastStatusError != text)
            report(tr("Reading the cache states: %1").arg(text), true);
        m_lastStatusError = text;
        m_browser->model()->setStatesUnreadable(reason);
        m_statusRetry.start();
        emit statesUpdated();
    });
    connect(&session->documents(), &DocumentLoader::loaded, this, &MainWindow::comparisonLoaded);
    connect(service, &CacheService::entryRefreshed, this, [this](int, qint64 pk) { entriesChanged({ pk }); });
    connect(service, &CacheService::entriesChanged, this, &MainWindow::entriesChanged);
    connect(service, &CacheService::entryVerified, this, [this](int, qint64 pk, const Verification &verification) {
        report(tr("Foo %1 verified: %2").arg(pk).arg(verification.summary), !verification.identical
                   && !verification.keyOrderOnly);
    });
    connect(service, &CacheService::storeUnavailable, this, [this](const QString &text) {
        report(tr("Store unavailable: %1").arg(text), true);
        m_statusDelay.start();
    });
    connect(service, &CacheService::storeAvailable, this, [this] {
        report(tr("Store available again"), false);
        m_statusDelay.start();
    });
}

void MainWindow::currentFooChanged(qint64 fooId, const QString &name, const QString &path)
{
    m_wantedPath = path;
    if (fooId == 0) {
        showNoFoo();
        return;
    }
    if (!m_session)
        return;
    if (fooId != m_shownFoo) {
        m_shownFoo = fooId;
        m_compare->showLoading(fooId, name);
        m_session->documents().load(fooId);
        return;
    }
    if (m_compare->comparison() && m_compare->comparison()->pk == fooId)
        m_compare->showPath(path);
}

// The tree has no current node any more (selection cleared, filtered out, reloaded without it): the
// panes must not go on showing a Foo nobody picked, and its pending comparison is dropped.
void MainWindow::showNoFoo()
{
    if (!m_session)
        return; // the panes say how to connect
    const qint64 was = m_shownFoo;
    m_shownFoo = 0;
    m_documentDelay.stop();
    m_session->documents().clear();
    if (was == 0 && !m_compare->comparison())
        return;
    m_compare->clear(was != 0 ? tr("Foo %1 is no longer selected or no longer in the tree (filtered out). "
                                   "Select a Foo to compare its cached body with a live serialization.")
                                    .arg(was)
                              : tr("Select a Foo to compare its cached body with a live serialization."));
}

void MainWindow::updateActions()
{
    const bool differences = m_compare->hasDifferences();
    m_reloadAction->setEnabled(m_session != nullptr);
    m_nextDifference->setEnabled(differences);
    m_previousDifference->setEnabled(differences);
}

// "Workers: 1 running · lag 35 ms" (the slowest), "none" in the warning colour: nothing keeps the
// cache fresh by itself then. The tooltip has each worker.
void MainWindow::showWorkers(const QList<ChangeTracking::WorkerBeat> &workers)
{
    int running = 0;
    qint64 lag = 0, queued = 0;
    for (const ChangeTracking::WorkerBeat &worker : workers) {
        if (!worker.alive())
            continue;
        ++running;
        lag = std::max(lag, worker.lagMs);
        queued += worker.queued;
    }
    if (running == 0) {
        m_workersLabel->setText(tr("<span style=\"color:#b35900\">Workers: none</span>"));
    } else {
        m_workersLabel->setText(tr("Workers: %1 running · queue %2 · lag %3 ms").arg(running).arg(queued).arg(lag));
    }
    m_workersLabel->setToolTip(tr("Keep-fresh workers on this database: %1.\nStart one with Cache ▸ Keep Fresh Here, "
                                  "'preserve worker' or 'preserve serve --keep-fresh'.")
                                   .arg(ChangeTracking::describeWorkers(workers)));
}

void MainWindow::comparisonLoaded(const DocumentComparisonPtr &comparison)
{
    if (comparison->pk != m_shownFoo)
        return;
    m_compare->setComparison(comparison);
    m_compare->showPath(m_wantedPath);
    emit comparisonShown(comparison->pk);
}

// A refresh here or a write by another process: states are read again, and the Foo on screen
// too when it is among the changed ones (an empty list: unknown which).
// The states are read again by the session (ConsoleSession::statesMayHaveChanged: never while a
// job runs, spaced by their cost); the Foo on screen is read again here.
void MainWindow::entriesChanged(const QList<qint64> &pks)
{
    if (m_shownFoo != 0 && (pks.isEmpty() || pks.contains(m_shownFoo)))
        m_documentDelay.start();
}

void MainWindow::report(const QString &text, bool error)
{
    // Messages quote connection strings (errors from drivers, too): never with their password.
    const QString shown = UrlPasswords::mask(text);
    statusBar()->showMessage(shown, error ? 15000 : 5000);
    m_logDock->append(shown, error);
}

void MainWindow::showShortcuts()
{
    auto *dialog = new ShortcutsDialog(menuBar(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setObjectName(QStringLiteral("shortcutsDialog"));
    dialog->show();
}

void MainWindow::showAbout()
{
    QMessageBox::about(this, tr("About Preserve"),
                       tr("<h3>Preserve %1</h3>"
                          "<p>Inspect, refresh and serve the pre-serialized JSON cache of a Django REST "
                          "Framework API.</p><p>Built with Qt %2.</p>")
                           .arg(QCoreApplication::applicationVersion(), QString::fromLatin1(qVersion())));
}

void MainWindow::restoreSettings()
{
    QSettings settings(QStringLiteral("preserve"), QStringLiteral("console")); // see connectdialog.cpp
    settings.beginGroup(QStringLiteral("mainWindow"));
    if (!restoreGeometry(settings.value(QStringLiteral("geometry")).toByteArray()))
        resize(1500, 920);
    // Never larger than the screen (a saved geometry from a bigger one, or a small X server such as
    // xvfb-run's default): cut parts of a window are parts a person cannot reach.
    if (const QScreen *screen = this->screen()) {
        const QRect available = screen->availableGeometry();
        const QSize fitted = size().boundedTo(available.size() - QSize(16, 48)); // room for a frame
        if (fitted != size()) {
            resize(fitted.expandedTo(minimumSizeHint().boundedTo(available.size())));
            move(available.topLeft() + QPoint((available.width() - width()) / 2, (available.height() - height()) / 2));
        }
    }
    if (!restoreState(settings.value(QStringLiteral("state")).toByteArray())) // a small screen keeps room for the panes
        resizeDocks({ m_serverDock }, { qBound(170, height() * 3 / 10, 250) }, Qt::Vertical);
    if (auto *splitter = findChild<QSplitter *>(QStringLiteral("mainSplitter")))
        splitter->restoreState(settings.value(QStringLiteral("splitter")).toByteArray());
    m_compare->restoreState(settings.value(QStringLiteral("compare")).toByteArray());
    const int layout = settings.value(QStringLiteral("paneLayout"), int(ComparePanel::PaneLayout::Automatic)).toInt();
    for (QAction *action : m_paneLayouts->actions()) {
        if (action->data().toInt() == layout) {
            action->setChecked(true);
            m_compare->setPaneLayout(ComparePanel::PaneLayout(layout));
        }
    }
    m_browser->restoreHeaderState(settings.value(QStringLiteral("treeHeader")).toByteArray());
}

void MainWindow::saveSettings() const
{
    QSettings settings(QStringLiteral("preserve"), QStringLiteral("console")); // see connectdialog.cpp
    settings.beginGroup(QStringLiteral("mainWindow"));
    settings.setValue(QStringLiteral("geometry"), saveGeometry());
    settings.setValue(QStringLiteral("state"), saveState());
    if (auto *splitter = findChild<QSplitter *>(QStringLiteral("mainSplitter")))
        settings.setValue(QStringLiteral("splitter"), splitter->saveState());
    settings.setValue(QStringLiteral("compare"), m_compare->saveState());
    settings.setValue(QStringLiteral("paneLayout"), int(m_compare->paneLayout()));
    settings.setValue(QStringLiteral("treeHeader"), m_browser->saveHeaderState());
}

// Quitting or connecting elsewhere cancels the jobs an operator started: ask first (entries not
// yet refreshed keep their old body). Keep-fresh batches end without asking: the worker is gone too.
bool MainWindow::mayEndJobs(const QString &what)
{
    const QList<int> jobs = m_jobs->running(true);
    if (jobs.isEmpty())
        return true;
    const QString running = jobs.size() == 1 ? tr("“%1” is still running.").arg(m_jobs->title(jobs.first()))
                                             : tr("%1 jobs are still running.").arg(jobs.size());
    return m_cacheActions->confirm(tr("%1 %2 and cancel %3? The entries not refreshed yet keep their previous body.")
                                       .arg(running, what, jobs.size() == 1 ? tr("it") : tr("them")));
}

// Quitting cancels the jobs under way: ask first (entries not yet refreshed keep their old body).
void MainWindow::closeEvent(QCloseEvent *event)
{
    if (!mayEndJobs(tr("Quit"))) {
        event->ignore();
        return;
    }
    saveSettings();
    event->accept();
}
