#include "documentloader.h"

#include "db/database.h"
#include "serialize/serializer.h"

#include <QElapsedTimer>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcDocuments, "preserve.items.documents", QtInfoMsg)

namespace {

// The cached side: the memory tier's entry, else the store's (nullptr when there is none), and the
// bytes the store holds for it.
Result<EntryPtr> readCached(const CacheConfig &config, EntryPtr memoryEntry, qint64 pk, DocumentComparison &result)
{
    auto store = openStore(config.store, config.database);
    if (!store)
        return memoryEntry ? Result<EntryPtr>(memoryEntry) : Result<EntryPtr>(store.error());
    auto entry = memoryEntry ? Result<EntryPtr>(memoryEntry) : store.value()->get(pk);
    // A corrupt entry has bytes too: the ones to save and look at.
    if ((entry && *entry) || (!entry && entry.error().kind == Error::Kind::Corrupt)) {
        if (auto stored = store.value()->storedBytes(pk); stored && *stored) {
            result.storedBytes = std::move(**stored);
            result.showsStoredBytes = entry && store.value()->keepsBytes() && result.storedBytes != (*entry)->body;
        }
    }
    return entry;
}

Result<QByteArray> serializeLive(const DatabaseConfig &config, qint64 pk)
{
    auto database = Database::open(config);
    if (!database)
        return database.error();
    Serializer serializer(*database.value());
    return serializer.foo(pk);
}

JsonValue parsedOrNull(const QByteArray &body, QString &error)
{
    auto parsed = parseJson(body);
    if (parsed)
        return std::move(parsed).value();
    error = QObject::tr("not valid JSON: %1").arg(parsed.error().message);
    return {};
}

} // namespace

// The store's previous entry of `pk`, as the right side's bytes.
Result<QByteArray> readPrevious(const CacheConfig &config, qint64 pk, DocumentComparison &result)
{
    auto store = openStore(config.store, config.database);
    if (!store)
        return store.error();
    auto previous = store.value()->previous(pk);
    if (!previous)
        return previous.error();
    if (!*previous)
        return Error::notFound(QObject::tr("No previous entry: Foo %1 was not refreshed or invalidated since the "
                                           "store began keeping them").arg(pk));
    result.previous = *previous;
    return (*previous)->body;
}

DocumentComparison compareDocuments(const CacheConfig &config, EntryPtr memoryEntry, qint64 pk, bool againstPrevious)
{
    QElapsedTimer timer;
    timer.start();
    DocumentComparison result;
    result.pk = pk;
    if (auto cached = readCached(config, std::move(memoryEntry), pk, result))
        result.entry = cached.value();
    else
        result.cachedError = cached.error().message;
    QByteArray live;
    result.againstPrevious = againstPrevious;
    if (auto body = againstPrevious ? readPrevious(config, pk, result) : serializeLive(config.database, pk))
        live = std::move(body).value();
    else
        result.liveError = body.error().message;
    result.liveBytes = live.size();
    result.liveBody = live;

    const bool hasCached = result.entry && result.cachedError.isEmpty();
    const bool hasLive = result.liveError.isEmpty();
    JsonValue before;
    if (hasCached && result.showsStoredBytes) {
        if (auto stored = parseJson(result.storedBytes))
            before = std::move(stored).value();
        else
            result.showsStoredBytes = false;
    }
    if (hasCached && !result.showsStoredBytes)
        before = parsedOrNull(result.entry->body, result.cachedError);
    const JsonValue after = hasLive ? parsedOrNull(live, result.liveError) : JsonValue {};
    if (hasCached && hasLive && result.cachedError.isEmpty() && result.liveError.isEmpty()) {
        result.formatted = formatComparison(before, after);
    } else {
        // One side only: nothing to compare, but the side there is still reads as formatted.
        if (hasCached && result.cachedError.isEmpty())
            result.formatted.before = formatJson(before);
        if (hasLive && result.liveError.isEmpty())
            result.formatted.after = formatJson(after);
        result.formatted.beforeMarks = QByteArray(result.formatted.before.lineCount(), char(LineMark::None));
        result.formatted.afterMarks = QByteArray(result.formatted.after.lineCount(), char(LineMark::None));
        result.formatted.summary = !result.entry && result.cachedError.isEmpty() ? QObject::tr("not cached")
                                                                                 : QObject::tr("cannot compare");
    }
    result.seconds = double(timer.nsecsElapsed()) / 1e9;
    qCDebug(lcDocuments) << "Foo" << pk << "compared in" << result.seconds << "s";
    return result;
}

DocumentLoader::DocumentLoader(QObject *parent)
    : QObject(parent)
{
    m_pool.setMaxThreadCount(1);
}

DocumentLoader::~DocumentLoader()
{
    m_job.invalidate();
    m_pool.waitForDone();
}

void DocumentLoader::setService(CacheService *service)
{
    clear();
    m_pool.waitForDone();
    m_service = service;
}

void DocumentLoader::load(qint64 pk)
{
    if (!m_service)
        return;
    if (m_running) {
        m_job.invalidate(); // the running job's answer is outdated
        m_pending = pk;
        return;
    }
    start(pk);
}

void DocumentLoader::clear()
{
    m_job.invalidate();
    m_pending.reset();
}

void DocumentLoader::start(qint64 pk)
{
    const bool wasRunning = m_running;
    m_running = true;
    const LatestJob::Ticket ticket = m_job.start();
    const CacheConfig config = m_service->config();
    EntryPtr memoryEntry = m_service->memory().get(pk);
    QPointer<DocumentLoader> self(this);
    m_pool.start([self, ticket, config, memoryEntry, pk, previous = m_againstPrevious] {
        auto result = std::make_shared<const DocumentComparison>(compareDocuments(config, memoryEntry, pk, previous));
        // The destructor waits for this job, so the loader is alive here; the queued call is
        // dropped if it is deleted before it runs.
        QMetaObject::invokeMethod(
            self.data(), [self, ticket, result] {
                if (self)
                    self->finished(ticket, result);
            },
            Qt::QueuedConnection);
    });
    if (!wasRunning)
        emit busyChanged(true);
}

void DocumentLoader::finished(LatestJob::Ticket ticket, const DocumentComparisonPtr &comparison)
{
    if (m_pending && m_service) {
        const qint64 pk = *m_pending;
        m_pending.reset();
        start(pk);
        return;
    }
    m_running = false;
    emit busyChanged(false);
    if (m_job.isCurrent(ticket))
        emit loaded(comparison);
}
