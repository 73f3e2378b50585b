#pragma once

#include <memory>

// Drops the last reference to `parcel` on a pool thread: freeing the ~10^5 pieces of a 2 MB
// formatted document took ~50 ms, which the GUI thread must not spend.
void releaseInBackground(std::shared_ptr<void> parcel);

// Lowers the calling thread's CPU priority (nice +10 on Linux), for watchers that scan a whole
// table: on two cores their scan must not slow the reads a person waits for. Best effort.
void yieldCpuToForeground();
