// The desktop console end to end, offscreen: a real seeded database, the real cache service and
// the window's own widgets; waits on signals, never sleeps.
#include "cacheactions.h"
#include "comparepanel.h"
#include "connectdialog.h"
#include "foobrowser.h"
#include "jobdock.h"
#include "jobprogresswidget.h"
#include "jsonview.h"
#include "logdock.h"
#include "mainwindow.h"
#include "requestlogpanel.h"
#include "segmentedline.h"
#include "serverdock.h"
#include "shortcutsdialog.h"

#include "cache/cacheservice.h"
#include "cache/cachestore.h"
#include "core/bytesize.h"
#include "db/database.h"
#include "db/databaseconfig.h"
#include "db/seeder.h"
#include "items/consolesession.h"
#include "items/foofilterproxymodel.h"
#include "items/foorowstate.h"
#include "items/footreemodel.h"
#include "items/joblistmodel.h"
#include "items/requestlogfiltermodel.h"
#include "items/requestlogmodel.h"
#include "serialize/serializer.h"
#include "staleness/changetracking.h"
#include "testsupport.h"

#include <QAction>
#include <QComboBox>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QScopeGuard>
#include <QScreen>
#include <QHostAddress>
#include <QTcpServer>
#include <QMenu>
#include <QTreeWidget>
#include <QMenuBar>
#include <QToolBar>
#include <QSplitter>
#include <QValueAxis>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStatusBar>
#include <QToolButton>
#include <QElapsedTimer>
#include <QListWidget>
#include <QPushButton>
#include <QScrollBar>
#include <QSettings>
#include <QSignalSpy>
#include <QThreadPool>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QTreeView>

namespace {

// A 10 ms timer on the GUI thread from construction on: late ticks are the thread's stalls.
struct GuiThreadWatch {
    GuiThreadWatch()
    {
        ticker.setInterval(10);
        QObject::connect(&ticker, &QTimer::timeout, [this] {
            const qint64 now = clock.elapsed();
            longestGap = qMax(longestGap, now - lastTick);
            lastTick = now;
            ++ticks;
        });
        clock.start();
        ticker.start();
    }
    qint64 elapsed() const { return clock.elapsed(); }
    void stop() { ticker.stop(); }

    QElapsedTimer clock;
    QTimer ticker;
    qint64 lastTick = 0;
    qint64 longestGap = 0;
    int ticks = 0;
};

std::optional<EntryState> stateOf(FooTreeModel *model, qint64 pk)
{
    const QVariant state = model->fooIndex(pk).data(FooTreeModel::StateRole);
    if (!state.isValid())
        return std::nullopt;
    return EntryState(state.toInt());
}

QHash<qint64, EntryState> statesOf(FooTreeModel *model)
{
    QHash<qint64, EntryState> states;
    for (int row = 0; row < model->rowCount(); ++row) {
        const QModelIndex foo = model->index(row, 0);
        states.insert(foo.data(FooTreeModel::IdRole).toLongLong(), EntryState(foo.data(FooTreeModel::StateRole).toInt()));
    }
    return states;
}

// The entry the store holds for `pk` (empty when there is none or it cannot be read).
QByteArray storedBody(ConsoleSession *session, qint64 pk)
{
    auto store = openStore(session->service().config().store, session->service().config().database);
    if (!store)
        return "<no store: " + store.error().message.toUtf8() + '>';
    auto entry = store.value()->get(pk);
    return entry && *entry ? (*entry)->body : QByteArray();
}

QByteArray liveBody(ConsoleSession *session, qint64 pk)
{
    auto database = Database::open(session->service().config().database);
    if (!database)
        return "<no database: " + database.error().message.toUtf8() + '>';
    Serializer serializer(*database.value());
    auto body = serializer.foo(pk);
    return body ? *body : QByteArray("<serializer failed>");
}

// Runs statements on a SQLite file through a connection of its own (what another program would do);
// the error, or empty.
QString execSql(const QString &file, const QStringList &statements)
{
    QString error;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("execSql"));
        db.setDatabaseName(file);
        QSqlQuery query(db);
        if (!db.open())
            error = db.lastError().text();
        for (const QString &sql : statements) {
            if (error.isEmpty() && !query.exec(sql))
                error = query.lastError().text();
        }
    }
    QSqlDatabase::removeDatabase(QStringLiteral("execSql"));
    return error;
}

QString renameBars(const QString &file, qint64 fooId)
{
    QString error;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("rename"));
        db.setDatabaseName(file);
        QSqlQuery query(db);
        if (!db.open())
            error = db.lastError().text();
        else if (!query.prepare(QStringLiteral("UPDATE api_bar SET name = name || ' (renamed)' WHERE foo_id = ?")))
            error = query.lastError().text();
        query.addBindValue(fooId);
        if (error.isEmpty() && !query.exec())
            error = query.lastError().text();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("rename"));
    return error;
}

// Every point a chart line draws, its segments one after the other.
QList<QPointF> pointsOf(const SegmentedLine *line)
{
    QList<QPointF> points;
    for (const QList<QPointF> &segment : line->segments())
        points += segment;
    return points;
}

// GETs `target` `times` times, one after the other (requests at once may share one lookup, which
// telemetry counts once); the number answered 200. The service counts a request before it answers,
// so the next sample() sees them all.
int fetch(ConsoleSession *session, const QString &target, int times)
{
    QNetworkAccessManager client;
    int ok = 0;
    for (int i = 0; i < times; ++i) {
        QNetworkReply *reply = client.get(QNetworkRequest(session->server().url().resolved(target)));
        if (!QTest::qWaitFor([reply] { return reply->isFinished(); }, 15000))
            return -1;
        ok += reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 200;
        delete reply;
    }
    return ok;
}

HttpLogEntry logEntry(int number, int status, const QByteArray &cache)
{
    HttpLogEntry entry;
    entry.at = QDateTime::currentDateTimeUtc();
    entry.method = "GET";
    entry.target = "/api/foos/" + QByteArray::number(number) + "/";
    entry.status = status;
    entry.cache = cache;
    return entry;
}

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void fitsTheScreen();
    void opensSelectsAndCompares();
    void refreshChangesTheState();
    void selectingABarScrollsBothPanes();
    void readOnlyDisablesWrites();
    void connectionErrorsDoNotCrash();
    void cancelRefreshAllKeepsPreviousEntries();
    void savedSidesAreTheStoreAndSerializerBytes();
    void latencyChartFollowsServedRequests();
    void largeDocumentDoesNotBlockTheUiThread();
    void refreshAllDoesNotBlockTheUiThread();
    void vanishingSelectionClearsThePanes();
    void nameFilterKeepsOrClearsTheSelection();
    void reloadKeepsTheCurrentFooInSight();
    void actionsFollowWhatTheyCanDo();
    void connectDialogHintsAndMasks();
    void maskPasswords_data();
    void maskPasswords();
    void chartsLeaveRoomAndStayEmptyWhenStopped();
    void idleSecondsAreGapsAndAxesComeDown();
    void requestLogFiltersAndFollows();
    void requestPathsReadableAt1024();
    void keepFreshHere();
    void rewrittenBodyIsNeverFresh();
    void unreadableStatesAreUnknown();
    void reorderedKeysAreShownAndSavedAsStored();
    void findFoosAndCountStates();
    void whatAChangeReaches();
    void quittingDuringAJobAsks();
    void reconnectingMovesTheServer();
    void rollBackAndForth();
    void jobPanel();
    void smallScreenShowsOneColumn();
    void shortcutsPageListsTheMenus();
    void connectingCanBeCancelled();
    void recentConnectionsAtOnce();
    void firstStartCreatesTheDemo();

private:
    // Opens `database` in `window` and waits for the tree and its states.
    void open(MainWindow &window, const QString &database, bool readOnly = false);
    bool seedMedium();
    qint64 selectLargest(MainWindow &window);
    // A copy of the small demo for a test that changes it.
    QString copyOfSmall(const QString &name);
    // The same with change tracking installed.
    QString trackedCopyOfSmall(const QString &name);

    QTemporaryDir m_dir;
    QString m_small;
    QString m_medium;
};

void TestMainWindow::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true); // QSettings too: the user's recent list stays untouched
    QVERIFY(m_dir.isValid());
    m_small = m_dir.filePath(QStringLiteral("small.sqlite3"));
    const auto small = Seeder::write(m_small, *Seeder::scale(QStringLiteral("small")), QStringLiteral("api"));
    QVERIFY2(small, qPrintable(why(small)));
}

void TestMainWindow::open(MainWindow &window, const QString &database, bool readOnly)
{
    QSignalSpy connected(&window, &MainWindow::connected);
    QSignalSpy states(&window, &MainWindow::statesUpdated);
    ConnectionSpec spec;
    spec.database = database;
    spec.readOnly = readOnly;
    window.openConnection(spec);
    QVERIFY(connected.count() > 0 || connected.wait(15000));
    // The first states may come while connected() is being waited for: wait() would then wait for
    // a second read.
    QVERIFY(states.count() > 0 || states.wait(15000));
    FooTreeModel *model = window.browser()->model();
    QTRY_VERIFY_WITH_TIMEOUT(model->rowCount() > 0 && !model->isLoading(), 15000);
    // The states arrive independently of the rows: wait until the first row has one.
    QTRY_VERIFY_WITH_TIMEOUT(model->index(0, 0).data(FooTreeModel::StateRole).isValid(), 15000);
}

QString TestMainWindow::copyOfSmall(const QString &name)
{
    const QString file = m_dir.filePath(name);
    return QFile::copy(m_small, file) ? file : QString();
}

QString TestMainWindow::trackedCopyOfSmall(const QString &name)
{
    const QString file = copyOfSmall(name);
    if (file.isEmpty())
        return {};
    auto database = Database::open(*DatabaseConfig::parse(file));
    return database && ChangeTracking::install(**database) ? file : QString();
}

qint64 TestMainWindow::selectLargest(MainWindow &window)
{
    QSignalSpy shown(&window, &MainWindow::comparisonShown);
    if (!window.browser()->selectLargestFoo())
        return 0;
    if (!shown.wait(30000))
        return 0;
    return shown.last().at(0).toLongLong();
}

// The default (or a saved) size never runs past the screen: the offscreen screen is 800×600,
// smaller than the 1500×920 default, as a small X server would be.
void TestMainWindow::fitsTheScreen()
{
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    const QRect available = window.screen()->availableGeometry();
    QVERIFY2(available.contains(window.geometry()),
             qPrintable(QStringLiteral("%1×%2 at %3,%4 on %5×%6").arg(window.width()).arg(window.height())
                            .arg(window.x()).arg(window.y()).arg(available.width()).arg(available.height())));
    // And the tree keeps room for all its columns and a readable name, also when a saved splitter
    // would make it narrow (a restored state squeezed the names to "f…").
    auto *splitter = window.findChild<QSplitter *>(QStringLiteral("mainSplitter"));
    QVERIFY(splitter);
    splitter->setSizes({ 50, 2000 });
    QTreeView *tree = window.browser()->view();
    const int needed = tree->fontMetrics().horizontalAdvance(QStringLiteral("foo-12345678"));
    QTRY_VERIFY2(tree->header()->sectionSize(FooTreeModel::NameColumn) >= needed && tree->header()->length() <= tree->viewport()->width(),
                 qPrintable(QStringLiteral("name %1 (needs %2), columns %3 in %4").arg(tree->header()->sectionSize(FooTreeModel::NameColumn))
                                .arg(needed).arg(tree->header()->length()).arg(tree->viewport()->width())));
}

