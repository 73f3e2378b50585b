#include "spillfile.h"

#include <QDir>
#include <QFile>
#include <QObject>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace {

constexpr qsizetype bufferSize = 1 << 20;

// `error`: errno as the failing call left it (0: the file ended early).
Error fileError(const QString &what, int error)
{
    const QString why = error ? QString::fromLocal8Bit(std::strerror(error)) : QObject::tr("it ended early");
    return Error::io(QObject::tr("%1 in %2: %3").arg(what, QDir::tempPath(), why));
}

} // namespace

Result<std::unique_ptr<SpillFile>> SpillFile::create()
{
    const QString path = QDir::tempPath();
    if (path.isEmpty()) // Qt's answer when TMPDIR names no directory
        return Error::io(QObject::tr("cannot create a temporary file: TMPDIR (%1) is no directory")
                             .arg(qEnvironmentVariable("TMPDIR", QStringLiteral("unset, so /tmp"))));
    const QByteArray directory = QFile::encodeName(path);
    int fd = ::open(directory.constData(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) { // no O_TMPFILE there
        QByteArray name = directory + "/preserve-spill-XXXXXX";
        fd = ::mkostemp(name.data(), O_CLOEXEC);
        if (fd >= 0)
            ::unlink(name.constData());
    }
    if (fd < 0)
        return fileError(QObject::tr("cannot create a temporary file"), errno);
    return std::unique_ptr<SpillFile>(new SpillFile(fd));
}

SpillFile::SpillFile(int fd)
    : m_fd(fd)
{
}

SpillFile::~SpillFile()
{
    if (m_map)
        ::munmap(m_map, size_t(m_size));
    ::close(m_fd);
}

QByteArrayView SpillFile::mapped() const
{
    std::call_once(m_mapOnce, [this] {
        if (m_size == 0)
            return;
        void *map = ::mmap(nullptr, size_t(m_size), PROT_READ, MAP_SHARED, m_fd, 0);
        if (map != MAP_FAILED)
            m_map = map;
    });
    return m_map ? QByteArrayView(static_cast<const char *>(m_map), m_size) : QByteArrayView();
}

Status SpillFile::append(QByteArrayView bytes)
{
    if (m_buffer.capacity() < bufferSize)
        m_buffer.reserve(bufferSize);
    if (m_buffer.size() + bytes.size() > bufferSize) {
        if (auto written = writeBuffer(); !written)
            return written;
    }
    m_size += bytes.size();
    if (bytes.size() >= bufferSize) { // a big piece goes straight to the file
        m_buffer = QByteArray::fromRawData(bytes.data(), bytes.size());
        const Status written = writeBuffer();
        m_buffer = QByteArray();
        return written;
    }
    m_buffer.append(bytes);
    return success();
}

Status SpillFile::finish()
{
    return writeBuffer();
}

Status SpillFile::writeBuffer()
{
    const qint64 start = m_size - m_buffer.size();
    for (qsizetype done = 0; done < m_buffer.size();) {
        const ssize_t n = ::pwrite(m_fd, m_buffer.constData() + done, size_t(m_buffer.size() - done), start + done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fileError(QObject::tr("cannot write a temporary file"), n < 0 ? errno : 0);
        done += n;
    }
    m_buffer.resize(0); // keeps its capacity for the next MiB
    return success();
}

Result<QByteArray> SpillFile::read(qint64 offset, qint64 length) const
{
    length = qMax<qint64>(0, qMin(length, m_size - offset));
    QByteArray bytes(qsizetype(length), Qt::Uninitialized);
    for (qsizetype done = 0; done < bytes.size();) {
        const ssize_t n = ::pread(m_fd, bytes.data() + done, size_t(bytes.size() - done), offset + done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fileError(QObject::tr("cannot read a temporary file"), n < 0 ? errno : 0);
        done += n;
    }
    return bytes;
}
