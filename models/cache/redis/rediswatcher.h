#pragma once

#include "cache/redis/redisconfig.h"
#include "cache/storewatcher.h"

#include <memory>

// SUBSCRIBEs to config.channel() on a thread and a connection of its own, and reports the pks that
// RedisStore's puts and removes PUBLISH there (everythingChanged() after a reconnect).
std::unique_ptr<StoreWatcher> createRedisWatcher(const RedisConfig &config, QObject *parent = nullptr);