void TestMainWindow::opensSelectsAndCompares()
{
    MainWindow window;
    window.show();
    open(window, m_small);
    const qint64 pk = selectLargest(window);
    QVERIFY(pk > 0);
    ComparePanel *panel = window.comparePanel();
    // The demo is not cached yet: the live pane has the body, the cached pane says why it is empty.
    QVERIFY(panel->liveView()->hasDocument());
    QVERIFY(panel->liveView()->document().text.contains(QStringLiteral("\"bar_set\": [")));
    QVERIFY(!panel->cachedView()->hasDocument());
    QVERIFY2(panel->summaryText().contains(QStringLiteral("not cached")), qPrintable(panel->summaryText()));
    QCOMPARE(stateOf(window.browser()->model(), pk), EntryState::Missing);
    // The State column has room for a state with a verdict.
    QTreeView *tree = window.browser()->view();
    const int needed = tree->fontMetrics().horizontalAdvance(QStringLiteral("fresh \u00b7 identical")) + 14;
    QVERIFY2(tree->header()->sectionSize(FooTreeModel::StateColumn) >= needed,
             qPrintable(QStringLiteral("%1 < %2").arg(tree->header()->sectionSize(FooTreeModel::StateColumn)).arg(needed)));
}

void TestMainWindow::refreshChangesTheState()
{
    MainWindow window;
    window.show();
    open(window, m_small);
    const qint64 pk = selectLargest(window);
    QVERIFY(pk > 0);
    const auto before = stateOf(window.browser()->model(), pk);
    QVERIFY(before.has_value());
    QVERIFY(window.cacheActions()->refreshSelected->isEnabled());

    QSignalSpy shown(&window, &MainWindow::comparisonShown);
    window.cacheActions()->refreshSelected->trigger();
    // The row's state moves on (missing → unknown without change tracking, fresh with it), and the
    // panes are read again: both filled now, and identical.
    QTRY_VERIFY_WITH_TIMEOUT(stateOf(window.browser()->model(), pk) != before
                                 && stateOf(window.browser()->model(), pk) != EntryState::Refreshing,
                             15000);
    QTRY_VERIFY_WITH_TIMEOUT(window.comparePanel()->cachedView()->hasDocument(), 15000);
    ComparePanel *panel = window.comparePanel();
    QVERIFY(panel->liveView()->hasDocument());
    QCOMPARE(panel->cachedView()->document().text, panel->liveView()->document().text);
    QVERIFY2(panel->summaryText().contains(QStringLiteral("identical")), qPrintable(panel->summaryText()));
    QVERIFY(panel->differenceList()->count() == 0);

    // Refresh again leaves it in place; invalidate (confirmed) removes it again.
    window.cacheActions()->setConfirmation([](const QString &question) {
        return question.contains(QStringLiteral("1 Foo?")) && !question.contains(QStringLiteral("(s)"));
    });
    window.cacheActions()->invalidate->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(window.browser()->model(), pk), EntryState::Missing, 15000);
    QTRY_VERIFY_WITH_TIMEOUT(!window.comparePanel()->cachedView()->hasDocument(), 15000);
}

void TestMainWindow::selectingABarScrollsBothPanes()
{
    MainWindow window;
    window.resize(1200, 500); // short panes, so the Bar is out of view at first
    window.show();
    open(window, m_small);
    const qint64 pk = selectLargest(window);
    QVERIFY(pk > 0);
    QTreeView *tree = window.browser()->view();
    const QModelIndex foo = tree->currentIndex();
    tree->expand(foo);
    QTRY_VERIFY_WITH_TIMEOUT(tree->model()->rowCount(foo) > 3, 15000);
    const int last = tree->model()->rowCount(foo) - 1;
    const QModelIndex bar = tree->model()->index(last, 0, foo);
    const QString path = bar.data(FooTreeModel::JsonPathRole).toString();
    QCOMPARE(path, QStringLiteral("bar_set[%1]").arg(last));
    tree->setCurrentIndex(bar);
    JsonView *live = window.comparePanel()->liveView();
    const auto range = live->document().rangeOf(path);
    QVERIFY(range.first > 10);
    QVERIFY(live->document().line(range.first + 1).contains(QStringLiteral("\"name\"")));
    QTRY_COMPARE(live->topLine(), qMin(range.first - 2, live->verticalScrollBar()->maximum()));
}

void TestMainWindow::readOnlyDisablesWrites()
{
    MainWindow window;
    window.show();
    open(window, m_small, true);
    QVERIFY(selectLargest(window) > 0);
    CacheActions *actions = window.cacheActions();
    for (QAction *action : { actions->refreshSelected, actions->refreshStale, actions->refreshAll, actions->invalidate }) {
        QVERIFY2(!action->isEnabled(), qPrintable(action->text()));
        QVERIFY2(action->toolTip().contains(QStringLiteral("read-only")), qPrintable(action->toolTip()));
    }
    QVERIFY(actions->verify->isEnabled());
}

void TestMainWindow::connectionErrorsDoNotCrash()
{
    MainWindow window;
    window.show();
    QSignalSpy failed(&window, &MainWindow::connectionFailed);
    ConnectionSpec spec;
    spec.database = m_dir.filePath(QStringLiteral("does-not-exist.sqlite3"));
    window.openConnection(spec);
    QVERIFY(failed.wait(15000));
    QVERIFY2(failed.last().at(0).toString().contains(QStringLiteral("does-not-exist")),
             qPrintable(failed.last().at(0).toString()));
    QVERIFY(window.session() == nullptr);

    spec.database = m_small;
    spec.appLabel = QStringLiteral("shop"); // no such tables
    window.openConnection(spec);
    QVERIFY(failed.wait(15000));
    QVERIFY2(failed.last().at(0).toString().contains(QStringLiteral("shop")), qPrintable(failed.last().at(0).toString()));
    QVERIFY(window.session() == nullptr);
}

// Refresh all, cancelled with the progress widget's button before any Foo is done (the workers
// are held from the moment the job has its Foos): the job ends as cancelled, the status bar says
// so, and the entry cached before keeps its bytes although the database has changed since.
void TestMainWindow::cancelRefreshAllKeepsPreviousEntries()
{
    const QString database = copyOfSmall(QStringLiteral("cancel.sqlite3"));
    QVERIFY(!database.isEmpty());
    MainWindow window;
    window.show();
    open(window, database);
    const qint64 pk = selectLargest(window);
    QVERIFY(pk > 0);
    window.cacheActions()->refreshSelected->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(window.comparePanel()->cachedView()->hasDocument(), 15000);
    ConsoleSession *session = window.session();
    const QByteArray previous = storedBody(session, pk);
    QVERIFY(previous.startsWith('{'));
    const QString renamed = renameBars(database, pk);
    QVERIFY2(renamed.isEmpty(), qPrintable(renamed));
    QVERIFY(liveBody(session, pk) != previous); // a refresh would replace it
    FooTreeModel *model = window.browser()->model();
    QTRY_VERIFY_WITH_TIMEOUT(stateOf(model, pk) != EntryState::Refreshing, 15000);
    const auto states = statesOf(model);
    QCOMPARE(states.value(pk, EntryState::Refreshing) != EntryState::Missing, true);

    CacheService &service = session->service();
    auto hold = std::make_shared<QMetaObject::Connection>();
    *hold = connect(&service, &CacheService::jobStarted, this, [&service, hold] {
        service.holdWorkers(true); // before the service queues the job's Foos
        disconnect(*hold);
    });
    QSignalSpy finished(&service, &CacheService::jobFinished);
    QSignalSpy updated(&window, &MainWindow::statesUpdated);
    window.cacheActions()->setConfirmation([](const QString &question) {
        return question.contains(QStringLiteral("Refresh all"));
    });
    window.cacheActions()->refreshAll->trigger();
    auto *progress = window.findChild<JobProgressWidget *>();
    QVERIFY(progress);
    QTRY_VERIFY_WITH_TIMEOUT(progress->isVisible(), 15000);
    QTRY_VERIFY2_WITH_TIMEOUT(progress->text().contains(QStringLiteral("Refresh all 0 / %1").arg(states.size())),
                              qPrintable(progress->text()), 15000);
    QTest::mouseClick(progress->cancelButton(), Qt::LeftButton);
    service.holdWorkers(false);
    QVERIFY(finished.wait(15000));
    const JobSummary summary = finished.last().at(0).value<JobSummary>();
    QVERIFY(summary.cancelled);
    QCOMPARE(summary.done, 0);
    QCOMPARE(summary.failed, 0);
    QCOMPARE(summary.total, int(states.size()));
    QTRY_VERIFY(!progress->isVisible());
    const QString message = window.statusBar()->currentMessage();
    QVERIFY2(message.contains(QStringLiteral("cancelled")), qPrintable(message));

    QCOMPARE(storedBody(session, pk), previous);
    for (auto it = states.cbegin(); it != states.cend(); ++it) {
        if (it.value() == EntryState::Missing)
            QVERIFY2(storedBody(session, it.key()).isEmpty(), qPrintable(QString::number(it.key())));
    }
    // The states are read again after the job starts and ends: the same as before it.
    if (updated.isEmpty())
        QVERIFY(updated.wait(15000));
    QTRY_COMPARE(statesOf(model), states);
}

// File → Save …: the cached file is the store's entry and the live file the serializer's body,
// byte for byte, after the database changed so the two differ.
void TestMainWindow::savedSidesAreTheStoreAndSerializerBytes()
{
    const QString database = copyOfSmall(QStringLiteral("save.sqlite3"));
    QVERIFY(!database.isEmpty());
    MainWindow window;
    window.show();
    window.activateWindow(); // the shortcuts below go to the active window
    QVERIFY(QTest::qWaitForWindowActive(&window));
    open(window, database);
    const qint64 pk = selectLargest(window);
    QVERIFY(pk > 0);
    window.cacheActions()->refreshSelected->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(window.comparePanel()->cachedView()->hasDocument(), 15000);
    const QString renamed = renameBars(database, pk);
    QVERIFY2(renamed.isEmpty(), qPrintable(renamed));
    QSignalSpy shown(&window, &MainWindow::comparisonShown);
    QTest::keyClick(&window, Qt::Key_F5); // Reload reads the Foo on screen again
    QVERIFY(shown.wait(15000));
    ComparePanel *panel = window.comparePanel();
    QVERIFY(panel->differenceList()->count() > 0);

    QStringList asked;
    panel->setFileChooser([&](ComparePanel::Side side, ComparePanel::Format *format) {
        *format = ComparePanel::Format::Compact;
        const QString name = side == ComparePanel::Side::Cached ? QStringLiteral("cached") : QStringLiteral("live");
        asked << name;
        return m_dir.filePath(name + QStringLiteral(".json"));
    });
    QTest::keyClick(&window, Qt::Key_S, Qt::ControlModifier | Qt::ShiftModifier);
    QTest::keyClick(&window, Qt::Key_S, Qt::ControlModifier);
    QCOMPARE(asked, QStringList({ QStringLiteral("cached"), QStringLiteral("live") }));
    const auto read = [this](const QString &name) {
        QFile file(m_dir.filePath(name));
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    };
    const QByteArray cached = storedBody(window.session(), pk);
    const QByteArray live = liveBody(window.session(), pk);
    QVERIFY(cached.size() > 1000 && live.size() > 1000 && cached != live);
    QVERIFY(read(QStringLiteral("cached.json")) == cached);
    QVERIFY(read(QStringLiteral("live.json")) == live);
    QVERIFY2(window.statusBar()->currentMessage().contains(QStringLiteral("live.json")),
             qPrintable(window.statusBar()->currentMessage()));
}

