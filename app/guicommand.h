#pragma once

#include <QStringList>

// The desktop console (guicommand.cpp); needs the QApplication that main() makes for it. Arguments
// and exit code: see commands.h.
namespace Commands {
int gui(const QStringList &arguments);
} // namespace Commands
