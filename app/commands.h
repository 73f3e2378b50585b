#pragma once

#include <QStringList>

// Each headless command takes its arguments (argv without the program name and the command word)
// and returns the process exit code: 0 done, 1 failed, 2 bad usage, 3 not found.
namespace Commands {
int seed(const QStringList &arguments);
int dump(const QStringList &arguments);
int info(const QStringList &arguments);
int status(const QStringList &arguments);
int impact(const QStringList &arguments);
int rollback(const QStringList &arguments);
int warm(const QStringList &arguments);
int verify(const QStringList &arguments);
int invalidate(const QStringList &arguments);
int track(const QStringList &arguments);
int serve(const QStringList &arguments);
int worker(const QStringList &arguments);
// The desktop console; needs the QApplication that main() makes for it.
int gui(const QStringList &arguments);
} // namespace Commands
