#include "jsonalign.h"
#include "jsonwrite.h"

#include <QHash>

#include <algorithm>
#include <vector>

namespace {

using Pair = ArrayAlignment::Pair;

// The Myers search stops past this many edits or this many steps and the middle of the arrays is
// paired by position instead: its trace costs edits² ints and its time (n + m) · edits, and an
// alignment that needs so many edits is no longer one a reader could follow anyway.
constexpr int maxEdits = 1000;
constexpr qint64 workBudget = 4'000'000;

quint64 mix(quint64 x)
{
    // splitmix64's finalizer: every input bit reaches every output bit.
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

bool hasScalarId(const JsonValue &item)
{
    if (!item.isObject())
        return false;
    const JsonValue *id = item.member("id");
    return id && (id->type == JsonValue::Type::Number || id->type == JsonValue::Type::String);
}

bool allHaveIds(const QList<JsonValue> &items)
{
    return std::all_of(items.cbegin(), items.cend(), hasScalarId);
}

// Number 1 and string "1" are different ids.
QByteArray idKey(const JsonValue &item)
{
    const JsonValue *id = item.member("id");
    return char(id->type) + id->text;
}

// Walks the Myers trace back from (x, y), the end reached after d edits, collecting the matched
// pairs of the snakes. `trace` keeps, for each e, the furthest x on diagonals -e..e after e
// edits, at offset e² + e + k.
QList<Pair> backtrack(const std::vector<int> &trace, int d, int x, int y)
{
    QList<Pair> matches;
    for (int e = d; e > 0; --e) {
        const int *previous = trace.data() + std::size_t(e - 1) * std::size_t(e - 1) + (e - 1);
        const int k = x - y;
        const bool down = k == -e || (k != e && previous[k - 1] < previous[k + 1]);
        const int previousK = down ? k + 1 : k - 1;
        const int previousX = previous[previousK];
        const int snakeStart = down ? previousX : previousX + 1;
        for (; x > snakeStart; --x, --y)
            matches.append({ x - 1, y - 1 });
        x = previousX;
        y = previousX - previousK;
    }
    for (; x > 0 && y > 0; --x, --y)
        matches.append({ x - 1, y - 1 });
    std::reverse(matches.begin(), matches.end());
    return matches;
}

// The matched pairs of a shortest edit script between a and b, or nothing past the budget.
std::optional<QList<Pair>> myers(const quint64 *a, int n, const quint64 *b, int m)
{
    const int limit = std::min(n + m, maxEdits);
    const int offset = limit + 1;
    std::vector<int> v(2 * std::size_t(limit) + 3, 0); // furthest x per diagonal k, at offset + k
    std::vector<int> trace;
    qint64 work = 0;
    for (int d = 0; d <= limit; ++d) {
        for (int k = -d; k <= d; k += 2) {
            const bool down = k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]);
            int x = down ? v[offset + k + 1] : v[offset + k - 1] + 1;
            int y = x - k;
            for (; x < n && y < m && a[x] == b[y]; ++x, ++y)
                ++work;
            v[offset + k] = x;
            if (x >= n && y >= m)
                return backtrack(trace, d, x, y);
        }
        trace.insert(trace.end(), v.begin() + offset - d, v.begin() + offset + d + 1);
        work += 2 * d + 1;
        if (work > workBudget)
            return std::nullopt;
    }
    return std::nullopt;
}

