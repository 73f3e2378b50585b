// The desktop console's speed targets (issue 5), measured on the real window (offscreen unless a
// display is given) over a freshly seeded `medium` demo:
//   - expanding the Foo with the most Bars: first rows and all rows on screen (target ≤ 100 ms);
//   - selecting the largest Foo: both panes and the diff shown (target ≤ 1 s), not cached and cached
//     with one Baz renamed behind the cache;
//   - refresh-all of medium: how long, and the longest stall of the GUI thread meanwhile (target:
//     none over 50 ms), seen by a 5 ms timer.
// Prints one line per figure (medians of --rounds runs where it makes sense).
//
//   - Refresh All in the console against `preserve warm --jobs 2` on a copy of the same file, both
//     from nothing cached, interleaved round by round (--against-warm SCALE; target ≤ 1.2×).
//
//   - a database of many Foos (--many FILE, e.g. `seed --scale wide`): first rows on screen (target
//     ≤ 1 s), states shown, the state filter on "Stale" (≤ 0.5 s), scrolling the tree to its last
//     Foo (no stall over 50 ms), and the process's RSS after each.
//
//   - --trace-events MS: every GUI-thread event of MS ms or more, with its receiver, and every
//     stall over 30 ms, on stderr with the time since start: which work made a stall.
//
//   bench_console [--rounds N] [--against-warm medium|large] [--many FILE] [--trace-events MS]
#include "cacheactions.h"
#include "comparepanel.h"
#include "foobrowser.h"
#include "jsonview.h"
#include "mainwindow.h"

#include "cache/cacheservice.h"
#include "db/database.h"
#include "db/seeder.h"
#include "items/consolesession.h"
#include "items/footreemodel.h"

#include <QAction>
#include <QScrollBar>
#include <QComboBox>
#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QProcess>
#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <QTreeView>

#include <algorithm>
#include <cstdio>
#include <functional>

namespace {

QElapsedTimer &traceClock()
{
    static QElapsedTimer clock;
    if (!clock.isValid())
        clock.start();
    return clock;
}
int traceThresholdMs = 0;

// Runs the event loop until `done` holds or `timeoutMs` passes; false on timeout.
bool waitUntil(const std::function<bool()> &done, int timeoutMs = 60000)
{
    QElapsedTimer timer;
    timer.start();
    while (!done()) {
        if (timer.elapsed() > timeoutMs)
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents | QEventLoop::WaitForMoreEvents, 5);
    }
    return true;
}

double median(QList<double> values)
{
    if (values.isEmpty())
        return 0;
    std::sort(values.begin(), values.end());
    return values.at(values.size() / 2);
}

// Watches the GUI thread: a 5 ms timer whose late ticks are stalls.
class StallWatch {
public:
    StallWatch()
    {
        m_ticker.setInterval(5);
        QObject::connect(&m_ticker, &QTimer::timeout, [this] {
            const qint64 now = m_clock.elapsed();
            const qint64 gap = now - m_last;
            m_longest = qMax(m_longest, gap);
            m_over50 += gap > 50 ? 1 : 0;
            if (traceThresholdMs > 0 && gap > 30)
                std::fprintf(stderr, "%8.1f stall of %lld ms\n", traceClock().nsecsElapsed() / 1e6, gap);
            m_last = now;
        });
    }
    void start()
    {
        m_clock.start();
        m_last = 0;
        m_longest = 0;
        m_over50 = 0;
        m_ticker.start();
    }
    void stop() { m_ticker.stop(); }
    qint64 longest() const { return m_longest; }
    int over50() const { return m_over50; }

private:
    QTimer m_ticker;
    QElapsedTimer m_clock;
    qint64 m_last = 0;
    qint64 m_longest = 0;
    int m_over50 = 0;
};

qint64 fooWithMostBars(const QString &path)
{
    auto database = Database::open(DatabaseConfig::parse(path).value());
    auto rows = (*database)->run(QStringLiteral("SELECT foo_id FROM api_bar GROUP BY foo_id ORDER BY count(*) DESC LIMIT 1"));
    return rows && (*rows)->next() ? (*rows)->integer(0) : 0;
}

