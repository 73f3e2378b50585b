#include "telemetry.h"

#include <QLocale>
#include <QLoggingCategory>
#include <QStringList>

#include <algorithm>
#include <cmath>

Q_LOGGING_CATEGORY(lcTelemetry, "preserve.telemetry", QtInfoMsg) // debug lines only when asked for (QT_LOGGING_RULES)

namespace {

constexpr int bucketCount = int(Telemetry::bucketBounds.size()) + 1; // the last is +Inf
const QString otherStore = QStringLiteral("other");

// The bucket a duration falls in: the first bound >= seconds ("le" is inclusive); NaN and
// negative durations count as 0, past the last bound is +Inf.
int bucketIndex(double seconds)
{
    if (!(seconds > 0))
        return 0;
    const auto &bounds = Telemetry::bucketBounds;
    return int(std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin());
}

qint64 toNanoseconds(double seconds)
{
    if (!(seconds > 0))
        return 0;
    constexpr double limit = 1e15; // 11.5 days per observation: an absurd value must not overflow the sum
    return qint64(std::llround(std::min(seconds * 1e9, limit)));
}

// Shortest text that reads back as the same double, without exponent: 0.0001, 0.00025, 1, 2.5. The
// le labels are strings to Prometheus 2.x: they must read like every other client's ("0.0001").
QByteArray number(double value)
{
    return QByteArray::number(value, 'f', QLocale::FloatingPointShortest);
}

// Label values: backslash, double quote and line feed are escaped (exposition format 0.0.4).
QByteArray labelValue(const QString &value)
{
    QByteArray out;
    const QByteArray utf8 = value.toUtf8();
    out.reserve(utf8.size());
    for (const char c : utf8) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

} // namespace

// One histogram written by any thread: plain counts per bucket (made cumulative on reading), so a
// snapshot taken during writes still has _count equal to the +Inf bucket.
struct AtomicHistogram {
    std::array<std::atomic<qint64>, bucketCount> counts {};
    std::atomic<qint64> sumNanoseconds { 0 };

    void observe(double seconds)
    {
        counts[size_t(bucketIndex(seconds))].fetch_add(1, std::memory_order_relaxed);
        sumNanoseconds.fetch_add(toNanoseconds(seconds), std::memory_order_relaxed);
    }
    Telemetry::Histogram load() const
    {
        Telemetry::Histogram histogram;
        for (size_t i = 0; i < counts.size(); ++i) {
            histogram.counts[i] = counts[i].load(std::memory_order_relaxed);
            histogram.count += histogram.counts[i];
        }
        histogram.sum = double(sumNanoseconds.load(std::memory_order_relaxed)) / 1e9;
        return histogram;
    }
};

struct Telemetry::Counters {
    explicit Counters(QString storeName) : name(std::move(storeName)) { }

