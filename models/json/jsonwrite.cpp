#include "jsonwrite.h"

#include "serialize/jsonstring.h"

#include <QObject>

#include <algorithm>
#include <array>
#include <cstring>

namespace {

// The serializer writes every level as {"name":…,"<children>":…}. An object holding exactly a
// level's two fields in the other order (jsonb sorts keys by length, then bytes) is written with
// "name" first; any other object keeps its document order.
bool isSwappedFooLevel(const JsonValue &object)
{
    if (object.keys.size() != 2 || object.keys.at(1) != "name")
        return false;
    const QByteArray &other = object.keys.at(0);
    return other == "bar_set" || other == "zab_set" || other == "bazs";
}

// Bytes that appendJsonString copies unchanged when every byte of a string is one of them.
constexpr std::array<bool, 256> plainBytes()
{
    std::array<bool, 256> table {};
    for (int c = 0x20; c < 0x7F; ++c)
        table[c] = c != '"' && c != '\\';
    return table;
}
constexpr std::array<bool, 256> isPlain = plainBytes();

// Writes through a cursor into the buffer's spare capacity: one QByteArray::append per piece
// costs more than the bytes themselves in a document of 100,000 small values. Strings that need
// any escape (or are not ASCII) go through appendJsonString, so the escaping stays DRF's.
class Writer {
public:
    Writer(QByteArray &out, bool fooFieldOrder)
        : m_out(out)
        , m_length(out.size())
        , m_fooFieldOrder(fooFieldOrder)
    {
    }
    ~Writer() { m_out.resize(m_length); }
    Writer(const Writer &) = delete;
    Writer &operator=(const Writer &) = delete;

    void value(const JsonValue &value)
    {
        switch (value.type) {
        case JsonValue::Type::Null:
            put("null", 4);
            return;
        case JsonValue::Type::False:
            put("false", 5);
            return;
        case JsonValue::Type::True:
            put("true", 4);
            return;
        case JsonValue::Type::Number:
            put(value.text.constData(), value.text.size());
            return;
        case JsonValue::Type::String:
            string(value.text);
            return;
        case JsonValue::Type::Object:
            object(value);
            return;
        case JsonValue::Type::Array:
            put('[');
            for (qsizetype i = 0; i < value.items.size(); ++i) {
                if (i > 0)
                    put(',');
                this->value(value.items.at(i));
            }
            put(']');
            return;
        }
    }

private:
    void object(const JsonValue &object)
    {
        put('{');
        if (m_fooFieldOrder && isSwappedFooLevel(object)) {
            member(object, 1);
            put(',');
            member(object, 0);
        } else {
            for (qsizetype i = 0; i < object.keys.size(); ++i) {
                if (i > 0)
                    put(',');
                member(object, i);
            }
        }
        put('}');
    }

    void member(const JsonValue &object, qsizetype index)
    {
        string(object.keys.at(index));
        put(':');
        value(object.items.at(index));
    }

    void string(const QByteArray &text)
    {
        const auto *bytes = reinterpret_cast<const unsigned char *>(text.constData());
        if (std::all_of(bytes, bytes + text.size(), [](unsigned char c) { return isPlain[c]; })) {
            char *p = room(text.size() + 2);
            *p = '"';
            memcpy(p + 1, text.constData(), text.size());
            p[text.size() + 1] = '"';
            m_length += text.size() + 2;
            return;
        }
        m_out.resize(m_length);
        appendJsonString(m_out, text);
        m_length = m_out.size();
    }

    // Where the next `n` bytes go; the buffer's size runs ahead of m_length.
    char *room(qsizetype n)
    {
        if (m_out.size() - m_length < n)
            m_out.resize(qMax(m_length + n, m_out.capacity())); // grows geometrically past capacity
        return m_out.data() + m_length;
    }
    void put(const char *bytes, qsizetype n)
    {
        memcpy(room(n), bytes, n);
        m_length += n;
    }
    void put(char c)
    {
        *room(1) = c;
        ++m_length;
    }

