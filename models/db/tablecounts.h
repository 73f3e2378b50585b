#pragma once

#include <QtGlobal>

// How many rows the five Django tables hold.
struct TableCounts {
    qint64 foos = 0;
    qint64 bars = 0;
    qint64 zabs = 0;
    qint64 bazs = 0;
    qint64 links = 0;
};
