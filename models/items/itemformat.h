#pragma once

#include <QString>

// Short human texts for item models: "1.8 MB", "3 min". Locale-aware (the system locale).
QString formatBytes(qint64 bytes);
// An age in seconds: "12 s", "3 min", "5 h", "2 d"; empty for a negative age (unknown).
QString formatAge(qint64 seconds);
