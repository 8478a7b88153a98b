// Loaded runs overlaid for comparison: test accuracy (quantized and float), model size and loss
// over the epochs, one colour per run and a legend naming each run by method and key settings.
#pragma once

#include "ui/run_comparison.h"

#include <QList>
#include <QWidget>

class QCPAxisRect;
class QCPGraph;
class QCPLegend;
class QCustomPlot;

namespace sq::ui {

class CompareView : public QWidget {
    Q_OBJECT

public:
    explicit CompareView(QWidget* parent = nullptr);

    void setRuns(const QList<ComparedRun>& runs);
    void clear();
    QCustomPlot* plot() const { return plot_; }

    enum class Panel { Accuracy, ModelBits, Loss };
    // The curves of one panel (accuracy: quantized then float per run; loss: train then test).
    QList<QCPGraph*> curves(Panel panel) const;
    int runCount() const { return runCount_; }

private:
    void restyle();
    QCPAxisRect* rect(Panel panel) const;

    QCustomPlot* plot_;
    QCPAxisRect* accuracy_;
    QCPAxisRect* bits_;
    QCPAxisRect* loss_;
    QCPLegend* legend_;
    int runCount_ = 0;
};

} // namespace sq::ui
