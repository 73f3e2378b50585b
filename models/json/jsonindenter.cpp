#include "jsonindenter.h"

#include "json/jsonvalue.h"
#include "serialize/jsonstring.h"

#include <vector>

namespace {

constexpr int maxDepth = 512; // as parseJson

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool isLiteralByte(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '+' || c == '.' || c == 'E';
}

// true, false, null or a number as RFC 8259 writes it.
bool isLiteral(QByteArrayView token)
{
    if (token == "true" || token == "false" || token == "null")
        return true;
    qsizetype i = 0;
    const auto digits = [&] {
        const qsizetype start = i;
        while (i < token.size() && token.at(i) >= '0' && token.at(i) <= '9')
            ++i;
        return i - start;
    };
    if (i < token.size() && token.at(i) == '-')
        ++i;
    const qsizetype start = i;
    const qsizetype whole = digits();
    if (whole == 0 || (whole > 1 && token.at(start) == '0'))
        return false;
    if (i < token.size() && token.at(i) == '.') {
        ++i;
        if (digits() == 0)
            return false;
    }
    if (i < token.size() && (token.at(i) == 'e' || token.at(i) == 'E')) {
        ++i;
        if (i < token.size() && (token.at(i) == '+' || token.at(i) == '-'))
            ++i;
        if (digits() == 0)
            return false;
    }
    return i == token.size();
}

// The end of the string token that starts at `begin` (its closing quote + 1), or -1.
qsizetype stringEnd(const QByteArray &document, qsizetype begin)
{
    for (qsizetype i = begin + 1; i < document.size(); ++i) {
        const char c = document.at(i);
        if (c == '"')
            return i + 1;
        if (c == '\\')
            ++i;
        else if (static_cast<unsigned char>(c) < 0x20)
            return -1;
    }
    return -1;
}

// A string token in DRF's escaping: as it is when that is already so (plain printable ASCII, the
// serializer's own output), else decoded and written again.
bool appendString(QByteArray &out, QByteArrayView token)
{
    bool plain = true;
    for (const char c : token.sliced(1, token.size() - 2)) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte == '\\' || byte >= 0x80) {
            plain = false;
            break;
        }
    }
    if (plain) {
        out += token;
        return true;
    }
    const auto value = parseJson(token);
    if (!value || !value->isString())
        return false;
    appendJsonString(out, value->text);
    return true;
}

} // namespace

JsonIndenter::JsonIndenter(QByteArray document, int indent)
    : m_document(std::move(document))
    , m_indent(indent)
{
}

qint64 JsonIndenter::measure(const QByteArray &document, int indent)
{
    // The grammar, checked as the tokens go by: what each container expects next.
    enum class Expect { Value, KeyOrClose, Key, Colon, CommaOrClose, End };
    JsonIndenter indenter(document, indent);
    std::vector<char> open; // '{' or '['
    Expect expect = Expect::Value;
    qint64 size = 0;
    while (indenter.step()) {
        const QByteArray &token = indenter.m_pending;
        const char first = token.at(0);
        // Tokens are: "{"+newline, "["+newline, "{}", "[]", newline+"}", newline+"]", ","+newline,
        // ": ", a string, a literal.
        const char kind = first == '\n' ? token.back() : first;
        switch (kind) {
        case '{':
        case '[':
            if (expect != Expect::Value)
                return -1;
            if (token.size() >= 2 && (token.at(1) == '}' || token.at(1) == ']')) {
                if (token.at(1) != (kind == '{' ? '}' : ']'))
                    return -1;
                expect = open.empty() ? Expect::End : Expect::CommaOrClose;
            } else {
                open.push_back(kind);
                expect = kind == '{' ? Expect::KeyOrClose : Expect::Value;
            }
            break;
        case '}':
        case ']':
            if (open.empty() || open.back() != (kind == '}' ? '{' : '[')
                || (expect != Expect::CommaOrClose && !(kind == '}' && expect == Expect::KeyOrClose)))
                return -1;
            open.pop_back();
            expect = open.empty() ? Expect::End : Expect::CommaOrClose;
            break;
        case ',':
            if (expect != Expect::CommaOrClose)
                return -1;
            expect = open.back() == '{' ? Expect::Key : Expect::Value;
            break;
        case ':':
            if (expect != Expect::Colon)
                return -1;
            expect = Expect::Value;
            break;
        case '"':
            if (expect == Expect::Key || expect == Expect::KeyOrClose)
                expect = Expect::Colon;
            else if (expect == Expect::Value)
                expect = open.empty() ? Expect::End : Expect::CommaOrClose;
            else
                return -1;
            break;
        default: // a literal
            if (expect != Expect::Value || !isLiteral(token))
                return -1;
            expect = open.empty() ? Expect::End : Expect::CommaOrClose;
        }
        size += token.size();
        indenter.m_pending.clear();
    }
    return indenter.m_position < 0 || expect != Expect::End ? -1 : size;
}

qsizetype JsonIndenter::read(char *out, qsizetype capacity)
{
    qsizetype written = 0;
    while (written < capacity) {
        if (m_pendingRead == m_pending.size()) {
            m_pending.clear();
            m_pendingRead = 0;
            if (!step())
                break;
        }
        const qsizetype n = std::min(capacity - written, m_pending.size() - m_pendingRead);
        std::copy_n(m_pending.constData() + m_pendingRead, n, out + written);
        m_pendingRead += n;
        written += n;
    }
    return written;
}

bool JsonIndenter::step()
{
    const auto newline = [this](int depth) {
        m_pending += '\n';
        m_pending.append(qsizetype(m_indent) * depth, ' ');
    };
    const QByteArray &d = m_document;
    while (m_position >= 0 && m_position < d.size() && isSpace(d.at(m_position)))
        ++m_position;
    if (m_position < 0 || m_position >= d.size())
        return false;
    const char c = d.at(m_position);
    switch (c) {
    case '{':
    case '[': {
        qsizetype next = m_position + 1;
        while (next < d.size() && isSpace(d.at(next)))
            ++next;
        if (next < d.size() && (d.at(next) == '}' || d.at(next) == ']')) {
            m_pending += c;
            m_pending += d.at(next); // measure() checks that it matches
            m_position = next + 1;
            return true;
        }
        if (m_depth == maxDepth) {
            m_position = -1;
            return false;
        }
        m_pending += c;
        newline(++m_depth);
        ++m_position;
        return true;
    }
    case '}':
    case ']':
        if (m_depth == 0) {
            m_position = -1;
            return false;
        }
        newline(--m_depth);
        m_pending += c;
        ++m_position;
        return true;
    case ',':
        m_pending += ',';
        newline(m_depth);
        ++m_position;
        return true;
    case ':':
        m_pending += ": ";
        ++m_position;
        return true;
    case '"': {
        const qsizetype end = stringEnd(d, m_position);
        if (end < 0 || !appendString(m_pending, QByteArrayView(d).sliced(m_position, end - m_position))) {
            m_position = -1;
            return false;
        }
        m_position = end;
        return true;
    }
    default: {
        qsizetype end = m_position;
        while (end < d.size() && isLiteralByte(d.at(end)))
            ++end;
        if (end == m_position) {
            m_position = -1;
            return false;
        }
        m_pending += QByteArrayView(d).sliced(m_position, end - m_position);
        m_position = end;
        return true;
    }
    }
}
