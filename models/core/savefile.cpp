#include "savefile.h"

#include <QDir>
#include <QObject>
#include <QSaveFile>

Status saveFile(const QString &fileName, const QByteArray &bytes)
{
    QSaveFile file(fileName);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit())
        return Error::io(QObject::tr("%1: %2").arg(QDir::toNativeSeparators(fileName), file.errorString()));
    return success();
}
