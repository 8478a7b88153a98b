// Weight histograms on each method's grid (SQ's basin and regularizer, CPQ's dropped levels greyed).
#pragma once

#include "core/snapshot.h"

#include <QList>
#include <QWidget>

#include <memory>
#include <vector>

class QCustomPlot;
class QGridLayout;

namespace sq::ui {

class HistogramPanel;

class HistogramView : public QWidget {
    Q_OBJECT

public:
    explicit HistogramView(QWidget* parent = nullptr);
    ~HistogramView() override;

    // Keeps only the latest histograms and grid of each layer.
    void addSnapshot(const std::shared_ptr<const sq::Snapshot>& snapshot);
    void clear();
    // The enlarged plot first, then one small multiple per layer in layer order.
    QList<QCustomPlot*> plots() const;

    int layerCount() const { return static_cast<int>(layers_.size()); }
    int selectedLayer() const { return selected_; }
    void setSelectedLayer(int layer);
    // The power p of the overlaid r(w; alpha, beta, p) (1 or 2; the snapshot does not carry it).
    // Only SQ layers get the curve; UniQ and CPQ have no regularizer.
    int power() const { return power_; }
    void setPower(int p);

signals:
    void selectedLayerChanged(int layer);

private:
    void rebuildSmallMultiples();
    void refresh();
    void restyle();

    std::vector<LayerSnapshot> layers_; // the latest snapshot's layers: all the history this view keeps
    int selected_ = 0;
    int power_ = 2;
    std::unique_ptr<HistogramPanel> enlarged_;
    std::vector<std::unique_ptr<HistogramPanel>> small_;
    QWidget* grid_ = nullptr;
    QGridLayout* gridLayout_ = nullptr;
};

} // namespace sq::ui
