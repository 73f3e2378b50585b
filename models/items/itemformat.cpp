#include "itemformat.h"

#include <QCoreApplication>
#include <QLocale>

QString formatBytes(qint64 bytes)
{
    // Traditional format: 1024-based with the familiar KB/MB units, one decimal.
    return QLocale().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}

QString formatAge(qint64 seconds)
{
    if (seconds < 0)
        return {};
    if (seconds < 60)
        return QCoreApplication::translate("FooTreeModel", "%1 s").arg(seconds);
    if (seconds < 3600)
        return QCoreApplication::translate("FooTreeModel", "%1 min").arg(seconds / 60);
    if (seconds < 86400)
        return QCoreApplication::translate("FooTreeModel", "%1 h").arg(seconds / 3600);
    return QCoreApplication::translate("FooTreeModel", "%1 d").arg(seconds / 86400);
}
