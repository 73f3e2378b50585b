#include "jsonstring.h"

#include <cstring>

qsizetype utf8SequenceLength(const unsigned char *p, qsizetype available)
{
    const unsigned char lead = p[0];
    int length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0)
            low = 0xA0;
        else if (lead == 0xED)
            high = 0x9F; // no UTF-16 surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0)
            low = 0x90;
        else if (lead == 0xF4)
            high = 0x8F; // nothing above U+10FFFF
    } else {
        return -1;
    }
    for (qsizetype i = 1; i < length; ++i) {
        if (i >= available || p[i] < low || p[i] > high)
            return -i;
        low = 0x80;
        high = 0xBF;
    }
    return length;
}

namespace {

void appendControlEscape(QByteArray &out, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    switch (c) {
    case '"': out.append("\\\"", 2); return;
    case '\\': out.append("\\\\", 2); return;
    case '\b': out.append("\\b", 2); return;
    case '\f': out.append("\\f", 2); return;
    case '\n': out.append("\\n", 2); return;
    case '\r': out.append("\\r", 2); return;
    case '\t': out.append("\\t", 2); return;
    default: {
        const char escape[] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF] };
        out.append(escape, sizeof escape);
    }
    }
}

} // namespace

int appendJsonString(QByteArray &out, QByteArrayView utf8)
{
    const auto *data = reinterpret_cast<const unsigned char *>(utf8.data());
    const qsizetype size = utf8.size();
    // Most names are printable ASCII: quoted with one resize and one copy. Three QByteArray calls
    // per name (quote, text, quote) were 3% of a list of wide, which keeps 8 million names.
    qsizetype plain = 0;
    while (plain < size && data[plain] >= 0x20 && data[plain] < 0x80 && data[plain] != '"' && data[plain] != '\\')
        ++plain;
    if (plain == size) {
        const qsizetype at = out.size();
        out.resize(at + size + 2); // grows the capacity geometrically, as append does
        char *to = out.data() + at;
        to[0] = '"';
        if (size > 0)
            std::memcpy(to + 1, data, size_t(size));
        to[size + 1] = '"';
        return 0;
    }
    int replaced = 0;
    out.append('"');
    qsizetype runStart = 0;
    qsizetype i = plain; // the plain ASCII before it goes out with the first run
    const auto flush = [&](qsizetype end) {
        if (end > runStart)
            out.append(reinterpret_cast<const char *>(data + runStart), end - runStart);
    };
    while (i < size) {
        const unsigned char c = data[i];
        if (c < 0x80) {
            if (c >= 0x20 && c != '"' && c != '\\') {
                ++i;
                continue;
            }
            flush(i);
            appendControlEscape(out, c);
            runStart = ++i;
            continue;
        }
        const qsizetype length = utf8SequenceLength(data + i, size - i);
        if (length < 0) {
            flush(i);
            out.append("\xEF\xBF\xBD", 3);
            ++replaced;
            runStart = i -= length;
            continue;
        }
        if (length == 3 && c == 0xE2 && data[i + 1] == 0x80 && (data[i + 2] == 0xA8 || data[i + 2] == 0xA9)) {
            flush(i);
            out.append(data[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
            runStart = i += 3;
            continue;
        }
        i += length;
    }
    flush(size);
    out.append('"');
    return replaced;
}
