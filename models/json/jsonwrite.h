#pragma once

#include "json/jsonvalue.h"

#include <QByteArray>

// Compact bytes as DRF's JSONRenderer writes them (appendJsonString for strings; numbers as
// written). With `fooFieldOrder`, objects whose keys are exactly a Foo tree level's fields are
// written in the serializer's field order ("name" first) — the canonical form of a body that a
// store such as PostgreSQL's jsonb gave back with its keys reordered.
QByteArray writeCompactJson(const JsonValue &value, bool fooFieldOrder = true);
// The same, appended to `out` (for callers that assemble several documents into one buffer).
void appendCompactJson(QByteArray &out, const JsonValue &value, bool fooFieldOrder = true);
