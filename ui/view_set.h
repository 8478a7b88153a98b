// The explorer's views as one set: built together, fed the same snapshots, cleared together and
// exported together. The window docks them; `sq-train --plots` lays them out off screen.
#pragma once

#include "core/snapshot.h"

#include <QList>
#include <QString>

#include <memory>

class QWidget;

namespace sq::ui {

class DepthView;
class HistogramHeatmapView;
class HistogramView;
class MemoryView;
class MetricsView;
class RegularizerView;

// A view under the name its exported files carry.
struct Figure {
    QString name;  // file stem: "histograms", "depth", ...
    QString title; // what the window's dock calls it
    QWidget* view = nullptr;
};

class ViewSet {
public:
    // The views are created as children of `parent` (nullptr: whoever docks them owns them).
    explicit ViewSet(QWidget* parent = nullptr);

    void addSnapshot(const std::shared_ptr<const Snapshot>& snapshot);
    void clear();
    // Follows the layer selected in the histograms in the heat map and the regularizer explorer.
    void selectLayer(int layer);
    const std::shared_ptr<const Snapshot>& latest() const { return latest_; }

    QList<Figure> figures() const;

    HistogramView* const histograms;
    HistogramHeatmapView* const heatmap;
    DepthView* const depth;
    MetricsView* const metrics;
    MemoryView* const memory;
    RegularizerView* const regularizer;

private:
    std::shared_ptr<const Snapshot> latest_;
};

} // namespace sq::ui
