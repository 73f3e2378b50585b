#pragma once

#include <QStringList>

// preserve serve (servecommand.cpp). Arguments and exit code: see commands.h.
namespace Commands {
int serve(const QStringList &arguments);
} // namespace Commands
