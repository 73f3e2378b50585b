#include "statusloader.h"

#include "cache/cacheservice.h"
#include "core/background.h"

StatusLoader::StatusLoader(QObject *parent)
    : QObject(parent)
{
    m_pool.setMaxThreadCount(1);
}

StatusLoader::~StatusLoader()
{
    m_job.invalidate();
    m_pool.waitForDone();
}

void StatusLoader::setService(CacheService *service)
{
    m_job.invalidate();
    m_pending = false;
    m_pool.waitForDone();
    m_service = service;
    m_delivered.clear();
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
    // Reads that coalesce share the generation: each one's answer is delivered.
    const LatestJob::Ticket ticket = m_job.current();
    // status() is thread-safe; the service outlives the job (setService/destructor wait for it).
    CacheService *service = m_service.data();
    QPointer<StatusLoader> self(this);
    m_pool.start([self, service, ticket, base = m_delivered] {
        Result<QList<EntryStatus>> read = service->status();
        auto result = std::make_shared<Result<StatusSnapshot>>(read ? Result<StatusSnapshot>(StatusSnapshot::of(*read, base))
                                                                    : Result<StatusSnapshot>(read.error()));
        QMetaObject::invokeMethod(
            self.data(), [self, ticket, result]() mutable {
                if (self)
                    self->finished(ticket, *result);
                // Often the last reference to the read before (the snapshot's base): 10^5 entries
                // to free, which the GUI thread must not spend.
                releaseInBackground(std::move(result));
            },
            Qt::QueuedConnection);
    });
}

void StatusLoader::finished(LatestJob::Ticket ticket, const Result<StatusSnapshot> &result)
{
    m_running = false;
    m_lastReadMs = m_clock.elapsed();
    const bool current = m_job.isCurrent(ticket);
    if (current && result)
        m_delivered = result->byPk; // before the next read starts: it is that read's base
    if (m_pending && m_service) {
        m_pending = false;
        start();
    }
    if (!current)
        return;
    if (result)
        emit loaded(result.value());
    else
        emit failed(result.error().message);
}
