#include "statusloader.h"

#include "cache/cacheservice.h"

StatusLoader::StatusLoader(QObject *parent)
    : QObject(parent)
{
    m_pool.setMaxThreadCount(1);
}

StatusLoader::~StatusLoader()
{
    ++m_generation;
    m_pool.waitForDone();
}

void StatusLoader::setService(CacheService *service)
{
    ++m_generation;
    m_pending = false;
    m_pool.waitForDone();
    m_service = service;
}

void StatusLoader::request()
{
    if (!m_service)
        return;
    if (m_running) {
        m_pending = true;
        return;
    }
    start();
}

void StatusLoader::start()
{
    m_running = true;
    m_clock.start();
    const quint64 generation = m_generation;
    // status() is thread-safe; the service outlives the job (setService/destructor wait for it).
    CacheService *service = m_service.data();
    QPointer<StatusLoader> self(this);
    m_pool.start([self, service, generation] {
        auto result = std::make_shared<Result<QList<EntryStatus>>>(service->status());
        QMetaObject::invokeMethod(
            self.data(), [self, generation, result] {
                if (self)
                    self->finished(generation, *result);
            },
            Qt::QueuedConnection);
    });
}

void StatusLoader::finished(quint64 generation, const Result<QList<EntryStatus>> &result)
{
    m_running = false;
    m_lastReadMs = m_clock.elapsed();
    if (m_pending && m_service) {
        m_pending = false;
        start();
    }
    if (generation != m_generation)
        return;
    if (result)
        emit loaded(result.value());
    else
        emit failed(result.error().message);
}
