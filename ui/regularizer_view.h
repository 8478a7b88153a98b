// Interactive teaching plot of the SQ regularizer r(w; alpha, beta, p), and its shared curve sampler.
#pragma once

#include "core/quant/quant_method.h"
#include "core/snapshot.h"

#include <QColor>
#include <QList>
#include <QVector>
#include <QWidget>

#include <memory>
#include <string>

class QCPGraph;
class QCPItemRect;
class QCPItemStraightLine;
class QCPItemText;
class QCPTextElement;
class QCheckBox;
class QComboBox;
class QCustomPlot;
class QDoubleSpinBox;
class QLabel;
class QSlider;

namespace sq::ui {

// r(w; alpha, beta, p) = min(| |w| - alpha |^p, tan(beta) |w|^p) of SPEC §1; closedZeroBasin gives
// the committed binary shape | |w| - alpha |^p.
double sqRegularizerValue(double w, double alpha, double beta, int p, bool closedZeroBasin = false);

// r over [from, to] at `samples` even steps plus the kinks (0, ±Delta, ±alpha) inside the range, so
// the drawn curve is exact where it bends; every value divided by `divisor`.
void sampleRegularizer(double alpha, double beta, int p, bool closedZeroBasin, double from, double to, int samples,
                       double divisor, QVector<double>& keys, QVector<double>& values);

// The translucent fill of the zero basin |w| < Delta, the same in every view.
QColor zeroBasinShade();

class RegularizerView : public QWidget {
    Q_OBJECT

public:
    static constexpr double kAlphaMin = 0.05;
    static constexpr double kAlphaMax = 2.0;

    explicit RegularizerView(QWidget* parent = nullptr);

    // Follows the layer last passed to showLayer() until the user moves a control.
    void addSnapshot(const std::shared_ptr<const sq::Snapshot>& snapshot);
    // Back to the defaults (alpha 1, beta pi/4, p 2), following no layer.
    void clear();
    QList<QCustomPlot*> plots() const;

    // Loads a layer's alpha and beta (and its closed basin when committed binary) into the controls.
    void showLayer(const sq::LayerQuantState& layer);

    double alpha() const { return alpha_; }
    double beta() const { return beta_; }
    int power() const { return p_; }
    double gamma() const { return gamma_; }
    bool closedZeroBasin() const { return closed_; }
    double delta() const; // Delta(alpha, beta, p), 0 when the basin is closed
    bool ternary() const; // beta < beta_switch
    QString explanation() const;

    void setAlpha(double alpha); // any alpha > 0; the slider shows it clamped to [kAlphaMin, kAlphaMax]
    void setBeta(double beta);   // clamped to [pi/4, pi/2 - 1e-3]
    void setPower(int p);        // 1 or 2
    void setGamma(double gamma);
    void setClosedZeroBasin(bool closed);

private:
    void buildControls();
    void syncControls();
    void controlChanged(); // the user moved a control: stop following a layer, redraw
    void refresh();
    void restyle();

    double alpha_ = 1.0;
    double beta_ = 0.0;
    int p_ = 2;
    double gamma_ = 3e-3;
    bool closed_ = false;
    std::string followed_;  // layer name tracked by addSnapshot(); empty: none
    QString shownLayer_;    // its name as shown in the explanation
    bool syncing_ = false;  // controls being set from code, not by the user

    QCustomPlot* plot_ = nullptr;
    QCPTextElement* title_ = nullptr;
    QCPGraph* curve_ = nullptr;
    QCPGraph* minima_ = nullptr;
    QCPGraph* basinLegend_ = nullptr;
    QCPItemRect* basin_ = nullptr;
    QCPItemStraightLine* deltaLines_[2] = {};
    QCPItemText* deltaLabels_[2] = {};
    QSlider* alphaSlider_ = nullptr;
    QSlider* betaSlider_ = nullptr;
    QComboBox* powerBox_ = nullptr;
    QDoubleSpinBox* gammaBox_ = nullptr;
    QCheckBox* closedBox_ = nullptr;
    QLabel* alphaLabel_ = nullptr;
    QLabel* betaLabel_ = nullptr;
    QLabel* gammaLabel_ = nullptr;
    QLabel* explanation_ = nullptr;
};

} // namespace sq::ui
