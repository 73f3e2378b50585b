#pragma once

#include <QString>

// Every size a person reads, in one unit system: SI (1 kB = 1000 bytes), one decimal, the system
// locale's digits: "812 bytes", "25.5 kB", "1.9 MB". The tree, the compare header, the request log
// and the CLI all use it, so one entry has one size wherever it shows.
QString formatBytes(qint64 bytes);
