#include "consolesession.h"

#include "cache/cachestore.h"
#include "cache/freshnessworker.h"
#include "cache/storeconfig.h"
#include "db/database.h"
#include "db/seeder.h"
#include "items/documentloader.h"
#include "items/statusloader.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QMutex>
#include <QFuture>
#include <QFutureWatcher>
#include <QPromise>
#include <QSettings>
#include <QThreadPool>

#include <algorithm>
#include <functional>

Q_LOGGING_CATEGORY(lcSession, "preserve.items.session", QtInfoMsg) // debug lines only when asked for (QT_LOGGING_RULES)

Result<CacheConfig> ConnectionSpec::cacheConfig() const
{
    if (database.trimmed().isEmpty())
        return Error::invalid(QObject::tr("Choose a SQLite file or enter a PostgreSQL URL."));
    auto databaseConfig = DatabaseConfig::parse(database.trimmed(), appLabel.trimmed(), readOnly);
    if (!databaseConfig)
        return databaseConfig.error();
    auto storeConfig = StoreConfig::parse(store, redisUrl.trimmed(), redisPrefix);
    if (!storeConfig)
        return storeConfig.error();
    CacheConfig config;
    config.database = *databaseConfig;
    config.store = *storeConfig;
    config.memoryBytes = 256LL * 1024 * 1024;
    config.workers = 2;
    return config;
}

QString ConnectionSpec::displayName() const
{
    auto config = DatabaseConfig::parse(database.trimmed(), appLabel.trimmed(), readOnly);
    // What did not parse is shown as typed, but never with its password.
    QString name = config ? config->displayName() : UrlPasswords::mask(database);
    if (store == QLatin1String("redis")) {
        auto redis = RedisConfig::parse(redisUrl, redisPrefix);
        name += QObject::tr(" → %1").arg(redis ? redis->description() : UrlPasswords::mask(redisUrl));
    }
    if (readOnly)
        name += QObject::tr(" (read-only)");
    return name;
}

QVariantMap ConnectionSpec::toVariant() const
{
    return { { QStringLiteral("database"), database },   { QStringLiteral("appLabel"), appLabel },
             { QStringLiteral("store"), store },         { QStringLiteral("redisUrl"), redisUrl },
             { QStringLiteral("redisPrefix"), redisPrefix }, { QStringLiteral("readOnly"), readOnly } };
}

ConnectionSpec ConnectionSpec::fromVariant(const QVariantMap &map)
{
    ConnectionSpec spec;
    spec.database = map.value(QStringLiteral("database")).toString();
    spec.appLabel = map.value(QStringLiteral("appLabel"), spec.appLabel).toString();
    spec.store = map.value(QStringLiteral("store"), spec.store).toString();
    spec.redisUrl = map.value(QStringLiteral("redisUrl"), spec.redisUrl).toString();
    spec.redisPrefix = map.value(QStringLiteral("redisPrefix"), spec.redisPrefix).toString();
    spec.readOnly = map.value(QStringLiteral("readOnly")).toBool();
    return spec;
}

namespace {

const QString recentKey = QStringLiteral("connections/recent");
// Not QSettings(): the application sets no organization name (that would move the demo database's
// folder), so the console names its own file.
const QString settingsOrganization = QStringLiteral("preserve");
const QString settingsApplication = QStringLiteral("console");

struct RecentList {
    QMutex mutex;       // guards known and list
    bool known = false; // list is what the settings hold, or are about to
    QVariantList list;
    QMutex writing;     // one write at a time
};

RecentList &recentList()
{
    static RecentList recent;
    return recent;
}

// With recent.mutex held.
QVariantList &knownList(RecentList &recent)
{
    if (!recent.known) {
        recent.list = QSettings(settingsOrganization, settingsApplication).value(recentKey).toList();
        recent.known = true;
    }
    return recent.list;
}

// Ours first, then those of `stored` that are not among them (an older list, or what another
// console wrote meanwhile), at most `maximum`.
QVariantList merged(const QVariantList &ours, const QVariantList &stored)
{
    QVariantList list = ours;
    for (const QVariant &entry : stored) {
        if (list.size() >= RecentConnections::maximum)
            break;
        const ConnectionSpec spec = ConnectionSpec::fromVariant(entry.toMap());
        const bool known = std::any_of(list.cbegin(), list.cend(),
                                       [&spec](const QVariant &mine) { return ConnectionSpec::fromVariant(mine.toMap()) == spec; });
        if (!known)
            list << entry;
    }
    return list;
}

// Changes the list under the lock (read, change, keep), then writes it in the background. A write
// of a non-empty list keeps what another process added since this one read the file.
void changeRecent(const std::function<QVariantList(const QVariantList &)> &change)
{
    RecentList &recent = recentList();
    {
        QMutexLocker lock(&recent.mutex);
        recent.list = change(knownList(recent));
    }
    QThreadPool::globalInstance()->start([&recent] {
        QMutexLocker writing(&recent.writing);
        QVariantList newest;
        {
            QMutexLocker lock(&recent.mutex);
            newest = recent.list;
        }
        QSettings settings(settingsOrganization, settingsApplication);
        if (newest.isEmpty())
            settings.remove(recentKey);
        else
            settings.setValue(recentKey, merged(newest, settings.value(recentKey).toList()));
        settings.sync();
    });
}

} // namespace

