#include "samplewindow.h"

#include <algorithm>
#include <cmath>

SampleWindow::SampleWindow(int seconds)
    : m_seconds(std::max(1, seconds))
{
}

void SampleWindow::advance(std::optional<double> value)
{
    m_values.append(value);
    // Ages 0 … m_seconds: the oldest point sits on the chart's left edge.
    if (m_values.size() > m_seconds + 1)
        m_values.removeFirst();
}

void SampleWindow::clear()
{
    m_values.clear();
}

QList<QList<QPointF>> SampleWindow::segments() const
{
    QList<QList<QPointF>> runs;
    bool inRun = false;
    const qsizetype newest = m_values.size() - 1;
    for (qsizetype i = 0; i < m_values.size(); ++i) {
        const std::optional<double> &value = m_values.at(i);
        if (!value) {
            inRun = false;
            continue;
        }
        if (!inRun)
            runs.append(QList<QPointF>());
        runs.last().append(QPointF(double(i - newest), *value));
        inRun = true;
    }
    return runs;
}

double SampleWindow::peak() const
{
    double largest = 0;
    for (const std::optional<double> &value : m_values)
        largest = std::max(largest, value.value_or(0.0));
    return largest;
}

double SampleWindow::roundCeiling(double smallest) const
{
    const double value = peak();
    double step = smallest;
    for (int decade = 0; decade < 30; ++decade, step *= 10) {
        for (const double factor : { 1.0, 2.0, 5.0 }) {
            if (value <= step * factor)
                return step * factor;
        }
    }
    return value;
}

double SampleWindow::decadeCeiling(double smallest) const
{
    const double value = peak();
    return value <= smallest ? smallest : std::pow(10.0, std::ceil(std::log10(value)));
}