// The server dock serves the demo in-process; a client's requests show in the latency chart: one
// median and one 99th-percentile point per second with requests, within the logged times.
void TestMainWindow::latencyChartFollowsServedRequests()
{
    MainWindow window;
    window.show();
    open(window, m_small);
    ServerDock *dock = window.serverDock();
    dock->startServer(0);
    QVERIFY(dock->isServing());
    const QUrl url = window.session()->server().url();
    QVERIFY2(dock->urlText().contains(QStringLiteral("<a href=\"%1api/foos/\">").arg(url.toString())),
             qPrintable(dock->urlText()));
    QList<double> logged;
    connect(&window.session()->server(), &HttpServer::requestServed, this,
            [&logged](const HttpLogEntry &entry) { logged << entry.milliseconds; });

    QNetworkAccessManager client;
    int answered = 0;
    for (int round = 0; round < 3; ++round) {
        for (qint64 pk = 1; pk <= 6; ++pk) {
            QNetworkReply *reply = client.get(QNetworkRequest(url.resolved(QStringLiteral("/api/foos/%1/").arg(pk))));
            connect(reply, &QNetworkReply::finished, this, [reply, &answered] {
                answered += reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 200;
                reply->deleteLater();
            });
        }
    }
    QTRY_COMPARE_WITH_TIMEOUT(answered, 18, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(logged.size(), 18, 15000);
    QTRY_VERIFY_WITH_TIMEOUT(!pointsOf(dock->medianLatencyLine()).isEmpty()
                                 && pointsOf(dock->tailLatencyLine()).size() == pointsOf(dock->medianLatencyLine()).size(),
                             5000);
    const QList<QPointF> median = pointsOf(dock->medianLatencyLine());
    const QList<QPointF> tail = pointsOf(dock->tailLatencyLine());
    // The chart shows nothing below its floor.
    const double fastest = qMax(ServerDock::latencyFloor, *std::min_element(logged.cbegin(), logged.cend()));
    const double slowest = qMax(ServerDock::latencyFloor, *std::max_element(logged.cbegin(), logged.cend()));
    for (int i = 0; i < median.size(); ++i) {
        const double p50 = median.at(i).y();
        const double p99 = tail.at(i).y();
        QVERIFY2(p50 >= fastest && p50 <= p99 && p99 <= slowest,
                 qPrintable(QStringLiteral("%1 / %2 not within %3..%4").arg(p50).arg(p99).arg(fastest).arg(slowest)));
    }
    QTRY_VERIFY_WITH_TIMEOUT(!dock->hitRateLine()->segments().isEmpty(), 5000);
}

// The largest Foo of the medium demo (1.85 MB, ~100,000 formatted lines) is read, parsed, formatted
// and compared on workers; the GUI thread only takes the finished lines. A 10 ms timer keeps
// ticking meanwhile: no gap between ticks may come near a frozen window.
void TestMainWindow::largeDocumentDoesNotBlockTheUiThread()
{
    QVERIFY(seedMedium());
    MainWindow window;
    window.show();
    open(window, m_medium);

    GuiThreadWatch watch;
    const qint64 pk = selectLargest(window);
    const qint64 took = watch.elapsed();
    const int ticksAtResult = watch.ticks;
    QTRY_VERIFY(watch.ticks > ticksAtResult); // one more tick: the handling of the result is measured too
    watch.stop();
    const int ticks = watch.ticks;
    const qint64 longestGap = watch.longestGap;
    QVERIFY(pk > 0);
    QVERIFY(window.comparePanel()->liveView()->document().lineCount() > 50000);
    qInfo("largest Foo %lld: shown after %lld ms, %d ticks, longest GUI-thread gap %lld ms", pk, took, ticks,
          longestGap);
    QVERIFY2(took > 40, "the work should take measurable time, or this test proves nothing");
    QVERIFY2(ticks >= took / 40, qPrintable(QStringLiteral("only %1 ticks in %2 ms").arg(ticks).arg(took)));
    // Done on the GUI thread, the work would be one gap as long as all of it (~100-300 ms here).
    QVERIFY2(longestGap < 60 || longestGap * 3 < took,
             qPrintable(QStringLiteral("the GUI thread stalled for %1 of %2 ms").arg(longestGap).arg(took)));
}

bool TestMainWindow::seedMedium()
{
    if (!m_medium.isEmpty())
        return true;
    const QString path = m_dir.filePath(QStringLiteral("medium.sqlite3"));
    const auto medium = Seeder::write(path, *Seeder::scale(QStringLiteral("medium")), QStringLiteral("api"));
    if (!medium)
        qWarning("%s", qPrintable(why(medium)));
    else
        m_medium = path;
    return medium.ok();
}

// Refresh-all of the medium demo (100 Foos, 20 MB written) runs on the service's workers; the
// rows' states land on the GUI thread as they finish. A 10 ms timer keeps ticking all along.
void TestMainWindow::refreshAllDoesNotBlockTheUiThread()
{
    QVERIFY(seedMedium());
    const QString path = m_dir.filePath(QStringLiteral("medium-refresh.sqlite3"));
    QVERIFY(QFile::copy(m_medium, path));
    MainWindow window;
    window.show();
    open(window, path);
    QVERIFY(selectLargest(window) > 0); // a big document on screen, re-read when its entry changes
    QSignalSpy finished(&window.session()->service(), &CacheService::jobFinished);
    window.cacheActions()->setConfirmation([](const QString &question) {
        return question.contains(QLatin1String("100 Foos?")) && !question.contains(QLatin1String("(s)"));
    });

    GuiThreadWatch watch;
    window.cacheActions()->refreshAll->trigger();
    QVERIFY(finished.wait(120000));
    const qint64 took = watch.elapsed();
    watch.stop();
    const int ticks = watch.ticks;
    const qint64 longestGap = watch.longestGap;
    // Every row has left "missing" without a reload.
    QTRY_VERIFY_WITH_TIMEOUT(!statesOf(window.browser()->model()).values().contains(EntryState::Missing), 15000);
    qInfo("refresh-all of medium: %lld ms, %d ticks, longest GUI-thread gap %lld ms", took, ticks, longestGap);
    QVERIFY2(took > 100, "the work should take measurable time, or this test proves nothing");
    QVERIFY2(ticks >= took / 40, qPrintable(QStringLiteral("only %1 ticks in %2 ms").arg(ticks).arg(took)));
    QVERIFY2(longestGap < 100 || longestGap * 5 < took,
             qPrintable(QStringLiteral("the GUI thread stalled for %1 of %2 ms").arg(longestGap).arg(took)));
}

// Under the "Missing" filter with a missing Foo selected, Refresh Stale makes every row leave the
// tree as it turns fresh: the selection does not jump from row to row (each jump would start a
// comparison), and at the end nothing is current and the panes no longer show the refreshed Foo.
void TestMainWindow::vanishingSelectionClearsThePanes()
{
    const QString database = copyOfSmall(QStringLiteral("vanish.sqlite3"));
    QVERIFY(!database.isEmpty());
    QList<qint64> announced; // before the window: it may still speak while it is destroyed
    MainWindow window;
    window.show();
    open(window, database);
    FooBrowser *browser = window.browser();
    auto *stateFilter = browser->findChild<QComboBox *>(QStringLiteral("stateFilter"));
    QVERIFY(stateFilter);
    stateFilter->setCurrentIndex(stateFilter->findData(QStringLiteral("missing")));
    QTreeView *tree = browser->view();
    const int rows = tree->model()->rowCount();
    QVERIFY2(rows > 3, "the demo is not cached: every Foo is missing and shown");
    const qint64 pk = selectLargest(window);
    QVERIFY(pk > 0);
    ComparePanel *panel = window.comparePanel();
    QVERIFY(panel->liveView()->hasDocument());

    connect(browser, &FooBrowser::currentChanged, this, [&announced](qint64 fooId) { announced << fooId; });
    QSignalSpy shown(&window, &MainWindow::comparisonShown);
    QSignalSpy finished(&window.session()->service(), &CacheService::jobFinished);
    // First the selected Foo alone (as a job of many reaches it): its row leaves, others stay.
    window.session()->service().refresh({ pk });
    QVERIFY(finished.wait(15000));
    QTRY_COMPARE_WITH_TIMEOUT(tree->model()->rowCount(), rows - 1, 15000);
    QTRY_VERIFY_WITH_TIMEOUT(!panel->comparison(), 5000);
    QVERIFY(!tree->currentIndex().isValid());
    QCOMPARE(announced, QList<qint64>({ 0 })); // the neighbour did not become current
    QVERIFY(!panel->liveView()->hasDocument() && !panel->cachedView()->hasDocument());
    QVERIFY2(panel->cachedView()->placeholder().contains(QStringLiteral("Select a Foo")),
             qPrintable(panel->cachedView()->placeholder()));
    QVERIFY(panel->summaryText().isEmpty());

    // Then all the others: nothing is current, so nothing is compared.
    window.cacheActions()->refreshStale->trigger();
    QVERIFY(finished.wait(15000));
    QTRY_COMPARE_WITH_TIMEOUT(tree->model()->rowCount(), 0, 15000);
    QCOMPARE(announced, QList<qint64>({ 0 }));
    for (const QList<QVariant> &arguments : std::as_const(shown))
        QCOMPARE(arguments.at(0).toLongLong(), pk); // a re-read of the refreshed Foo at most
    QVERIFY(!panel->comparison());

    // Reload (F5) brings nothing back under the filter, and shows nothing.
    QAction *reload = window.findChild<QAction *>(QStringLiteral("reload"));
    QVERIFY(reload && reload->isEnabled());
    QSignalSpy loading(browser->model(), &FooTreeModel::loadingChanged);
    reload->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(!loading.isEmpty() && !browser->model()->isLoading(), 15000);
    QCOMPARE(tree->model()->rowCount(), 0);
    QVERIFY(!panel->comparison());
    QVERIFY(!panel->liveView()->hasDocument());
    disconnect(browser, &FooBrowser::currentChanged, this, nullptr);
}

// The name filter reloads the Foo level: a selected Foo that still matches stays selected and on
// screen (no new comparison); one that no longer matches is no longer shown.
void TestMainWindow::nameFilterKeepsOrClearsTheSelection()
{
    QList<qint64> announced;
    MainWindow window;
    window.show();
    open(window, m_small);
    const qint64 pk = selectLargest(window);
    QVERIFY(pk > 0);
    FooBrowser *browser = window.browser();
    ComparePanel *panel = window.comparePanel();
    auto *filter = browser->findChild<QLineEdit *>(QStringLiteral("filter"));
    QVERIFY(filter);
    connect(browser, &FooBrowser::currentChanged, this, [&announced](qint64 fooId) { announced << fooId; });
    QSignalSpy shown(&window, &MainWindow::comparisonShown);

    const auto applyFilter = [&](const QString &text) {
        QSignalSpy reset(browser->model(), &QAbstractItemModel::modelReset);
        filter->setText(text);
        return reset.wait(5000);
    };
    QVERIFY(applyFilter(QString::number(pk)));
    QTRY_VERIFY_WITH_TIMEOUT(!browser->model()->isLoading()
                                 && browser->view()->currentIndex().data(FooTreeModel::IdRole).toLongLong() == pk,
                             15000);
    QVERIFY(!announced.contains(0));
    QVERIFY(panel->comparison() && panel->comparison()->pk == pk); // kept all along
    for (const QList<QVariant> &arguments : std::as_const(shown))
        QCOMPARE(arguments.at(0).toLongLong(), pk);

    QVERIFY(applyFilter(QStringLiteral("no such foo anywhere")));
    QTRY_VERIFY_WITH_TIMEOUT(!panel->comparison(), 15000);
    QCOMPARE(browser->model()->rowCount(), 0);
    QCOMPARE(announced.last(), 0);
    QVERIFY(!panel->liveView()->hasDocument());
    QVERIFY2(panel->cachedView()->placeholder().contains(QString::number(pk)),
             qPrintable(panel->cachedView()->placeholder()));
    disconnect(browser, &FooBrowser::currentChanged, this, nullptr);
}

// A reload re-selects the current Foo as its batch arrives. Under a sort other than by id, ascending,
// later batches can go in above it (inserted there, or appended and moved by a layout change), which
// keeps the view's offset, not the row: the Foo stays in sight all the same.
void TestMainWindow::reloadKeepsTheCurrentFooInSight()
{
    const QString database = m_dir.filePath(QStringLiteral("many.sqlite3"));
    const Seeder::Scale scale { QStringLiteral("many"), 3000, 3, 2.0, 1, 1, 1, 1, 0, 0, 50 };
    const auto seeded = Seeder::write(database, scale, QStringLiteral("api"));
    QVERIFY2(seeded, qPrintable(why(seeded)));
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    open(window, database);
    FooBrowser *browser = window.browser();
    FooTreeModel *model = browser->model();
    QTreeView *tree = browser->view();
    auto *proxy = qobject_cast<QAbstractProxyModel *>(tree->model());
    QVERIFY(proxy);
    // By id, descending: the first Foo is the last row. Re-selected with the first batch, it stays
    // the last row as each later batch goes in above it, and the view, following it, asks for the
    // next batch each time it shows the end.
    tree->sortByColumn(FooTreeModel::IdColumn, Qt::DescendingOrder);
    while (model->canFetchMore({})) {
        model->fetchMore({});
        QTRY_VERIFY_WITH_TIMEOUT(!model->isLoading(), 15000);
    }
    const int foos = model->rowCount();
    QVERIFY(foos > 1000);
    const QModelIndex first = proxy->index(foos - 1, 0);
    const qint64 pk = first.data(FooTreeModel::IdRole).toLongLong();
    QCOMPARE(proxy->mapToSource(first).row(), 0);
    tree->setCurrentIndex(first);
    tree->scrollTo(first);

    QSignalSpy reset(model, &QAbstractItemModel::modelReset);
    window.findChild<QAction *>(QStringLiteral("reload"))->trigger();
    QVERIFY(reset.count() > 0 || reset.wait(15000));
    // Without following it, the view stops asking: its last row is out of sight.
    const auto where = [&] {
        return QStringLiteral("%1 of %2 rows loaded; the current row %3 (Foo %4), scrolled to %5 of %6")
            .arg(model->rowCount()).arg(foos).arg(tree->currentIndex().row())
            .arg(tree->currentIndex().data(FooTreeModel::IdRole).toLongLong())
            .arg(tree->verticalScrollBar()->value()).arg(tree->verticalScrollBar()->maximum());
    };
    QTRY_VERIFY2_WITH_TIMEOUT(!model->isLoading() && !model->canFetchMore({}), qPrintable(where()), 15000);
    QCOMPARE(model->rowCount(), foos);
    QCOMPARE(tree->currentIndex().data(FooTreeModel::IdRole).toLongLong(), pk);
    const QRect shown = tree->visualRect(tree->currentIndex());
    QVERIFY2(tree->viewport()->rect().intersects(shown),
             qPrintable(QStringLiteral("row %1 of %2 at y %3, the view %4 high").arg(tree->currentIndex().row())
                            .arg(proxy->rowCount()).arg(shown.y()).arg(tree->viewport()->height())));

    // The reload is over: the view is the operator's again. Scrolled to the top, it stays there
    // when the rows move (a new sort order, as a state read can bring).
    tree->verticalScrollBar()->setValue(0);
    tree->sortByColumn(FooTreeModel::NameColumn, Qt::AscendingOrder);
    for (int turn = 0; turn < 3; ++turn) // the follow runs from a queued call: give it its turns
        QCoreApplication::processEvents();
    QCOMPARE(tree->verticalScrollBar()->value(), 0);
}

// Reload needs a connection; Next/Previous Difference need differences on screen.
void TestMainWindow::actionsFollowWhatTheyCanDo()
{
    const QString database = copyOfSmall(QStringLiteral("actions.sqlite3"));
    QVERIFY(!database.isEmpty());
    MainWindow window;
    window.show();
    QAction *reload = window.findChild<QAction *>(QStringLiteral("reload"));
    QAction *next = window.findChild<QAction *>(QStringLiteral("nextDifference"));
    QAction *previous = window.findChild<QAction *>(QStringLiteral("previousDifference"));
    QVERIFY(reload && next && previous);
    QVERIFY(!reload->isEnabled() && !next->isEnabled() && !previous->isEnabled());

    open(window, database);
    QVERIFY(reload->isEnabled());
    const qint64 pk = selectLargest(window);
    QVERIFY(pk > 0);
    QVERIFY(!next->isEnabled() && !previous->isEnabled()); // not cached: nothing to step through
    window.cacheActions()->refreshSelected->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(window.comparePanel()->summaryText().contains(QStringLiteral("identical")), 15000);
    QVERIFY(!next->isEnabled() && !previous->isEnabled());

    const QString renamed = renameBars(database, pk);
    QVERIFY2(renamed.isEmpty(), qPrintable(renamed));
    QSignalSpy shown(&window, &MainWindow::comparisonShown);
    reload->trigger();
    QVERIFY(shown.wait(15000));
    QVERIFY(window.comparePanel()->differenceList()->count() > 0);
    QVERIFY(next->isEnabled() && previous->isEnabled());
    next->trigger();
    QCOMPARE(window.comparePanel()->differenceList()->currentRow(), 0);

    // Nothing selected any more: nothing to step through.
    QTRY_VERIFY_WITH_TIMEOUT(!window.browser()->model()->isLoading(), 15000); // the reload re-selected it
    window.browser()->view()->setCurrentIndex(QModelIndex());
    QTRY_VERIFY(!window.comparePanel()->comparison());
    QVERIFY(!next->isEnabled() && !previous->isEnabled());
}

// First start (no recent connection, no demo file): the dialog says how to get the demo. The
// Database label's mnemonic works. A PostgreSQL password shows masked but is kept for connecting,
// also when another part of the URL is edited.
void TestMainWindow::connectDialogHintsAndMasks()
{
    ConnectDialog::clearRecent();
    {
        ConnectDialog dialog(m_dir.filePath(QStringLiteral("no-demo-here.sqlite3")));
        auto *hint = dialog.findChild<QLabel *>(QStringLiteral("hint"));
        QVERIFY(hint && !hint->isHidden());
        QVERIFY2(hint->text().contains(QStringLiteral("preserve seed")) && hint->text().contains(QStringLiteral("no-demo-here")),
                 qPrintable(hint->text()));
        QLabel *databaseLabel = nullptr;
        for (QLabel *label : dialog.findChildren<QLabel *>()) {
            if (label->text() == QStringLiteral("&Database:"))
                databaseLabel = label;
        }
        QVERIFY(databaseLabel);
        QVERIFY(qobject_cast<QLineEdit *>(databaseLabel->buddy()));

        const QString url = QStringLiteral("postgresql://user:s3cret%40x@127.0.0.1:1/shop");
        ConnectionSpec spec;
        spec.database = url;
        spec.store = QStringLiteral("redis");
        spec.redisUrl = QStringLiteral("redis://:r3dis@127.0.0.1:6390/0");
        dialog.setSpec(spec);
        auto *field = qobject_cast<QLineEdit *>(databaseLabel->buddy());
        QCOMPARE(field->text(), QStringLiteral("postgresql://user:***@127.0.0.1:1/shop"));
        for (QLineEdit *edit : dialog.findChildren<QLineEdit *>())
            QVERIFY2(!edit->text().contains(QStringLiteral("s3cret")) && !edit->text().contains(QStringLiteral("r3dis")),
                     qPrintable(edit->text()));
        QCOMPARE(dialog.spec().database, url);
        QCOMPARE(dialog.spec().redisUrl, spec.redisUrl);
        // Edited elsewhere: the kept password goes with the new host.
        field->setText(QStringLiteral("postgresql://user:***@10.0.0.2:5432/shop"));
        QCOMPARE(dialog.spec().database, QStringLiteral("postgresql://user:s3cret%40x@10.0.0.2:5432/shop"));
        // A password typed in is masked once the field is left, and still the one used.
        field->setText(QStringLiteral("postgresql://u:typed@host/db"));
        emit field->editingFinished();
        QCOMPARE(field->text(), QStringLiteral("postgresql://u:***@host/db"));
        QCOMPARE(dialog.spec().database, QStringLiteral("postgresql://u:typed@host/db"));
        dialog.connectionFailed(QStringLiteral("cannot open postgresql://u:typed@host/db: refused"));
        auto *error = dialog.findChild<QLabel *>(QStringLiteral("error"));
        QVERIFY(error && !error->text().contains(QStringLiteral("typed")));
    }
    {
        // With the demo there, it is offered and no hint shows.
        ConnectDialog dialog(m_small);
        auto *hint = dialog.findChild<QLabel *>(QStringLiteral("hint"));
        QVERIFY(hint && hint->isHidden());
        QCOMPARE(dialog.spec().database, m_small);
    }
}

void TestMainWindow::maskPasswords_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("shown");
    QTest::addRow("postgres") << "postgresql://u:pw@h:5432/d" << "postgresql://u:***@h:5432/d";
    QTest::addRow("no password") << "postgresql://u@h/d" << "postgresql://u@h/d";
    QTest::addRow("no user") << "postgresql://h:5432/d" << "postgresql://h:5432/d";
    QTest::addRow("redis, password only") << "redis://:pw@h:6379/0" << "redis://:***@h:6379/0";
    QTest::addRow("in a message") << "cannot open postgres://a:b@c/d: no; and redis://x:y@z/1"
                                  << "cannot open postgres://a:***@c/d: no; and redis://x:***@z/1";
    QTest::addRow("sqlite path") << "/tmp/a:b@c.sqlite3" << "/tmp/a:b@c.sqlite3";
}

