#include "jsonvalue.h"

#include "serialize/jsonstring.h"

#include <QObject>

#include <array>
#include <deque>

namespace {

constexpr int maxDepth = 512;

// Bytes that end the plain run of a string: the quote, the backslash, control characters and the
// lead of a multi-byte UTF-8 sequence (which must be validated).
constexpr std::array<bool, 256> stringSpecials()
{
    std::array<bool, 256> table {};
    for (int c = 0; c < 256; ++c)
        table[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
    return table;
}
constexpr std::array<bool, 256> isSpecial = stringSpecials();

bool isDigit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

int hexValue(unsigned char c)
{
    if (isDigit(c))
        return c - '0';
    c |= 0x20; // 'A'..'F' to 'a'..'f'; nothing else lands there
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// Length of the well-formed UTF-8 sequence at `p`, or 0 when it is ill-formed (the serializer's
// check, which also knows how long the ill-formed part is).
int utf8Length(const unsigned char *p, const unsigned char *end)
{
    return int(qMax<qsizetype>(0, utf8SequenceLength(p, end - p)));
}

// Collects an object's keys. Objects at one depth usually have the same keys (every Baz is
// {"name"}), so while they agree with the previous object's at that depth they share its
// implicitly shared list instead of allocating their own.
class SharedKeys {
public:
    SharedKeys(QList<QByteArray> &previous, QList<QByteArray> &keys)
        : m_previous(previous)
        , m_keys(keys)
    {
    }

    // True when `key` continues the previous object's keys; otherwise the caller append()s it.
    bool follows(QByteArrayView key)
    {
        if (m_sharing && m_matching < m_previous.size() && m_previous.at(m_matching) == key) {
            ++m_matching;
            return true;
        }
        if (m_sharing)
            m_keys = m_previous.first(m_matching);
        m_sharing = false;
        return false;
    }
    void append(const QByteArray &key) { m_keys.append(key); }

    // After the last key: the list is complete and becomes the one the next object compares with.
    void finish()
    {
        if (m_sharing)
            m_keys = m_matching == m_previous.size() ? m_previous : m_previous.first(m_matching);
        m_previous = m_keys;
    }

private:
    QList<QByteArray> &m_previous;
    QList<QByteArray> &m_keys;
    qsizetype m_matching = 0; // keys so far equal to the start of m_previous, not copied yet
    bool m_sharing = true;
};

// Recursive descent over the bytes. Functions return false after recording the first error; the
// depth check keeps the recursion far from the stack's end whatever the input.
class Parser {
public:
    explicit Parser(QByteArrayView bytes)
        : m_begin(reinterpret_cast<const unsigned char *>(bytes.data()))
        , m_p(m_begin)
        , m_end(m_begin + bytes.size())
    {
    }

    Result<JsonValue> parse()
    {
        JsonValue root;
        skipWhitespace();
        if (m_p == m_end)
            return Error::corrupt(QObject::tr("empty JSON document at byte %1").arg(offset()));
        if (!parseValue(root, 0))
            return Error::corrupt(QObject::tr("%1 at byte %2").arg(m_error, QString::number(m_errorAt)));
        skipWhitespace();
        if (m_p != m_end)
            return Error::corrupt(QObject::tr("unexpected %1 after the JSON value at byte %2")
                                      .arg(describe(m_p), QString::number(offset())));
        return root;
    }

private:
    qsizetype offset() const { return m_p - m_begin; }

    bool fail(const QString &what, const unsigned char *where)
    {
        m_error = what;
        m_errorAt = where - m_begin;
        return false;
    }

    QString describe(const unsigned char *where) const
    {
        if (where == m_end)
            return QObject::tr("end of input");
        if (*where >= 0x21 && *where < 0x7F)
            return QObject::tr("character '%1'").arg(QLatin1Char(char(*where)));
        return QObject::tr("byte 0x%1").arg(uint(*where), 2, 16, QLatin1Char('0'));
    }

    bool unexpected(const QString &expected)
    {
        return fail(QObject::tr("expected %1 but found %2").arg(expected, describe(m_p)), m_p);
    }

    void skipWhitespace()
    {
        while (m_p != m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t'))
            ++m_p;
    }

    bool parseValue(JsonValue &out, int depth)
    {
        if (m_p == m_end)
            return unexpected(QObject::tr("a value"));
        switch (*m_p) {
        case '{':
            return parseObject(out, depth + 1);
        case '[':
            return parseArray(out, depth + 1);
        case '"':
            out.type = JsonValue::Type::String;
            return parseString(out.text);
        case 't':
            return parseLiteral(out, "true", JsonValue::Type::True);
        case 'f':
            return parseLiteral(out, "false", JsonValue::Type::False);
        case 'n':
            return parseLiteral(out, "null", JsonValue::Type::Null);
        default:
            if (*m_p == '-' || isDigit(*m_p))
                return parseNumber(out);
            return unexpected(QObject::tr("a value"));
        }
    }

    bool parseLiteral(JsonValue &out, QByteArrayView literal, JsonValue::Type type)
    {
        if (m_end - m_p < literal.size() || QByteArrayView(m_p, literal.size()) != literal)
            return unexpected(QObject::tr("a value"));
        m_p += literal.size();
        out.type = type;
        return true;
    }

    bool parseNumber(JsonValue &out)
    {
        const unsigned char *start = m_p;
        if (*m_p == '-')
            ++m_p;
        if (m_p == m_end || !isDigit(*m_p))
            return unexpected(QObject::tr("a digit"));
        if (*m_p++ == '0' && m_p != m_end && isDigit(*m_p))
            return fail(QObject::tr("leading zero in a number"), start);
        skipDigits();
        if (m_p != m_end && *m_p == '.') {
            ++m_p;
            if (m_p == m_end || !isDigit(*m_p))
                return unexpected(QObject::tr("a digit after the decimal point"));
            skipDigits();
        }
        if (m_p != m_end && (*m_p == 'e' || *m_p == 'E')) {
            ++m_p;
            if (m_p != m_end && (*m_p == '+' || *m_p == '-'))
                ++m_p;
            if (m_p == m_end || !isDigit(*m_p))
                return unexpected(QObject::tr("a digit in the exponent"));
            skipDigits();
        }
        out.type = JsonValue::Type::Number;
        out.text = QByteArray(reinterpret_cast<const char *>(start), m_p - start);
        return true;
    }

    void skipDigits()
    {
        while (m_p != m_end && isDigit(*m_p))
            ++m_p;
    }

    // At '[' or '{': steps inside and says whether the container is empty (and already closed).
    bool open(JsonValue &out, JsonValue::Type type, int depth, bool &empty)
    {
        if (depth > maxDepth)
            return fail(QObject::tr("nesting deeper than %1 levels").arg(maxDepth), m_p);
        out.type = type;
        ++m_p;
        skipWhitespace();
        empty = m_p != m_end && *m_p == (type == JsonValue::Type::Array ? ']' : '}');
        m_p += empty ? 1 : 0;
        return true;
    }

    enum class Next { Item, Closed, Failed };
    // After an item: a comma and another item, or the closing bracket.
    Next next(char close)
    {
        skipWhitespace();
        if (m_p != m_end && *m_p == ',') {
            ++m_p;
            skipWhitespace();
            if (m_p != m_end && *m_p == close) {
                fail(QObject::tr("trailing comma before %1").arg(QLatin1Char(close)), m_p);
                return Next::Failed;
            }
            return Next::Item;
        }
        if (m_p != m_end && *m_p == close) {
            ++m_p;
            return Next::Closed;
        }
        unexpected(QObject::tr("',' or '%1'").arg(QLatin1Char(close)));
        return Next::Failed;
    }

    bool parseArray(JsonValue &out, int depth)
    {
        bool empty = false;
        if (!open(out, JsonValue::Type::Array, depth, empty))
            return false;
        if (empty)
            return true;
        for (;;) {
            // Parsed in place: moving a finished subtree would cost as much again.
            if (!parseValue(out.items.emplace_back(), depth))
                return false;
            if (const Next step = next(']'); step != Next::Item)
                return step == Next::Closed;
        }
    }

    bool parseObject(JsonValue &out, int depth)
    {
        bool empty = false;
        if (!open(out, JsonValue::Type::Object, depth, empty))
            return false;
        if (empty)
            return true;
        while (qsizetype(m_shapes.size()) <= depth)
            m_shapes.emplace_back();
        // Siblings usually have as many members as the previous object at this depth.
        out.items.reserve(qMax<qsizetype>(1, m_shapes[depth].size()));
        SharedKeys keys(m_shapes[depth], out.keys);
        for (;;) {
            if (!parseKey(keys))
                return false;
            skipWhitespace();
            if (m_p == m_end || *m_p != ':')
                return unexpected(QObject::tr("':'"));
            ++m_p;
            skipWhitespace();
            if (!parseValue(out.items.emplace_back(), depth))
                return false;
            if (const Next step = next('}'); step != Next::Item) {
                keys.finish();
                return step == Next::Closed;
            }
        }
    }

    bool parseKey(SharedKeys &keys)
    {
        if (m_p == m_end || *m_p != '"')
            return unexpected(QObject::tr("a string key"));
        QByteArrayView raw;
        bool escaped = false;
        if (!scanString(raw, escaped))
            return false;
        const QByteArray decoded = escaped ? decodeEscaped(raw) : QByteArray();
        const QByteArrayView key = escaped ? QByteArrayView(decoded) : raw;
        if (!keys.follows(key))
            keys.append(key.toByteArray());
        return true;
    }

    bool parseString(QByteArray &out)
    {
        QByteArrayView raw;
        bool escaped = false;
        if (!scanString(raw, escaped))
            return false;
        out = escaped ? decodeEscaped(raw) : QByteArray(raw.data(), raw.size());
        return true;
    }

    // From the opening quote to past the closing one, checking escapes and UTF-8 on the way;
    // `raw` is the text between the quotes. Plain runs are skipped with one table lookup a byte.
    bool scanString(QByteArrayView &raw, bool &escaped)
    {
        const unsigned char *open = m_p++;
        const unsigned char *start = m_p;
        for (;;) {
            while (m_p != m_end && !isSpecial[*m_p])
                ++m_p;
            if (m_p == m_end)
                return fail(QObject::tr("unterminated string"), open);
            const unsigned char c = *m_p;
            if (c == '"')
                break;
            if (c == '\\') {
                escaped = true;
                if (!checkEscape())
                    return false;
            } else if (c < 0x20) {
                return fail(QObject::tr("raw control character 0x%1 in a string (must be escaped)")
                                .arg(uint(c), 2, 16, QLatin1Char('0')),
                    m_p);
            } else {
                const int length = utf8Length(m_p, m_end);
                if (length == 0)
                    return fail(QObject::tr("invalid UTF-8 in a string"), m_p);
                m_p += length;
            }
        }
        raw = QByteArrayView(start, m_p - start);
        ++m_p;
        return true;
    }

    // At a backslash: checks the escape (and the pairing of \u surrogates) and skips it.
    bool checkEscape()
    {
        const unsigned char *escape = m_p++;
        if (m_p == m_end)
            return fail(QObject::tr("unterminated string"), escape);
        switch (*m_p) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            ++m_p;
            return true;
        case 'u':
            break;
        default:
            return fail(QObject::tr("invalid escape \\%1").arg(describe(m_p)), escape);
        }
        const int unit = readHex4(m_p + 1);
        if (unit < 0)
            return fail(QObject::tr("\\u must be followed by four hex digits"), escape);
        m_p += 5;
        if (unit >= 0xDC00 && unit <= 0xDFFF)
            return fail(QObject::tr("lone low surrogate \\u%1").arg(unit, 4, 16, QLatin1Char('0')), escape);
        if (unit < 0xD800 || unit > 0xDBFF)
            return true;
        const int low = (m_end - m_p >= 2 && m_p[0] == '\\' && m_p[1] == 'u') ? readHex4(m_p + 2) : -1;
        if (low < 0xDC00 || low > 0xDFFF)
            return fail(QObject::tr("lone high surrogate \\u%1").arg(unit, 4, 16, QLatin1Char('0')), escape);
        m_p += 6;
        return true;
    }

    // The four hex digits at `p` as a number, or -1.
    int readHex4(const unsigned char *p) const
    {
        if (m_end - p < 4)
            return -1;
        int value = 0;
        for (int i = 0; i < 4; ++i) {
            const int digit = hexValue(p[i]);
            if (digit < 0)
                return -1;
            value = value * 16 + digit;
        }
        return value;
    }

    // `raw` was checked by parseString, so every escape in it is complete and well-paired.
    static QByteArray decodeEscaped(QByteArrayView raw)
    {
        QByteArray out;
        out.reserve(raw.size());
        const auto *p = reinterpret_cast<const unsigned char *>(raw.data());
        const auto *end = p + raw.size();
        while (p != end) {
            const unsigned char *run = p;
            while (p != end && *p != '\\')
                ++p;
            out.append(reinterpret_cast<const char *>(run), p - run);
            if (p == end)
                break;
            const unsigned char kind = p[1];
            p += 2;
            switch (kind) {
            case 'b':
                out.append('\b');
                break;
            case 'f':
                out.append('\f');
                break;
            case 'n':
                out.append('\n');
                break;
            case 'r':
                out.append('\r');
                break;
            case 't':
                out.append('\t');
                break;
            case 'u':
                p = decodeUnicodeEscape(out, p);
                break;
            default:
                out.append(char(kind));
                break; // " \ /
            }
        }
        return out;
    }

    // After "\u": appends the code point (joining a surrogate pair) and returns where it ends.
    static const unsigned char *decodeUnicodeEscape(QByteArray &out, const unsigned char *p)
    {
        const auto hex4 = [](const unsigned char *q) {
            return char32_t(
                (hexValue(q[0]) << 12) | (hexValue(q[1]) << 8) | (hexValue(q[2]) << 4) | hexValue(q[3]));
        };
        char32_t code = hex4(p);
        p += 4;
        if (code >= 0xD800 && code <= 0xDBFF) {
            code = 0x10000 + ((code - 0xD800) << 10) + (hex4(p + 2) - 0xDC00);
            p += 6;
        }
        out.append(QString::fromUcs4(&code, 1).toUtf8()); // rare enough to take Qt's encoder
        return p;
    }

    const unsigned char *m_begin;
    const unsigned char *m_p;
    const unsigned char *m_end;
    QString m_error;
    qsizetype m_errorAt = 0;
    // Per depth: the last object's keys. A deque, so that growing it keeps the references that
    // the objects being parsed further up hold.
    std::deque<QList<QByteArray>> m_shapes;
};

} // namespace

const JsonValue *JsonValue::member(QByteArrayView key) const
{
    for (qsizetype i = 0; i < keys.size(); ++i) {
        if (keys.at(i) == key)
            return &items.at(i);
    }
    return nullptr;
}

Result<JsonValue> parseJson(QByteArrayView bytes)
{
    return Parser(bytes).parse();
}
