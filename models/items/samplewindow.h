#pragma once

#include <QList>
#include <QPointF>

#include <optional>

// The last minute (or `seconds`) of a measurement taken once a second, as a chart draws it. A
// second without a value (the server idle or stopped) is a gap: nothing claims 0 % for it, and as
// Qt 6.4's QLineSeries joins every point to the next, the runs between gaps come out as separate
// segments. The axis maxima follow what is still in the window, so a burst's scale leaves with it.
class SampleWindow {
public:
    explicit SampleWindow(int seconds = 60);

    // One second passed; `value` is what it measured, or nothing.
    void advance(std::optional<double> value);
    void clear();

    // Runs of consecutive measured seconds, oldest first; x is the age in seconds, negated (the
    // newest second at 0, the oldest at -seconds).
    QList<QList<QPointF>> segments() const;
    // The largest value in the window; 0 when there is none.
    double peak() const;
    // 1, 2 or 5 times a power of ten at or above peak() and at least `smallest`: round labels on a
    // linear axis.
    double roundCeiling(double smallest) const;
    // The power of ten at or above peak() (what a log axis labels), or `smallest` when that is more.
    double decadeCeiling(double smallest) const;

private:
    int m_seconds;
    QList<std::optional<double>> m_values; // oldest first, ages m_seconds … 0
};
