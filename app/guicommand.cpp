// preserve gui: the desktop console (also what `preserve` alone starts when there is a display).
#include "guicommand.h"

#include "cli.h"

#include "comparepanel.h"
#include "connectdialog.h"
#include "foobrowser.h"
#include "items/footreemodel.h"
#include "findbar.h"
#include "mainwindow.h"
#include "serverdock.h"

#include <QApplication>
#include <QIcon>
#include <QPixmap>
#include <QLineEdit>
#include <QTimer>
#include <QTreeView>
#include <QTreeView>

#include <cstdio>

using namespace Cli;

namespace {

// PRESERVE_SCREENSHOT=file.png: once the tree is loaded, the largest Foo is selected and expanded
// and both panes are filled, the window grabs itself into that file and the program ends. This is
// how resources/screenshot.png is made (see README), so it always shows the real application.
void takeScreenshotWhenReady(MainWindow &window, const QString &path)
{
    auto selectOnce = std::make_shared<bool>(false);
    QObject::connect(&window, &MainWindow::statesUpdated, &window, [&window, selectOnce] {
        FooTreeModel *model = window.browser()->model();
        if (*selectOnce || model->rowCount() == 0)
            return;
        *selectOnce = window.browser()->selectLargestFoo();
        if (*selectOnce)
            window.browser()->view()->expand(window.browser()->view()->currentIndex());
    });
    auto shownOnce = std::make_shared<bool>(false);
    QObject::connect(&window, &MainWindow::comparisonShown, &window, [&window, path, shownOnce] {
        if (*shownOnce)
            return;
        *shownOnce = true;
        window.comparePanel()->nextDifference(); // F7: the first difference, if there is one
        // A Baz of the first Bar selected (the strip under the tree says what a change to it
        // reaches), and its name looked for in the panes (the find bar's tints).
        QTreeView *tree = window.browser()->view();
        QModelIndex node = tree->currentIndex().siblingAtColumn(0);
        for (int depth = 0; depth < 2 && tree->model()->rowCount(node) > 0; ++depth) {
            node = tree->model()->index(0, 0, node);
            tree->expand(node);
        }
        QTimer::singleShot(500, &window, [&window, tree, node] {
            if (!node.isValid() || tree->model()->rowCount(node) == 0)
                return;
            const QModelIndex baz = tree->model()->index(0, 0, node);
            tree->setCurrentIndex(baz);
            window.comparePanel()->find();
            window.comparePanel()->findBar()->edit()->setText(baz.data(FooTreeModel::RawNameRole).toString());
        });
        // Let the panes, the expanded rows and the chart paint before grabbing (longer with
        // PRESERVE_SCREENSHOT_DELAY=ms, so the server chart can gather a few seconds of traffic).
        const int delay = qEnvironmentVariableIsSet("PRESERVE_SCREENSHOT_DELAY")
            ? qEnvironmentVariableIntValue("PRESERVE_SCREENSHOT_DELAY")
            : 1500;
        QTimer::singleShot(delay, &window, [&window, path] {
            const bool saved = window.grab().save(path);
            std::fprintf(saved ? stdout : stderr, "%s %s\n", saved ? "screenshot:" : "cannot write",
                         qPrintable(path));
            QCoreApplication::exit(saved ? Ok : Failed);
        });
    });
    QTimer::singleShot(120000, &window, [] {
        std::fputs("screenshot: the window did not get ready within 2 minutes\n", stderr);
        QCoreApplication::exit(Failed);
    });
}

} // namespace

int Commands::gui(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "The desktop console: browse the Foo tree, compare cached and live bodies, refresh, serve. Without "
        "--db (and $PRESERVE_DB) it opens the last connection, or offers the demo database."));
    DatabaseOptions database;
    StoreOptions store;
    database.addTo(parser);
    store.addTo(parser);
    const QCommandLineOption serve(QStringLiteral("serve"),
                                   QStringLiteral("Start the built-in HTTP server on this port once connected."),
                                   QStringLiteral("port"));
    parser.addOption(serve);
    if (auto code = parse(parser, QStringLiteral("gui"), arguments))
        return *code;
    bool portOk = true;
    const int servePort = parser.isSet(serve) ? parser.value(serve).toInt(&portOk) : -1;
    if (!portOk || servePort > 65535) {
        printError(QStringLiteral("--serve takes a port from 0 to 65535"));
        return Usage;
    }

    if (!qobject_cast<QApplication *>(QCoreApplication::instance())) {
        printError(QStringLiteral("the console needs a display: DISPLAY or WAYLAND_DISPLAY is not set (try xvfb-run, "
                                  "or QT_QPA_PLATFORM=offscreen)"));
        return Failed;
    }
    QGuiApplication::setDesktopFileName(QStringLiteral("preserve"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/preserve.svg")));
    MainWindow window(demoDatabasePath());
    window.show();
    if (const QString screenshot = qEnvironmentVariable("PRESERVE_SCREENSHOT"); !screenshot.isEmpty())
        takeScreenshotWhenReady(window, screenshot);
    if (servePort >= 0) {
        QObject::connect(&window, &MainWindow::connected, window.serverDock(),
                         [&window, servePort] { window.serverDock()->startServer(quint16(servePort)); });
    }

    ConnectionSpec spec;
    spec.database = parser.isSet(database.db) ? parser.value(database.db) : qEnvironmentVariable("PRESERVE_DB");
    spec.appLabel = parser.value(database.appLabel);
    spec.readOnly = parser.isSet(database.readOnly);
    if (auto storeConfig = store.config(parser); storeConfig) {
        spec.store = storeConfig->kindName();
        spec.redisPrefix = parser.value(store.prefix);
        if (parser.isSet(store.redis) || qEnvironmentVariableIsSet("PRESERVE_REDIS"))
            spec.redisUrl = parser.isSet(store.redis) ? parser.value(store.redis) : qEnvironmentVariable("PRESERVE_REDIS");
    } else {
        return exitCodeFor(storeConfig.error());
    }
    if (!spec.database.isEmpty()) {
        window.openConnection(spec);
    } else if (const auto recent = ConnectDialog::recentConnections(); !recent.isEmpty()) {
        window.openConnection(recent.first());
    } else {
        window.showConnectDialog();
    }
    return QApplication::exec() == 0 ? Ok : Failed;
}
