#include "jsoncompare.h"

#include "jsonalign.h"
#include "jsonwrite.h"

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
    using Kind = JsonDifference::Kind;
    using Pair = ArrayAlignment::Pair;
    enum class Side { Before, After };

    // True once the list is full: the walk stops, since the verdict can no longer change.
    bool full()
    {
        if (m_differences.size() < m_max)
            return false;
        m_truncated = true;
        return true;
    }

    // False once the list is full.
    bool add(Kind kind, const JsonValue *before, const JsonValue *after)
    {
        if (full())
            return false;
        JsonDifference difference;
        difference.kind = kind;
        difference.beforePath = path(Side::Before);
        difference.afterPath = path(Side::After);
        difference.path = kind == Kind::Added ? difference.afterPath : difference.beforePath;
        if (before)
            difference.before = writeCompactJson(*before, false);
        if (after)
            difference.after = writeCompactJson(*after, false);
        m_differences.append(std::move(difference));
        return true;
    }

    bool addReorder(const ArrayAlignment::Reorder &reorder)
    {
        if (full())
            return false;
        JsonDifference difference;
        difference.kind = Kind::Reordered;
        difference.path = path(Side::Before);
        enterIndex(reorder.before, reorder.after);
        difference.beforePath = path(Side::Before);
        difference.afterPath = path(Side::After);
        leave();
        difference.before = reorder.beforeIds;
        difference.after = reorder.afterIds;
        m_differences.append(std::move(difference));
        return true;
    }

    bool compare(const JsonValue &before, const JsonValue &after)
    {
        if (before.type != after.type)
            return add(Kind::Changed, &before, &after);
        switch (before.type) {
        case JsonValue::Type::Array:
            return compareArrays(before, after);
        case JsonValue::Type::Object:
            return compareObjects(before, after);
        case JsonValue::Type::Number:
        case JsonValue::Type::String:
            return before.text == after.text || add(Kind::Changed, &before, &after);
        default:
            return true; // null, true, false: the type says it all
        }
    }

    // Anchors are compared too: they may still differ in key order (or, by id, in content).
    bool compareArrays(const JsonValue &before, const JsonValue &after)
    {
        const ArrayAlignment alignment = alignArrays(before.items, after.items);
        if (alignment.reorder && !addReorder(*alignment.reorder))
            return false;
        Pair from;
        for (const Pair &anchor : alignment.anchors) {
            if (!gap(before, after, alignment, from, anchor))
                return false;
            // Usually equal outright: one plain walk instead of aligning its arrays again.
            if (!identical(before.items.at(anchor.before), after.items.at(anchor.after))
                && !element(before, after, anchor.before, anchor.after))
                return false;
            from = { anchor.before + 1, anchor.after + 1 };
        }
        return gap(before, after, alignment, from, { before.items.size(), after.items.size() });
    }

    // The unmatched elements in [from, to) of each side. By id, an element there either moved
    // (compared with its partner) or is removed or added. Otherwise removed and added elements pair
    // up in order as changes, so an edit inside an element keeps its precise path; the surplus is
    // removed or added. The other side's index of a lone element is where the gap ends up there.
    bool gap(
        const JsonValue &before, const JsonValue &after, const ArrayAlignment &alignment, Pair from, Pair to)
    {
        qsizetype paired = 0;
        if (alignment.byId) {
            for (qsizetype i = from.before; i < to.before; ++i) {
                const qsizetype partner = alignment.beforePartner.at(i);
                if (partner >= 0 ? !element(before, after, i, partner)
                                 : !lone(Kind::Removed, before, i, from.after))
                    return false;
            }
        } else {
            paired = qMin(to.before - from.before, to.after - from.after);
            for (qsizetype k = 0; k < paired; ++k) {
                if (!element(before, after, from.before + k, from.after + k))
                    return false;
            }
            for (qsizetype i = from.before + paired; i < to.before; ++i) {
                if (!lone(Kind::Removed, before, i, from.after + paired))
                    return false;
            }
        }
        for (qsizetype j = from.after + paired; j < to.after; ++j) {
            if (alignment.byId && alignment.afterPartner.at(j) >= 0)
                continue; // moved: compared at its place in `before`
            if (!lone(Kind::Added, after, from.before + paired, j))
                return false;
        }
        return true;
    }

    // Same values, same key order.
    static bool identical(const JsonValue &before, const JsonValue &after)
    {
        if (before.type != after.type || before.text != after.text || before.keys != after.keys
            || before.items.size() != after.items.size())
            return false;
        for (qsizetype i = 0; i < before.items.size(); ++i) {
            if (!identical(before.items.at(i), after.items.at(i)))
                return false;
        }
        return true;
    }

    bool element(const JsonValue &before, const JsonValue &after, qsizetype i, qsizetype j)
    {
        enterIndex(i, j);
        const bool going = compare(before.items.at(i), after.items.at(j));
        leave();
        return going;
    }

    // A Removed element (`array` is before's, at beforeIndex) or an Added one (after's, at
    // afterIndex); the other index says where the gap is on the other side.
    bool lone(Kind kind, const JsonValue &array, qsizetype beforeIndex, qsizetype afterIndex)
    {
        const bool removed = kind == Kind::Removed;
        const JsonValue &item = array.items.at(removed ? beforeIndex : afterIndex);
        enterIndex(beforeIndex, afterIndex);
        const bool going = add(kind, removed ? &item : nullptr, removed ? nullptr : &item);
        leave();
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
                going = add(Kind::Removed, &before.items.at(i), nullptr);
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
            going = add(Kind::Added, nullptr, &after.items.at(j));
            leave();
        }
        return going;
    }

    void enterIndex(qsizetype before, qsizetype after) { m_where.append({ nullptr, before, after }); }
    void enterKey(const QByteArray &key) { m_where.append({ &key, 0, 0 }); }
    void leave() { m_where.removeLast(); }

    QString path(Side side) const
    {
        QByteArray text;
        for (const Step &step : m_where) {
            if (!step.key)
                text.append('[')
                    .append(QByteArray::number(side == Side::Before ? step.before : step.after))
                    .append(']');
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
    // Where the walk is: object keys (pointing into the documents) and array indexes in each
    // document, spelled out only for a difference that is kept.
    struct Step {
        const QByteArray *key;
        qsizetype before; // array indexes on each side
        qsizetype after;
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
