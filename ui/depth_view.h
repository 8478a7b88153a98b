// Per-layer depth decisions live: beta and alpha over training time, decision badges, basin shares.
#pragma once

#include "ui/time_series.h"

#include <QList>
#include <QStringList>
#include <QWidget>

#include <memory>
#include <vector>

class QCPAxisRect;
class QCPBars;
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

// Top: one badge per layer with its current decision and bits ("dense1 · ternary · 2 bit"), in the
// decision colour, marked when the depth is committed. Left: beta per layer over time against the
// switch line with the ternary/binary bands, and alpha per layer below on the same time axis.
// Right: the share of each layer's weights in the negative, zero and positive basins.
class DepthView : public QWidget {
    Q_OBJECT

public:
    explicit DepthView(QWidget* parent = nullptr);

    void addSnapshot(const std::shared_ptr<const sq::Snapshot>& snapshot);
    void clear();
    QList<QCustomPlot*> plots() const;

    QStringList badgeTexts() const;
    // Where the switch line is drawn (the run's beta_switch; 3*pi/8 unless configured otherwise).
    void setBetaSwitch(double beta);

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    struct Badge {
        QLabel* label = nullptr;
        QString decision; // kept to restyle on theme changes
        bool committed = false;
    };

    void setupTimePlot();
    void setupBasinPlot();
    void setLayers(const Snapshot& snapshot);
    void updateBadges(const Snapshot& snapshot);
    void updateBasins(const Snapshot& snapshot);
    void placeSwitch();
    void styleBadge(const Badge& badge);
    void layoutBadges(bool force = false);
    void rescaleAlpha();
    void restyle();

    QWidget* badgeBox_ = nullptr;
    QGridLayout* badgeLayout_ = nullptr;
    std::vector<Badge> badges_;
    int badgeColumns_ = 0; // badges per row, as many as the width holds

    QCustomPlot* timePlot_ = nullptr;
    QCPAxisRect* betaRect_ = nullptr;
    QCPAxisRect* alphaRect_ = nullptr;
    std::vector<Curve> betas_;
    std::vector<Curve> alphas_;
    std::vector<TimeMarkers> markers_;
    QCPItemRect* ternaryBand_ = nullptr;
    QCPItemRect* binaryBand_ = nullptr;
    QCPItemText* ternaryLabel_ = nullptr;
    QCPItemText* binaryLabel_ = nullptr;
    QCPItemStraightLine* switchLine_ = nullptr;
    QCPItemText* switchLabel_ = nullptr;
    double betaSwitch_;

    QCustomPlot* basinPlot_ = nullptr;
    QCPBars* negative_ = nullptr;
    QCPBars* zero_ = nullptr;
    QCPBars* positive_ = nullptr;
    std::vector<QCPItemText*> shareLabels_; // three per layer, inside the bar segments

    QStringList layerNames_;
};

} // namespace sq::ui
