// Live training metrics over training time: loss, train/test accuracy, lambda and gamma, stacked.
#pragma once

#include "ui/time_series.h"

#include <QList>
#include <QWidget>

#include <string>

#include <memory>
#include <vector>

class QCheckBox;
class QCPAxisRect;
class QCPLegend;
class QCustomPlot;
class QLabel;

namespace sq {
struct Snapshot;
}

namespace sq::ui {

// Three plots stacked on one shared time axis (one QCustomPlot, so an export keeps them aligned):
// (a) cross-entropy and regularizer, (b) train accuracy and the test accuracies with float and
// quantized weights, one point per evaluated epoch, (c) lambda (left, log) and gamma (right, log),
// each axis in its curve's colour.
class MetricsView : public QWidget {
    Q_OBJECT

public:
    explicit MetricsView(QWidget* parent = nullptr);

    void addSnapshot(const std::shared_ptr<const sq::Snapshot>& snapshot);
    void clear();
    QList<QCustomPlot*> plots() const;

    void setLossLogScale(bool on);
    bool lossLogScale() const;

private:
    QCPAxisRect* addRect(int row);
    void restyle();
    void applyMode(const std::string& mode);
    void rescale();

    QLabel* info_ = nullptr;
    QCheckBox* logLoss_ = nullptr;
    QCustomPlot* plot_ = nullptr;
    QCPAxisRect* lossRect_ = nullptr;
    QCPAxisRect* accuracyRect_ = nullptr;
    QCPAxisRect* controlRect_ = nullptr;
    QCPLegend* accuracyLegend_ = nullptr;

    Curve crossEntropy_;
    Curve regularizer_;
    Curve trainAccuracy_;
    Curve testFloat_;
    Curve testQuantized_;
    Curve lambda_;
    Curve gamma_;
    std::vector<TimeMarkers> markers_; // one per rect, labels on the top one
    int evaluatedEpochs_ = 0;
    std::string mode_; // the method the labels and the control curves are set up for
    double timeSpan_ = 1.0; // epochs the time axis covers: the run's length, or more if it ran over
};

} // namespace sq::ui
