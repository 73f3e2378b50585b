#pragma once

#include <QStringList>

// The cache commands (cachecommands.cpp). Arguments and exit code: see commands.h.
namespace Commands {
int status(const QStringList &arguments);
int impact(const QStringList &arguments);
int rollback(const QStringList &arguments);
int warm(const QStringList &arguments);
int verify(const QStringList &arguments);
int invalidate(const QStringList &arguments);
int track(const QStringList &arguments);
} // namespace Commands
