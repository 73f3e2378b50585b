#include "segmentedline.h"

#include <QChart>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>

SegmentedLine::SegmentedLine(const QString &name, QChart *chart)
    : QObject(chart)
    , m_chart(chart)
{
    addSeries()->setName(name);
}

QLineSeries *SegmentedLine::addSeries()
{
    auto *series = new QLineSeries(m_chart);
    m_chart->addSeries(series);
    series->setMarkerSize(3);
    for (QAbstractAxis *axis : std::as_const(m_axes))
        series->attachAxis(axis);
    if (!m_series.isEmpty()) {
        // The chart's theme gave it a colour of its own; it is the same line.
        series->setPen(legendSeries()->pen());
        for (QLegendMarker *marker : m_chart->legend()->markers(series))
            marker->setVisible(false);
    }
    m_series.append(series);
    return series;
}

void SegmentedLine::attachAxes(QAbstractAxis *time, QAbstractAxis *value)
{
    m_axes = { time, value };
    for (QLineSeries *series : std::as_const(m_series)) {
        series->attachAxis(time);
        series->attachAxis(value);
    }
}

void SegmentedLine::setSegments(const QList<QList<QPointF>> &segments)
{
    while (m_series.size() < segments.size())
        addSeries();
    for (qsizetype i = 0; i < m_series.size(); ++i) {
        const QList<QPointF> points = i < segments.size() ? segments.at(i) : QList<QPointF>();
        // A line needs two points: a lone busy second between gaps is drawn as a dot.
        m_series.at(i)->setPointsVisible(points.size() == 1);
        m_series.at(i)->replace(points);
    }
}

QList<QList<QPointF>> SegmentedLine::segments() const
{
    QList<QList<QPointF>> drawn;
    for (const QLineSeries *series : m_series) {
        if (series->count() > 0)
            drawn.append(series->points());
    }
    return drawn;
}