void TestMainWindow::maskPasswords()
{
    QFETCH(QString, text);
    QFETCH(QString, shown);
    QCOMPARE(UrlPasswords::mask(text), shown);
}

// The hit-rate axis goes above 100 % (a warm cache's line is not on the edge); a stopped server
// adds no points, a serving one adds a point per second, idle or not.
void TestMainWindow::chartsLeaveRoomAndStayEmptyWhenStopped()
{
    MainWindow window;
    window.show();
    open(window, m_small);
    ServerDock *dock = window.serverDock();
    const auto axes = dock->hitRateLine()->legendSeries()->attachedAxes();
    const auto vertical = std::find_if(axes.cbegin(), axes.cend(),
                                       [](QAbstractAxis *axis) { return axis->orientation() == Qt::Vertical; });
    QVERIFY(vertical != axes.cend());
    auto *percent = qobject_cast<QValueAxis *>(*vertical);
    QVERIFY(percent && percent->max() > 100 && percent->max() <= 110 && percent->min() == 0);
    QVERIFY(percent->labelFormat().contains(QStringLiteral("%%")));

    SegmentedLine *requests = dock->requestRateLine();
    dock->sample();
    dock->sample();
    QVERIFY(requests->segments().isEmpty());
    QVERIFY(dock->hitRateLine()->segments().isEmpty());
    dock->startServer(0);
    QVERIFY(dock->isServing());
    dock->sample();
    QCOMPARE(pointsOf(requests).size(), 1);
    QCOMPARE(pointsOf(requests).at(0).y(), 0.0);
    QVERIFY(dock->hitRateLine()->segments().isEmpty()); // no requests, no rate
}

