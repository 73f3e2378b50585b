#pragma once

// Timing and printing shared by bench_serializer's SQLite and PostgreSQL parts.
#include "db/database.h"
#include "serialize/serializer.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QHash>
#include <QList>
#include <QSet>
#include <QString>

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <vector>

struct Timing {
    double medianMs = 0;
    double minMs = 0;
    qsizetype bytes = 0;
};

// DRF's own time for `what` (--pk N or --list) on `db` (a SQLite path or a postgresql:// URL),
// measured inside Python by the reference script (start-up excluded); -1 when it failed.
inline double drfSeconds(const QString &reference, const QString &db, const QStringList &what)
{
    QProcess python;
    python.start(QStringLiteral("/usr/bin/python3"),
                 QStringList { reference, QStringLiteral("render"), QStringLiteral("--db"), db, QStringLiteral("--time"),
                               QStringLiteral("--out"), QStringLiteral("/dev/null") }
                     + what);
    python.waitForFinished(-1);
    const QString errors = QString::fromUtf8(python.readAllStandardError());
    const auto match = QRegularExpression(QStringLiteral("seconds=([0-9.]+)")).match(errors);
    if (!match.hasMatch())
        std::fprintf(stderr, "DRF did not run: %s\n", qPrintable(errors.right(400)));
    return match.hasMatch() ? match.captured(1).toDouble() : -1;
}

inline void printRow(const char *what, const Timing &t)
{
    std::printf("  %-34s %9.2f ms %9.2f ms %9.2f MB %9.1f MB/s\n", what, t.medianMs, t.minMs,
        double(t.bytes) / 1e6, double(t.bytes) / 1e6 / (t.medianMs / 1000.0));
}

inline void printFloorRow(const char *what, const Timing &ours, const Timing &floor)
{
    std::printf("  %-34s %9.2f ms %9.2f ms %9.2fx\n", what, floor.medianMs, ours.medianMs,
        ours.medianMs / floor.medianMs);
}

// The Foo with the most Zab→Baz links: the largest body.
inline qint64 largestFoo(Database &database)
{
    const DjangoTables &t = database.tables();
    auto statement = database.run(
        QStringLiteral("SELECT b.foo_id FROM %1 b JOIN %2 z ON z.bar_id = b.id JOIN %3 l "
                       "ON l.zab_id = z.id GROUP BY b.foo_id ORDER BY count(*) DESC, b.foo_id LIMIT 1")
            .arg(DjangoTables::quote(t.bar), DjangoTables::quote(t.zab), DjangoTables::quote(t.zabBazs)));
    return statement && (*statement)->next() ? (*statement)->integer(0) : 1;
}

// What the serializer reads for one run of Foos (Serializer::readRun's choices), worked out
// before timing so that a floor can replay the very same statements with the very same parameters
// and build nothing: each step a statement and its two bounds, then the Bazs first met in the run.
struct RunPlan {
    std::vector<std::pair<Serializer::Query, std::array<qint64, 2>>> steps;
    QList<qint64> newBazs; // sorted, as the serializer asks for them
};

// `rows(query, low, high)` gives the first two columns of each row of a statement as integers.
template <typename Rows>
std::vector<RunPlan> planRuns(const QList<qint64> &foos, Rows rows)
{
    std::vector<RunPlan> plans;
    QSet<qint64> seenBazs; // a Baz is asked for once per call
    for (qsizetype start = 0; start < foos.size();) {
        const qsizetype end = Serializer::runEnd(foos, start);
        RunPlan plan;
        const qint64 low = foos[start];
        const qint64 high = foos[end - 1];
        start = end;
        QSet<qint64> present;
        plan.steps.push_back({ Serializer::Foos, { low, high } });
        for (const auto &row : rows(Serializer::Foos, low, high))
            present.insert(row[0]);
        if (present.isEmpty()) { // readRun stops there
            plans.push_back(plan);
            continue;
        }
        // Each level: the parents' ids, then the statement readRun picks for them.
        const auto level = [&](Serializer::Query query, qint64 from, qint64 to, const QSet<qint64> &parents) {
            QSet<qint64> children;
            plan.steps.push_back({ query, { from, to } });
            for (const auto &row : rows(query, from, to)) {
                if (parents.contains(row[0]))
                    children.insert(row[1]);
            }
            return children;
        };
        // The statement readRun picks for the level below `parents`, and the children it keeps.
        const auto below = [&](Serializer::Query inRange, Serializer::Query ofFoos, const QSet<qint64> &parents) {
            if (parents.isEmpty()) // readRun stops there
                return QSet<qint64>();
            const auto [lowest, highest] = std::minmax_element(parents.cbegin(), parents.cend());
            return Serializer::denseIds(parents.size(), *lowest, *highest) ? level(inRange, *lowest, *highest, parents)
                                                                           : level(ofFoos, low, high, parents);
        };
        const QSet<qint64> bars = level(Serializer::Bars, low, high, present);
        const QSet<qint64> zabs = below(Serializer::ZabsInRange, Serializer::ZabsOfFoos, bars);
        const QSet<qint64> bazs = below(Serializer::LinksInRange, Serializer::LinksOfFoos, zabs);
        for (qint64 baz : bazs) {
            if (!seenBazs.contains(baz)) {
                seenBazs.insert(baz);
                plan.newBazs << baz;
            }
        }
        std::sort(plan.newBazs.begin(), plan.newBazs.end());
        plans.push_back(plan);
    }
    return plans;
}

// Ids as one bound array value: [1,2] for SQLite's json_each, {1,2} for a PostgreSQL bigint[].
inline QByteArray idArray(const QList<qint64> &ids, char open, char close)
{
    QByteArray text(1, open);
    for (qint64 id : ids)
        text += QByteArray::number(id) + ',';
    if (!ids.isEmpty())
        text.chop(1);
    return text + close;
}

// Several kinds of work that take turns, one run of each per round: on a shared machine a change
// of load then hits them all alike, and their ratios hold. Median and minimum of each.
inline std::vector<Timing> measureInTurns(int repeat, const std::vector<std::function<qsizetype()>> &works)
{
    std::vector<std::vector<double>> samples(works.size());
    std::vector<Timing> timings(works.size());
    for (int i = 0; i < repeat; ++i) {
        for (size_t w = 0; w < works.size(); ++w) {
            QElapsedTimer timer;
            timer.start();
            timings[w].bytes = works[w]();
            samples[w].push_back(double(timer.nsecsElapsed()) / 1e6);
        }
    }
    for (size_t w = 0; w < works.size(); ++w) {
        std::sort(samples[w].begin(), samples[w].end());
        timings[w].medianMs = samples[w][samples[w].size() / 2];
        timings[w].minMs = samples[w].front();
    }
    return timings;
}

// One kind of work, `repeat` runs.
template <typename Work> Timing measure(int repeat, Work work)
{
    return measureInTurns(repeat, { std::function<qsizetype()>(std::move(work)) }).front();
}
