#include "ui/metrics_view.h"
#include "ui/plot_refresh.h"

#include "core/snapshot.h"
#include "ui/theme.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <initializer_list>

namespace sq::ui {

namespace {

// Theme::applyTo styles only the plot's main legend; the stacked rects carry their own.
void styleLegend(QCPLegend* legend)
{
    const Theme& theme = Theme::instance();
    legend->setFont(theme.font(-1));
    legend->setTextColor(theme.foreground());
    legend->setBrush(QBrush(theme.background()));
    legend->setBorderPen(QPen(theme.gridColor()));
}

void styleLine(QCPGraph* graph, const QColor& color)
{
    graph->setPen(QPen(color, Theme::instance().lineWidth()));
}

void stylePoints(QCPGraph* graph, const QColor& color)
{
    const double width = Theme::instance().lineWidth();
    graph->setPen(QPen(color, width));
    graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(color, width), QBrush(color), 3.5 * width + 2));
}

// Joint value range of some graphs; positive values only for log axes.
QCPRange valueRange(std::initializer_list<const Curve*> curves, bool positive, bool& found)
{
    QCPRange range;
    found = false;
    for (const Curve* curve : curves) {
        bool ok = false;
        const QCPRange r = curve->graph->getValueRange(ok, positive ? QCP::sdPositive : QCP::sdBoth);
        if (!ok)
            continue;
        range = found ? QCPRange(std::min(range.lower, r.lower), std::max(range.upper, r.upper)) : r;
        found = true;
    }
    return range;
}

// A log axis over whole decades around positive data, so its ticks fall on powers of ten and
// read at a glance; a margin keeps values off the frame.
void setLogRange(QCPAxis* axis, const QCPRange& range, bool found)
{
    if (!found) {
        axis->setRange(0.1, 10.0);
        return;
    }
    const double lo = std::pow(10.0, std::floor(std::log10(range.lower / 1.5)));
    const double hi = std::pow(10.0, std::ceil(std::log10(range.upper * 1.5)));
    // At least two decades: within one, the log ticker labels crowded intermediate values.
    axis->setRange(lo, std::max(hi, 100.0 * lo));
}

void setLogScale(QCPAxis* axis, bool on)
{
    axis->setScaleType(on ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (on)
        axis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    else
        axis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
}

} // namespace