// The tree's (proxy) index of Foo `pk`.
QModelIndex rowOf(QTreeView *tree, qint64 pk)
{
    for (int row = 0; row < tree->model()->rowCount(); ++row) {
        const QModelIndex index = tree->model()->index(row, 0);
        if (index.data(FooTreeModel::IdRole).toLongLong() == pk)
            return index;
    }
    return {};
}

void fail(const char *what)
{
    std::fprintf(stderr, "bench_console: %s\n", what);
    std::exit(1);
}

// ms from selecting `pk` until the window shows its comparison.
double showFoo(MainWindow &window, qint64 pk)
{
    qint64 shown = 0;
    const auto connection = QObject::connect(&window, &MainWindow::comparisonShown, [&](qint64 foo) { shown = foo; });
    QElapsedTimer timer;
    timer.start();
    if (!window.browser()->selectFoo(pk))
        fail("cannot select the Foo");
    if (!waitUntil([&] { return shown == pk; }))
        fail("the comparison never showed");
    QObject::disconnect(connection);
    return double(timer.nsecsElapsed()) / 1e6;
}

// Seconds of the console's Refresh All on a fresh copy of `source`, until the job ends.
double consoleRefreshAll(MainWindow &window, const QString &source, const QString &copy, qint64 *stallMs)
{
    QFile::remove(copy);
    if (!QFile::copy(source, copy))
        fail("cannot copy the database");
    bool connected = false;
    const auto connection = QObject::connect(&window, &MainWindow::connected, [&] { connected = true; });
    ConnectionSpec spec;
    spec.database = copy;
    window.openConnection(spec);
    FooTreeModel *model = window.browser()->model();
    if (!waitUntil([&] { return connected && model->rowCount() > 0 && !model->isLoading(); }))
        fail("the copy did not open");
    QObject::disconnect(connection);
    bool finished = false;
    const auto done = QObject::connect(&window.session()->service(), &CacheService::jobFinished, [&] { finished = true; });
    window.cacheActions()->setConfirmation([](const QString &) { return true; });
    StallWatch watch;
    watch.start();
    QElapsedTimer timer;
    timer.start();
    window.cacheActions()->refreshAll->trigger();
    if (!waitUntil([&] { return finished; }, 600000))
        fail("refresh-all did not finish");
    const double seconds = double(timer.nsecsElapsed()) / 1e9;
    watch.stop();
    QObject::disconnect(done);
    *stallMs = watch.longest();
    return seconds;
}

// Seconds of `preserve warm --jobs 2` on a fresh copy of `source` (the process's wall time).
double cliWarm(const QString &preserve, const QString &source, const QString &copy)
{
    QFile::remove(copy);
    if (!QFile::copy(source, copy))
        fail("cannot copy the database");
    QProcess warm;
    QElapsedTimer timer;
    timer.start();
    warm.start(preserve, { QStringLiteral("warm"), QStringLiteral("--db"), copy, QStringLiteral("--jobs"), QStringLiteral("2") });
    if (!warm.waitForFinished(600000) || warm.exitCode() != 0)
        fail("preserve warm failed");
    return double(timer.nsecsElapsed()) / 1e9;
}

// The console's Refresh All against the CLI's warm on the same data, round by round.
void againstWarm(MainWindow &window, const QString &scale, int rounds, const QString &dir)
{
    const QString source = dir + QStringLiteral("/against-") + scale + QStringLiteral(".sqlite3");
    if (!Seeder::write(source, *Seeder::scale(scale), QStringLiteral("api"), true))
        fail("cannot seed the scale");
    const QString preserve = QCoreApplication::applicationDirPath() + QStringLiteral("/../preserve");
    QList<double> console, cli;
    qint64 longest = 0;
    for (int round = 0; round < rounds; ++round) {
        qint64 stall = 0;
        console.append(consoleRefreshAll(window, source, dir + QStringLiteral("/console-%1.sqlite3").arg(round), &stall));
        cli.append(cliWarm(preserve, source, dir + QStringLiteral("/cli-%1.sqlite3").arg(round)));
        longest = qMax(longest, stall);
        std::printf("  %s round %d: console Refresh All %.2f s, preserve warm --jobs 2 %.2f s\n", qPrintable(scale),
                    round + 1, console.last(), cli.last());
    }
    std::printf("refresh all of %s from nothing cached: console %.2f s, warm --jobs 2 %.2f s (medians of %d): %.2f× "
                "(target ≤ 1.2×); longest GUI-thread stall %lld ms\n",
                qPrintable(scale), median(console), median(cli), rounds, median(console) / median(cli), longest);
}

