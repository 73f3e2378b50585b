#include "acceptor.h"

#include <QObject>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace {

QString lastError()
{
    return QString::fromLocal8Bit(std::strerror(errno));
}

void wake(int eventFd)
{
    const quint64 one = 1;
    [[maybe_unused]] const auto written = ::write(eventFd, &one, sizeof one);
}

} // namespace

Acceptor::Acceptor()
    : m_wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC))
{
}

Acceptor::~Acceptor()
{
    stop();
    if (m_wake >= 0)
        ::close(m_wake);
}

std::optional<sockaddr_storage> Acceptor::address(const QString &address, quint16 port, bool *ipv6)
{
    sockaddr_storage storage {};
    const QByteArray text = address == QLatin1String("localhost") ? QByteArray("127.0.0.1") : address.toLatin1();
    auto *v4 = reinterpret_cast<sockaddr_in *>(&storage);
    auto *v6 = reinterpret_cast<sockaddr_in6 *>(&storage);
    if (inet_pton(AF_INET, text.constData(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        *ipv6 = false;
        return storage;
    }
    if (inet_pton(AF_INET6, text.constData(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *ipv6 = true;
        return storage;
    }
    return std::nullopt;
}

void Acceptor::raiseDescriptorLimit()
{
    rlimit limit {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

Result<quint16> Acceptor::listen(const sockaddr *address, socklen_t length)
{
    stop();
    m_listen = ::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (m_listen < 0)
        return Error::unavailable(lastError());
    const int on = 1;
    ::setsockopt(m_listen, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (address->sa_family == AF_INET6)
        ::setsockopt(m_listen, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (::bind(m_listen, address, length) != 0 || ::listen(m_listen, SOMAXCONN) != 0) {
        const QString error = lastError();
        ::close(m_listen);
        m_listen = -1;
        return Error::unavailable(error);
    }
    sockaddr_storage bound {};
    socklen_t boundLength = sizeof bound;
    ::getsockname(m_listen, reinterpret_cast<sockaddr *>(&bound), &boundLength);
    const in_port_t port = bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6 *>(&bound)->sin6_port
                                                       : reinterpret_cast<sockaddr_in *>(&bound)->sin_port;
    return quint16(ntohs(port));
}

void ConnectionPlacement::reset(int workers, const std::vector<int> &workerCpus)
{
    m_workers = qBound(1, workers, maxWorkers);
    m_next = 0;
    m_workerOfCpu.clear();
    for (int worker = 0; worker < qMin(m_workers, int(workerCpus.size())); ++worker) {
        const int cpu = workerCpus[size_t(worker)];
        if (cpu < 0)
            continue;
        if (cpu >= int(m_workerOfCpu.size()))
            m_workerOfCpu.resize(size_t(cpu) + 1, -1);
        m_workerOfCpu[size_t(cpu)] = worker;
    }
    for (auto &open : m_open)
        open.store(0, std::memory_order_relaxed);
}

int ConnectionPlacement::place(int incomingCpu)
{
    int least = m_next;
    for (int i = 1; i < m_workers; ++i) {
        const int worker = (m_next + i) % m_workers;
        if (open(worker) < open(least))
            least = worker;
    }
    m_next = (m_next + 1) % m_workers;
    int chosen = least;
    if (incomingCpu >= 0) {
        const bool pinned = incomingCpu < int(m_workerOfCpu.size()) && m_workerOfCpu[size_t(incomingCpu)] >= 0;
        const int preferred = pinned ? m_workerOfCpu[size_t(incomingCpu)] : incomingCpu % m_workers;
        if (open(preferred) - open(least) < slack)
            chosen = preferred;
    }
    m_open[size_t(chosen)].fetch_add(1, std::memory_order_relaxed);
    return chosen;
}

void ConnectionPlacement::release(int worker)
{
    if (worker >= 0 && worker < m_workers)
        m_open[size_t(worker)].fetch_sub(1, std::memory_order_relaxed);
}

int ConnectionPlacement::open(int worker) const
{
    return worker >= 0 && worker < m_workers ? m_open[size_t(worker)].load(std::memory_order_relaxed) : 0;
}

void Acceptor::start(Handoff handoff, int limit, int workers, const std::vector<int> &workerCpus, Reclaim reclaim)
{
    m_placement.reset(workers, workerCpus);
    m_handoff = std::move(handoff);
    m_reclaim = std::move(reclaim);
    m_limit = qMax(1, limit);
    m_open = 0;
    m_stopping = false;
    m_thread = std::thread([this] { run(); });
}

void Acceptor::stop()
{
    if (m_thread.joinable()) {
        m_stopping = true;
        wake(m_wake);
        m_thread.join();
    }
    if (m_listen >= 0)
        ::close(m_listen);
    m_listen = -1;
}

void Acceptor::released(int worker)
{
    m_placement.release(worker);
    // Only a full acceptor sleeps on the listening socket's behalf: wake it when room appears.
    if (m_open.fetch_sub(1, std::memory_order_acq_rel) >= m_limit && m_wake >= 0)
        wake(m_wake);
}

void Acceptor::run()
{
    bool reclaiming = false; // an idle connection was shut down for a waiting client: wait for its close
    while (!m_stopping.load()) {
        const bool room = m_open.load(std::memory_order_acquire) < m_limit;
        const bool watchQueue = room || (m_reclaim && !reclaiming);
        pollfd fds[2] = { { m_wake, POLLIN, 0 }, { m_listen, short(watchQueue ? POLLIN : 0), 0 } };
        if (::poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[0].revents & POLLIN) {
            quint64 count = 0;
            [[maybe_unused]] const auto read = ::read(m_wake, &count, sizeof count);
            reclaiming = false; // a connection closed: room again
        }
        if (!room && (fds[1].revents & POLLIN) && m_reclaim && !reclaiming) {
            reclaiming = m_reclaim();
            if (!reclaiming) { // every connection busy with a request: look at the queue again shortly
                pollfd wakeOnly { m_wake, POLLIN, 0 };
                ::poll(&wakeOnly, 1, 100);
            }
            continue;
        }
        if (room && (fds[1].revents & POLLIN) && !acceptSome()) {
            // Out of descriptors: the clients stay queued; try again shortly (or when woken).
            pollfd wakeOnly { m_wake, POLLIN, 0 };
            ::poll(&wakeOnly, 1, 100);
        }
    }
}

// Drains the queue (up to the limit), so that a burst of clients costs one wake-up. False when
// the process is out of descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM).
bool Acceptor::acceptSome()
{
    while (m_open.load(std::memory_order_acquire) < m_limit && !m_stopping.load()) {
        sockaddr_storage address {};
        socklen_t length = sizeof address;
        const int socket = ::accept4(m_listen, reinterpret_cast<sockaddr *>(&address), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (socket < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        int cpu = -1;
        socklen_t cpuLength = sizeof cpu;
        if (::getsockopt(socket, SOL_SOCKET, SO_INCOMING_CPU, &cpu, &cpuLength) != 0)
            cpu = -1;
        const int worker = m_placement.place(cpu);
        m_open.fetch_add(1, std::memory_order_acq_rel);
        if (!m_handoff(socket, reinterpret_cast<const sockaddr *>(&address), length, worker)) {
            m_open.fetch_sub(1, std::memory_order_acq_rel);
            m_placement.release(worker);
        }
    }
    return true;
}
