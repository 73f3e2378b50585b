// Figures for the cache engine on the medium demo: warming every entry into each store with two
// workers, and get() of the largest entry from the memory tier, Redis and the database column.
// Starts its own redis-server (as the tests do). Prints; asserts nothing.
#include "cache/cacheservice.h"
#include "cache/dbcolumn/dbcolumnstore.h"
#include "cache/redis/redisstore.h"
#include "db/database.h"
#include "db/seeder.h"
#include "serialize/serializer.h"
#include "testredis.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

template <typename Work>
std::pair<double, double> medianAndMinMicros(int repeat, Work work)
{
    std::vector<double> samples;
    for (int i = 0; i < repeat; ++i) {
        QElapsedTimer timer;
        timer.start();
        work();
        samples.push_back(double(timer.nsecsElapsed()) / 1e3);
    }
    std::sort(samples.begin(), samples.end());
    return { samples[samples.size() / 2], samples.front() };
}

double warm(const DatabaseConfig &database, const StoreConfig &store, int workers)
{
    CacheConfig config;
    config.database = database;
    config.store = store;
    config.workers = workers;
    config.watch = false;
    CacheService service(config);
    QEventLoop loop;
    JobSummary result;
    QObject::connect(&service, &CacheService::jobFinished, &loop, [&](const JobSummary &summary) {
        result = summary;
        loop.quit();
    });
    service.refreshAll();
    loop.exec();
    if (result.failed || !result.firstError.isEmpty())
        std::printf("  (warm failed: %s)\n", qPrintable(result.firstError));
    return result.seconds;
}

qint64 largestFoo(Database &database)
{
    Serializer serializer(database);
    qint64 best = 0;
    qsizetype bestSize = -1;
    for (qint64 pk : *database.fooIds()) {
        const qsizetype size = serializer.foo(pk)->size();
        if (size > bestSize)
            std::tie(best, bestSize) = std::pair { pk, size };
    }
    return best;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Times warming and get() for each store on the demo data."));
    parser.addHelpOption();
    const QCommandLineOption scale(QStringLiteral("scale"), QStringLiteral("Seed scale (default medium)."),
                                   QStringLiteral("scale"), QStringLiteral("medium"));
    const QCommandLineOption repeat(QStringLiteral("repeat"), QStringLiteral("Runs per get() figure (default 50)."),
                                    QStringLiteral("n"), QStringLiteral("50"));
    parser.addOptions({ scale, repeat });
    parser.process(app);
    const int runs = std::max(1, parser.value(repeat).toInt());

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("bench.sqlite3"));
    const auto summary = Seeder::write(path, *Seeder::scale(parser.value(scale)), QStringLiteral("api"));
    if (!summary)
        qFatal("%s", qPrintable(summary.error().message));
    const DatabaseConfig database = *DatabaseConfig::parse(path);
    TestRedis redisServer;
    QString error;
    if (!redisServer.start(&error))
        qFatal("cannot start redis-server: %s", qPrintable(error));
    const StoreConfig dbStore = *StoreConfig::parse(QStringLiteral("db"));
    const StoreConfig redisStore = *StoreConfig::parse(QStringLiteral("redis"), redisServer.url());

    std::printf("%s demo: %lld Foo, %lld links; 2 workers\n\n", qPrintable(parser.value(scale)), summary->foos,
                summary->links);
    std::printf("warm everything (serialize + gzip + digest + write)\n");
    std::printf("  %-40s %8.2f s\n", "into the pre_serialized column (SQLite)", warm(database, dbStore, 2));
    std::printf("  %-40s %8.2f s\n", "into Redis", warm(database, redisStore, 2));

    auto opened = Database::open(database);
    const qint64 pk = largestFoo(**opened);
    auto column = DbColumnStore::open(database);
    auto redis = RedisStore::open(redisStore.redis);
    if (!column || !redis)
        qFatal("cannot open the stores: %s", qPrintable(!column ? column.error().message : redis.error().message));
    auto stored = (*column)->get(pk);
    if (!stored || !*stored)
        qFatal("no entry for Foo %lld: %s", pk, stored ? "missing" : qPrintable(stored.error().message));
    const EntryPtr entry = *stored;
    MemoryTier memory(256LL * 1024 * 1024);
    memory.put(entry);
    std::printf("\nget() of the largest entry (Foo %lld, %.2f MB, gzip %.2f MB), median / min of %d\n", pk,
                double(entry->body.size()) / 1e6, double(entry->gzip.size()) / 1e6, runs);
    const auto [memoryMedian, memoryMin] = medianAndMinMicros(runs * 1000, [&] { (void)memory.get(pk); });
    std::printf("  %-40s %10.3f us %10.3f us\n", "memory tier (shared, no copy)", memoryMedian, memoryMin);
    const auto [redisMedian, redisMin] = medianAndMinMicros(runs, [&] { (void)(*redis)->get(pk); });
    std::printf("  %-40s %10.3f ms %10.3f ms\n", "Redis store", redisMedian / 1000, redisMin / 1000);
    const auto [columnMedian, columnMin] = medianAndMinMicros(runs, [&] { (void)(*column)->get(pk); });
    std::printf("  %-40s %10.3f ms %10.3f ms\n", "database column store (SQLite)", columnMedian / 1000, columnMin / 1000);
    return 0;
}
