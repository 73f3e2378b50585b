#pragma once

#include "cache/storeconfig.h"
#include "db/databaseconfig.h"

#include <QString>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

class CacheStore;
class Database;
class Serializer;

// What a worker thread owns for its whole life.
struct WorkerContext {
    std::unique_ptr<Database> database;
    std::unique_ptr<Serializer> serializer;
    std::unique_ptr<CacheStore> store;
    QString databaseError; // why the database could not be opened (empty when it is open)
    QString storeError;    // likewise for the store
    bool storeBroken = false; // reopen the store before the next task (WorkerTasks::noteStoreError)
    WorkerContext();
    ~WorkerContext();
};

// When a connection that failed may be tried again, shared by a pool's workers: after a failure,
// one attempt at a time, backing off (50 ms, doubling, at most 1 s) until one succeeds. Meanwhile the others
// fail at once with the last error instead of each paying the connect timeout for every task, and
// a database that comes back is found within a second. Thread-safe.
class ReconnectGate {
public:
    using Clock = std::chrono::steady_clock;
    // True: the caller tries now and reports with failed() or succeeded(). False: `lastError` says why not.
    bool mayTry(QString *lastError, Clock::time_point now = Clock::now());
    void failed(const QString &error, Clock::time_point now = Clock::now());
    void succeeded();
    static constexpr std::chrono::milliseconds firstDelay { 50 };
    static constexpr std::chrono::milliseconds maxDelay { 1000 };

private:
    std::mutex m_mutex;
    bool m_trying = false;
    std::chrono::milliseconds m_delay { 0 };
    Clock::time_point m_retryAt {};
    QString m_lastError;
};

// A fixed set of threads, each owning for its whole life a Database connection, a Serializer and a
// store connection (Qt SQL connections belong to the thread that opened them). Opened lazily; a
// connection that failed is tried again by a later task (ReconnectGate), so a database or Redis that
// comes back is used again. Tasks run in the order posted, urgent ones (a client waiting) before the others (a
// refresh job's items), so that a miss does not wait behind thousands of queued refreshes.
class WorkerPool {
public:
    using Context = WorkerContext;
    using Task = std::function<void(Context &)>;

    WorkerPool(DatabaseConfig database, StoreConfig store, int threads);
    // Runs what is still queued (tasks of cancelled jobs return at once), then joins.
    ~WorkerPool();
    WorkerPool(const WorkerPool &) = delete;
    WorkerPool &operator=(const WorkerPool &) = delete;

    // Runs what is queued, tasks those tasks post included, then joins. Idempotent. The pool stays
    // usable for post() meanwhile, which is why owners call this before destroying it.
    void shutdown();
    enum class Priority { Normal, Urgent };
    // Thread-safe.
    void post(Task task, Priority priority = Priority::Normal);
    // While held, no worker starts a new task (queued ones wait; running ones finish). A test hook:
    // it lets a test queue work deterministically. The destructor drains the queue even when held.
    void setHeld(bool held);
    int queued() const;
    // The worker threads it was made with.
    int threadCount() const { return m_threadCount; }
    // Whether tasks of normal priority wait and none urgent: a client is not waiting on anyone.
    bool onlyBackgroundQueued() const;
    // Runs on a worker, with its context, whenever it finishes a task and finds the queues empty.
    // Set before the first post().
    void setWhenIdle(Task task) { m_whenIdle = std::move(task); }

private:
    void run();
    void ensureOpen(Context &context);

    const DatabaseConfig m_databaseConfig;
    const StoreConfig m_storeConfig;
    const int m_threadCount;
    ReconnectGate m_databaseGate;
    ReconnectGate m_storeGate;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Task> m_tasks;
    std::deque<Task> m_urgent;
    bool m_stopping = false;
    bool m_held = false;
    std::vector<std::thread> m_threads;
    Task m_whenIdle;
};
