#include "largebuffer.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace {

constexpr qsizetype hugePage = 2 * 1024 * 1024;

void adviseHugePages(QByteArray &buffer)
{
    // Only whole huge pages inside the allocation may be advised; madvise is a hint, and its
    // failure (no transparent huge pages) changes nothing but the speed.
    const auto begin = reinterpret_cast<std::uintptr_t>(buffer.data());
    const std::uintptr_t end = begin + std::uintptr_t(buffer.capacity());
    const std::uintptr_t first = (begin + hugePage - 1) & ~std::uintptr_t(hugePage - 1);
    const std::uintptr_t last = end & ~std::uintptr_t(hugePage - 1);
    if (last > first)
        madvise(reinterpret_cast<void *>(first), last - first, MADV_HUGEPAGE);
}

} // namespace

void reserveLarge(QByteArray &buffer, qsizetype more)
{
    if (buffer.capacity() - buffer.size() >= more)
        return;
    const qsizetype wanted = std::max({ buffer.size() + more, buffer.capacity() * 2, 4 * hugePage });
    // Advised before anything is written, so that even the copy of what is there lands in huge pages.
    QByteArray grown(wanted, Qt::Uninitialized);
    adviseHugePages(grown);
    std::memcpy(grown.data(), buffer.constData(), size_t(buffer.size()));
    grown.truncate(buffer.size()); // keeps the capacity
    buffer.swap(grown);
}
