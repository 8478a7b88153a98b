// The accuracy-memory frontier: quantized test accuracy against model size over every loaded run,
// one labelled marker per run coloured and shaped by its method, float runs as reference lines.
#pragma once

#include "ui/run_comparison.h"

#include <QList>
#include <QWidget>

class QCPItemStraightLine;
class QCPItemText;
class QCPItemTracer;
class QCustomPlot;

namespace sq::ui {

class FrontierView : public QWidget {
    Q_OBJECT

public:
    explicit FrontierView(QWidget* parent = nullptr);

    void setRuns(const QList<ComparedRun>& runs);
    void clear();
    QCustomPlot* plot() const { return plot_; }

    // What is drawn, for tests and the CLI's table.
    struct Marker {
        QString label;
        MethodFamily family;
        double modelBits;
        double accuracyPercent;
    };
    const QList<Marker>& markers() const { return markers_; }
    QList<double> referenceLines() const; // float runs' accuracies (%), one per float run

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    void restyle();
    void placeLabels();

    QCustomPlot* plot_;
    QList<Marker> markers_;
    QList<QCPItemTracer*> anchors_; // at each marker, in plot coordinates
    QList<QCPItemText*> labels_;    // offset from their anchor in pixels (placeLabels)
    QList<QCPItemStraightLine*> floatLines_;
    QList<QCPItemText*> floatLabels_;
    QList<double> floatAccuracies_;
};

} // namespace sq::ui
