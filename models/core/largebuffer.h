#pragma once

#include <QByteArray>

// Makes room for `more` bytes at the end of a buffer that may grow to many megabytes. Grows at
// least twofold, and asks the kernel to back a large buffer with huge pages: first touching fresh
// memory costs one page fault per 4 KiB page otherwise, which for a 20 MB list body was a third of
// the time spent writing it on a virtual machine.
void reserveLarge(QByteArray &buffer, qsizetype more);