// A second without requests is a gap in the hit rate (no 0 %, no line across it), and the
// requests/s axis comes back down once a burst has left the 60-second window. The dock's own
// timer may sample in between too: it can only add idle seconds, which changes none of this.
void TestMainWindow::idleSecondsAreGapsAndAxesComeDown()
{
    MainWindow window;
    window.show();
    open(window, m_small);
    ServerDock *dock = window.serverDock();
    dock->startServer(0);
    QVERIFY(dock->isServing());
    QCOMPARE(fetch(window.session(), QStringLiteral("/api/foos/1/"), 1), 1); // a miss: loads the entry
    dock->setSession(window.session()); // the charts start over, the miss left out
    QCOMPARE(fetch(window.session(), QStringLiteral("/api/foos/1/"), 3), 3);
    dock->sample();
    dock->sample(); // idle
    QCOMPARE(fetch(window.session(), QStringLiteral("/api/foos/1/"), 2), 2);
    dock->sample();
    QCOMPARE(dock->hitRateLine()->segments().size(), 2);
    for (const QPointF &point : pointsOf(dock->hitRateLine()))
        QCOMPARE(point.y(), 100.0);
    QCOMPARE(dock->requestRateLine()->segments().size(), 1); // a serving server's idle second: 0 requests/s

    QCOMPARE(fetch(window.session(), QStringLiteral("/api/foos/1/"), 40), 40);
    dock->sample();
    QVERIFY2(dock->requestRateAxis()->max() > 10, qPrintable(QString::number(dock->requestRateAxis()->max())));
    for (int second = 0; second <= 60; ++second)
        dock->sample();
    QCOMPARE(dock->requestRateAxis()->max(), 10.0);
    QVERIFY(dock->hitRateLine()->segments().isEmpty());
}

// The filter bar above the log narrows the table (status, path, X-Cache values the log has shown),
// and the table still follows the newest row through the filter, unless scrolled up.
void TestMainWindow::requestLogFiltersAndFollows()
{
    MainWindow window;
    window.resize(1024, 768);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    ServerDock *dock = window.serverDock();
    RequestLogModel *log = dock->requestLog();
    auto *status = dock->findChild<QComboBox *>(QStringLiteral("statusFilter"));
    auto *path = dock->findChild<QLineEdit *>(QStringLiteral("pathFilter"));
    auto *cache = dock->findChild<QComboBox *>(QStringLiteral("cacheFilter"));
    QTableView *table = dock->requestLogPanel()->table();
    QVERIFY(status && path && cache && table->isVisible());
    const auto appendRows = [log](int from, int to) {
        for (int number = from; number <= to; ++number)
            log->append(logEntry(number, number % 2 ? 404 : 200, number % 3 ? "HIT" : "MISS"));
        log->flush();
    };
    appendRows(1, 300);
    QCOMPARE(cache->count(), 3); // any, HIT, MISS
    status->setCurrentIndex(status->findData(int(RequestLogFilterModel::StatusClass::ClientError)));
    QCOMPARE(table->model()->rowCount(), 150);
    cache->setCurrentIndex(cache->findData(QStringLiteral("MISS")));
    QCOMPARE(table->model()->rowCount(), 50); // odd multiples of 3
    path->setText(QStringLiteral("/api/foos/9"));
    QCOMPARE(table->model()->rowCount(), 3); // 9, 93, 99

    path->clear();
    cache->setCurrentIndex(0);
    QCOMPARE(table->model()->rowCount(), 150);
    QScrollBar *scroll = table->verticalScrollBar();
    QTRY_VERIFY(scroll->maximum() > 0 && scroll->value() == scroll->maximum());
    const int maximum = scroll->maximum();
    appendRows(301, 320);
    QTRY_VERIFY(scroll->maximum() > maximum && scroll->value() == scroll->maximum());
    QCOMPARE(table->model()->index(table->model()->rowCount() - 1, RequestLogModel::PathColumn).data().toString(),
             QStringLiteral("/api/foos/319/"));
    scroll->setValue(0);
    appendRows(321, 340);
    QTRY_COMPARE(table->model()->rowCount(), 170);
    QCOMPARE(scroll->value(), 0);
}

// At a 1024-pixel-wide window the request log's Path column keeps room for a detail path beside
// the charts (it was squeezed to "/…").
void TestMainWindow::requestPathsReadableAt1024()
{
    MainWindow window;
    window.show();
    window.resize(1024, 768);
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QTRY_COMPARE(window.width(), 1024);
    QTableView *table = window.serverDock()->requestLogPanel()->table();
    QVERIFY(table->isVisible());
    // Enough rows for a scroll bar, which takes its width from the path too.
    for (int number = 12000; number <= 12345; ++number)
        window.serverDock()->requestLog()->append(logEntry(number, 200, "HIT"));
    window.serverDock()->requestLog()->flush();
    QTRY_VERIFY(table->verticalScrollBar()->isVisible());
    const QModelIndex cell = table->model()->index(table->model()->rowCount() - 1, RequestLogModel::PathColumn);
    QCOMPARE(cell.data().toString(), QStringLiteral("/api/foos/12345/"));
    // The delegate's text margin: the focus frame's and one pixel, each side.
    const int margin = table->style()->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, table) + 1;
    const int needed = table->fontMetrics().horizontalAdvance(cell.data().toString()) + 2 * margin;
    QTRY_VERIFY2(table->visualRect(cell).width() >= needed,
                 qPrintable(QStringLiteral("path %1 px, needs %2; table %3 of window %4")
                                .arg(table->visualRect(cell).width()).arg(needed).arg(table->width()).arg(window.width())));
}

// Cache ▸ Keep Fresh Here runs a worker in the console: the status bar says so (from the
// heartbeat it leaves in the database), every entry becomes fresh, a change is refreshed by
// itself, and unchecking stops it (the heartbeat goes). Without tracking it refuses, unchecked.
void TestMainWindow::keepFreshHere()
{
    const QString path = copyOfSmall(QStringLiteral("keepfresh.sqlite3"));
    QVERIFY(!path.isEmpty());
    MainWindow window;
    window.show();
    open(window, path);
    auto *label = window.findChild<QLabel *>(QStringLiteral("workersLabel"));
    auto *keepFresh = window.findChild<QAction *>(QStringLiteral("keepFresh"));
    QVERIFY(label && keepFresh);
    QTRY_VERIFY2(label->text().contains(QLatin1String("none")), qPrintable(label->text()));
    keepFresh->trigger();
    QVERIFY(!keepFresh->isChecked()); // no tracking: refused
    QVERIFY(window.statusBar()->currentMessage().contains(QLatin1String("preserve track install")));

    {
        auto database = Database::open(*DatabaseConfig::parse(path));
        QVERIFY(database && ChangeTracking::install(**database));
    }
    keepFresh->trigger();
    QVERIFY(keepFresh->isChecked());
    QTRY_VERIFY_WITH_TIMEOUT(label->text().contains(QLatin1String("Workers: 1 running")), 10000);
    FooTreeModel *model = window.browser()->model();
    const auto allFresh = [model] {
        for (int row = 0; row < model->rowCount(); ++row) {
            if (model->index(row, 0).data(FooTreeModel::StateRole).value<EntryState>() != EntryState::Fresh)
                return false;
        }
        return true;
    };
    QTRY_VERIFY_WITH_TIMEOUT(allFresh(), 20000);
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("keepfresh"));
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery query(db);
        QVERIFY(query.exec(QStringLiteral("UPDATE api_foo SET name = 'renamed by hand' WHERE id = (SELECT min(id) FROM api_foo)")));
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("keepfresh"));
    const qint64 first = model->index(0, 0).data(FooTreeModel::FooIdRole).toLongLong();
    QSignalSpy refreshed(&window.session()->service(), &CacheService::entryRefreshed);
    QTRY_VERIFY_WITH_TIMEOUT(std::any_of(refreshed.cbegin(), refreshed.cend(), [first](const QList<QVariant> &args) { return args.at(1).toLongLong() == first; }), 20000);
    QTRY_VERIFY_WITH_TIMEOUT(allFresh(), 20000);
    keepFresh->trigger();
    QVERIFY(!keepFresh->isChecked());
    QTRY_VERIFY_WITH_TIMEOUT(label->text().contains(QLatin1String("none")), 10000);
}

// The issue's case: an entry rewritten behind the console's back (same size), then verified. The row
// must leave "fresh" and say why; Verify's verdict lands on it; Refresh brings it back.
void TestMainWindow::rewrittenBodyIsNeverFresh()
{
    const QString path = trackedCopyOfSmall(QStringLiteral("rewritten.sqlite3"));
    QVERIFY(!path.isEmpty());
    MainWindow window;
    window.show();
    open(window, path);
    FooTreeModel *model = window.browser()->model();
    window.cacheActions()->setConfirmation([](const QString &) { return true; });
    window.cacheActions()->refreshAll->trigger();
    const auto allFresh = [model] {
        const auto states = statesOf(model);
        return std::all_of(states.cbegin(), states.cend(), [](EntryState state) { return state == EntryState::Fresh; });
    };
    QTRY_VERIFY_WITH_TIMEOUT(allFresh(), 20000);
    const qint64 pk = selectLargest(window);
    QVERIFY(pk > 0);
    QVERIFY(storedBody(window.session(), pk).contains("bar-"));
    const QString rewritten = execSql(path, { QStringLiteral("UPDATE api_foo SET pre_serialized = "
                                                             "replace(pre_serialized, 'bar-', 'BAR-') WHERE id = %1").arg(pk) });
    QVERIFY2(rewritten.isEmpty(), qPrintable(rewritten));
    window.findChild<QAction *>(QStringLiteral("reload"))->trigger(); // F5
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(model, pk), EntryState::Foreign, 15000);
    window.cacheActions()->verify->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(model->fooIndex(pk).data(FooTreeModel::VerdictRole).toInt(),
                              int(FooTreeModel::Verdict::Differs), 15000);
    const QModelIndex state = model->fooIndex(pk, FooTreeModel::StateColumn);
    QCOMPARE(state.data().toString(), QStringLiteral("foreign · differs"));
    QVERIFY(state.data(Qt::ForegroundRole).value<QColor>() != stateColor(EntryState::Fresh));
    const QString tip = state.data(Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(QLatin1String("not the body Preserve wrote")) && tip.contains(QLatin1String("differs from live")),
             qPrintable(tip));
    QCOMPARE(stateOf(model, pk), EntryState::Foreign); // the next status read agrees
    window.cacheActions()->refreshSelected->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(model, pk), EntryState::Fresh, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(model->fooIndex(pk).data(FooTreeModel::VerdictRole), QVariant(), 15000);
}

