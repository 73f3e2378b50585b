#pragma once

#include <QList>
#include <QObject>
#include <QPointF>

class QAbstractAxis;
class QChart;
class QLineSeries;

// One line of a chart that may have gaps: a QLineSeries per segment, as Qt 6.4's QLineSeries joins
// every point to the next. The first series names the line in the legend; the others take its pen
// and stay out of the legend. Series are reused, never deleted: a minute holds at most 31 segments.
class SegmentedLine : public QObject {
    Q_OBJECT

public:
    SegmentedLine(const QString &name, QChart *chart);

    // The time and value axes every segment is drawn against; the chart must already have them.
    void attachAxes(QAbstractAxis *time, QAbstractAxis *value);
    void setSegments(const QList<QList<QPointF>> &segments);
    // The series that stands for the line in the legend (and carries its pen).
    QLineSeries *legendSeries() const { return m_series.constFirst(); }
    // What is drawn: the points of every non-empty series.
    QList<QList<QPointF>> segments() const;

private:
    QLineSeries *addSeries();

    QChart *m_chart;
    QList<QAbstractAxis *> m_axes;
    QList<QLineSeries *> m_series; // owned by the chart; the first is in the legend
};
