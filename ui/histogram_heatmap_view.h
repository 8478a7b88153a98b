// Each layer's weight histogram over training time as a heat map (time x weight, colour = density).
#pragma once

#include "core/snapshot.h"

#include <QList>
#include <QWidget>

#include <memory>
#include <string>
#include <vector>

class QCPColorMap;
class QCPColorScale;
class QCPGraph;
class QCPItemLine;
class QCPItemStraightLine;
class QCPItemText;
class QCPTextElement;
class QComboBox;
class QCustomPlot;

namespace sq::ui {

// One layer's histograms over time, resampled onto a fixed grid of `rows` weight values whose range
// grows to cover every histogram seen. At most `maxColumns` columns: when full, adjacent columns are
// merged pairwise, so a long run costs bounded memory and keeps its early history at a coarser step.
class HistogramHistory {
public:
    struct Column {
        double firstTime = 0.0; // epochsElapsed of the first and last snapshot merged into it
        double lastTime = 0.0;
        int snapshots = 0;
        float alpha = 0.0f;         // at lastTime
        std::vector<float> counts; // weights per row, rows() entries, lowest weight value first
    };

    explicit HistogramHistory(int rows = 96, int maxColumns = 600);

    // A snapshot at a time not after the last one replaces the last column's picture.
    void add(double time, const Histogram& histogram, float alpha);
    void clear();

    int rows() const { return rows_; }
    int maxColumns() const { return maxColumns_; }
    const std::vector<Column>& columns() const { return columns_; }
    bool empty() const { return columns_.empty(); }
    double lo() const { return lo_; } // edges of the weight grid
    double hi() const { return hi_; }
    double timeStart() const { return columns_.empty() ? 0.0 : columns_.front().firstTime; }
    double timeEnd() const { return columns_.empty() ? 0.0 : columns_.back().lastTime; }

    // Adds `counts` over [lo, hi] in equal bins to `out` (rows() entries) by overlap, keeping the total.
    static void resample(const float* counts, int bins, double lo, double hi, double gridLo, double gridHi,
                         std::vector<float>& out);

private:
    void grow(double lo, double hi);
    void mergePairs();

    int rows_;
    int maxColumns_;
    double lo_ = 0.0;
    double hi_ = 0.0;
    std::vector<Column> columns_;
};

class HistogramHeatmapView : public QWidget {
    Q_OBJECT

public:
    explicit HistogramHeatmapView(QWidget* parent = nullptr);
    ~HistogramHeatmapView() override;

    void addSnapshot(const std::shared_ptr<const sq::Snapshot>& snapshot);
    void clear();
    QList<QCustomPlot*> plots() const;

    int layerCount() const { return static_cast<int>(histories_.size()); }
    int selectedLayer() const { return selected_; }
    void setSelectedLayer(int layer);
    const HistogramHistory* history(int layer) const; // null when out of range

signals:
    void selectedLayerChanged(int layer);

private:
    void rebuildSelector();
    void updateAxes();
    void updateLevelTicks();
    void fillColorMap(); // the expensive part, done once per replot rather than per snapshot
    void restyle();

    std::vector<HistogramHistory> histories_;
    std::vector<std::string> names_;
    std::vector<QString> decisions_; // latest decision per layer
    std::vector<std::vector<float>> levels_; // latest grid per layer (UniQ and CPQ: ticks at the right edge)
    std::vector<bool> sqLayers_;             // SQ's alpha lines are "±α"; the others' the outermost levels
    double commitStart_ = -1.0;      // epochs, once the commit phase has begun
    int selected_ = 0;
    bool dirty_ = false;

    QComboBox* selector_ = nullptr;
    QCustomPlot* plot_ = nullptr;
    QCPTextElement* title_ = nullptr;
    QCPColorMap* map_ = nullptr;
    QCPColorScale* scale_ = nullptr;
    QCPGraph* alphaLines_[2] = {};    // +alpha, -alpha
    QCPGraph* alphaOutlines_[2] = {}; // wider lines in the background colour, for contrast on any cell
    std::vector<QCPItemLine*> levelTicks_; // the selected layer's current levels, at the latest time
    QCPGraph* levelLegend_ = nullptr;      // legend entry for the ticks
    QCPItemStraightLine* commitLine_ = nullptr;
    QCPItemText* commitLabel_ = nullptr;
};

} // namespace sq::ui
