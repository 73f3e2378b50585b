#include "consolesession.h"

#include "cache/storeconfig.h"
#include "db/database.h"
#include "items/documentloader.h"
#include "items/statusloader.h"

#include <QFile>
#include <QLoggingCategory>
#include <QFuture>
#include <QFutureWatcher>
#include <QPromise>
#include <QThreadPool>

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
    connect(service, &CacheService::jobFinished, this, &ConsoleSession::statesMayHaveChanged);
    connect(service, &CacheService::entriesChanged, this, &ConsoleSession::statesMayHaveChanged);
    if (auto watching = m_service->startWatching(); !watching)
        qCWarning(lcSession) << "watching the store (retrying):" << watching.error().message;
}

ConsoleSession::~ConsoleSession()
{
    m_statusThrottle.stop();
    disconnect(m_service.get(), nullptr, this, nullptr);
    if (m_server->isRunning())
        m_server->stop();
    m_documents->setService(nullptr);
    m_statuses->setService(nullptr);
    m_server.reset();
    m_service.reset();
}

void ConsoleSession::statesMayHaveChanged()
{
    if (!m_statusThrottle.isActive())
        m_statusThrottle.start();
}

void ConsoleSession::probe(const CacheConfig &config, QObject *context, std::function<void(const Status &)> done)
{
    // The error text (empty: fine) travels through a QFuture to a watcher owned by the context, so
    // the worker never touches a QObject and a context destroyed first simply never hears back.
    auto promise = std::make_shared<QPromise<QString>>();
    QFuture<QString> future = promise->future();
    promise->start();
    QThreadPool::globalInstance()->start([config, promise] {
        QString error;
        if (auto database = Database::open(config.database); !database)
            error = database.error().message;
        else if (auto store = openStore(config.store, config.database); !store)
            error = store.error().message;
        promise->addResult(error);
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
