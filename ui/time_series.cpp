#include "ui/time_series.h"

#include "core/snapshot.h"
#include "ui/theme.h"

#include <qcustomplot.h>

#include <algorithm>

namespace sq::ui {

TimeSeries::TimeSeries(int capacity)
    : capacity_(std::max(2, capacity - capacity % 2)) // even, so halving leaves no odd point out
{
    x_.reserve(capacity_);
    y_.reserve(capacity_);
}

void TimeSeries::append(double x, double y)
{
    if (!x_.isEmpty() && x < x_.back()) // the point replaces any at the same time
        truncate(static_cast<int>(std::lower_bound(x_.begin(), x_.end(), x) - x_.begin()));
    if (pending_ > 0) {
        // Fold into the bucket being filled: its stored point is the running mean.
        pendingX_ += x;
        pendingY_ += y;
        ++pending_;
        x_.back() = pendingX_ / pending_;
        y_.back() = pendingY_ / pending_;
    } else {
        x_.push_back(x);
        y_.push_back(y);
        pending_ = 1;
        pendingX_ = x;
        pendingY_ = y;
    }
    if (pending_ < stride_)
        return;
    pending_ = 0;
    if (size() >= capacity_)
        halve();
}

void TimeSeries::dropAfter(double x)
{
    truncate(static_cast<int>(std::upper_bound(x_.begin(), x_.end(), x) - x_.begin()));
}

void TimeSeries::truncate(int keep)
{
    x_.resize(keep);
    y_.resize(keep);
    pending_ = 0; // a bucket cut short is kept as it stands
}

void TimeSeries::halve()
{
    const int half = size() / 2;
    for (int i = 0; i < half; ++i) {
        x_[i] = 0.5 * (x_[2 * i] + x_[2 * i + 1]);
        y_[i] = 0.5 * (y_[2 * i] + y_[2 * i + 1]);
    }
    x_.resize(half);
    y_.resize(half);
    stride_ *= 2;
}

void TimeSeries::clear()
{
    x_.clear();
    y_.clear();
    stride_ = 1;
    pending_ = 0;
}

void TimeSeries::showIn(QCPGraph* graph) const { graph->setData(x_, y_, true); }

void Curve::add(double x, double y)
{
    series.append(x, y);
    series.showIn(graph);
}

void Curve::dropAfter(double x)
{
    series.dropAfter(x);
    series.showIn(graph);
}

void Curve::clear()
{
    series.clear();
    graph->data()->clear();
}

void placeOn(QCPItemPosition* position, QCPAxisRect* rect, bool plotX, bool plotY, double x, double y)
{
    position->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    position->setAxisRect(rect);
    position->setTypeX(plotX ? QCPItemPosition::ptPlotCoords : QCPItemPosition::ptAxisRectRatio);
    position->setTypeY(plotY ? QCPItemPosition::ptPlotCoords : QCPItemPosition::ptAxisRectRatio);
    position->setCoords(x, y);
}

void useDefaultLayers(QCPAxisRect* rect)
{
    rect->setLayer(QStringLiteral("background"));
    for (QCPAxis* axis : rect->axes()) {
        axis->setLayer(QStringLiteral("axes"));
        axis->grid()->setLayer(QStringLiteral("grid"));
    }
}

QString marksLayer(QCustomPlot* plot)
{
    // A layer of its own rather than "grid": in "grid", grids created later would draw over the marks.
    const QString name = QStringLiteral("marks");
    if (!plot->layer(name))
        plot->addLayer(name, plot->layer(QStringLiteral("grid")), QCustomPlot::limAbove);
    return name;
}

QString eventLabel(const ControlEvent& event)
{
    QString name = QString::fromStdString(event.parameter);
    if (name == QLatin1String("lambda"))
        name = QStringLiteral("λ");
    else if (name == QLatin1String("gamma"))
        name = QStringLiteral("γ");
    else if (name == QLatin1String("mu"))
        name = QStringLiteral("μ");
    return QStringLiteral("%1 %2→%3").arg(name, QString::number(event.from, 'g', 3), QString::number(event.to, 'g', 3));
}

namespace {

QCPItemText* makeLabel(QCPAxisRect* rect)
{
    auto* text = new QCPItemText(rect->parentPlot());
    text->setClipAxisRect(rect);
    text->setLayer(QStringLiteral("main"));
    text->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
    text->setPadding(QMargins(4, 2, 4, 2));
    text->setSelectable(false);
    return text;
}

} // namespace

TimeMarkers::TimeMarkers(QCPAxisRect* rect, bool labels)
    : rect_(rect)
    , labels_(labels)
{
    QCustomPlot* plot = rect->parentPlot();
    commit_ = new QCPItemRect(plot);
    commit_->setObjectName(QStringLiteral("commitShade"));
    commit_->setClipAxisRect(rect);
    // Below the curves, above the rect's background.
    commit_->setLayer(marksLayer(plot));
    commit_->setSelectable(false);
    commit_->setVisible(false);
    placeOn(commit_->topLeft, rect, true, false, 0.0, 0.0);
    placeOn(commit_->bottomRight, rect, true, false, 0.0, 1.0);

    commitLabel_ = makeLabel(rect);
    commitLabel_->setText(QStringLiteral("commit"));
    commitLabel_->setVisible(false);
    placeOn(commitLabel_->position, rect, true, false, 0.0, 0.0);
    restyle();
}

void TimeMarkers::update(const Snapshot& snapshot)
{
    const bool commit = snapshot.commitStartEpoch < snapshot.epochs;
    commit_->setVisible(commit);
    commitLabel_->setVisible(commit && labels_);
    if (commit) {
        commit_->topLeft->setCoords(snapshot.commitStartEpoch, 0.0);
        commit_->bottomRight->setCoords(snapshot.epochs, 1.0);
        commitLabel_->position->setCoords(snapshot.commitStartEpoch, 0.0);
    }

    QCustomPlot* plot = rect_->parentPlot();
    const Theme& theme = Theme::instance();
    for (std::size_t i = marks_.size(); i < snapshot.events.size(); ++i) {
        const ControlEvent& event = snapshot.events[i];
        Mark mark;
        mark.line = new QCPItemStraightLine(plot);
        mark.line->setObjectName(QStringLiteral("eventMarker"));
        mark.line->setClipAxisRect(rect_);
        mark.line->setLayer(marksLayer(plot));
        mark.line->setSelectable(false);
        mark.line->setPen(QPen(theme.eventColor(), 1.2, Qt::DashLine));
        placeOn(mark.line->point1, rect_, true, false, event.epochsElapsed, 0.0);
        placeOn(mark.line->point2, rect_, true, false, event.epochsElapsed, 1.0);
        if (labels_) {
            mark.label = makeLabel(rect_);
            mark.label->setText(eventLabel(event));
            mark.label->setColor(theme.eventColor());
            mark.label->setFont(theme.font(-2));
            // Changes close together would print on top of each other: step them down in turn.
            const double row = static_cast<double>(i % 3);
            placeOn(mark.label->position, rect_, true, false, event.epochsElapsed, 0.01 + 0.09 * row);
        }
        marks_.push_back(mark);
    }
}

void TimeMarkers::clear()
{
    QCustomPlot* plot = rect_->parentPlot();
    for (const Mark& mark : marks_) {
        plot->removeItem(mark.line);
        if (mark.label)
            plot->removeItem(mark.label);
    }
    marks_.clear();
    commit_->setVisible(false);
    commitLabel_->setVisible(false);
}

void TimeMarkers::restyle()
{
    const Theme& theme = Theme::instance();
    commit_->setPen(Qt::NoPen);
    commit_->setBrush(QBrush(theme.commitShade()));
    commitLabel_->setColor(theme.subtle());
    commitLabel_->setFont(theme.font(-2));
    for (const Mark& mark : marks_) {
        mark.line->setPen(QPen(theme.eventColor(), 1.2, Qt::DashLine));
        if (mark.label) {
            mark.label->setColor(theme.eventColor());
            mark.label->setFont(theme.font(-2));
        }
    }
}

} // namespace sq::ui
