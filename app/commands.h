#pragma once

#include <QStringList>

// Each headless command takes its arguments (argv without the program name and the command word)
// and returns the process exit code: 0 done, 1 failed, 2 bad usage, 3 not found. Each command file
// declares its own: seed, dump and info here (commands.cpp); the others in cachecommands.h,
// servecommand.h, workercommand.h and guicommand.h.
namespace Commands {
int seed(const QStringList &arguments);
int dump(const QStringList &arguments);
int info(const QStringList &arguments);
} // namespace Commands
