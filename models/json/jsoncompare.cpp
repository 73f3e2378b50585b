#include "jsonvalue.h"

#include <QHash>
#include <QObject>
#include <QVarLengthArray>

namespace {

// Walks both trees once, in document order of `before` (then the keys only `after` has).
class Comparer {
public:
    explicit Comparer(int maxDifferences)
        : m_max(qMax(0, maxDifferences))
    {
    }

    JsonComparison run(const JsonValue &before, const JsonValue &after)
    {
        compare(before, after);
        JsonComparison result;
        result.truncated = m_truncated;
        result.equal = m_differences.isEmpty() && !m_truncated && !m_orderDiffers;
        result.keyOrderOnly = m_differences.isEmpty() && !m_truncated && m_orderDiffers;
        result.differences = std::move(m_differences);
        return result;
    }

private:
    // False once the list is full: the walk stops, since the verdict can no longer change.
    bool add(JsonDifference::Kind kind, const JsonValue *before, const JsonValue *after)
    {
        if (m_differences.size() >= m_max) {
            m_truncated = true;
            return false;
        }
        JsonDifference difference;
        difference.kind = kind;
        difference.path = path();
        if (before)
            difference.before = writeCompactJson(*before, false);
        if (after)
            difference.after = writeCompactJson(*after, false);
        m_differences.append(std::move(difference));
        return true;
    }

    bool compare(const JsonValue &before, const JsonValue &after)
    {
        if (before.type != after.type)
            return add(JsonDifference::Kind::Changed, &before, &after);
        switch (before.type) {
        case JsonValue::Type::Array:
            return compareArrays(before, after);
        case JsonValue::Type::Object:
            return compareObjects(before, after);
        case JsonValue::Type::Number:
        case JsonValue::Type::String:
            return before.text == after.text || add(JsonDifference::Kind::Changed, &before, &after);
        default:
            return true; // null, true, false: the type says it all
        }
    }

    bool compareArrays(const JsonValue &before, const JsonValue &after)
    {
        const qsizetype common = qMin(before.items.size(), after.items.size());
        bool going = true;
        for (qsizetype i = 0; going && i < qMax(before.items.size(), after.items.size()); ++i) {
            enterIndex(i);
            if (i < common)
                going = compare(before.items.at(i), after.items.at(i));
            else if (i < before.items.size())
                going = add(JsonDifference::Kind::Removed, &before.items.at(i), nullptr);
            else
                going = add(JsonDifference::Kind::Added, nullptr, &after.items.at(i));
            leave();
        }
        return going;
    }

    bool compareObjects(const JsonValue &before, const JsonValue &after)
    {
        // The common case, same keys in the same order, needs no matching (nor its allocations).
        if (before.keys == after.keys) {
            bool going = true;
            for (qsizetype i = 0; going && i < before.keys.size(); ++i) {
                enterKey(before.keys.at(i));
                going = compare(before.items.at(i), after.items.at(i));
                leave();
            }
            return going;
        }
        const Matches match = matchKeys(before, after);
        QVarLengthArray<bool, 16> matched(after.keys.size(), false);
        bool going = true;
        for (qsizetype i = 0; going && i < before.keys.size(); ++i) {
            enterKey(before.keys.at(i));
            const qsizetype j = match.at(i);
            if (j < 0) {
                going = add(JsonDifference::Kind::Removed, &before.items.at(i), nullptr);
            } else {
                matched[j] = true;
                m_orderDiffers = m_orderDiffers || j != i;
                going = compare(before.items.at(i), after.items.at(j));
            }
            leave();
        }
        for (qsizetype j = 0; going && j < after.keys.size(); ++j) {
            if (matched.at(j))
                continue;
            enterKey(after.keys.at(j));
            going = add(JsonDifference::Kind::Added, nullptr, &after.items.at(j));
            leave();
        }
        return going;
    }

    void enterIndex(qsizetype index) { m_where.append({ nullptr, index }); }
    void enterKey(const QByteArray &key) { m_where.append({ &key, 0 }); }
    void leave() { m_where.removeLast(); }

    QString path() const
    {
        QByteArray text;
        for (const Step &step : m_where) {
            if (!step.key)
                text.append('[').append(QByteArray::number(step.index)).append(']');
            else
                text.append(text.isEmpty() ? "" : ".").append(*step.key);
        }
        return QString::fromUtf8(text);
    }

    // For each key of `before`, the index of the same key in `after` (-1 if none). Duplicate keys
    // pair up in order. Small objects, the usual case, are matched without a hash.
    using Matches = QVarLengthArray<qsizetype, 16>;
    static Matches matchKeys(const JsonValue &before, const JsonValue &after)
    {
        Matches match(before.keys.size(), -1);
        QVarLengthArray<bool, 16> used(after.keys.size(), false);
        const auto take = [&](qsizetype i, qsizetype j) {
            match[i] = j;
            used[j] = true;
        };
        if (after.keys.size() <= 16) {
            for (qsizetype i = 0; i < before.keys.size(); ++i) {
                for (qsizetype j = 0; j < after.keys.size(); ++j) {
                    if (!used.at(j) && after.keys.at(j) == before.keys.at(i)) {
                        take(i, j);
                        break;
                    }
                }
            }
            return match;
        }
        QMultiHash<QByteArray, qsizetype> where;
        for (qsizetype j = after.keys.size() - 1; j >= 0; --j)
            where.insert(after.keys.at(j), j); // values() lists the latest insert first
        for (qsizetype i = 0; i < before.keys.size(); ++i) {
            for (auto it = where.find(before.keys.at(i)); it != where.end() && it.key() == before.keys.at(i);
                 ++it) {
                if (!used.at(it.value())) {
                    take(i, it.value());
                    break;
                }
            }
        }
        return match;
    }

    const int m_max;
    // Where the walk is: object keys (pointing into the documents) and array indexes, spelled
    // out only for a difference that is kept.
    struct Step {
        const QByteArray *key;
        qsizetype index;
    };
    QVarLengthArray<Step, 16> m_where;
    QList<JsonDifference> m_differences;
    bool m_truncated = false;
    bool m_orderDiffers = false;
};

} // namespace

JsonComparison compareJson(const JsonValue &before, const JsonValue &after, int maxDifferences)
{
    return Comparer(maxDifferences).run(before, after);
}

QString JsonComparison::summary() const
{
    if (equal)
        return QObject::tr("identical");
    if (keyOrderOnly)
        return QObject::tr("key order only");
    const qsizetype count = differences.size();
    if (truncated)
        return count == 0 ? QObject::tr("different") : QObject::tr("%1+ changes").arg(count);
    return count == 1 ? QObject::tr("1 change") : QObject::tr("%1 changes").arg(count);
}