qint64 rssMb()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong() / 1024;
    }
    return -1;
}

void manyFoos(MainWindow &window, const QString &path)
{
    FooTreeModel *model = window.browser()->model();
    bool connected = false;
    QObject::connect(&window, &MainWindow::connected, [&] { connected = true; });
    const auto counted = [&] {
        const auto counts = model->stateCounts();
        int all = 0;
        for (int count : counts)
            all += count;
        return all;
    };
    // Counted when the browser says its counts changed, not in the wait's loop: a count walks every
    // state, and polling it would be the bench's own stall.
    int shown = 0;
    QObject::connect(window.browser(), &FooBrowser::stateSummaryChanged, [&] { shown = counted(); });
    StallWatch watch;
    watch.start();
    QElapsedTimer timer;
    timer.start();
    ConnectionSpec spec;
    spec.database = path;
    window.openConnection(spec);
    const qint64 call = timer.elapsed();
    if (!waitUntil([&] { return connected && model->rowCount() > 0; }, 120000))
        fail("the database did not open");
    const qint64 firstRows = timer.elapsed();
    std::printf("open: first rows on screen after %lld ms (%d rows loaded; target ≤ 1000 ms; %lld ms of it in "
                "MainWindow::openConnection itself); RSS %lld MB\n",
                firstRows, model->rowCount(), call, rssMb());
    if (!waitUntil([&] { return shown > 0 && !model->isLoading(); }, 120000))
        fail("no states were shown");
    std::printf("states shown for %d Foos after %lld ms; longest GUI-thread stall %lld ms, %d over 50 ms; RSS %lld MB\n",
                counted(), timer.elapsed(), watch.longest(), watch.over50(), rssMb());

    QComboBox *stateBox = window.browser()->stateBox();
    QTreeView *tree = window.browser()->view();
    watch.start();
    timer.start();
    stateBox->setCurrentIndex(stateBox->findData(QStringLiteral("stale")));
    QCoreApplication::processEvents();
    const qint64 filterMs = timer.elapsed();
    const int staleRows = tree->model()->rowCount();
    waitUntil([] { return false; }, 300); // what the filter may still post
    std::printf("state filter \"Stale\": %d rows in %lld ms (target ≤ 500 ms); longest stall %lld ms; RSS %lld MB\n",
                staleRows, filterMs, watch.longest(), rssMb());
    // Back to every Foo: the rows the filter hid come back among those it kept.
    watch.start();
    timer.start();
    stateBox->setCurrentIndex(stateBox->findData(QStringLiteral("all")));
    QCoreApplication::processEvents();
    const qint64 allMs = timer.elapsed();
    const int allRows = tree->model()->rowCount();
    waitUntil([] { return false; }, 300);
    std::printf("back to all states: %d rows in %lld ms; longest stall %lld ms; RSS %lld MB\n", allRows, allMs,
                watch.longest(), rssMb());

    // Page by page to the end, as a person holding Page Down; the tree fetches more at the end.
    watch.start();
    timer.start();
    int pages = 0;
    QScrollBar *bar = tree->verticalScrollBar();
    const int total = counted();
    while (pages < 100000) {
        bar->setValue(bar->value() + bar->pageStep());
        QCoreApplication::processEvents();
        ++pages;
        if (bar->value() == bar->maximum() && !model->canFetchMore({}) && !model->isLoading())
            break;
    }
    std::printf("scrolled to the last of %d Foos (%d rows) in %d pages, %.1f s; longest stall %lld ms, %d over 50 ms "
                "(target: none); RSS %lld MB\n",
                total, model->rowCount(), pages, double(timer.elapsed()) / 1000.0, watch.longest(), watch.over50(), rssMb());
    watch.stop();
}

