// Per-layer decisions live for every method: badges with bits, each method's grid parameters over time, shares.
#pragma once

#include "ui/time_series.h"

#include <QList>
#include <QStringList>
#include <QWidget>

#include <memory>
#include <vector>

class QCPAxis;
class QCPAxisRect;
class QCPBars;
class QCPGraph;
class QCPItemRect;
class QCPItemStraightLine;
class QCPItemText;
class QCustomPlot;
class QGridLayout;
class QLabel;
class QResizeEvent;

namespace sq {
struct Snapshot;
}

namespace sq::ui {

// Top: one badge per layer with its current decision and bits ("dense1 · ternary · 2 bit",
// "dense2 · 3-bit"), in the colour of its bit-width, marked when the depth is committed.
// Left, two plots on one time axis, by method:
//   SQ:   beta per layer against the switch line with the ternary/binary bands; alpha below.
//   CPQ:  P(keep) of each layer's bit groups 3..B (colour = layer, dash = group) against the 0.5
//         threshold that decides the bit-length at commit; the grid step s below.
//   UniQ: the bits are fixed, so what moves is the step Delta, and how well the grid fits the
//         weights: Delta per layer, and the quantization error below.
// Right: the share of each layer's weights quantized to negative, zero and positive levels.
class DepthView : public QWidget {
    Q_OBJECT

public:
    explicit DepthView(QWidget* parent = nullptr);

    void addSnapshot(const std::shared_ptr<const sq::Snapshot>& snapshot);
    void clear();
    QList<QCustomPlot*> plots() const;

    QStringList badgeTexts() const;
    // CPQ's keep-probability curves, layer by layer and group 3..B within a layer (empty otherwise).
    QList<QCPGraph*> keepProbabilityGraphs() const;
    // Where the switch line is drawn (the run's beta_switch; 3*pi/8 unless configured otherwise).
    void setBetaSwitch(double beta);

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    enum class Method { Sq, Uniq, Cpq };

    struct Badge {
        QLabel* label = nullptr;
        QString decision; // kept to restyle on theme changes
        bool committed = false;
    };

    void setupTimePlot();
    void setupBasinPlot();
    void setLayers(const Snapshot& snapshot);
    void showMethod(); // the items, axis labels and ranges of method_
    void updateBadges(const Snapshot& snapshot);
    void updateBasins(const Snapshot& snapshot);
    void placeSwitch();
    void styleBadge(const Badge& badge);
    void layoutBadges(bool force = false);
    void rescale(const std::vector<Curve>& curves, QCPAxis* axis, double empty);
    void restyle();

    QWidget* badgeBox_ = nullptr;
    QGridLayout* badgeLayout_ = nullptr;
    std::vector<Badge> badges_;
    int badgeColumns_ = 0; // badges per row, as many as the width holds

    QCustomPlot* timePlot_ = nullptr;
    QCPAxisRect* betaRect_ = nullptr;
    QCPAxisRect* alphaRect_ = nullptr;
    Method method_ = Method::Sq;
    // Per layer: the top plot's curve (SQ's beta, UniQ's Delta; CPQ: the layer's legend entry only)
    // and the bottom plot's (SQ's alpha, UniQ's quantization error, CPQ's step s).
    std::vector<Curve> betas_;
    std::vector<Curve> alphas_;
    std::vector<std::vector<Curve>> keeps_; // CPQ: per layer, per group 3..B
    std::vector<QCPGraph*> groupLegend_;    // CPQ: legend-only entries for the groups' dash styles
    std::vector<TimeMarkers> markers_;
    QCPItemRect* ternaryBand_ = nullptr;
    QCPItemRect* binaryBand_ = nullptr;
    QCPItemText* ternaryLabel_ = nullptr;
    QCPItemText* binaryLabel_ = nullptr;
    QCPItemStraightLine* switchLine_ = nullptr;
    QCPItemText* switchLabel_ = nullptr;
    double betaSwitch_;
    QCPItemRect* droppedBand_ = nullptr; // CPQ: below the keep threshold
    QCPItemText* keptLabel_ = nullptr;
    QCPItemText* droppedLabel_ = nullptr;
    QCPItemStraightLine* keepLine_ = nullptr;
    QCPItemText* keepLabel_ = nullptr;

    QCustomPlot* basinPlot_ = nullptr;
    QCPBars* negative_ = nullptr;
    QCPBars* zero_ = nullptr;
    QCPBars* positive_ = nullptr;
    std::vector<QCPItemText*> shareLabels_; // three per layer, inside the bar segments

    QStringList layerNames_;
};

} // namespace sq::ui
