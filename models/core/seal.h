#pragma once

#include <QByteArrayView>
#include <QtGlobal>

// The one check that stored bytes are still the ones Preserve wrote: XXH64, byte for byte the
// reference algorithm (so any xxhash tool agrees). Cheap enough to run on every read. It tells a
// body changed by someone else from ours; it is no defence against someone who wants to forge one.
quint64 seal64(QByteArrayView bytes, quint64 seed = 0);