// The database file goes away under an open console: every row turns unknown with the reason, and
// the states come back by themselves when the file does.
void TestMainWindow::unreadableStatesAreUnknown()
{
    const QString path = copyOfSmall(QStringLiteral("vanishing.sqlite3"));
    QVERIFY(!path.isEmpty());
    QVERIFY(execSql(path, { QStringLiteral("UPDATE api_foo SET pre_serialized = NULL") }).isEmpty()); // other tests cached some
    MainWindow window;
    window.show();
    open(window, path);
    FooTreeModel *model = window.browser()->model();
    const QHash<qint64, EntryState> before = statesOf(model);
    QVERIFY(!before.isEmpty());
    QVERIFY(!before.values().contains(EntryState::Unknown)); // missing, all of them: never cached
    const QString away = path + QStringLiteral(".away");
    QVERIFY(QFile::rename(path, away));
    window.findChild<QAction *>(QStringLiteral("reload"))->trigger(); // F5
    const auto allUnknown = [model] {
        const auto states = statesOf(model);
        return !states.isEmpty()
            && std::all_of(states.cbegin(), states.cend(), [](EntryState state) { return state == EntryState::Unknown; });
    };
    QTRY_VERIFY_WITH_TIMEOUT(allUnknown(), 15000);
    const QModelIndex first = model->index(0, FooTreeModel::StateColumn);
    const QString reason = first.data(FooTreeModel::ReasonRole).toString();
    QVERIFY2(reason.contains(QLatin1String("is gone")) || reason.contains(QLatin1String("no SQLite database")),
             qPrintable(reason));
    QVERIFY2(reason.contains(QLatin1String("last read as missing")), qPrintable(reason));
    QCOMPARE(first.data(Qt::ForegroundRole).value<QColor>(), stateColor(EntryState::Unknown));
    QVERIFY(QFile::rename(away, path));
    QTRY_VERIFY_WITH_TIMEOUT(statesOf(model) == before, 15000); // no F5: it tries again by itself
    QVERIFY(model->statesReadable());
}

// The column rewritten with the same values in another key order (as sqlite3 or a script would):
// the entry as served is canonical, but the console shows and saves what the column holds, says
// "key order only" instead of "identical", and gives the entry the tree's size.
void TestMainWindow::reorderedKeysAreShownAndSavedAsStored()
{
    const QString path = copyOfSmall(QStringLiteral("reordered.sqlite3"));
    QVERIFY(!path.isEmpty());
    MainWindow window;
    window.show();
    open(window, path);
    const qint64 pk = selectLargest(window);
    QVERIFY(pk > 0);
    window.cacheActions()->refreshSelected->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(window.comparePanel()->cachedView()->hasDocument(), 15000);
    QByteArray reordered;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("reorder"));
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery query(db);
        // {"name":…,"bar_set":[…]} becomes {"bar_set":[…],"name":…}: same values, same length.
        QVERIFY(query.exec(QStringLiteral("UPDATE api_foo SET pre_serialized = json_object('bar_set', "
                                          "json_extract(pre_serialized, '$.bar_set'), 'name', "
                                          "json_extract(pre_serialized, '$.name')) WHERE id = %1").arg(pk)));
        QVERIFY(query.exec(QStringLiteral("SELECT pre_serialized FROM api_foo WHERE id = %1").arg(pk)) && query.next());
        reordered = query.value(0).toByteArray();
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("reorder"));
    QVERIFY(reordered.startsWith("{\"bar_set\":"));
    QSignalSpy shown(&window, &MainWindow::comparisonShown);
    window.findChild<QAction *>(QStringLiteral("reload"))->trigger(); // F5
    QVERIFY(shown.wait(15000));
    ComparePanel *panel = window.comparePanel();
    QTRY_VERIFY_WITH_TIMEOUT(panel->summaryText().contains(QLatin1String("key order only")), 15000);
    QVERIFY(panel->cachedView()->document().text.startsWith(QLatin1String("{\n  \"bar_set\"")));
    QCOMPARE(panel->differenceList()->count(), 0);

    panel->setFileChooser([&](ComparePanel::Side, ComparePanel::Format *format) {
        *format = ComparePanel::Format::Compact;
        return m_dir.filePath(QStringLiteral("reordered.json"));
    });
    window.findChild<QAction *>(QStringLiteral("saveCached"))->trigger();
    QFile saved(m_dir.filePath(QStringLiteral("reordered.json")));
    QVERIFY(saved.open(QIODevice::ReadOnly));
    QCOMPARE(saved.readAll(), reordered);

    FooTreeModel *model = window.browser()->model();
    QTRY_VERIFY_WITH_TIMEOUT(!model->fooIndex(pk, FooTreeModel::SizeColumn).data().toString().isEmpty(), 15000);
    const QString size = model->fooIndex(pk, FooTreeModel::SizeColumn).data().toString();
    QCOMPARE(size, formatBytes(reordered.size()));
    auto *title = panel->findChild<QLabel *>(QStringLiteral("cachedTitle"));
    QVERIFY(title);
    QVERIFY2(title->text().contains(size), qPrintable(title->text() + QStringLiteral(" / ") + size));
}

// Ctrl+L, a search for the Foos that hold a Baz, "no match", Esc; the state box's counts and the
// status bar's totals, as `preserve status` gives them.
void TestMainWindow::findFoosAndCountStates()
{
    const QString path = copyOfSmall(QStringLiteral("find.sqlite3"));
    QVERIFY(!path.isEmpty());
    QList<qint64> holders; // the Foos that hold the Baz in the most Foos, by the tables themselves
    qint64 baz = 0;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("find"));
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery query(db);
        QVERIFY(query.exec(QStringLiteral("UPDATE api_foo SET pre_serialized = NULL")));
        QVERIFY(query.exec(QStringLiteral("SELECT l.baz_id FROM api_zab_bazs l JOIN api_zab z ON z.id = l.zab_id JOIN "
                                          "api_bar b ON b.id = z.bar_id GROUP BY l.baz_id ORDER BY count(DISTINCT b.foo_id) "
                                          "DESC, 1 LIMIT 1")) && query.next());
        baz = query.value(0).toLongLong();
        QVERIFY(query.exec(QStringLiteral("SELECT DISTINCT b.foo_id FROM api_zab_bazs l JOIN api_zab z ON z.id = l.zab_id "
                                          "JOIN api_bar b ON b.id = z.bar_id WHERE l.baz_id = %1 ORDER BY 1").arg(baz)));
        while (query.next())
            holders << query.value(0).toLongLong();
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("find"));
    QVERIFY(holders.size() > 1);

    MainWindow window;
    window.show();
    window.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    open(window, path);
    FooBrowser *browser = window.browser();
    const int foos = window.session()->service().status()->size();
    QTRY_COMPARE(browser->stateBox()->itemText(0), QStringLiteral("All states (%1)").arg(foos));
    QCOMPARE(browser->stateBox()->itemText(1), QStringLiteral("Not fresh (%1)").arg(foos));
    QCOMPARE(browser->stateBox()->itemText(4), QStringLiteral("Missing (%1)").arg(foos));
    QCOMPARE(browser->stateBox()->itemText(2), QStringLiteral("Fresh (0)"));
    auto *totals = window.findChild<QLabel *>(QStringLiteral("statesLabel"));
    QVERIFY(totals);
    QCOMPARE(totals->text(), QStringLiteral("%1 Foo: %1 missing").arg(foos));

    QTest::keyClick(&window, Qt::Key_L, Qt::ControlModifier);
    QTRY_VERIFY(browser->filterEdit()->hasFocus());
    QTest::keyClicks(browser->filterEdit(), QStringLiteral("baz:%1").arg(baz));
    QTreeView *tree = browser->view();
    const auto shownFoos = [tree] {
        QList<qint64> ids;
        for (int row = 0; row < tree->model()->rowCount(); ++row)
            ids << tree->model()->index(row, 0).data(FooTreeModel::IdRole).toLongLong();
        return ids;
    };
    QTRY_COMPARE_WITH_TIMEOUT(shownFoos(), holders, 10000);
    QTRY_VERIFY(browser->noMatchLabel()->isHidden());

    browser->filterEdit()->setText(QStringLiteral("baz:987654321"));
    QTRY_VERIFY_WITH_TIMEOUT(browser->noMatchLabel()->isVisible(), 10000);
    QVERIFY2(browser->noMatchLabel()->text().contains(QStringLiteral("No Foo matches “baz:987654321”")),
             qPrintable(browser->noMatchLabel()->text()));
    QTest::keyClick(browser->filterEdit(), Qt::Key_Escape);
    QVERIFY(browser->filterEdit()->text().isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(tree->model()->rowCount(), foos, 10000);
    QTRY_VERIFY(browser->noMatchLabel()->isHidden());

    browser->stateBox()->setCurrentIndex(2); // Fresh: none
    QTRY_VERIFY(browser->noMatchLabel()->isVisible());
    QCOMPARE(tree->model()->rowCount(), 0);
    browser->stateBox()->setCurrentIndex(1); // Not fresh: all
    QCOMPARE(tree->model()->rowCount(), foos);
    QTRY_VERIFY(browser->noMatchLabel()->isHidden());
}

// Select a Baz: the strip under the tree says how many Foos it is in (as `preserve impact` does),
// Show These lists them in the tree, Refresh These refreshes exactly them.
void TestMainWindow::whatAChangeReaches()
{
    const QString path = copyOfSmall(QStringLiteral("impact.sqlite3"));
    QVERIFY(!path.isEmpty());
    MainWindow window;
    window.show();
    open(window, path);
    const qint64 pk = selectLargest(window);
    QVERIFY(pk > 0);
    FooBrowser *browser = window.browser();
    QTreeView *tree = browser->view();
    QVERIFY(browser->impactLabel()->isHidden() || !browser->impactLabel()->isVisible());
    // Down to the first Baz of the first Zab of the first Bar.
    QModelIndex node = tree->currentIndex().siblingAtColumn(0);
    for (int depth = 0; depth < 3; ++depth) {
        tree->expand(node);
        QTRY_VERIFY_WITH_TIMEOUT(tree->model()->rowCount(node) > 0, 15000);
        node = tree->model()->index(0, 0, node);
    }
    QCOMPARE(node.data(FooTreeModel::KindRole).value<FooTreeModel::Kind>(), FooTreeModel::Kind::Baz);
    const qint64 baz = node.data(FooTreeModel::IdRole).toLongLong();
    tree->setCurrentIndex(node);
    const auto expected = window.session()->service().impact(NodeLevel::Baz, baz);
    QVERIFY(expected && expected->pks().contains(pk));
    QTRY_COMPARE_WITH_TIMEOUT(browser->impactLabel()->text(), expected->sentence(), 10000);
    QVERIFY(browser->impactLabel()->isVisible());

    browser->showImpactButton()->click();
    QCOMPARE(browser->filterEdit()->text(), QStringLiteral("baz:%1").arg(baz));
    const auto shownFoos = [tree] {
        QList<qint64> ids;
        for (int row = 0; row < tree->model()->rowCount(); ++row)
            ids << tree->model()->index(row, 0).data(FooTreeModel::IdRole).toLongLong();
        return ids;
    };
    QTRY_COMPARE_WITH_TIMEOUT(shownFoos(), expected->pks(), 10000);

    // Back on the Baz (the filter keeps its Foo), then Refresh These.
    browser->filterEdit()->clear();
    QTRY_COMPARE_WITH_TIMEOUT(tree->model()->rowCount(), int(window.session()->service().status()->size()), 10000);
    QVERIFY(browser->selectFoo(pk));
    node = tree->currentIndex().siblingAtColumn(0);
    for (int depth = 0; depth < 3; ++depth) {
        tree->expand(node);
        QTRY_VERIFY_WITH_TIMEOUT(tree->model()->rowCount(node) > 0, 15000);
        node = tree->model()->index(0, 0, node);
    }
    tree->setCurrentIndex(node);
    QTRY_VERIFY_WITH_TIMEOUT(browser->refreshImpactButton()->isEnabled() && browser->impactLabel()->isVisible(), 10000);
    QSignalSpy refreshed(&window.session()->service(), &CacheService::entryRefreshed);
    QSignalSpy finished(&window.session()->service(), &CacheService::jobFinished);
    browser->refreshImpactButton()->click();
    QVERIFY(finished.wait(20000));
    QList<qint64> pks;
    for (const QList<QVariant> &arguments : std::as_const(refreshed))
        pks << arguments.at(1).toLongLong();
    std::sort(pks.begin(), pks.end());
    QCOMPARE(pks, expected->pks());

    // A Foo again: the strip goes.
    QVERIFY(browser->selectFoo(pk));
    QTRY_VERIFY(!browser->impactLabel()->isVisible());
}