    const QString name;
    std::array<std::atomic<qint64>, outcomeCount> requests {};
    std::atomic<qint64> bytesServed { 0 };
    AtomicHistogram requestSeconds;
    std::atomic<qint64> refreshes { 0 };
    std::atomic<qint64> refreshFailures { 0 };
    AtomicHistogram refreshSeconds;
    std::atomic<qint64> errors { 0 };
};

Telemetry::Telemetry()
{
    // The kinds the service and the server use: their lookups never take the mutex.
    const std::array<const char *, 3> builtIn { "db", "redis", "live" };
    for (size_t i = 0; i < builtIn.size(); ++i)
        m_stores[i] = new Counters(QString::fromLatin1(builtIn[i]));
    m_storeCount.store(int(builtIn.size()), std::memory_order_release);
}

Telemetry::~Telemetry()
{
    for (int i = 0; i < m_storeCount.load(); ++i)
        delete m_stores[size_t(i)];
}

Telemetry::Counters &Telemetry::countersFor(const QString &store)
{
    const int known = m_storeCount.load(std::memory_order_acquire);
    for (int i = 0; i < known; ++i) {
        if (m_stores[size_t(i)]->name == store)
            return *m_stores[size_t(i)];
    }
    std::lock_guard lock(m_mutex);
    const int count = m_storeCount.load(std::memory_order_relaxed);
    for (int i = known; i < count; ++i) {
        if (m_stores[size_t(i)]->name == store)
            return *m_stores[size_t(i)];
    }
    if (count >= maxStores - 1) {
        // Past the limit, every new kind is counted as "other" (made in the last slot if need be).
        for (int i = 0; i < count; ++i) {
            if (m_stores[size_t(i)]->name == otherStore)
                return *m_stores[size_t(i)];
        }
        qCWarning(lcTelemetry) << "more than" << maxStores - 1 << "store kinds: counting" << store
                               << "and later ones as" << otherStore;
    }
    const bool last = count == maxStores - 1;
    m_stores[size_t(count)] = new Counters(last ? otherStore : store);
    m_storeCount.store(count + 1, std::memory_order_release);
    return *m_stores[size_t(count)];
}

// Any thread; no lock for a known store kind.
void Telemetry::recordRequest(const QString &store, Outcome outcome, qint64 bytes, double seconds)
{
    Counters &counters = countersFor(store);
    counters.requests[size_t(outcome)].fetch_add(1, std::memory_order_relaxed);
    if (bytes > 0)
        counters.bytesServed.fetch_add(bytes, std::memory_order_relaxed);
    counters.requestSeconds.observe(seconds);
}

// Any thread. `refreshes` counts every attempt, `refreshFailures` those that failed.
void Telemetry::recordRefresh(const QString &store, bool ok, double seconds)
{
    Counters &counters = countersFor(store);
    counters.refreshes.fetch_add(1, std::memory_order_relaxed);
    if (!ok)
        counters.refreshFailures.fetch_add(1, std::memory_order_relaxed);
    counters.refreshSeconds.observe(seconds);
}

void Telemetry::recordError(const QString &store)
{
    countersFor(store).errors.fetch_add(1, std::memory_order_relaxed);
}

void Telemetry::setMemory(qint64 entries, qint64 bytes, qint64 capacity)
{
    m_memoryEntries.store(entries, std::memory_order_relaxed);
    m_memoryBytes.store(bytes, std::memory_order_relaxed);
    m_memoryCapacity.store(capacity, std::memory_order_relaxed);
}

// Any thread. Each value is read atomically; the set of them is not one instant (writers go on).
Telemetry::Snapshot Telemetry::snapshot() const
{
    Snapshot snapshot;
    {
        std::lock_guard lock(m_workerMutex);
        snapshot.worker = m_worker;
    }
    const int count = m_storeCount.load(std::memory_order_acquire);
    for (int i = 0; i < count; ++i) {
        const Counters &counters = *m_stores[size_t(i)];
        StoreSnapshot store;
        for (size_t o = 0; o < store.requests.size(); ++o)
            store.requests[o] = counters.requests[o].load(std::memory_order_relaxed);
        store.bytesServed = counters.bytesServed.load(std::memory_order_relaxed);
        store.requestSeconds = counters.requestSeconds.load();
        store.refreshes = counters.refreshes.load(std::memory_order_relaxed);
        store.refreshFailures = counters.refreshFailures.load(std::memory_order_relaxed);
        store.refreshSeconds = counters.refreshSeconds.load();
        store.errors = counters.errors.load(std::memory_order_relaxed);
        snapshot.stores.insert(counters.name, store);
    }
    snapshot.memoryEntries = m_memoryEntries.load(std::memory_order_relaxed);
    snapshot.memoryBytes = m_memoryBytes.load(std::memory_order_relaxed);
    snapshot.memoryCapacity = m_memoryCapacity.load(std::memory_order_relaxed);
    return snapshot;
}

double Telemetry::Snapshot::hitRatio() const
{
    qint64 hits = 0;
    qint64 served = 0;
    for (const StoreSnapshot &store : stores) {
        hits += store.requests[size_t(Outcome::Hit)];
        for (const Outcome outcome : { Outcome::Hit, Outcome::Miss, Outcome::Stale, Outcome::Bypass })
            served += store.requests[size_t(outcome)];
    }
    return served == 0 ? 0.0 : double(hits) / double(served);
}

QString Telemetry::outcomeName(Outcome outcome)
{
    switch (outcome) {
    case Outcome::Hit:
        return QStringLiteral("hit");
    case Outcome::Miss:
        return QStringLiteral("miss");
    case Outcome::Stale:
        return QStringLiteral("stale");
    case Outcome::Bypass:
        return QStringLiteral("bypass");
    case Outcome::Error:
        return QStringLiteral("error");
    }
    return {};
}

namespace {

// Writes one metric family at a time: HELP and TYPE once, then its samples.
class Exposition {
public:
    void family(const char *name, const char *type, const char *help)
    {
        m_text += "# HELP ";
        m_text += name;
        m_text += ' ';
        m_text += help;
        m_text += "\n# TYPE ";
        m_text += name;
        m_text += ' ';
        m_text += type;
        m_text += '\n';
    }
    // `labels` is `key="escaped value",…` without braces; empty for none.
    void sample(const QByteArray &name, const QByteArray &labels, const QByteArray &value)
    {
        m_text += name;
        if (!labels.isEmpty()) {
            m_text += '{';
            m_text += labels;
            m_text += '}';
        }
        m_text += ' ';
        m_text += value;
        m_text += '\n';
    }
    void histogram(const QByteArray &name, const QByteArray &labels, const Telemetry::Histogram &histogram)
    {
        const QByteArray prefix = labels.isEmpty() ? QByteArray() : labels + ',';
        qint64 cumulative = 0;
        for (size_t i = 0; i < histogram.counts.size(); ++i) {
            cumulative += histogram.counts[i];
            const QByteArray le = i < Telemetry::bucketBounds.size() ? number(Telemetry::bucketBounds[i]) : "+Inf";
            sample(name + "_bucket", prefix + "le=\"" + le + '"', QByteArray::number(cumulative));
        }
        sample(name + "_sum", labels, number(histogram.sum));
        sample(name + "_count", labels, QByteArray::number(histogram.count));
    }
    QByteArray text() const { return m_text; }

private:
    QByteArray m_text;
};

QByteArray storeLabel(const QString &store)
{
    return "store=\"" + labelValue(store) + '"';
}

} // namespace

void Telemetry::setWorker(bool active, qint64 queued, qint64 changes, qint64 coalesced, qint64 refreshes, qint64 errors)
{
    std::lock_guard lock(m_workerMutex);
    m_worker.present = true;
    m_worker.active = active;
    m_worker.queued = queued;
    m_worker.changes = changes;
    m_worker.coalesced = coalesced;
    m_worker.refreshes = refreshes;
    m_worker.errors = errors;
}

void Telemetry::recordWorkerLag(double seconds)
{
    std::lock_guard lock(m_workerMutex);
    const auto bucket = std::lower_bound(bucketBounds.cbegin(), bucketBounds.cend(), seconds);
    ++m_worker.lagSeconds.counts[size_t(bucket - bucketBounds.cbegin())];
    ++m_worker.lagSeconds.count;
    m_worker.lagSeconds.sum += seconds;
}

// Any thread. Stores in name order, so that two scrapes differ only in their numbers.
QByteArray Telemetry::prometheus() const
{
    const Snapshot data = snapshot();
    QStringList names = data.stores.keys();
    names.sort();
    Exposition out;
    out.family("preserve_cache_requests_total", "counter", "Cache requests by store and result.");
    for (const QString &name : names) {
        for (int o = 0; o < outcomeCount; ++o) {
            const QByteArray labels = storeLabel(name) + ",result=\"" + outcomeName(Outcome(o)).toLatin1() + '"';
            out.sample("preserve_cache_requests_total", labels, QByteArray::number(data.stores[name].requests[size_t(o)]));
        }
    }
    out.family("preserve_cache_request_duration_seconds", "histogram", "Time to answer a cache request.");
    for (const QString &name : names)
        out.histogram("preserve_cache_request_duration_seconds", storeLabel(name), data.stores[name].requestSeconds);
    out.family("preserve_cache_bytes_served_total", "counter", "Body bytes served from the cache.");
    for (const QString &name : names)
        out.sample("preserve_cache_bytes_served_total", storeLabel(name), QByteArray::number(data.stores[name].bytesServed));
    out.family("preserve_refresh_total", "counter", "Entry refreshes by store and result.");
    for (const QString &name : names) {
        const StoreSnapshot &store = data.stores[name];
        out.sample("preserve_refresh_total", storeLabel(name) + ",result=\"ok\"",
                   QByteArray::number(store.refreshes - store.refreshFailures));
        out.sample("preserve_refresh_total", storeLabel(name) + ",result=\"error\"",
                   QByteArray::number(store.refreshFailures));
    }
    out.family("preserve_refresh_duration_seconds", "histogram", "Time to refresh one entry.");
    for (const QString &name : names)
        out.histogram("preserve_refresh_duration_seconds", storeLabel(name), data.stores[name].refreshSeconds);
    out.family("preserve_cache_errors_total", "counter", "Store errors.");
    for (const QString &name : names)
        out.sample("preserve_cache_errors_total", storeLabel(name), QByteArray::number(data.stores[name].errors));
    out.family("preserve_memory_entries", "gauge", "Entries in the in-process memory tier.");
    out.sample("preserve_memory_entries", {}, QByteArray::number(data.memoryEntries));
    out.family("preserve_memory_bytes", "gauge", "Bytes (body and gzip) held by the memory tier.");
    out.sample("preserve_memory_bytes", {}, QByteArray::number(data.memoryBytes));
    out.family("preserve_memory_capacity_bytes", "gauge", "Capacity of the memory tier in bytes.");
    out.sample("preserve_memory_capacity_bytes", {}, QByteArray::number(data.memoryCapacity));
    if (data.worker.present) {
        const WorkerSnapshot &w = data.worker;
        const std::pair<const char *, qint64> gauges[] = { { "preserve_worker_active", w.active ? 1 : 0 },
                                                           { "preserve_worker_queue_depth", w.queued } };
        const char *const gaugeHelp[] = { "1 when this worker is the active one of its database and label, 0 on standby.",
                                          "Foos with a change waiting to be refreshed." };
        for (size_t i = 0; i < std::size(gauges); ++i) {
            out.family(gauges[i].first, "gauge", gaugeHelp[i]);
            out.sample(gauges[i].first, {}, QByteArray::number(gauges[i].second));
        }
        const std::pair<const char *, qint64> counters[] = { { "preserve_worker_changes_total", w.changes },
                                                             { "preserve_worker_coalesced_total", w.coalesced },
                                                             { "preserve_worker_refreshes_total", w.refreshes },
                                                             { "preserve_worker_errors_total", w.errors } };
        const char *const counterHelp[] = { "Changes read from the change log (the latest per Foo per read).",
                                            "Changes that joined a refresh already pending.",
                                            "Entries the worker refreshed.", "Refreshes that failed and log reads that failed." };
        for (size_t i = 0; i < std::size(counters); ++i) {
            out.family(counters[i].first, "counter", counterHelp[i]);
            out.sample(counters[i].first, {}, QByteArray::number(counters[i].second));
        }
        out.family("preserve_worker_lag_seconds", "histogram", "From a change's commit to its Foo's entry written.");
        out.histogram("preserve_worker_lag_seconds", {}, w.lagSeconds);
    }
    return out.text();
}
