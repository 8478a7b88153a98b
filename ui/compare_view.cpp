#include "ui/compare_view.h"

#include "ui/theme.h"

#include <qcustomplot.h>

#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace sq::ui {

namespace {

QCPAxisRect* makeRect(QCustomPlot* plot, const QString& y)
{
    auto* rect = new QCPAxisRect(plot);
    rect->axis(QCPAxis::atBottom)->setLabel(QObject::tr("epoch"));
    rect->axis(QCPAxis::atLeft)->setLabel(y);
    rect->setupFullAxesBox(false);
    rect->axis(QCPAxis::atTop)->setTickLabels(false);
    rect->axis(QCPAxis::atRight)->setTickLabels(false);
    // Whole epochs on the time axis: runs are compared epoch by epoch.
    auto ticker = QSharedPointer<QCPAxisTickerFixed>(new QCPAxisTickerFixed);
    ticker->setTickStep(1.0);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    rect->axis(QCPAxis::atBottom)->setTicker(ticker);
    rect->axis(QCPAxis::atTop)->setTicker(ticker);
    return rect;
}

} // namespace

CompareView::CompareView(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this))
{
    plot_->setMinimumSize(480, 360);
    plot_->setAutoAddPlottableToLegend(false);
    plot_->plotLayout()->clear(); // drops the default axis rect and its inset legend
    accuracy_ = makeRect(plot_, tr("test accuracy (%)"));
    bits_ = makeRect(plot_, tr("model size (bits, log scale)"));
    loss_ = makeRect(plot_, tr("cross-entropy (nats)"));
    bits_->axis(QCPAxis::atLeft)->setScaleType(QCPAxis::stLogarithmic);
    bits_->axis(QCPAxis::atLeft)->setTicker(makeBitsTicker());
    bits_->axis(QCPAxis::atRight)->setScaleType(QCPAxis::stLogarithmic);
    bits_->axis(QCPAxis::atRight)->setTicker(makeBitsTicker());

    auto* title = new QCPTextElement(plot_, tr("Runs compared over the epochs"));
    plot_->plotLayout()->addElement(0, 0, title);
    auto* grid = new QCPLayoutGrid;
    plot_->plotLayout()->addElement(1, 0, grid);
    grid->addElement(0, 0, accuracy_);
    grid->addElement(0, 1, bits_);
    grid->addElement(1, 0, loss_);
    legend_ = new QCPLegend;
    legend_->setSelectableParts(QCPLegend::spNone);
    // The legend fills the fourth cell: a cell of its own keeps it off every curve.
    auto* legendCell = new QCPLayoutGrid;
    grid->addElement(1, 1, legendCell);
    legendCell->addElement(0, 0, legend_);
    legend_->setLayer(QStringLiteral("legend")); // once it belongs to the plot
    legendCell->setMargins(QMargins(12, 12, 12, 12));
    plot_->legend = legend_;
    // Same widths in both columns, so the panels line up.
    auto* group = new QCPMarginGroup(plot_);
    accuracy_->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    loss_->setMarginGroup(QCP::msLeft | QCP::msRight, group);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(plot_);
    connect(&Theme::instance(), &Theme::changed, this, &CompareView::restyle);
    clear();
}

QCPAxisRect* CompareView::rect(Panel panel) const
{
    switch (panel) {
    case Panel::Accuracy:
        return accuracy_;
    case Panel::ModelBits:
        return bits_;
    case Panel::Loss:
        return loss_;
    }
    return accuracy_;
}

QList<QCPGraph*> CompareView::curves(Panel panel) const
{
    QList<QCPGraph*> out;
    for (QCPGraph* g : rect(panel)->graphs())
        if (!g->data()->isEmpty())
            out.append(g);
    return out;
}

void CompareView::clear()
{
    plot_->clearGraphs();
    legend_->clearItems();
    runCount_ = 0;
    for (QCPAxisRect* r : {accuracy_, loss_})
        r->axis(QCPAxis::atBottom)->setRange(0, 10);
    bits_->axis(QCPAxis::atBottom)->setRange(0, 10);
    accuracy_->axis(QCPAxis::atLeft)->setRange(0, 100);
    bits_->axis(QCPAxis::atLeft)->setRange(1e4, 1e7);
    loss_->axis(QCPAxis::atLeft)->setRange(0, 2.5);
    restyle();
}