void TestMainWindow::quittingDuringAJobAsks()
{
    MainWindow window;
    window.show();
    open(window, m_small);
    QStringList asked;
    bool answer = false;
    window.cacheActions()->setConfirmation([&](const QString &question) {
        asked << question;
        return answer;
    });
    QVERIFY(window.close()); // nothing running: no question
    QVERIFY(asked.isEmpty());
    window.show();
    CacheService &service = window.session()->service();
    service.holdWorkers(true); // the job stays under way
    QSignalSpy finished(&service, &CacheService::jobFinished);
    service.refresh({ 3 }); // background work (the server's, say): quitting does not ask about it
    QVERIFY(window.close());
    QVERIFY(asked.isEmpty());
    window.show();
    QVERIFY(window.browser()->selectFoo(1));
    window.cacheActions()->refreshSelected->trigger();
    QVERIFY(!window.close());
    QCOMPARE(asked.size(), 1);
    QVERIFY2(asked[0].contains(QStringLiteral("“Refresh selected: 1 Foo” is still running. Quit and cancel it?")),
             qPrintable(asked[0]));
    QVERIFY(window.isVisible());
    answer = true;
    QVERIFY(window.close());
    service.holdWorkers(false);
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, 15000);
}

// The job panel: jobs named after their action, a Foo already queued not queued again, a second
// Refresh Stale refused while one runs, one job cancelled from its own row while the other goes
// on, the log saying which action ended how, the filtered rows held while jobs run, and
// connecting elsewhere asking first.
void TestMainWindow::jobPanel()
{
    const QString path = copyOfSmall(QStringLiteral("jobs.sqlite3"));
    QVERIFY(!path.isEmpty());
    QVERIFY(execSql(path, { QStringLiteral("UPDATE api_foo SET pre_serialized = NULL") }).isEmpty());
    MainWindow window;
    window.show();
    open(window, path);
    QStringList asked;
    window.cacheActions()->setConfirmation([&](const QString &question) {
        asked << question;
        return false;
    });
    JobListModel *jobs = window.jobs();
    CacheService &service = window.session()->service();
    FooBrowser *browser = window.browser();
    browser->stateBox()->setCurrentIndex(browser->stateBox()->findData(QStringLiteral("missing")));
    const int missing = browser->proxy()->rowCount();
    QVERIFY(missing > 3);
    service.holdWorkers(true);
    const auto release = qScopeGuard([&service] { service.holdWorkers(false); }); // also when a check fails
    QVERIFY(browser->selectFoo(2));
    QSignalSpy jobStarted(&service, &CacheService::jobStarted);
    window.cacheActions()->refreshSelected->trigger();
    QVERIFY(jobStarted.wait(15000)); // its Foos are queued now
    QCOMPARE(jobs->rowCount(), 1);
    const int first = jobs->index(0, 0).data(JobListModel::JobIdRole).toInt();
    QCOMPARE(jobs->title(first), QStringLiteral("Refresh selected: 1 Foo"));
    QVERIFY(browser->proxy()->isHeld());
    window.cacheActions()->refreshSelected->trigger(); // Foo 2 is queued already
    QCOMPARE(jobs->rowCount(), 1);
    QCOMPARE(jobs->runningTotal(), 1);
    QVERIFY2(window.logDock()->text().contains(QStringLiteral("Foo 2 is already queued in “Refresh selected” (job %1)").arg(first)),
             qPrintable(window.logDock()->text()));
    window.cacheActions()->refreshStale->trigger();
    QCOMPARE(jobs->rowCount(), 2);
    const int stale = jobs->index(1, 0).data(JobListModel::JobIdRole).toInt();
    window.cacheActions()->refreshStale->trigger(); // one is running
    QCOMPARE(jobs->rowCount(), 2);
    QVERIFY(window.logDock()->text().contains(QStringLiteral("“Refresh stale” (job %1) is still running").arg(stale)));
    QCOMPARE(jobs->title(stale), QStringLiteral("Refresh stale")); // planned on a worker, held

    ConnectionSpec elsewhere;
    elsewhere.database = m_small;
    QSignalSpy failed(&window, &MainWindow::connectionFailed);
    window.openConnection(elsewhere); // refused: asked, answered no
    QCOMPARE(failed.size(), 1);
    QCOMPARE(asked.size(), 1);
    QVERIFY2(asked[0].contains(QStringLiteral("2 jobs are still running. Connect to")), qPrintable(asked[0]));
    QCOMPARE(window.session()->spec().database, path);

    JobDock *dock = window.jobDock();
    QVERIFY(dock->cancelButton(stale));
    QTest::mouseClick(dock->cancelButton(stale), Qt::LeftButton);
    QSignalSpy ended(jobs, &JobListModel::jobEnded);
    service.holdWorkers(false);
    QTRY_COMPARE_WITH_TIMEOUT(ended.size(), 2, 15000);
    QVERIFY2(jobs->title(stale).startsWith(QStringLiteral("Refresh stale: ")), qPrintable(jobs->title(stale)));
    const QString log = window.logDock()->text();
    QVERIFY2(log.contains(QStringLiteral("Refresh selected (job %1): 1 of 1 done").arg(first)), qPrintable(log));
    QVERIFY2(log.contains(QStringLiteral("Refresh stale (job %1): cancelled").arg(stale)), qPrintable(log));
    QVERIFY(!dock->cancelButton(first));
    QVERIFY(!browser->proxy()->isHeld());
    QTRY_COMPARE_WITH_TIMEOUT(browser->proxy()->rowCount(), missing - 1, 15000); // Foo 2 is fresh now
}

// At 1024×700 the toolbar shows every action and the compare panel one unified column (both
// sides, changed characters marked) instead of two 100-pixel panes; wide again, side by side;
// View → Panes → One Column keeps it unified at any width.
void TestMainWindow::smallScreenShowsOneColumn()
{
    const QString path = copyOfSmall(QStringLiteral("narrow.sqlite3"));
    QVERIFY(!path.isEmpty());
    MainWindow window;
    window.show();
    window.resize(1024, 700);
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QTRY_COMPARE(window.width(), 1024);
    open(window, path);
    const qint64 pk = selectLargest(window);
    QVERIFY(pk > 0);
    window.cacheActions()->refreshSelected->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(window.comparePanel()->cachedView()->hasDocument(), 15000);
    QVERIFY(renameBars(path, pk).isEmpty());
    QSignalSpy shown(&window, &MainWindow::comparisonShown);
    window.findChild<QAction *>(QStringLiteral("reload"))->trigger();
    ComparePanel *compare = window.comparePanel();
    QTRY_VERIFY_WITH_TIMEOUT(compare->hasDifferences(), 15000);

    QVERIFY2(compare->isUnified(), qPrintable(QStringLiteral("panel %1 px wide").arg(compare->width())));
    JsonView *unified = compare->unifiedView();
    QVERIFY(unified->isVisible());
    QVERIFY(!compare->liveView()->isVisible());
    QVERIFY(unified->width() >= compare->width() - 20);
    const FormattedJson &document = unified->document();
    int removed = -1;
    for (int line = 0; line < document.lineCount() && removed < 0; ++line) {
        if (document.line(line).startsWith(u"- ") && document.line(line + 1).startsWith(u"+ "))
            removed = line;
    }
    QVERIFY2(removed >= 0, "no changed line in the unified column");
    QVERIFY(document.line(removed + 1).contains(u"(renamed)"));
    const CharSpan span = unified->charSpans().at(removed + 1);
    QCOMPARE(document.line(removed + 1).mid(span.first, span.end - span.first).toString(), QStringLiteral(" (renamed)"));
    compare->nextDifference();
    QVERIFY(compare->differencePosition().startsWith(QStringLiteral("1 of ")));
    const int top = unified->topLine();
    QVERIFY(top <= removed + 1);

    auto *tools = window.findChild<QToolBar *>(QStringLiteral("mainToolBar"));
    QVERIFY(tools);
    for (QAction *action : tools->actions()) {
        if (action->isSeparator() || !action->isVisible())
            continue;
        QWidget *button = tools->widgetForAction(action);
        QVERIFY2(button && button->isVisible() && tools->rect().contains(button->geometry()),
                 qPrintable(action->iconText() + QStringLiteral(" is not on the toolbar at 1024 px")));
    }

    window.resize(1600, 1000);
    QTRY_VERIFY(!compare->isUnified());
    QVERIFY(compare->liveView()->isVisible());
    QVERIFY(compare->liveView()->hasDocument());
    window.findChild<QAction *>(QStringLiteral("paneLayout%1").arg(int(ComparePanel::PaneLayout::Unified)))->trigger();
    QVERIFY(compare->isUnified());
    QVERIFY(unified->hasDocument());
    window.findChild<QAction *>(QStringLiteral("paneLayout%1").arg(int(ComparePanel::PaneLayout::Automatic)))->trigger();
    QVERIFY(!compare->isUnified());
}

// Help → Keyboard Shortcuts (F1) lists what the menus bind, read from them.
void TestMainWindow::shortcutsPageListsTheMenus()
{
    MainWindow window;
    window.show();
    QAction *help = window.findChild<QAction *>(QStringLiteral("keyboardShortcuts"));
    QVERIFY(help);
    QCOMPARE(help->shortcut(), QKeySequence(QKeySequence::HelpContents));
    help->trigger();
    auto *dialog = window.findChild<ShortcutsDialog *>(QStringLiteral("shortcutsDialog"));
    QVERIFY(dialog);
    QTRY_VERIFY(dialog->isVisible());
    QCOMPARE(dialog->shortcutOf(QStringLiteral("Refresh Selected")), QKeySequence(tr("Ctrl+R")).toString(QKeySequence::NativeText));
    QCOMPARE(dialog->shortcutOf(QStringLiteral("Next Difference")), QStringLiteral("F7"));
    QCOMPARE(dialog->shortcutOf(QStringLiteral("Roll Back to Previous Entry")),
             QKeySequence(tr("Ctrl+Shift+Z")).toString(QKeySequence::NativeText));
    QVERIFY(!dialog->shortcutOf(QStringLiteral("Find in Panes")).isEmpty());
    QVERIFY(!dialog->shortcutOf(QStringLiteral("Keyboard Shortcuts")).isEmpty());
    // Every menu action with a shortcut is there.
    int bound = 0;
    for (QAction *top : window.menuBar()->actions()) {
        const std::function<void(QMenu *)> count = [&](QMenu *menu) {
            for (QAction *action : menu->actions()) {
                if (action->menu())
                    count(action->menu());
                else if (!action->isSeparator() && !action->shortcuts().isEmpty())
                    ++bound;
            }
        };
        if (top->menu())
            count(top->menu());
    }
    int listed = 0;
    for (int group = 0; group < dialog->list()->topLevelItemCount() - 1; ++group) // the last: widget keys
        listed += dialog->list()->topLevelItem(group)->childCount();
    QVERIFY(bound >= 15);
    QCOMPARE(listed, bound);
}

