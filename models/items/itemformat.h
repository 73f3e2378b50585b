#pragma once

#include "core/bytesize.h" // formatBytes

#include <QString>

// Short human texts for item models: "3 min". Locale-aware (the system locale).
// An age in seconds: "12 s", "3 min", "5 h", "2 d"; empty for a negative age (unknown).
QString formatAge(qint64 seconds);

// Names as every view may show them, on one line: real data (and the demo's hard cases) holds
// characters that break a row or hide in it. C0 and C1 controls and DEL are escaped as in JSON
// (\n, \t, \u0001), and so are U+2028/U+2029 (line breaks to a text layout), the bidirectional
// embeddings, overrides, isolates and marks (they would reorder the text around them) and U+FEFF.
// Backslashes stay as they are, as the JSON panes' unescaped view of a name would show them.
// Returns `text` itself (no copy) when there is nothing to escape.
QString visibleText(const QString &text);
// At most `maxLength` UTF-16 units of `text`, cut at a grapheme boundary and ended with "…" when cut.
QString elideText(const QString &text, int maxLength);