    QByteArray &m_out;
    qsizetype m_length;
    const bool m_fooFieldOrder;
};

QString indexPath(const QString &parent, const char *key, qsizetype index)
{
    return QStringLiteral("%1%2%3[%4]")
        .arg(parent, parent.isEmpty() ? QString() : QStringLiteral("."), QLatin1String(key))
        .arg(index);
}

Status shapeError(const QString &path, const QString &problem)
{
    return Error::corrupt(path.isEmpty() ? problem : QStringLiteral("%1: %2").arg(path, problem));
}

// An object with exactly the keys "name" and `children` (if any), in any order, whose name is a
// string or null.
bool isLevel(const JsonValue &value, const char *children)
{
    if (!value.isObject() || value.keys.size() != (children ? 2 : 1))
        return false;
    const JsonValue *name = value.member("name");
    if (!name || (!name->isString() && name->type != JsonValue::Type::Null))
        return false;
    if (!children)
        return true;
    const JsonValue *list = value.member(children);
    return list && list->isArray();
}

// Names the first thing that is wrong with a value that failed isLevel().
Status levelError(const JsonValue &value, const QString &path, const char *children)
{
    const QString keys = children ? QObject::tr("keys name and %1").arg(QLatin1String(children))
                                  : QObject::tr("the single key name");
    if (!value.isObject() || value.keys.size() != (children ? 2 : 1) || !value.member("name")
        || (children && !value.member(children)))
        return shapeError(path, QObject::tr("expected an object with %1").arg(keys));
    const JsonValue *name = value.member("name");
    if (!name->isString() && name->type != JsonValue::Type::Null) {
        return shapeError(path.isEmpty() ? QStringLiteral("name") : path + QStringLiteral(".name"),
            QObject::tr("expected a string or null"));
    }
    return shapeError(
        path.isEmpty() ? QLatin1String(children) : path + QLatin1Char('.') + QLatin1String(children),
        QObject::tr("expected an array"));
}

Status checkZab(const JsonValue &zab, const QString &path)
{
    if (!isLevel(zab, "bazs"))
        return levelError(zab, path, "bazs");
    const QList<JsonValue> &bazs = zab.member("bazs")->items;
    for (qsizetype i = 0; i < bazs.size(); ++i) {
        if (!isLevel(bazs.at(i), nullptr))
            return levelError(bazs.at(i), indexPath(path, "bazs", i), nullptr);
    }
    return success();
}

} // namespace

void appendCompactJson(QByteArray &out, const JsonValue &value, bool fooFieldOrder)
{
    Writer(out, fooFieldOrder).value(value);
}

QByteArray writeCompactJson(const JsonValue &value, bool fooFieldOrder)
{
    QByteArray out;
    appendCompactJson(out, value, fooFieldOrder);
    // Growth leaves up to half the buffer unused; a kept document should not carry that.
    if (out.capacity() - out.size() > out.size() / 4)
        out.squeeze();
    return out;
}

// Paths are only built on the way out of a failure: a valid 80,000-object body costs no strings.
Status checkFooShape(const JsonValue &value)
{
    if (!isLevel(value, "bar_set"))
        return levelError(value, QString(), "bar_set");
    const QList<JsonValue> &bars = value.member("bar_set")->items;
    for (qsizetype b = 0; b < bars.size(); ++b) {
        const JsonValue &bar = bars.at(b);
        if (!isLevel(bar, "zab_set"))
            return levelError(bar, indexPath(QString(), "bar_set", b), "zab_set");
        const QList<JsonValue> &zabs = bar.member("zab_set")->items;
        for (qsizetype z = 0; z < zabs.size(); ++z) {
            const JsonValue &zab = zabs.at(z);
            const auto isBaz = [](const JsonValue &baz) { return isLevel(baz, nullptr); };
            if (isLevel(zab, "bazs")
                && std::all_of(zab.member("bazs")->items.cbegin(), zab.member("bazs")->items.cend(), isBaz))
                continue;
            return checkZab(zab, indexPath(indexPath(QString(), "bar_set", b), "zab_set", z));
        }
    }
    return success();
}
