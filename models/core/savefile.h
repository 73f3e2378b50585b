#pragma once

#include "core/result.h"

#include <QByteArray>
#include <QString>

// Writes `bytes` to `fileName` all or nothing (QSaveFile: a temporary file renamed over the target
// on success), so a failed write leaves an existing file as it was. The error names the file.
Status saveFile(const QString &fileName, const QByteArray &bytes);