ArrayAlignment alignByHash(const QList<JsonValue> &before, const QList<JsonValue> &after)
{
    ArrayAlignment alignment;
    std::vector<quint64> a(before.size());
    std::vector<quint64> b(after.size());
    std::transform(before.cbegin(), before.cend(), a.begin(), structuralHash);
    std::transform(after.cbegin(), after.cend(), b.begin(), structuralHash);
    qsizetype prefix = 0;
    const qsizetype shorter = qMin(before.size(), after.size());
    while (prefix < shorter && a[prefix] == b[prefix])
        ++prefix;
    qsizetype suffix = 0;
    while (suffix < shorter - prefix && a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
        ++suffix;
    for (qsizetype i = 0; i < prefix; ++i)
        alignment.anchors.append({ i, i });
    const int n = int(before.size() - prefix - suffix);
    const int m = int(after.size() - prefix - suffix);
    if (n > 0 && m > 0) {
        if (const auto middle = myers(a.data() + prefix, n, b.data() + prefix, m)) {
            for (const Pair &pair : *middle)
                alignment.anchors.append({ pair.before + prefix, pair.after + prefix });
        }
    }
    for (qsizetype i = suffix; i > 0; --i)
        alignment.anchors.append({ before.size() - i, after.size() - i });
    return alignment;
}

// The pairs (in `before` order) that form a longest run increasing in `after` too: they stay in
// place, the other pairs moved.
QList<Pair> longestIncreasing(const QList<Pair> &pairs)
{
    QList<qsizetype> tails; // per length: the index into pairs of the smallest tail
    QList<qsizetype> previous(pairs.size(), -1);
    for (qsizetype i = 0; i < pairs.size(); ++i) {
        const auto at = std::lower_bound(tails.begin(), tails.end(), pairs.at(i).after,
            [&](qsizetype tail, qsizetype value) { return pairs.at(tail).after < value; });
        if (at != tails.begin())
            previous[i] = *(at - 1);
        if (at == tails.end())
            tails.append(i);
        else
            *at = i;
    }
    QList<Pair> run;
    for (qsizetype i = tails.isEmpty() ? -1 : tails.last(); i >= 0; i = previous.at(i))
        run.prepend(pairs.at(i));
    return run;
}

QByteArray idList(
    const QList<JsonValue> &items, const QList<qsizetype> &indexes, qsizetype from, qsizetype to)
{
    QByteArray out = "[";
    for (qsizetype k = from; k < to; ++k) {
        if (k > from)
            out.append(',');
        appendCompactJson(out, *items.at(indexes.at(k)).member("id"), false);
    }
    return out.append(']');
}

void findReorder(ArrayAlignment &alignment, const QList<JsonValue> &before, const QList<JsonValue> &after)
{
    QList<qsizetype> inBefore; // matched elements, in each side's order
    QList<qsizetype> inAfter;
    for (qsizetype i = 0; i < before.size(); ++i) {
        if (alignment.beforePartner.at(i) >= 0)
            inBefore.append(i);
    }
    for (qsizetype j = 0; j < after.size(); ++j) {
        if (alignment.afterPartner.at(j) >= 0)
            inAfter.append(j);
    }
    const qsizetype count = inBefore.size();
    qsizetype first = 0;
    while (first < count && alignment.beforePartner.at(inBefore.at(first)) == inAfter.at(first))
        ++first;
    qsizetype end = count;
    while (end > first && alignment.beforePartner.at(inBefore.at(end - 1)) == inAfter.at(end - 1))
        --end;
    ArrayAlignment::Reorder reorder;
    reorder.before = inBefore.at(first);
    reorder.after = inAfter.at(first);
    reorder.beforeIds = idList(before, inBefore, first, end);
    reorder.afterIds = idList(after, inAfter, first, end);
    alignment.reorder = std::move(reorder);
}

ArrayAlignment alignById(const QList<JsonValue> &before, const QList<JsonValue> &after)
{
    ArrayAlignment alignment;
    alignment.byId = true;
    alignment.beforePartner.fill(-1, before.size());
    alignment.afterPartner.fill(-1, after.size());
    QHash<QByteArray, QList<qsizetype>> where; // id → its positions in `after`, in order
    for (qsizetype j = 0; j < after.size(); ++j)
        where[idKey(after.at(j))].append(j);
    QHash<QByteArray, qsizetype> taken; // how many of an id's positions are paired already
    QList<Pair> pairs;
    for (qsizetype i = 0; i < before.size(); ++i) {
        const QByteArray key = idKey(before.at(i));
        const auto found = where.constFind(key);
        qsizetype &used = taken[key];
        if (found == where.cend() || used >= found->size())
            continue;
        const qsizetype j = found->at(used++);
        alignment.beforePartner[i] = j;
        alignment.afterPartner[j] = i;
        pairs.append({ i, j });
    }
    alignment.anchors = longestIncreasing(pairs);
    if (alignment.anchors.size() < pairs.size())
        findReorder(alignment, before, after);
    return alignment;
}

} // namespace

quint64 structuralHash(const JsonValue &value)
{
    quint64 hash = mix(quint64(value.type) + 1);
    switch (value.type) {
    case JsonValue::Type::Number:
    case JsonValue::Type::String:
        return mix(hash ^ quint64(qHash(value.text, size_t(value.type))));
    case JsonValue::Type::Array:
        for (const JsonValue &item : value.items)
            hash = mix(hash + structuralHash(item));
        return hash;
    case JsonValue::Type::Object: {
        // A sum of per-member hashes does not depend on the members' order.
        quint64 members = 0;
        for (qsizetype i = 0; i < value.items.size(); ++i)
            members += mix(quint64(qHash(value.keys.at(i))) ^ mix(structuralHash(value.items.at(i)) + 1));
        return mix(hash + members);
    }
    default:
        return hash;
    }
}

ArrayAlignment alignArrays(const QList<JsonValue> &before, const QList<JsonValue> &after)
{
    if (!before.isEmpty() && !after.isEmpty() && allHaveIds(before) && allHaveIds(after))
        return alignById(before, after);
    return alignByHash(before, after);
}