// A PostgreSQL server that accepts and never answers: libpq waits its connect_timeout (5 s). Cancel
// (status bar, or the dialog's Cancel) ends the wait at once, keeps the current connection, and
// the late answer is logged and never adopted.
void TestMainWindow::connectingCanBeCancelled()
{
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost));
    MainWindow window;
    window.show();
    open(window, m_small);
    ConnectionSpec hung;
    hung.database = QStringLiteral("postgresql://user:secret@127.0.0.1:%1/db").arg(silent.serverPort());
    QSignalSpy connected(&window, &MainWindow::connected);
    window.openConnection(hung);
    auto *busy = window.findChild<QWidget *>(QStringLiteral("connecting"));
    QVERIFY(busy && busy->isVisible());
    QTest::mouseClick(window.findChild<QToolButton *>(QStringLiteral("cancelConnecting")), Qt::LeftButton);
    QVERIFY(!busy->isVisible());
    QVERIFY2(window.logDock()->text().contains(QStringLiteral("Connecting to ")), qPrintable(window.logDock()->text()));
    QVERIFY(window.logDock()->text().contains(QStringLiteral("cancelled")));
    QVERIFY(!window.logDock()->text().contains(QStringLiteral("secret")));

    // The same from the dialog: busy while trying, Cancel abandons it and the dialog stays.
    window.showConnectDialog();
    auto *dialog = window.findChild<ConnectDialog *>();
    QVERIFY(dialog);
    dialog->setSpec(hung);
    dialog->connectNow();
    QVERIFY(dialog->isBusy());
    QVERIFY(dialog->findChild<QWidget *>(QStringLiteral("busy"))->isVisible());
    dialog->reject(); // Cancel
    QVERIFY(!dialog->isBusy());
    QVERIFY(dialog->isVisible());
    dialog->QDialog::reject();
    // Both late answers arrive (after libpq's timeout) and are dropped.
    QTRY_COMPARE_WITH_TIMEOUT(window.logDock()->text().count(QStringLiteral("answered after that attempt was cancelled")), 2, 20000);
    QCOMPARE(connected.size(), 0);
    QCOMPARE(window.session()->spec().database, m_small);
}

// After a connection, File → Open Recent and the dialog's Recent list have it first, at once;
// choosing an entry connects to it; Clear Recent empties the list. The list reaches the settings
// file (written off the GUI thread) for the next start.
void TestMainWindow::recentConnectionsAtOnce()
{
    ConnectDialog::clearRecent();
    const QString other = copyOfSmall(QStringLiteral("R&D recent.sqlite3")); // "&" is no mnemonic
    QVERIFY(!other.isEmpty());
    MainWindow window;
    window.show();
    open(window, m_small);
    open(window, other);
    auto *menu = window.findChild<QMenu *>(QStringLiteral("recentMenu"));
    QVERIFY(menu);
    emit menu->aboutToShow();
    QList<QAction *> actions = menu->actions();
    QVERIFY(actions.size() >= 4); // two connections, a separator, Clear Recent
    ConnectionSpec small;
    small.database = m_small;
    ConnectionSpec recent;
    recent.database = other;
    QVERIFY(recent.displayName().contains(QLatin1String("R&D recent")));
    QCOMPARE(actions[0]->text(), QString(recent.displayName()).replace(QLatin1Char('&'), QLatin1String("&&")));
    QCOMPARE(actions[1]->text(), small.displayName());
    const auto stored = [] {
        QThreadPool::globalInstance()->waitForDone(); // the writes
        QStringList databases;
        const QVariantList list = QSettings(QStringLiteral("preserve"), QStringLiteral("console")).value(QStringLiteral("connections/recent")).toList();
        for (const QVariant &entry : list)
            databases << ConnectionSpec::fromVariant(entry.toMap()).database;
        return databases;
    };
    QCOMPARE(stored(), QStringList({ other, m_small }));
    window.showConnectDialog();
    auto *combo = window.findChild<ConnectDialog *>()->findChild<QComboBox *>(QStringLiteral("recent"));
    QVERIFY(combo->count() >= 3);
    QCOMPARE(combo->itemText(1), recent.displayName());
    window.findChild<ConnectDialog *>()->QDialog::reject();
    QSignalSpy connected(&window, &MainWindow::connected);
    actions[1]->trigger();
    QVERIFY(connected.wait(15000));
    QCOMPARE(window.session()->spec().database, m_small);
    emit menu->aboutToShow();
    menu->actions().constLast()->trigger(); // Clear Recent
    QVERIFY(ConnectDialog::recentConnections().isEmpty());
    QCOMPARE(stored(), QStringList());

    // What another console wrote meanwhile stays, after this one's own entries.
    ConnectionSpec elsewhere;
    elsewhere.database = m_dir.filePath(QStringLiteral("another-console.sqlite3"));
    QSettings(QStringLiteral("preserve"), QStringLiteral("console")).setValue(QStringLiteral("connections/recent"), QVariantList { elsewhere.toVariant() });
    ConnectDialog::remember(small);
    QCOMPARE(stored(), QStringList({ m_small, elsewhere.database }));
    ConnectDialog::clearRecent();
    QCOMPARE(stored(), QStringList());
}

// First start, no demo database: the dialog offers Create Demo Database, which writes it (as
// `preserve seed` does) without blocking the window, then connects to it.
void TestMainWindow::firstStartCreatesTheDemo()
{
    ConnectDialog::clearRecent();
    const QString demo = m_dir.filePath(QStringLiteral("first/start/demo.sqlite3"));
    MainWindow window(demo);
    window.show();
    window.showConnectDialog();
    auto *dialog = window.findChild<ConnectDialog *>();
    QVERIFY(dialog);
    QPushButton *create = dialog->createDemoButton();
    QVERIFY(create->isVisible());
    auto *hint = dialog->findChild<QLabel *>(QStringLiteral("hint"));
    QVERIFY2(hint->text().contains(QStringLiteral("below")) && !hint->text().contains(QStringLiteral("above")),
             qPrintable(hint->text()));
    QSignalSpy connected(&window, &MainWindow::connected);
    QTest::mouseClick(create, Qt::LeftButton);
    QVERIFY(dialog->isBusy()); // writing, on a worker
    QVERIFY(connected.wait(60000));
    QVERIFY(QFile::exists(demo));
    QCOMPARE(window.session()->spec().database, demo);
    QVERIFY(!dialog->isVisible());
    QCOMPARE(window.browser()->model()->rowCount() > 0 || window.browser()->model()->isLoading(), true);
}

// Connecting elsewhere while the built-in server runs moves it to the new connection, on the same
// port, and logs it: a client's next request is answered from the new database.
void TestMainWindow::reconnectingMovesTheServer()
{
    const QString other = copyOfSmall(QStringLiteral("other.sqlite3"));
    QVERIFY(!other.isEmpty());
    QVERIFY(execSql(other, { QStringLiteral("UPDATE api_foo SET name = 'in the other database', pre_serialized = NULL "
                                            "WHERE id = 1") }).isEmpty());
    MainWindow window;
    window.show();
    open(window, m_small);
    window.serverDock()->startServer(0);
    QVERIFY(window.serverDock()->isServing());
    const quint16 port = window.session()->server().port();
    open(window, other);
    QVERIFY(window.serverDock()->isServing());
    QCOMPARE(window.session()->server().port(), port);
    QVERIFY2(window.statusBar()->currentMessage().contains(QStringLiteral("moved")),
             qPrintable(window.statusBar()->currentMessage()));
    QNetworkAccessManager client;
    QNetworkReply *reply = client.get(QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/api/foos/1/").arg(port))));
    QSignalSpy done(reply, &QNetworkReply::finished);
    QVERIFY(done.wait(15000));
    QVERIFY2(reply->readAll().contains("in the other database"), "served from the new connection");
    reply->deleteLater();
}

// Cache ▸ Roll Back: the entry before the last refresh comes back and says what it is (stale: the
// data changed since it was built), never assumed fresh; rolling back again undoes it.
void TestMainWindow::rollBackAndForth()
{
    const QString path = trackedCopyOfSmall(QStringLiteral("rollback.sqlite3"));
    QVERIFY(!path.isEmpty());
    MainWindow window;
    window.show();
    open(window, path);
    window.cacheActions()->setConfirmation([](const QString &) { return true; });
    const qint64 pk = selectLargest(window);
    QVERIFY(pk > 0);
    FooTreeModel *model = window.browser()->model();
    window.cacheActions()->refreshSelected->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(model, pk), EntryState::Fresh, 15000);
    const QByteArray first = storedBody(window.session(), pk);
    const QString renamed = renameBars(path, pk);
    QVERIFY2(renamed.isEmpty(), qPrintable(renamed));
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(model, pk), EntryState::Stale, 15000);
    window.cacheActions()->refreshSelected->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(model, pk), EntryState::Fresh, 15000);
    const QByteArray second = storedBody(window.session(), pk);
    QVERIFY(second != first);

    // View ▸ Compare with Previous Entry: the right pane is the entry the refresh replaced, and the
    // differences are what that refresh changed (the renamed Bars).
    ComparePanel *panel = window.comparePanel();
    QSignalSpy shown(&window, &MainWindow::comparisonShown);
    window.findChild<QAction *>(QStringLiteral("comparePrevious"))->setChecked(true);
    QVERIFY(shown.wait(15000));
    QTRY_VERIFY_WITH_TIMEOUT(panel->comparison() && panel->comparison()->againstPrevious, 15000);
    QCOMPARE(panel->comparison()->liveBody, first);
    QVERIFY(panel->findChild<QLabel *>(QStringLiteral("liveTitle"))->text().contains(QLatin1String("Previous")));
    QVERIFY(panel->differenceList()->count() > 0);
    QVERIFY2(panel->differenceList()->item(0)->text().contains(QLatin1String("renamed")),
             qPrintable(panel->differenceList()->item(0)->text()));
    // Saving the right side saves the previous entry, and says so.
    QAction *saveRight = window.findChild<QAction *>(QStringLiteral("saveLive"));
    QVERIFY(saveRight);
    QCOMPARE(saveRight->text(), QStringLiteral("Save &Previous Entry As…"));
    QString savedAs;
    panel->setFileChooser([&](ComparePanel::Side, ComparePanel::Format *format) {
        *format = ComparePanel::Format::Compact;
        savedAs = m_dir.filePath(QStringLiteral("previous.json"));
        return savedAs;
    });
    saveRight->trigger();
    QFile saved(savedAs);
    QVERIFY(saved.open(QIODevice::ReadOnly));
    QCOMPARE(saved.readAll(), first);
    QVERIFY2(window.statusBar()->currentMessage().contains(QLatin1String("previous body of Foo")),
             qPrintable(window.statusBar()->currentMessage()));
    window.findChild<QAction *>(QStringLiteral("comparePrevious"))->setChecked(false);
    QCOMPARE(saveRight->text(), QStringLiteral("Save &Live Body As…"));
    QTRY_VERIFY_WITH_TIMEOUT(panel->comparison() && !panel->comparison()->againstPrevious, 15000);

    QVERIFY(window.cacheActions()->rollback->isEnabled());
    window.cacheActions()->rollback->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(model, pk), EntryState::Stale, 15000);
    QCOMPARE(storedBody(window.session(), pk), first);
    window.cacheActions()->rollback->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(model, pk), EntryState::Fresh, 15000);
    QCOMPARE(storedBody(window.session(), pk), second);
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