void CompareView::setRuns(const QList<ComparedRun>& runs)
{
    clear();
    const auto add = [this](QCPAxisRect* r, const QColor& color, Qt::PenStyle style) {
        QCPGraph* g = plot_->addGraph(r->axis(QCPAxis::atBottom), r->axis(QCPAxis::atLeft));
        g->setPen(QPen(color, Theme::instance().lineWidth(), style));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
        return g;
    };
    int epochs = 1;
    double accMin = 100, accMax = 0, bitsMin = INFINITY, bitsMax = 0, lossMax = 0;
    for (const ComparedRun& r : runs) {
        QCPGraph* quantized = add(accuracy_, r.color, Qt::SolidLine);
        QCPGraph* floatAcc = add(accuracy_, r.color, Qt::DashLine);
        QCPGraph* bits = add(bits_, r.color, Qt::SolidLine);
        QCPGraph* train = add(loss_, r.color, Qt::SolidLine);
        QCPGraph* test = add(loss_, r.color, Qt::DashLine);
        quantized->setName(r.label);
        quantized->addToLegend(legend_);
        for (const EpochRecord& e : r.run->history.epochs) {
            const double x = e.epoch;
            epochs = std::max(epochs, e.epoch);
            const double q = 100.0 * e.evaluation.quantizedAccuracy;
            const double f = 100.0 * e.evaluation.floatAccuracy;
            quantized->addData(x, q);
            floatAcc->addData(x, f);
            for (const double a : {q, f})
                if (std::isfinite(a)) {
                    accMin = std::min(accMin, a);
                    accMax = std::max(accMax, a);
                }
            if (e.memory.modelBits > 0) {
                const double b = static_cast<double>(e.memory.modelBits);
                bits->addData(x, b);
                bitsMin = std::min(bitsMin, b);
                bitsMax = std::max(bitsMax, b);
            }
            train->addData(x, e.trainCrossEntropy);
            test->addData(x, e.evaluation.quantizedLoss);
            for (const double l : {e.trainCrossEntropy, e.evaluation.quantizedLoss})
                if (std::isfinite(l))
                    lossMax = std::max(lossMax, l);
        }
        ++runCount_;
    }
    // The line styles' key, after the runs.
    for (const auto& [name, style] : {std::pair{tr("solid: quantized accuracy, train loss"), Qt::SolidLine},
                                      std::pair{tr("dashed: float accuracy, test loss (quantized)"), Qt::DashLine}}) {
        QCPGraph* key = plot_->addGraph(accuracy_->axis(QCPAxis::atBottom), accuracy_->axis(QCPAxis::atLeft));
        key->setPen(QPen(Theme::instance().subtle(), Theme::instance().lineWidth(), style));
        key->setName(name);
        key->addToLegend(legend_);
    }

    for (QCPAxisRect* r : {accuracy_, bits_, loss_})
        r->axis(QCPAxis::atBottom)->setRange(0.5, epochs + 0.5);
    if (accMax >= accMin) {
        const double pad = std::max(1.0, 0.08 * (accMax - accMin));
        accuracy_->axis(QCPAxis::atLeft)->setRange(std::max(0.0, accMin - pad), std::min(100.0, accMax + pad));
    }
    if (bitsMax > 0)
        bits_->axis(QCPAxis::atLeft)->setRange(bitsMin / 1.6, bitsMax * 1.6);
    if (lossMax > 0)
        loss_->axis(QCPAxis::atLeft)->setRange(0, lossMax * 1.08);
    restyle();
}

void CompareView::restyle()
{
    Theme& theme = Theme::instance();
    theme.applyTo(plot_);
    legend_->setBorderPen(Qt::NoPen);
    for (QCPAxisRect* r : {accuracy_, bits_, loss_}) {
        r->axis(QCPAxis::atRight)->setRange(r->axis(QCPAxis::atLeft)->range());
        r->axis(QCPAxis::atTop)->setRange(r->axis(QCPAxis::atBottom)->range());
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace sq::ui
