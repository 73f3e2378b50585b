// Which serving thread takes a connection: the policy (ConnectionPlacement), and a real server
// placing the connections of a client pinned to one CPU on that CPU's thread.
#include "httpfixture.h"

#include "http/acceptor.h"
#include "http/cpuaffinity.h"

#include <QDir>
#include <QFile>

#include <QLoggingCategory>
#include <QRegularExpression>
#include <QTest>

#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace {

// A blocking client socket connected from the calling thread (so from the CPU it runs on).
class ClientSocket {
public:
    explicit ClientSocket(quint16 port)
        : m_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))
    {
        timeval timeout { 10, 0 };
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        sockaddr_in address {};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        m_connected = ::connect(m_fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) == 0;
    }
    ~ClientSocket() { ::close(m_fd); }
    ClientSocket(const ClientSocket &) = delete;
    ClientSocket &operator=(const ClientSocket &) = delete;

    bool connected() const { return m_connected; }
    // One GET on this keep-alive connection: the whole answer (head and Content-Length body), or
    // what came before the peer closed or 10 s passed.
    QByteArray get(const QByteArray &target)
    {
        const QByteArray request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        if (::send(m_fd, request.constData(), size_t(request.size()), MSG_NOSIGNAL) != request.size())
            return {};
        QByteArray answer;
        char buffer[16384];
        for (;;) {
            const qsizetype head = answer.indexOf("\r\n\r\n");
            if (head >= 0) {
                static const QRegularExpression length(QStringLiteral("(?i)\r\ncontent-length: *(\\d+)"));
                const auto match = length.match(QString::fromLatin1(answer.left(head + 2)));
                if (answer.size() >= head + 4 + (match.hasMatch() ? match.captured(1).toLongLong() : 0))
                    return answer;
            }
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n <= 0)
                return answer;
            answer.append(buffer, qsizetype(n));
        }
    }

private:
    int m_fd;
    bool m_connected = false;
};

// Runs the calling thread on `cpu` only, until destroyed.
class Pinned {
public:
    explicit Pinned(int cpu)
    {
        ::sched_getaffinity(0, sizeof m_before, &m_before);
        cpu_set_t only;
        CPU_ZERO(&only);
        CPU_SET(cpu, &only);
        m_ok = ::sched_setaffinity(0, sizeof only, &only) == 0;
    }
    ~Pinned() { ::sched_setaffinity(0, sizeof m_before, &m_before); }
    bool ok() const { return m_ok; }

private:
    cpu_set_t m_before {};
    bool m_ok = false;
};

// Whether the kernel reports, for a loopback connection opened from `cpu`, that CPU as the incoming
// one of the accepted socket (it does unless packet steering moves loopback traffic elsewhere).
bool incomingCpuIsTheClients(int cpu)
{
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    bool same = false;
    if (::bind(listener, reinterpret_cast<const sockaddr *>(&address), sizeof address) == 0 && ::listen(listener, 4) == 0
        && ::getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) == 0) {
        Pinned pinned(cpu);
        ClientSocket client(ntohs(address.sin_port));
        const int accepted = client.connected() ? ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC) : -1;
        int incoming = -1;
        socklen_t size = sizeof incoming;
        same = pinned.ok() && accepted >= 0 && ::getsockopt(accepted, SOL_SOCKET, SO_INCOMING_CPU, &incoming, &size) == 0
            && incoming == cpu;
        if (accepted >= 0)
            ::close(accepted);
    }
    ::close(listener);
    return same;
}

// The CPUs each libmicrohttpd serving thread of this process may run on, one set per thread.
QList<QList<int>> servingThreadCpus()
{
    QList<QList<int>> threads;
    const QDir tasks(QStringLiteral("/proc/self/task"));
    for (const QString &tid : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile comm(tasks.filePath(tid + QStringLiteral("/comm")));
        if (!comm.open(QIODevice::ReadOnly) || comm.readAll().trimmed() != "MHD-single")
            continue;
        cpu_set_t set;
        CPU_ZERO(&set);
        if (::sched_getaffinity(pid_t(tid.toInt()), sizeof set, &set) != 0)
            continue;
        QList<int> cpus;
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
            if (CPU_ISSET(cpu, &set))
                cpus << cpu;
        }
        threads << cpus;
    }
    return threads;
}

} // namespace

