#pragma once

#include <QByteArray>

// DRF's indented rendering (`Accept: application/json; indent=N`) of a JSON document, streamed:
// newline and N spaces per level, `"key": value`, `{}` and `[]` for empty containers, strings in
// DRF's escaping, numbers and literals as written. It holds the document (implicitly shared, no
// copy) and a few bytes of state, never the indented text, whose size grows to ~10x the compact
// one at indent 8: a request can no longer make the process build it whole.
//
// Not thread-safe: one indenter per response, read by the thread that sends it.
class JsonIndenter {
public:
    JsonIndenter(QByteArray document, int indent);

    // The indented length, or -1 when the document is not JSON (checked on the way: brackets that
    // do not match, a value where a key belongs, an unfinished string or document). One pass.
    static qint64 measure(const QByteArray &document, int indent);

    // The next bytes into `out` (at most `capacity`); 0 at the end. Only for a document measure()
    // accepted.
    qsizetype read(char *out, qsizetype capacity);

private:
    // Appends the output of the next token to m_pending; false at the end of the document.
    bool step();

    QByteArray m_document;
    int m_indent;
    qsizetype m_position = 0; // in m_document
    int m_depth = 0;
    QByteArray m_pending;     // output of the current token not yet read
    qsizetype m_pendingRead = 0;
};
