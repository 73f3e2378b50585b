#pragma once

#include "json/jsonformat.h"

#include <QString>

// Pieces of a FormattedJson as JSON of their own, for "Copy as JSON": plain text work on lines that
// a worker already formatted. Cheap enough for the GUI thread (it touches only the node's lines).

// The JSON of `node` (an index into document.nodes) as a document of its own: its lines with the
// member name ("\"bar_set\": ") and the separating comma taken off and the indentation shifted
// left, so it parses as the value at that path. The whole document for node 0; empty for no node.
QString nodeJson(const FormattedJson &document, int node);
// The JSON of the innermost node on `line`.
QString lineJson(const FormattedJson &document, int line);
// The length of the longest line in UTF-16 units (the panes refuse to lay out giant lines).
int longestLine(const FormattedJson &document);
