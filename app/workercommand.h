#pragma once

#include <QStringList>

// preserve worker (workercommand.cpp). Arguments and exit code: see commands.h.
namespace Commands {
int worker(const QStringList &arguments);
} // namespace Commands