// With --trace-events MS: prints every event the GUI thread spends MS ms or more on, outermost
// only, with its receiver, to tell which work makes a stall.
class TracingApplication : public QApplication {
public:
    using QApplication::QApplication;
    int thresholdMs = 0;
    bool notify(QObject *receiver, QEvent *event) override
    {
        if (thresholdMs <= 0 || m_depth > 0)
            return QApplication::notify(receiver, event);
        ++m_depth;
        QElapsedTimer timer;
        timer.start();
        const QEvent::Type type = event->type();
        const QByteArray what = QByteArray(receiver->metaObject()->className()) + ' ' + receiver->objectName().toUtf8();
        const bool result = QApplication::notify(receiver, event);
        --m_depth;
        const qint64 us = timer.nsecsElapsed() / 1000;
        if (us >= thresholdMs * 1000)
            std::fprintf(stderr, "%8.1f event %d to %s: %.1f ms\n", traceClock().nsecsElapsed() / 1e6, int(type),
                         what.constData(), us / 1000.0);
        return result;
    }

private:
    int m_depth = 0;
};

} // namespace

int main(int argc, char **argv)
{
    if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    TracingApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true); // leave the user's recent connections alone
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption roundsOption(QStringLiteral("rounds"), QStringLiteral("Runs per figure."), QStringLiteral("N"),
                                          QStringLiteral("5"));
    parser.addOption(roundsOption);
    const QCommandLineOption againstOption(QStringLiteral("against-warm"),
                                           QStringLiteral("Only compare Refresh All with preserve warm on this scale."),
                                           QStringLiteral("scale"));
    parser.addOption(againstOption);
    const QCommandLineOption manyOption(QStringLiteral("many"), QStringLiteral("Only time a database of many Foos (a copy is not made)."),
                                        QStringLiteral("file"));
    parser.addOption(manyOption);
    const QCommandLineOption traceOption(QStringLiteral("trace-events"),
                                         QStringLiteral("Print every GUI-thread event that takes this many ms or more."),
                                         QStringLiteral("ms"));
    parser.addOption(traceOption);
    parser.process(app);
    app.thresholdMs = parser.value(traceOption).toInt();
    traceThresholdMs = app.thresholdMs;
    traceClock();
    if (parser.isSet(manyOption)) {
        MainWindow window;
        window.resize(1400, 900);
        window.show();
        manyFoos(window, parser.value(manyOption));
        return 0;
    }
    const int rounds = qMax(1, parser.value(roundsOption).toInt());
    if (parser.isSet(againstOption)) {
        QTemporaryDir scratch;
        MainWindow window;
        window.resize(1400, 900);
        window.show();
        againstWarm(window, parser.value(againstOption), rounds, scratch.path());
        return 0;
    }

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("medium.sqlite3"));
    if (!Seeder::write(path, *Seeder::scale(QStringLiteral("medium")), QStringLiteral("api")))
        fail("cannot seed medium");

    MainWindow window;
    window.resize(1400, 900);
    window.show();
    bool connected = false;
    QObject::connect(&window, &MainWindow::connected, [&] { connected = true; });
    ConnectionSpec spec;
    spec.database = path;
    QElapsedTimer opening;
    opening.start();
    window.openConnection(spec);
    FooTreeModel *model = window.browser()->model();
    if (!waitUntil([&] { return connected && model->rowCount() > 0 && !model->isLoading(); }))
        fail("the demo did not open");
    std::printf("open medium: %lld ms until the Foo rows are on screen (%d Foos)\n", opening.elapsed(), model->rowCount());

    // Expanding the Foo with the most Bars, collapsed and reloaded between rounds.
    const qint64 widest = fooWithMostBars(path);
    QTreeView *tree = window.browser()->view();
    QList<double> firstRows, allRows;
    int bars = 0;
    for (int round = 0; round < rounds; ++round) {
        window.browser()->reload(); // the children are loaded afresh
        if (!waitUntil([&] { return model->rowCount() > 0 && !model->isLoading(); }))
            fail("reload did not finish");
        const QModelIndex shownFoo = rowOf(tree, widest);
        if (!shownFoo.isValid())
            fail("the widest Foo is not in the tree");
        QElapsedTimer timer;
        timer.start();
        tree->expand(shownFoo);
        if (!waitUntil([&] { return tree->model()->rowCount(shownFoo) > 0; }))
            fail("no rows under the widest Foo");
        firstRows.append(double(timer.nsecsElapsed()) / 1e6);
        if (!waitUntil([&] {
                if (tree->model()->canFetchMore(shownFoo))
                    tree->model()->fetchMore(shownFoo);
                return !tree->model()->canFetchMore(shownFoo) && !model->isLoading();
            }))
            fail("the widest Foo's rows did not all load");
        allRows.append(double(timer.nsecsElapsed()) / 1e6);
        bars = tree->model()->rowCount(shownFoo);
        tree->collapse(shownFoo);
    }
    std::printf("expand Foo %lld (%d Bars): first rows after %.1f ms, all after %.1f ms (median of %d; target ≤ 100 ms)\n",
                widest, bars, median(firstRows), median(allRows), rounds);

    // Selecting the largest Foo: not cached yet.
    qint64 largest = 0;
    {
        const auto connection = QObject::connect(&window, &MainWindow::comparisonShown, [&](qint64 foo) { largest = foo; });
        if (!window.browser()->selectLargestFoo() || !waitUntil([&] { return largest != 0; }))
            fail("cannot select the largest Foo");
        QObject::disconnect(connection);
    }
    const qint64 other = largest == 1 ? 2 : 1;
    QList<double> uncached;
    for (int round = 0; round < rounds; ++round) {
        showFoo(window, other);
        uncached.append(showFoo(window, largest));
    }
    const qint64 liveBytes = window.comparePanel()->liveView()->document().text.size();
    std::printf("select largest Foo %lld, not cached: both panes after %.0f ms (median of %d; %lld formatted characters)\n",
                largest, median(uncached), rounds, liveBytes);

    // Refresh all of medium, watching the GUI thread.
    CacheService &service = window.session()->service();
    bool finished = false;
    QObject::connect(&service, &CacheService::jobFinished, [&] { finished = true; });
    window.cacheActions()->setConfirmation([](const QString &) { return true; });
    StallWatch watch;
    QElapsedTimer refreshing;
    watch.start();
    refreshing.start();
    window.cacheActions()->refreshAll->trigger();
    if (!waitUntil([&] { return finished; }, 300000))
        fail("refresh-all did not finish");
    const qint64 refreshMs = refreshing.elapsed();
    waitUntil([&] { return refreshing.elapsed() > refreshMs + 300; }); // the last per-row updates land too
    watch.stop();
    std::printf("refresh all of medium: %.2f s; longest GUI-thread stall %lld ms, %d stalls over 50 ms (target: none)\n",
                double(refreshMs) / 1000, watch.longest(), watch.over50());

    // Cached now; one Baz of the largest Foo renamed behind the cache, so the diff has work to do.
    {
        auto database = Database::open(DatabaseConfig::parse(path).value());
        const bool renamed = (*database)->run(QStringLiteral(
            "UPDATE api_baz SET name = 'renamed by bench' WHERE id = (SELECT l.baz_id FROM api_zab_bazs l "
            "JOIN api_zab z ON z.id = l.zab_id JOIN api_bar b ON b.id = z.bar_id WHERE b.foo_id = %1 LIMIT 1)")
                                                   .arg(largest))
                                 .ok();
        if (!renamed)
            fail("cannot rename a Baz");
    }
    QList<double> cached;
    StallWatch selecting;
    selecting.start();
    for (int round = 0; round < rounds; ++round) {
        showFoo(window, other);
        cached.append(showFoo(window, largest));
    }
    selecting.stop();
    std::printf("select largest Foo %lld, cached and one Baz renamed: both panes and the diff (%s) after %.0f ms "
                "(median of %d; target ≤ 1 s); longest GUI-thread stall %lld ms\n",
                largest, qPrintable(window.comparePanel()->summaryText()), median(cached), rounds, selecting.longest());
    return 0;
}