class TestHttpPlacement : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QLoggingCategory::setFilterRules(QStringLiteral("preserve.http.info=false")); }

    // The CPU's thread, unless it already has `slack` more than the least loaded; unknown CPU:
    // the least loaded, equals taken in turn.
    void policy()
    {
        ConnectionPlacement placement;
        placement.reset(3);
        QCOMPARE(placement.place(-1), 0);
        QCOMPARE(placement.place(-1), 1);
        QCOMPARE(placement.place(-1), 2);
        placement.release(1);
        QCOMPARE(placement.place(-1), 1); // the least loaded
        QCOMPARE(placement.open(1), 1);

        placement.reset(2);
        QCOMPARE(placement.place(5), 1); // CPU 5 belongs to thread 5 % 2
        QCOMPARE(placement.place(3), 1);
        QCOMPARE(ConnectionPlacement::slack, 2);
        QCOMPARE(placement.place(7), 0); // thread 1 is `slack` ahead: the least loaded instead
        QCOMPARE(placement.place(1), 1);
        QCOMPARE(placement.place(4), 0);
        QCOMPARE(placement.open(0), 2);
        QCOMPARE(placement.open(1), 3);
        placement.release(1);
        placement.release(1);
        placement.release(-1); // unknown: ignored
        placement.release(9);
        QCOMPARE(placement.open(1), 1);
        QCOMPARE(placement.open(9), 0);
    }

    // Connections opened from a thread pinned to a CPU land on that CPU's serving thread, as
    // /metrics shows, until the balance would tip by more than the slack.
    void connectionsFollowTheClientCpu()
    {
        cpu_set_t allowed;
        CPU_ZERO(&allowed);
        QCOMPARE(::sched_getaffinity(0, sizeof allowed, &allowed), 0);
        int even = -1;
        int odd = -1;
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
            if (!CPU_ISSET(cpu, &allowed))
                continue;
            int &slot = cpu % 2 ? odd : even;
            if (slot < 0)
                slot = cpu;
        }
        if (even < 0 || odd < 0)
            QSKIP("needs an even- and an odd-numbered CPU to run on");
        if (!incomingCpuIsTheClients(even) || !incomingCpuIsTheClients(odd))
            QSKIP("this kernel does not report a loopback client's CPU as the incoming one (packet steering?)");

        HttpServerOptions options;
        options.threads = 2;
        HttpFixture f(options);
        QVERIFY(f.ok);
        std::vector<std::unique_ptr<ClientSocket>> clients;
        const auto openFrom = [&](int cpu, int count) {
            Pinned pinned(cpu);
            QVERIFY(pinned.ok());
            for (int i = 0; i < count; ++i) {
                clients.push_back(std::make_unique<ClientSocket>(f.port()));
                QVERIFY(clients.back()->connected());
                // Answered: libmicrohttpd has the connection (and counts it) by now.
                QVERIFY(clients.back()->get("/healthz").startsWith("HTTP/1.1 200"));
            }
        };
        const auto perThread = [&]() {
            const QByteArray metrics = clients.front()->get("/metrics"); // no new connection
            QList<int> open;
            for (int thread = 0; thread < 2; ++thread) {
                const QByteArray name = "preserve_http_thread_connections_open{thread=\"" + QByteArray::number(thread) + "\"} ";
                const qsizetype at = metrics.indexOf(name);
                open << (at < 0 ? -1 : metrics.mid(at + name.size(), metrics.indexOf('\n', at) - at - name.size()).toInt());
            }
            return open;
        };

        openFrom(even, 2);
        QVERIFY(!QTest::currentTestFailed());
        QCOMPARE(perThread(), (QList<int> { 2, 0 })); // round robin would have made it 1, 1
        openFrom(odd, 2);
        QVERIFY(!QTest::currentTestFailed());
        QCOMPARE(perThread(), (QList<int> { 2, 2 }));
        openFrom(even, 3);
        QVERIFY(!QTest::currentTestFailed());
        QCOMPARE(perThread(), (QList<int> { 4, 3 })); // the third from `even`: 5 against 2 is past the slack

        // Closed connections are given back.
        clients.erase(clients.begin() + 1, clients.begin() + 4); // one of `even`'s on thread 0, both of `odd`'s
        QTRY_COMPARE(perThread(), (QList<int> { 3, 1 }));
        openFrom(odd, 1);
        QVERIFY(!QTest::currentTestFailed());
        QCOMPARE(perThread(), (QList<int> { 3, 2 }));
    }
    // Pinned threads: a CPU's connections go to the thread on that CPU; CPUs without one (or
    // unknown) as before.
    void policyWithPinnedThreads()
    {
        ConnectionPlacement placement;
        placement.reset(2, { 6, 3 });
        QCOMPARE(placement.place(3), 1);
        QCOMPARE(placement.place(6), 0); // 6 % 2 would be thread 0 too; 3 % 2 is 1: the map decides both
        placement.reset(2, { 3, 6 });
        QCOMPARE(placement.place(3), 0);
        QCOMPARE(placement.place(6), 1);
        QCOMPARE(placement.place(5), 1); // not pinned: 5 % 2
        QCOMPARE(placement.place(-1), 0);
    }

    // With as many serving threads as CPUs, each serving thread runs on a CPU of its own once it
    // has a connection, and the CPUs are all of this process's; with pinThreads off, none is pinned.
    void servingThreadsStayOnTheirCpus()
    {
        const std::vector<int> cpus = CpuAffinity::allowed();
        if (cpus.empty() || cpus.size() > 16)
            QSKIP("needs 1 to 16 CPUs to run on");
        QList<int> all(cpus.cbegin(), cpus.cend());
        for (const bool pin : { true, false }) {
            HttpServerOptions options;
            options.threads = int(cpus.size());
            options.pinThreads = pin;
            HttpFixture f(options);
            QVERIFY(f.ok);
            std::vector<std::unique_ptr<ClientSocket>> clients;
            // Connections from every CPU, and more (the slack spreads them if the incoming CPU is
            // not the client's), until every serving thread has one.
            for (size_t i = 0; i < 8 * cpus.size(); ++i) {
                Pinned pinned(cpus[i % cpus.size()]);
                clients.push_back(std::make_unique<ClientSocket>(f.port()));
                QVERIFY(clients.back()->get("/healthz").startsWith("HTTP/1.1 200"));
            }
            const QList<QList<int>> threads = servingThreadCpus();
            QCOMPARE(threads.size(), all.size());
            QList<int> pinnedTo;
            for (const QList<int> &threadCpus : threads) {
                if (!pin) {
                    QCOMPARE(threadCpus, all);
                    continue;
                }
                QCOMPARE(threadCpus.size(), 1);
                pinnedTo << threadCpus.first();
            }
            std::sort(pinnedTo.begin(), pinnedTo.end());
            if (pin)
                QCOMPARE(pinnedTo, all);
        }
    }
};

QTEST_GUILESS_MAIN(TestHttpPlacement)
#include "tst_httpplacement.moc"