MetricsView::MetricsView(QWidget* parent)
    : QWidget(parent)
{
    info_ = new QLabel(this);
    info_->setWordWrap(true); // wraps in presentation mode rather than widening the view
    logLoss_ = new QCheckBox(tr("log loss axis"), this);
    logLoss_->setToolTip(tr("Show the loss on a logarithmic axis (the regularizer is often much smaller)"));
    connect(logLoss_, &QCheckBox::toggled, this, &MetricsView::setLossLogScale);

    plot_ = new QCustomPlot(this);
    plot_->setAutoAddPlottableToLegend(false);
    plot_->setMinimumSize(320, 360);
    lossRect_ = plot_->axisRect();
    accuracyRect_ = addRect(1);
    controlRect_ = addRect(2);
    plot_->plotLayout()->setRowStretchFactors({1.1, 1.1, 0.9});
    plot_->plotLayout()->setRowSpacing(2);

    // One margin group keeps the three plot areas aligned although their tick labels differ.
    auto* margins = new QCPMarginGroup(plot_);
    for (QCPAxisRect* rect : {lossRect_, accuracyRect_, controlRect_}) {
        rect->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
        rect->axis(QCPAxis::atTop)->setVisible(false);
        rect->axis(QCPAxis::atRight)->setVisible(false);
        // Only the bottom plot prints the shared time axis.
        const bool bottom = rect == controlRect_;
        rect->axis(QCPAxis::atBottom)->setTickLabels(bottom);
        rect->axis(QCPAxis::atBottom)->setLabel(bottom ? tr("training time (epochs)") : QString());
        rect->axis(QCPAxis::atBottom)->setRange(0.0, 1.0);
        markers_.emplace_back(rect, rect == lossRect_);
    }

    // (a) loss
    QCPAxis* lossX = lossRect_->axis(QCPAxis::atBottom);
    QCPAxis* lossY = lossRect_->axis(QCPAxis::atLeft);
    lossY->setLabel(tr("loss (nats)"));
    crossEntropy_.graph = plot_->addGraph(lossX, lossY);
    crossEntropy_.graph->setName(tr("cross-entropy"));
    regularizer_.graph = plot_->addGraph(lossX, lossY);
    regularizer_.graph->setName(tr("regularizer λ·ΣR"));
    plot_->legend->setVisible(true);
    for (const Curve* curve : {&crossEntropy_, &regularizer_})
        curve->graph->addToLegend(plot_->legend);
    lossRect_->insetLayout()->setInsetAlignment(0, Qt::AlignRight | Qt::AlignVCenter);

    // (b) accuracy
    QCPAxis* accX = accuracyRect_->axis(QCPAxis::atBottom);
    QCPAxis* accY = accuracyRect_->axis(QCPAxis::atLeft);
    accY->setLabel(tr("accuracy (%)"));
    trainAccuracy_.graph = plot_->addGraph(accX, accY);
    trainAccuracy_.graph->setName(tr("train"));
    testFloat_.graph = plot_->addGraph(accX, accY);
    testFloat_.graph->setName(tr("test (float)"));
    testQuantized_.graph = plot_->addGraph(accX, accY);
    testQuantized_.graph->setName(tr("test (quantized)"));
    accuracyLegend_ = new QCPLegend;
    accuracyRect_->insetLayout()->addElement(accuracyLegend_, Qt::AlignRight | Qt::AlignBottom);
    accuracyLegend_->setLayer(QStringLiteral("legend"));
    for (const Curve* curve : {&trainAccuracy_, &testFloat_, &testQuantized_})
        curve->graph->addToLegend(accuracyLegend_);

    // (c) lambda and gamma: both span decades and are changed by factors, hence log axes. Each
    // axis wears its curve's colour instead of a legend, which would cover the curves here.
    QCPAxis* ctlX = controlRect_->axis(QCPAxis::atBottom);
    QCPAxis* ctlY = controlRect_->axis(QCPAxis::atLeft);
    QCPAxis* ctlY2 = controlRect_->axis(QCPAxis::atRight);
    ctlY2->setVisible(true);
    ctlY->setLabel(tr("λ (log)"));
    ctlY2->setLabel(tr("γ (log)"));
    setLogScale(ctlY, true);
    setLogScale(ctlY2, true);
    lambda_.graph = plot_->addGraph(ctlX, ctlY);
    lambda_.graph->setName(tr("λ"));
    gamma_.graph = plot_->addGraph(ctlX, ctlY2);
    gamma_.graph->setName(tr("γ"));
    for (QCPLegend* legend : {plot_->legend, accuracyLegend_})
        legend->setSelectableParts(QCPLegend::spNone);

    auto* top = new QHBoxLayout;
    top->addWidget(info_, 1);
    top->addWidget(logLoss_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addWidget(plot_, 1);

    connect(&Theme::instance(), &Theme::changed, this, &MetricsView::restyle);
    restyle();
    clear();
}

// The loss term and the live control each method has: SQ's lambda * sum R with lambda and gamma,
// CPQ's memory term mu * sum P(keep) n / N with mu, none for UniQ (its grid is learned directly).
void MetricsView::applyMode(const std::string& mode)
{
    if (mode == mode_)
        return;
    mode_ = mode;
    const bool cpq = mode == "cpq";
    const bool uniq = mode == "uniq";
    regularizer_.graph->setName(cpq ? tr("memory term μ·ΣP(keep)·n/N") : uniq ? tr("no regularizer (UniQ)")
                                                                             : tr("regularizer λ·ΣR"));
    controlRect_->axis(QCPAxis::atLeft)->setLabel(cpq ? tr("μ (log)") : uniq ? QString() : tr("λ (log)"));
    lambda_.graph->setName(cpq ? tr("μ") : tr("λ"));
    controlRect_->axis(QCPAxis::atRight)->setLabel(cpq || uniq ? QString() : tr("γ (log)"));
    controlRect_->axis(QCPAxis::atRight)->setTickLabels(!cpq && !uniq);
}

QCPAxisRect* MetricsView::addRect(int row)
{
    auto* rect = new QCPAxisRect(plot_);
    useDefaultLayers(rect);
    plot_->plotLayout()->addElement(row, 0, rect);
    return rect;
}

void MetricsView::addSnapshot(const std::shared_ptr<const sq::Snapshot>& snapshot)
{
    if (!snapshot)
        return;
    const Snapshot& s = *snapshot;
    const double t = s.epochsElapsed;
    applyMode(s.mode);
    crossEntropy_.add(t, s.crossEntropy);
    regularizer_.add(t, s.regularizer);
    trainAccuracy_.add(t, 100.0 * s.trainAccuracy);
    // Log axes cannot show zero (float mode has lambda = 0): such points are left out. CPQ's live
    // control is mu, and it has no gamma.
    const double control = mode_ == "cpq" ? s.mu : s.lambda;
    if (control > 0.0)
        lambda_.add(t, control);
    if (s.gamma > 0.0 && mode_ != "cpq" && mode_ != "uniq")
        gamma_.add(t, s.gamma);
    if (s.evaluatedEpochs < evaluatedEpochs_) { // back to a state before an evaluation (divergence)
        evaluatedEpochs_ = s.evaluatedEpochs;
        testFloat_.dropAfter(evaluatedEpochs_);
        testQuantized_.dropAfter(evaluatedEpochs_);
    }
    if (s.lastEvaluation && s.evaluatedEpochs > evaluatedEpochs_) {
        evaluatedEpochs_ = s.evaluatedEpochs;
        testFloat_.add(evaluatedEpochs_, 100.0 * s.lastEvaluation->floatAccuracy);
        testQuantized_.add(evaluatedEpochs_, 100.0 * s.lastEvaluation->quantizedAccuracy);
    }
    for (TimeMarkers& markers : markers_)
        markers.update(s);

    QString info = tr("%1 images/s").arg(QLocale(QLocale::English).toString(std::llround(s.imagesPerSecond)));
    info += tr("  ·  epoch %1 of %2 (%3)").arg(s.epoch + 1).arg(s.epochs).arg(QString::fromLatin1(toString(s.phase)));
    if (s.lastEvaluation)
        info += tr("  ·  test %1% float, %2% quantized")
                    .arg(100.0 * s.lastEvaluation->floatAccuracy, 0, 'f', 1)
                    .arg(100.0 * s.lastEvaluation->quantizedAccuracy, 0, 'f', 1);
    info_->setText(info);

    timeSpan_ = std::max(static_cast<double>(s.epochs), t);
    rescale();
    requestReplot(plot_);
}

void MetricsView::clear()
{
    for (Curve* curve : {&crossEntropy_, &regularizer_, &trainAccuracy_, &testFloat_, &testQuantized_, &lambda_, &gamma_})
        curve->clear();
    for (TimeMarkers& markers : markers_)
        markers.clear();
    evaluatedEpochs_ = 0;
    applyMode("sq");
    info_->setText(tr("No training run yet"));
    timeSpan_ = 1.0;
    rescale();
    requestReplot(plot_);
}

QList<QCustomPlot*> MetricsView::plots() const { return {plot_}; }

void MetricsView::setLossLogScale(bool on)
{
    if (logLoss_->isChecked() != on) {
        logLoss_->setChecked(on); // comes back here through toggled()
        return;
    }
    setLogScale(lossRect_->axis(QCPAxis::atLeft), on);
    rescale();
    requestReplot(plot_);
}

bool MetricsView::lossLogScale() const { return lossRect_->axis(QCPAxis::atLeft)->scaleType() == QCPAxis::stLogarithmic; }

void MetricsView::rescale()
{
    // A sliver past the end, so the last evaluation's marker is not cut in half by the frame.
    for (QCPAxisRect* rect : {lossRect_, accuracyRect_, controlRect_})
        rect->axis(QCPAxis::atBottom)->setRange(0.0, 1.015 * timeSpan_);

    bool found = false;
    const bool logLoss = lossLogScale();
    const QCPRange loss = valueRange({&crossEntropy_, &regularizer_}, logLoss, found);
    if (logLoss)
        setLogRange(lossRect_->axis(QCPAxis::atLeft), loss, found);
    else // from zero, with headroom for the marks' labels at the top
        lossRect_->axis(QCPAxis::atLeft)->setRange(0.0, found && loss.upper > 0.0 ? 1.2 * loss.upper : 1.0);

    const QCPRange acc = valueRange({&trainAccuracy_, &testFloat_, &testQuantized_}, false, found);
    if (found) {
        const double lo = std::max(0.0, 5.0 * std::floor((acc.lower - 2.0) / 5.0));
        const double hi = std::min(100.0, 5.0 * std::ceil((acc.upper + 3.0) / 5.0));
        accuracyRect_->axis(QCPAxis::atLeft)->setRange(lo, std::max(hi, lo + 5.0));
    } else {
        accuracyRect_->axis(QCPAxis::atLeft)->setRange(0.0, 100.0);
    }

    setLogRange(controlRect_->axis(QCPAxis::atLeft), valueRange({&lambda_}, true, found), found);
    setLogRange(controlRect_->axis(QCPAxis::atRight), valueRange({&gamma_}, true, found), found);
}

void MetricsView::restyle()
{
    const Theme& theme = Theme::instance();
    theme.applyTo(plot_);
    styleLegend(accuracyLegend_);
    styleLine(crossEntropy_.graph, theme.foreground());
    styleLine(regularizer_.graph, Theme::seriesColor(3));
    styleLine(trainAccuracy_.graph, Theme::seriesColor(0));
    stylePoints(testFloat_.graph, Theme::floatColor());
    stylePoints(testQuantized_.graph, Theme::quantizedColor());
    // lambda shares the regularizer's colour: the regularizer term is lambda times sum R.
    styleLine(lambda_.graph, Theme::seriesColor(3));
    styleLine(gamma_.graph, Theme::seriesColor(1));
    for (const Curve* curve : {&lambda_, &gamma_}) {
        const QColor color = curve->graph->pen().color();
        QCPAxis* axis = curve->graph->valueAxis();
        axis->setLabelColor(color);
        axis->setTickLabelColor(color);
        axis->setBasePen(QPen(color, 1.5));
    }
    for (TimeMarkers& markers : markers_)
        markers.restyle();
    info_->setFont(theme.font(0));
    logLoss_->setFont(theme.font(0));
    requestReplot(plot_);
}

} // namespace sq::ui
