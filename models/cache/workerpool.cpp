#include "workerpool.h"

#include "cache/cachestore.h"
#include "db/database.h"
#include "serialize/serializer.h"

WorkerContext::WorkerContext() = default;
WorkerContext::~WorkerContext() = default;

WorkerPool::WorkerPool(DatabaseConfig database, StoreConfig store, int threads)
    : m_databaseConfig(std::move(database))
    , m_storeConfig(std::move(store))
    , m_threadCount(qMax(1, threads))
{
    for (int i = 0; i < m_threadCount; ++i)
        m_threads.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool()
{
    shutdown();
}

void WorkerPool::shutdown()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    for (std::thread &thread : m_threads)
        thread.join();
    m_threads.clear();
}

void WorkerPool::post(Task task, Priority priority)
{
    {
        std::lock_guard lock(m_mutex);
        (priority == Priority::Urgent ? m_urgent : m_tasks).push_back(std::move(task));
    }
    m_wake.notify_one();
}

void WorkerPool::setHeld(bool held)
{
    {
        std::lock_guard lock(m_mutex);
        m_held = held;
    }
    m_wake.notify_all();
}

int WorkerPool::queued() const
{
    std::lock_guard lock(m_mutex);
    return int(m_tasks.size() + m_urgent.size());
}

bool WorkerPool::onlyBackgroundQueued() const
{
    std::lock_guard lock(m_mutex);
    return m_urgent.empty() && !m_tasks.empty();
}

bool ReconnectGate::mayTry(QString *lastError, Clock::time_point now)
{
    std::lock_guard lock(m_mutex);
    if (m_delay.count() == 0)
        return true; // nothing failed lately: each worker opens its own connection at once
    if (m_trying || now < m_retryAt) {
        *lastError = m_lastError;
        return false;
    }
    m_trying = true;
    return true;
}

void ReconnectGate::failed(const QString &error, Clock::time_point now)
{
    std::lock_guard lock(m_mutex);
    m_trying = false;
    m_lastError = error;
    m_delay = m_delay.count() == 0 ? firstDelay : std::min(m_delay * 2, maxDelay);
    m_retryAt = now + m_delay;
}

void ReconnectGate::succeeded()
{
    std::lock_guard lock(m_mutex);
    m_trying = false;
    m_delay = std::chrono::milliseconds(0);
    m_retryAt = {};
}

void WorkerPool::ensureOpen(Context &context)
{
    // An SQLite file replaced or deleted under us: the open connections (the database's and a
    // column store's) would keep reading, and writing, the old inode. Drop both; open anew below.
    if (context.database) {
        if (auto there = context.database->stillThere(); !there) {
            context.serializer.reset();
            context.database.reset();
            context.databaseError = there.error().message;
            if (context.store && context.store->kind() == QLatin1String("db"))
                context.storeBroken = true;
        }
    }
    if (!context.database && m_databaseGate.mayTry(&context.databaseError)) {
        auto database = Database::open(m_databaseConfig);
        if (database) {
            m_databaseGate.succeeded();
            context.database = std::move(database.value());
            context.serializer = std::make_unique<Serializer>(*context.database);
            context.databaseError.clear();
        } else {
            m_databaseGate.failed(database.error().message);
            context.databaseError = database.error().message;
        }
    }
    if (context.storeBroken) {
        context.store.reset();
        context.storeBroken = false;
    }
    if (!context.store && m_storeGate.mayTry(&context.storeError)) {
        auto store = openStore(m_storeConfig, m_databaseConfig);
        if (store) {
            m_storeGate.succeeded();
            context.store = std::move(store.value());
            context.storeError.clear();
        } else {
            m_storeGate.failed(store.error().message);
            context.storeError = store.error().message;
        }
    }
}

void WorkerPool::run()
{
    // Destroyed on this thread, as Qt SQL requires of the connections it holds.
    Context context;
    for (;;) {
        Task task;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || (!m_held && (!m_urgent.empty() || !m_tasks.empty())); });
            std::deque<Task> &queue = m_urgent.empty() ? m_tasks : m_urgent;
            if (queue.empty())
                break;
            task = std::move(queue.front());
            queue.pop_front();
        }
        ensureOpen(context);
        task(context);
        if (m_whenIdle) {
            bool idle = false;
            {
                std::lock_guard lock(m_mutex);
                idle = m_urgent.empty() && m_tasks.empty();
            }
            if (idle)
                m_whenIdle(context);
        }
    }
    context.store.reset();
    context.serializer.reset();
    context.database.reset();
}