QList<ConnectionSpec> RecentConnections::list()
{
    QVariantList variants;
    {
        RecentList &recent = recentList();
        QMutexLocker lock(&recent.mutex);
        variants = knownList(recent);
    }
    QList<ConnectionSpec> result;
    for (const QVariant &entry : std::as_const(variants))
        result << ConnectionSpec::fromVariant(entry.toMap());
    return result;
}

void RecentConnections::remember(const ConnectionSpec &spec)
{
    changeRecent([&spec](const QVariantList &before) { return merged({ spec.toVariant() }, before); });
}

void RecentConnections::clear()
{
    changeRecent([](const QVariantList &) { return QVariantList(); });
}

ConsoleSession::ConsoleSession(const ConnectionSpec &spec, const CacheConfig &config, QObject *parent)
    : QObject(parent)
    , m_spec(spec)
    , m_service(std::make_unique<CacheService>(config))
    , m_server(std::make_unique<HttpServer>(*m_service))
    , m_documents(std::make_unique<DocumentLoader>())
    , m_statuses(std::make_unique<StatusLoader>())
{
    m_documents->setService(m_service.get());
    m_statuses->setService(m_service.get());
    m_statusThrottle.setSingleShot(true);
    m_statusThrottle.setInterval(200);
    connect(&m_statusThrottle, &QTimer::timeout, m_statuses.get(), &StatusLoader::request);
    CacheService *service = m_service.get();
    connect(service, &CacheService::jobStarted, this, &ConsoleSession::statesMayHaveChanged);
    connect(service, &CacheService::entryRefreshed, this, &ConsoleSession::statesMayHaveChanged);
    connect(service, &CacheService::entryFailed, this, &ConsoleSession::statesMayHaveChanged);
    connect(service, &CacheService::entryVerified, this, &ConsoleSession::statesMayHaveChanged);
    connect(service, &CacheService::jobFinished, this, &ConsoleSession::jobEnded);
    connect(service, &CacheService::entriesChanged, this, &ConsoleSession::statesMayHaveChanged);
    if (auto watching = m_service->startWatching(); !watching)
        qCWarning(lcSession) << "watching the store (retrying):" << watching.error().message;
    m_workersTimer.setInterval(2000);
    connect(&m_workersTimer, &QTimer::timeout, this, &ConsoleSession::readWorkers);
    m_workersTimer.start();
}

ConsoleSession::~ConsoleSession()
{
    m_statusThrottle.stop();
    m_workersTimer.stop();
    m_worker.reset(); // before the service it refreshes through
    disconnect(m_service.get(), nullptr, this, nullptr);
    if (m_server->isRunning())
        m_server->stop();
    m_documents->setService(nullptr);
    m_statuses->setService(nullptr);
    m_server.reset();
    m_service.reset();
}

Status ConsoleSession::startWorker()
{
    if (m_worker)
        return success();
    if (m_spec.readOnly)
        return Error::invalid(tr("a keep-fresh worker writes the cache: this connection is read-only"));
    FreshnessOptions options;
    options.hotFirst = true;
    auto worker = std::make_unique<FreshnessWorker>(*m_service, options);
    if (auto started = worker->start(); !started)
        return started;
    connect(worker.get(), &FreshnessWorker::batchStarted, this, [this](int job) { emit keepFreshJobStarted(job); });
    m_worker = std::move(worker);
    emit workerStateChanged(true);
    readWorkers();
    return success();
}

void ConsoleSession::stopWorker()
{
    if (!m_worker)
        return;
    FreshnessWorker *worker = m_worker.release();
    // It finishes the batch under way, takes its heartbeat out, then goes.
    connect(worker, &FreshnessWorker::finished, worker, &QObject::deleteLater);
    connect(worker, &FreshnessWorker::finished, this, &ConsoleSession::readWorkers);
    worker->setParent(this);
    worker->stop();
    emit workerStateChanged(false);
}

void ConsoleSession::readImpact(NodeLevel level, qint64 id)
{
    const quint64 serial = ++m_impactSerial;
    auto promise = std::make_shared<QPromise<Result<Impact>>>();
    QFuture<Result<Impact>> future = promise->future();
    promise->start();
    QThreadPool::globalInstance()->start([config = m_service->config(), promise, level, id] {
        Result<Impact> impact = Error::unavailable(QString());
        if (auto database = Database::open(config.database); !database)
            impact = database.error();
        else if (auto store = openStore(config.store, config.database); !store)
            impact = store.error();
        else
            impact = computeImpact(**database, **store, level, id);
        promise->addResult(impact);
        promise->finish();
    });
    auto *watcher = new QFutureWatcher<Result<Impact>>(this);
    connect(watcher, &QFutureWatcher<Result<Impact>>::finished, this, [this, watcher, serial] {
        watcher->deleteLater();
        if (serial != m_impactSerial || watcher->future().resultCount() == 0)
            return;
        const Result<Impact> impact = watcher->future().result();
        if (impact)
            emit impactRead(*impact);
        else
            emit impactFailed(impact.error().message);
    });
    watcher->setFuture(future);
}

