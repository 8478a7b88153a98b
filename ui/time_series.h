// Bounded x/y series for live plots, and the marks every training-time plot carries (commit, live changes).
#pragma once

#include <QString>
#include <QVector>

#include <vector>

class QCPAxisRect;
class QCPGraph;
class QCPItemRect;
class QCPItemStraightLine;
class QCPItemPosition;
class QCPItemText;
class QCustomPlot;

namespace sq {
struct ControlEvent;
struct Snapshot;
} // namespace sq

namespace sq::ui {

// An x/y series that never holds more than `capacity` points. When full it averages neighbouring
// pairs and from then on averages every `stride()` incoming points into one, so a long run keeps
// an evenly dense, bounded curve instead of dropping its beginning. The newest bucket is shown
// while it fills (its running mean), so the curve's end stays live. A point earlier than the last
// one (the run went back to an earlier state after a divergence) first drops the points at and
// after its time: the curve shows the run as it now stands.
class TimeSeries {
public:
    static constexpr int kDefaultCapacity = 4000;

    explicit TimeSeries(int capacity = kDefaultCapacity);

    void append(double x, double y);
    void dropAfter(double x); // the points after x go
    void clear();

    int size() const { return static_cast<int>(x_.size()); }
    bool isEmpty() const { return x_.isEmpty(); }
    int capacity() const { return capacity_; }
    int stride() const { return stride_; } // incoming points per stored point
    const QVector<double>& xs() const { return x_; }
    const QVector<double>& ys() const { return y_; }

    // Copies the points into `graph` (sorted by x: see append).
    void showIn(QCPGraph* graph) const;

private:
    void halve();
    void truncate(int keep);

    int capacity_;
    int stride_ = 1;
    QVector<double> x_;
    QVector<double> y_;
    // The bucket being filled (the last stored point) while stride_ > 1.
    int pending_ = 0;
    double pendingX_ = 0.0;
    double pendingY_ = 0.0;
};

// A plotted series: the bounded points and the graph showing them.
struct Curve {
    QCPGraph* graph = nullptr;
    TimeSeries series;

    void add(double x, double y); // appends and refreshes the graph's data
    void dropAfter(double x);
    void clear();
};

// Puts an item position on `rect`: each coordinate either in plot units of the rect's bottom/left
// axes (plotX/plotY) or as a fraction of the rect (0 = left/top, 1 = right/bottom). Mixing the two
// draws spans that follow the data in one direction and fill the rect in the other, on log axes too.
void placeOn(QCPItemPosition* position, QCPAxisRect* rect, bool plotX, bool plotY, double x, double y);

// Puts a rect added after construction on the layers QCustomPlot gives its own first rect (its
// background at the bottom, grids on "grid", axes on "axes"); otherwise all of it lands on the
// current layer, "main", and its background and grid would cover the shading and marks.
void useDefaultLayers(QCPAxisRect* rect);

// The layer for shading and marks: above the grid, below the curves. Created on first use.
QString marksLayer(QCustomPlot* plot);

// Short label of a live change for a plot, e.g. "λ 1→3", "lr 0.001→0.0003".
QString eventLabel(const ControlEvent& event);

// The commit phase shaded and every live change marked (dashed line, short label) on one axis rect
// whose x axis is training time. In a stack of rects sharing x, only the top one needs the labels.
class TimeMarkers {
public:
    explicit TimeMarkers(QCPAxisRect* rect, bool labels = true);

    // Follows the snapshot's commit span and adds the events not yet marked (events only accumulate).
    void update(const Snapshot& snapshot);
    void clear();
    void restyle(); // after a theme change

private:
    struct Mark {
        QCPItemStraightLine* line = nullptr;
        QCPItemText* label = nullptr;
    };

    QCPAxisRect* rect_;
    bool labels_;
    QCPItemRect* commit_ = nullptr;
    QCPItemText* commitLabel_ = nullptr;
    std::vector<Mark> marks_;
};

} // namespace sq::ui
