#pragma once

#include "core/result.h"

#include <QByteArray>
#include <QByteArrayView>

#include <memory>
#include <mutex>

// Bytes too many to keep in memory: an unlinked temporary file (in QDir::tempPath(), so TMPDIR
// decides), gone with its last holder. Written once from one thread, then only read, by any
// number of threads at once (pread, or sendfile() on a duplicate of fd()). The page cache keeps
// what fits and gives the rest back under pressure, which process memory cannot.
class SpillFile {
public:
    static Result<std::unique_ptr<SpillFile>> create();
    ~SpillFile();
    SpillFile(const SpillFile &) = delete;
    SpillFile &operator=(const SpillFile &) = delete;

    // Appends through a buffer of 1 MiB; finish() writes what it still holds. The error names
    // the file's directory and what the system said (a full disk, say).
    Status append(QByteArrayView bytes);
    Status finish();

    int fd() const { return m_fd; }
    qint64 size() const { return m_size; }
    // `length` bytes from `offset` (fewer at the end).
    Result<QByteArray> read(qint64 offset, qint64 length) const;
    Result<QByteArray> readAll() const { return read(0, m_size); }
    // The whole file mapped read-only, after finish(): made on the first call, unmapped with the
    // file. Its pages are the page cache's, not the process's to keep. Empty if it cannot be mapped.
    QByteArrayView mapped() const;

private:
    explicit SpillFile(int fd);
    Status writeBuffer();

    int m_fd = -1;
    qint64 m_size = 0; // appended so far, buffer included
    QByteArray m_buffer;
    mutable std::once_flag m_mapOnce;
    mutable void *m_map = nullptr;
};