void ConsoleSession::readWorkers()
{
    if (m_readingWorkers)
        return;
    m_readingWorkers = true;
    struct Read {
        QString error;
        QList<ChangeTracking::WorkerBeat> workers;
    };
    auto promise = std::make_shared<QPromise<Read>>();
    QFuture<Read> future = promise->future();
    promise->start();
    QThreadPool::globalInstance()->start([config = m_service->config().database, promise] {
        Read read;
        if (auto database = Database::open(config); !database)
            read.error = database.error().message;
        else if (auto workers = ChangeTracking::workers(**database); !workers)
            read.error = workers.error().message;
        else
            read.workers = std::move(workers.value());
        promise->addResult(read);
        promise->finish();
    });
    auto *watcher = new QFutureWatcher<Read>(this);
    connect(watcher, &QFutureWatcher<Read>::finished, this, [this, watcher] {
        watcher->deleteLater();
        m_readingWorkers = false;
        if (watcher->future().resultCount() == 0)
            return;
        const Read read = watcher->future().result();
        if (read.error.isEmpty())
            emit workersRead(read.workers);
        else
            emit workersFailed(read.error);
    });
    watcher->setFuture(future);
}

// A read of the states takes one of the service's two workers for as long as it lasts (1.4 s on
// `large`), and on SQLite its read lock holds back every commit of a running refresh: on `large` a
// Refresh All took 3-5× the CLI's warm with the rows following it. So while a job runs the states
// are not read (the job panel shows its progress; a row keeps its last state read, never a
// fresher one); the end of the last job reads them at once. Otherwise reads are spaced by four
// times the last one's length.
void ConsoleSession::statesMayHaveChanged()
{
    if (m_statusThrottle.isActive() || m_service->runningJobs() > 0)
        return;
    m_statusThrottle.setInterval(int(qBound<qint64>(minStatusSpacingMs, 4 * m_statuses->lastReadMs(), maxStatusSpacingMs)));
    m_statusThrottle.start();
}

void ConsoleSession::jobEnded()
{
    if (m_service->runningJobs() == 0)
        m_statusThrottle.start(int(minStatusSpacingMs));
}

namespace {

// Runs `work` on a worker; its error text (empty: fine) travels through a QFuture to a watcher
// owned by the context, so the worker never touches a QObject and a context destroyed first simply
// never hears back.
void runInBackground(std::function<QString()> work, QObject *context, std::function<void(const Status &)> done)
{
    auto promise = std::make_shared<QPromise<QString>>();
    QFuture<QString> future = promise->future();
    promise->start();
    QThreadPool::globalInstance()->start([work = std::move(work), promise] {
        promise->addResult(work());
        promise->finish();
    });
    auto *watcher = new QFutureWatcher<QString>(context);
    QObject::connect(watcher, &QFutureWatcher<QString>::finished, context, [watcher, done = std::move(done)] {
        watcher->deleteLater();
        const QString error = watcher->future().resultCount() > 0 ? watcher->future().result() : QString();
        done(error.isEmpty() ? success() : Status(Error::unavailable(error)));
    });
    watcher->setFuture(future);
}

} // namespace

void ConsoleSession::probe(const CacheConfig &config, QObject *context, std::function<void(const Status &)> done)
{
    const auto open = [config]() -> QString {
        if (auto database = Database::open(config.database); !database)
            return database.error().message;
        if (auto store = openStore(config.store, config.database); !store)
            return store.error().message;
        return {};
    };
    runInBackground(open, context, std::move(done));
}

void ConsoleSession::createDemo(const QString &path, QObject *context, std::function<void(const Status &)> done)
{
    const auto write = [path]() -> QString {
        QDir().mkpath(QFileInfo(path).absolutePath());
        const auto written = Seeder::write(path, *Seeder::scale(QStringLiteral("medium")), QStringLiteral("api"));
        return written ? QString() : written.error().message;
    };
    runInBackground(write, context, std::move(done));
}

Result<quint16> ConsoleSession::startServer(HttpServerOptions options, const QString &tokenFile)
{
    if (!tokenFile.isEmpty()) {
        QFile file(tokenFile);
        if (!file.open(QIODevice::ReadOnly))
            return Error::io(tr("Cannot read the token file %1: %2").arg(tokenFile, file.errorString()));
        options.adminToken = file.readAll().trimmed();
        if (options.adminToken.isEmpty() || options.adminToken.contains(' '))
            return Error::invalid(tr("The token file %1 must hold one token without spaces.").arg(tokenFile));
    }
    return m_server->start(options);
}
