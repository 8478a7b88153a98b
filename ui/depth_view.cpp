#include "ui/depth_view.h"
#include "ui/plot_refresh.h"

#include "core/quant/sq_regularizer.h"
#include "core/snapshot.h"
#include "ui/theme.h"

#include <qcustomplot.h>

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <numbers>

namespace sq::ui {

namespace {

// The beta axis shows the whole interval [pi/4, pi/2] with a little room below pi/4 and above.
constexpr double kBetaAxisLow = kBetaMin - 0.03;
constexpr double kBetaAxisHigh = std::numbers::pi / 2.0 + 0.01;
constexpr double kLabelShare = 0.08; // basin shares narrower than this get no printed percentage
// CPQ: a group is kept at commit when its keep probability is at least this (SPEC §2.2).
constexpr double kKeepThreshold = 0.5;
constexpr double kKeepAxisLow = -0.03;
constexpr double kKeepAxisHigh = 1.03;

QColor withAlpha(QColor color, int alpha)
{
    color.setAlpha(alpha);
    return color;
}

// Dark or light text, whichever reads better on `background`.
QColor textOn(const QColor& background)
{
    const double luminance = 0.2126 * background.redF() + 0.7152 * background.greenF() + 0.0722 * background.blueF();
    return luminance > 0.55 ? QColor(0x20, 0x20, 0x20) : QColor(Qt::white);
}

QColor basinColor(int basin, bool sq)
{
    // UniQ and CPQ colour their badges with bit-widths 3..8, which take the series colours SQ's
    // basins use: their shares are drawn in neutral slate tones instead, so a share is never read
    // as a bit-width beside the badges.
    if (!sq) {
        static const QColor slate[3] = {QColor(0x4a, 0x58, 0x68), QColor(0xc4, 0xca, 0xd2), QColor(0x86, 0x93, 0xa2)};
        return slate[basin];
    }
    // Negative and positive in two distinct series colours, the zero basin neutral; none of them
    // is a decision colour, so shares are not mistaken for decisions.
    if (basin == 0)
        return Theme::seriesColor(3);
    if (basin == 1)
        return Theme::instance().subtle();
    return Theme::seriesColor(2);
}

QString badgeText(const LayerQuantState& state)
{
    const QString decision = QString::fromStdString(state.decision);
    // "3-bit" already says the bits; "binary", "ternary" and "float" get them added.
    QString text = decision.endsWith(QLatin1String("-bit"))
                       ? QStringLiteral("%1 · %2").arg(QString::fromStdString(state.name), decision)
                       : QStringLiteral("%1 · %2 · %3 bit").arg(QString::fromStdString(state.name), decision).arg(state.bits);
    if (state.committed)
        text += QStringLiteral(" · committed");
    return text;
}

QString badgeToolTip(const LayerQuantState& state)
{
    QString tip = QStringLiteral("%1 (%2), %3 weights\n")
                      .arg(QString::fromStdString(state.name), QString::fromStdString(state.description))
                      .arg(state.weights);
    if (state.method == "uniq") {
        tip += QStringLiteral("UniQ: %1 bits, %2 levels without zero, step Δ = %3")
                   .arg(state.bits)
                   .arg(state.levels.size())
                   .arg(state.step, 0, 'g', 4);
    } else if (state.method == "cpq") {
        tip += QStringLiteral("CPQ (DropBits): %1 of at most %2 bits, %3 levels, step s = %4")
                   .arg(state.bits)
                   .arg(state.maxBits)
                   .arg(state.levels.size())
                   .arg(state.step, 0, 'g', 4);
        for (std::size_t g = 0; g < state.keepProbability.size(); ++g)
            tip += QStringLiteral("\nP(keep group %1) = %2").arg(g + 3).arg(state.keepProbability[g], 0, 'f', 3);
    } else {
        tip += QStringLiteral("α = %1, β = %2 rad, Δ = %3")
                   .arg(state.alpha, 0, 'g', 4)
                   .arg(state.beta, 0, 'f', 4)
                   .arg(state.delta, 0, 'g', 4);
    }
    tip += QStringLiteral("\nquantization error %1%").arg(100.0 * state.quantError, 0, 'f', 2);
    if (state.keepFloat)
        tip += QStringLiteral("\nkept in float32 by the user");
    if (state.committed)
        tip += state.method == "cpq" ? QStringLiteral("\nbit-length committed: frozen for the rest of the run")
                                     : QStringLiteral("\ndepth committed: frozen for the rest of the run");
    return tip;
}

// CPQ's groups 3..B by dash: group 3 solid, then ever sparser patterns.
QPen groupPen(QColor color, double width, std::size_t group)
{
    QPen pen(color, width);
    static const QVector<qreal> patterns[] = {{}, {5, 3}, {1.5, 2.5}, {6, 2, 1.5, 2}, {6, 2, 1.5, 2, 1.5, 2}, {10, 4}};
    const auto& pattern = patterns[std::min<std::size_t>(group, std::size(patterns) - 1)];
    if (!pattern.isEmpty())
        pen.setDashPattern(pattern);
    return pen;
}

QCPItemText* makeText(QCustomPlot* plot, QCPAxisRect* rect, Qt::Alignment alignment)
{
    auto* text = new QCPItemText(plot);
    text->setClipAxisRect(rect);
    text->setPositionAlignment(alignment);
    text->setPadding(QMargins(4, 2, 4, 2));
    text->setSelectable(false);
    return text;
}

// A legend laid out as one row above the plot, where it never covers a curve. A spacer beside it
// takes the free width, so the entries sit together on the left instead of spreading out.
void moveLegendToTop(QCustomPlot* plot)
{
    plot->axisRect()->insetLayout()->take(plot->legend);
    plot->plotLayout()->insertRow(0);
    auto* row = new QCPLayoutGrid;
    plot->plotLayout()->addElement(0, 0, row);
    row->addElement(0, 0, plot->legend);
    row->addElement(0, 1, new QCPLayoutElement(plot));
    row->setColumnStretchFactors({0.001, 1.0});
    plot->plotLayout()->setRowStretchFactor(0, 0.001);
    plot->legend->setFillOrder(QCPLegend::foColumnsFirst);
    plot->legend->setWrap(6);
    plot->legend->setMargins(QMargins(4, 2, 4, 2));
    plot->legend->setSelectableParts(QCPLegend::spNone);
    plot->legend->setVisible(true);
}

} // namespace

DepthView::DepthView(QWidget* parent)
    : QWidget(parent)
    , betaSwitch_(kBetaSwitchDefault)
{
    badgeBox_ = new QWidget(this);
    // The badges reflow to the width they get (layoutBadges), so they never widen the view.
    badgeBox_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    badgeLayout_ = new QGridLayout(badgeBox_);
    badgeLayout_->setContentsMargins(0, 0, 0, 0);
    badgeLayout_->setSpacing(6);

    timePlot_ = new QCustomPlot(this);
    timePlot_->setMinimumSize(320, 320);
    basinPlot_ = new QCustomPlot(this);
    basinPlot_->setMinimumSize(220, 200);
    setupTimePlot();
    setupBasinPlot();

    auto* plots = new QHBoxLayout;
    plots->addWidget(timePlot_, 3);
    plots->addWidget(basinPlot_, 2);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(badgeBox_);
    layout->addLayout(plots, 1);

    connect(&Theme::instance(), &Theme::changed, this, &DepthView::restyle);
    restyle();
    clear();
}

void DepthView::setupTimePlot()
{
    QCustomPlot* plot = timePlot_;
    plot->setAutoAddPlottableToLegend(false);
    betaRect_ = plot->axisRect();
    alphaRect_ = new QCPAxisRect(plot);
    useDefaultLayers(alphaRect_);
    plot->plotLayout()->addElement(1, 0, alphaRect_);
    plot->plotLayout()->setRowStretchFactors({1.3, 1.0});
    plot->plotLayout()->setRowSpacing(2);
    moveLegendToTop(plot);

    auto* margins = new QCPMarginGroup(plot);
    for (QCPAxisRect* rect : {betaRect_, alphaRect_}) {
        rect->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
        rect->axis(QCPAxis::atTop)->setVisible(false);
        rect->axis(QCPAxis::atRight)->setVisible(false);
        const bool bottom = rect == alphaRect_;
        rect->axis(QCPAxis::atBottom)->setTickLabels(bottom);
        rect->axis(QCPAxis::atBottom)->setLabel(bottom ? tr("training time (epochs)") : QString());
        markers_.emplace_back(rect, rect == betaRect_);
    }
    betaRect_->axis(QCPAxis::atLeft)->setLabel(tr("β (rad)"));
    betaRect_->axis(QCPAxis::atLeft)->setRange(kBetaAxisLow, kBetaAxisHigh);
    alphaRect_->axis(QCPAxis::atLeft)->setLabel(tr("α (weight units)"));

    // The bands: which depth a beta means, shaded under the curves.
    ternaryBand_ = new QCPItemRect(plot);
    binaryBand_ = new QCPItemRect(plot);
    for (QCPItemRect* band : {ternaryBand_, binaryBand_}) {
        band->setClipAxisRect(betaRect_);
        band->setLayer(marksLayer(plot));
        band->setSelectable(false);
        band->setPen(Qt::NoPen);
    }
    ternaryBand_->setObjectName(QStringLiteral("ternaryBand"));
    binaryBand_->setObjectName(QStringLiteral("binaryBand"));
    ternaryLabel_ = makeText(plot, betaRect_, Qt::AlignLeft | Qt::AlignBottom);
    ternaryLabel_->setText(tr("ternary"));
    placeOn(ternaryLabel_->position, betaRect_, false, false, 0.005, 1.0);
    binaryLabel_ = makeText(plot, betaRect_, Qt::AlignLeft | Qt::AlignTop);
    binaryLabel_->setText(tr("binary"));
    placeOn(binaryLabel_->position, betaRect_, false, false, 0.005, 0.0);

    switchLine_ = new QCPItemStraightLine(plot);
    switchLine_->setObjectName(QStringLiteral("betaSwitch"));
    switchLine_->setClipAxisRect(betaRect_);
    switchLine_->setSelectable(false);
    switchLabel_ = makeText(plot, betaRect_, Qt::AlignRight | Qt::AlignBottom);
    placeSwitch();

    // CPQ's counterparts: the keep threshold and the band of groups that would be dropped.
    droppedBand_ = new QCPItemRect(plot);
    droppedBand_->setObjectName(QStringLiteral("droppedBand"));
    droppedBand_->setClipAxisRect(betaRect_);
    droppedBand_->setLayer(marksLayer(plot));
    droppedBand_->setSelectable(false);
    droppedBand_->setPen(Qt::NoPen);
    placeOn(droppedBand_->topLeft, betaRect_, false, true, 0.0, kKeepThreshold);
    placeOn(droppedBand_->bottomRight, betaRect_, false, true, 1.0, kKeepAxisLow - 1.0);
    keptLabel_ = makeText(plot, betaRect_, Qt::AlignLeft | Qt::AlignBottom);
    keptLabel_->setText(tr("kept at commit"));
    placeOn(keptLabel_->position, betaRect_, false, true, 0.005, kKeepThreshold);
    droppedLabel_ = makeText(plot, betaRect_, Qt::AlignLeft | Qt::AlignBottom);
    droppedLabel_->setText(tr("dropped at commit"));
    placeOn(droppedLabel_->position, betaRect_, false, false, 0.005, 1.0);
    keepLine_ = new QCPItemStraightLine(plot);
    keepLine_->setObjectName(QStringLiteral("keepThreshold"));
    keepLine_->setClipAxisRect(betaRect_);
    keepLine_->setSelectable(false);
    placeOn(keepLine_->point1, betaRect_, false, true, 0.0, kKeepThreshold);
    placeOn(keepLine_->point2, betaRect_, false, true, 1.0, kKeepThreshold);
    keepLabel_ = makeText(plot, betaRect_, Qt::AlignRight | Qt::AlignBottom);
    keepLabel_->setText(tr("threshold 0.5"));
    placeOn(keepLabel_->position, betaRect_, false, true, 0.995, kKeepThreshold);
}

void DepthView::showMethod()
{
    const bool sq = method_ == Method::Sq;
    const bool cpq = method_ == Method::Cpq;
    for (QCPAbstractItem* item : std::initializer_list<QCPAbstractItem*>{ternaryBand_, binaryBand_, ternaryLabel_,
                                                                         binaryLabel_, switchLine_, switchLabel_})
        item->setVisible(sq);
    for (QCPAbstractItem* item :
         std::initializer_list<QCPAbstractItem*>{droppedBand_, keptLabel_, droppedLabel_, keepLine_, keepLabel_})
        item->setVisible(cpq);
    QCPAxis* top = betaRect_->axis(QCPAxis::atLeft);
    QCPAxis* bottom = alphaRect_->axis(QCPAxis::atLeft);
    switch (method_) {
    case Method::Sq:
        top->setLabel(tr("β (rad)"));
        top->setRange(kBetaAxisLow, kBetaAxisHigh);
        bottom->setLabel(tr("α (weight units)"));
        break;
    case Method::Cpq:
        top->setLabel(tr("P(keep group)"));
        top->setRange(kKeepAxisLow, kKeepAxisHigh);
        bottom->setLabel(tr("s (weight units)"));
        break;
    case Method::Uniq:
        // As short as SQ's labels: a stacked rect in presentation mode is only a few lines tall.
        top->setLabel(tr("Δ (weight units)"));
        bottom->setLabel(tr("q. error (%)"));
        break;
    }
    // SQ's shares are its basins; the other grids have levels on either side of zero.
    negative_->setName(sq ? tr("−α") : tr("< 0"));
    zero_->setName(tr("0"));
    positive_->setName(sq ? tr("+α") : tr("> 0"));

}

void DepthView::setupBasinPlot()
{
    QCustomPlot* plot = basinPlot_;
    plot->setAutoAddPlottableToLegend(true);
    moveLegendToTop(plot);
    // Horizontal bars: layers along the left axis (first layer on top), shares along the bottom.
    QCPAxis* layers = plot->yAxis;
    QCPAxis* share = plot->xAxis;
    layers->setRangeReversed(true);
    layers->setTicker(QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText));
    layers->grid()->setVisible(false);
    layers->setLabel(tr("layer"));
    share->setLabel(tr("share of weights (%)"));
    share->setRange(0.0, 100.0);

    negative_ = new QCPBars(layers, share);
    negative_->setName(tr("−α"));
    zero_ = new QCPBars(layers, share);
    zero_->setName(tr("0"));
    positive_ = new QCPBars(layers, share);
    positive_->setName(tr("+α"));
    zero_->moveAbove(negative_);
    positive_->moveAbove(zero_);
    for (QCPBars* bars : {negative_, zero_, positive_}) {
        bars->setWidth(0.6);
        bars->setStackingGap(0);
    }
    plot->legend->setWrap(3);
}

void DepthView::placeSwitch()
{
    placeOn(ternaryBand_->topLeft, betaRect_, false, true, 0.0, betaSwitch_);
    placeOn(ternaryBand_->bottomRight, betaRect_, false, true, 1.0, kBetaAxisLow - 1.0);
    placeOn(binaryBand_->topLeft, betaRect_, false, true, 0.0, kBetaAxisHigh + 1.0);
    placeOn(binaryBand_->bottomRight, betaRect_, false, true, 1.0, betaSwitch_);
    placeOn(switchLine_->point1, betaRect_, false, true, 0.0, betaSwitch_);
    placeOn(switchLine_->point2, betaRect_, false, true, 1.0, betaSwitch_);
    placeOn(switchLabel_->position, betaRect_, false, true, 0.995, betaSwitch_);
    const bool standard = std::abs(betaSwitch_ - 3.0 * std::numbers::pi / 8.0) < 1e-9;
    switchLabel_->setText(standard ? tr("switch (3π/8)") : tr("switch (β = %1)").arg(betaSwitch_, 0, 'f', 3));
}

void DepthView::setBetaSwitch(double beta)
{
    betaSwitch_ = beta;
    placeSwitch();
    requestReplot(timePlot_);
}

void DepthView::addSnapshot(const std::shared_ptr<const sq::Snapshot>& snapshot)
{
    if (!snapshot)
        return;
    const Snapshot& s = *snapshot;
    QStringList names;
    for (const LayerSnapshot& layer : s.layers)
        names << QString::fromStdString(layer.state.name);
    const Method method = s.mode == "cpq" ? Method::Cpq : s.mode == "uniq" ? Method::Uniq : Method::Sq;
    if (names != layerNames_ || method != method_) {
        method_ = method;
        setLayers(s);
    }

    const double t = s.epochsElapsed;
    for (std::size_t i = 0; i < s.layers.size(); ++i) {
        const LayerQuantState& state = s.layers[i].state;
        // Float layers have no grid to shape; a parameter reported as 0 is not the method's.
        if (state.keepFloat)
            continue;
        switch (method_) {
        case Method::Sq:
            if (state.beta > 0.0f)
                betas_[i].add(t, state.beta);
            if (state.alpha > 0.0f)
                alphas_[i].add(t, state.alpha);
            break;
        case Method::Uniq:
            if (state.step > 0.0f)
                betas_[i].add(t, state.step);
            alphas_[i].add(t, 100.0 * state.quantError);
            break;
        case Method::Cpq:
            for (std::size_t g = 0; g < state.keepProbability.size() && g < keeps_[i].size(); ++g)
                keeps_[i][g].add(t, state.keepProbability[g]);
            if (state.step > 0.0f)
                alphas_[i].add(t, state.step);
            break;
        }
    }
    for (TimeMarkers& markers : markers_)
        markers.update(s);
    const double epochs = std::max(static_cast<double>(s.epochs), t);
    // The same span as the metrics' time axis, so the views line up side by side.
    for (QCPAxisRect* rect : {betaRect_, alphaRect_})
        rect->axis(QCPAxis::atBottom)->setRange(0.0, 1.015 * epochs);
    if (method_ == Method::Uniq)
        rescale(betas_, betaRect_->axis(QCPAxis::atLeft), 0.1);
    rescale(alphas_, alphaRect_->axis(QCPAxis::atLeft), method_ == Method::Uniq ? 1.0 : 0.1);
    updateBadges(s);
    updateBasins(s);
    requestReplot(timePlot_);
    requestReplot(basinPlot_);
}

void DepthView::setLayers(const Snapshot& snapshot)
{
    for (Curve& curve : betas_)
        timePlot_->removeGraph(curve.graph);
    for (Curve& curve : alphas_)
        timePlot_->removeGraph(curve.graph);
    for (const auto& layer : keeps_)
        for (const Curve& curve : layer)
            timePlot_->removeGraph(curve.graph);
    for (QCPGraph* graph : groupLegend_)
        timePlot_->removeGraph(graph);
    betas_.clear();
    alphas_.clear();
    keeps_.clear();
    groupLegend_.clear();
    for (Badge& badge : badges_)
        delete badge.label;
    badges_.clear();
    for (QCPItemText* label : shareLabels_)
        basinPlot_->removeItem(label);
    shareLabels_.clear();
    layerNames_.clear();

    // CPQ's legend: the layers' colours on one row, the groups' dashes on the next (the wrap
    // applies to the entries added after it is set).
    timePlot_->legend->setWrap(method_ == Method::Cpq ? std::max<int>(1, static_cast<int>(snapshot.layers.size())) : 6);
    auto ticker = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    for (std::size_t i = 0; i < snapshot.layers.size(); ++i) {
        const QString name = QString::fromStdString(snapshot.layers[i].state.name);
        layerNames_ << name;
        Curve beta;
        beta.graph = timePlot_->addGraph(betaRect_->axis(QCPAxis::atBottom), betaRect_->axis(QCPAxis::atLeft));
        beta.graph->setName(name);
        beta.graph->addToLegend(timePlot_->legend);
        betas_.push_back(beta);
        Curve alpha;
        alpha.graph = timePlot_->addGraph(alphaRect_->axis(QCPAxis::atBottom), alphaRect_->axis(QCPAxis::atLeft));
        alpha.graph->setName(name);
        alphas_.push_back(alpha);
        std::vector<Curve> keeps;
        if (method_ == Method::Cpq)
            for (std::size_t g = 0; g < snapshot.layers[i].state.keepProbability.size(); ++g) {
                Curve keep;
                keep.graph = timePlot_->addGraph(betaRect_->axis(QCPAxis::atBottom), betaRect_->axis(QCPAxis::atLeft));
                keep.graph->setObjectName(QStringLiteral("keepProbability"));
                keep.graph->setName(QStringLiteral("%1 · group %2").arg(name).arg(g + 3));
                keeps.push_back(keep);
            }
        keeps_.push_back(std::move(keeps));

        Badge badge;
        badge.label = new QLabel(badgeBox_);
        badge.label->setAlignment(Qt::AlignCenter);
        badges_.push_back(badge);

        ticker->addTick(static_cast<double>(i), name);
        for (int basin = 0; basin < 3; ++basin)
            shareLabels_.push_back(makeText(basinPlot_, basinPlot_->axisRect(), Qt::AlignCenter));
    }
    // CPQ: one legend entry per group's dash style after the layers' colours.
    std::size_t groups = 0;
    for (const auto& layer : keeps_)
        groups = std::max(groups, layer.size());
    for (std::size_t g = 0; g < groups; ++g) {
        QCPGraph* entry = timePlot_->addGraph(betaRect_->axis(QCPAxis::atBottom), betaRect_->axis(QCPAxis::atLeft));
        entry->setName(tr("group %1").arg(g + 3));
        entry->addToLegend(timePlot_->legend);
        groupLegend_.push_back(entry);
    }
    basinPlot_->yAxis->setTicker(ticker);
    basinPlot_->yAxis->setRange(-0.5, std::max<double>(0.5, snapshot.layers.size() - 0.5));
    showMethod();
    restyle(); // pens, colours and fonts of the new graphs and labels
}

void DepthView::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    layoutBadges();
}

void DepthView::layoutBadges(bool force)
{
    if (badges_.empty())
        return;
    int widest = 1;
    for (const Badge& badge : badges_)
        widest = std::max(widest, badge.label->sizeHint().width());
    const int spacing = badgeLayout_->horizontalSpacing();
    const int width = contentsRect().width() - layout()->contentsMargins().left() - layout()->contentsMargins().right();
    const int count = static_cast<int>(badges_.size());
    const int columns = std::clamp((width + spacing) / (widest + spacing), 1, count);
    if (columns == badgeColumns_ && !force)
        return;
    badgeColumns_ = columns;
    for (const Badge& badge : badges_)
        badgeLayout_->removeWidget(badge.label);
    for (int i = 0; i < count; ++i)
        badgeLayout_->addWidget(badges_[static_cast<std::size_t>(i)].label, i / columns, i % columns);
}

void DepthView::updateBadges(const Snapshot& snapshot)
{
    bool changed = false; // a text changed, and with it the badge widths
    for (std::size_t i = 0; i < snapshot.layers.size(); ++i) {
        const LayerQuantState& state = snapshot.layers[i].state;
        Badge& badge = badges_[i];
        const QString text = badgeText(state);
        if (badge.label->text() != text) {
            badge.label->setText(text);
            badge.decision = QString::fromStdString(state.decision);
            badge.committed = state.committed;
            styleBadge(badge);
            changed = true;
        }
        badge.label->setToolTip(badgeToolTip(state));
    }
    if (changed)
        layoutBadges(true);
}

void DepthView::updateBasins(const Snapshot& snapshot)
{
    QVector<double> keys;
    QVector<double> shares[3];
    for (std::size_t i = 0; i < snapshot.layers.size(); ++i) {
        const LayerQuantState& state = snapshot.layers[i].state;
        const double values[3] = {100.0 * state.shareNegative, 100.0 * state.shareZero, 100.0 * state.sharePositive};
        keys << static_cast<double>(i);
        double start = 0.0;
        for (int basin = 0; basin < 3; ++basin) {
            shares[basin] << values[basin];
            QCPItemText* label = shareLabels_[3 * i + basin];
            label->setVisible(values[basin] >= 100.0 * kLabelShare);
            label->setText(QStringLiteral("%1%").arg(values[basin], 0, 'f', 0));
            label->position->setCoords(start + 0.5 * values[basin], static_cast<double>(i));
            start += values[basin];
        }
    }
    negative_->setData(keys, shares[0], true);
    zero_->setData(keys, shares[1], true);
    positive_->setData(keys, shares[2], true);
}

void DepthView::rescale(const std::vector<Curve>& curves, QCPAxis* axis, double empty)
{
    double lo = 0.0;
    double hi = 0.0;
    bool found = false;
    for (const Curve& curve : curves) {
        bool ok = false;
        const QCPRange r = curve.graph->getValueRange(ok);
        if (!ok)
            continue;
        lo = found ? std::min(lo, r.lower) : r.lower;
        hi = found ? std::max(hi, r.upper) : r.upper;
        found = true;
    }
    if (!found) {
        axis->setRange(0.0, empty);
        return;
    }
    const double pad = std::max(0.1 * (hi - lo), 0.05 * std::abs(hi) + 1e-9);
    axis->setRange(std::max(0.0, lo - pad), hi + pad);
}

void DepthView::clear()
{
    for (TimeMarkers& markers : markers_)
        markers.clear();
    // A new run may have other layers and another method: forget them, badges and bars included.
    method_ = Method::Sq;
    setLayers(Snapshot{});
    negative_->data()->clear();
    zero_->data()->clear();
    positive_->data()->clear();
    for (QCPAxisRect* rect : {betaRect_, alphaRect_})
        rect->axis(QCPAxis::atBottom)->setRange(0.0, 1.0);
    rescale(alphas_, alphaRect_->axis(QCPAxis::atLeft), 0.1);
    requestReplot(timePlot_);
    requestReplot(basinPlot_);
}

QList<QCustomPlot*> DepthView::plots() const { return {timePlot_, basinPlot_}; }

QList<QCPGraph*> DepthView::keepProbabilityGraphs() const
{
    QList<QCPGraph*> graphs;
    for (const auto& layer : keeps_)
        for (const Curve& curve : layer)
            graphs << curve.graph;
    return graphs;
}

QStringList DepthView::badgeTexts() const
{
    QStringList texts;
    for (const Badge& badge : badges_)
        texts << badge.label->text();
    return texts;
}

void DepthView::styleBadge(const Badge& badge)
{
    const Theme& theme = Theme::instance();
    const QColor fill = Theme::decisionColor(badge.decision);
    // A committed depth is frozen: a frame in the text colour marks it beside the word.
    const QString border = badge.committed ? QStringLiteral("2px solid %1").arg(theme.foreground().name())
                                           : QStringLiteral("2px solid %1").arg(fill.name());
    badge.label->setStyleSheet(QStringLiteral("QLabel { background: %1; color: %2; border: %3; border-radius: 6px; "
                                              "padding: 3px 10px; }")
                                   .arg(fill.name(), textOn(fill).name(), border));
    badge.label->setFont(theme.font(-1, true));
}

void DepthView::restyle()
{
    const Theme& theme = Theme::instance();
    for (QCustomPlot* plot : {timePlot_, basinPlot_}) {
        theme.applyTo(plot);
        plot->legend->setBorderPen(Qt::NoPen);
    }
    const double width = theme.lineWidth();
    for (std::size_t i = 0; i < betas_.size(); ++i) {
        const QColor color = Theme::seriesColor(static_cast<int>(i));
        betas_[i].graph->setPen(QPen(color, width));
        alphas_[i].graph->setPen(QPen(color, width));
        for (std::size_t g = 0; g < keeps_[i].size(); ++g)
            keeps_[i][g].graph->setPen(groupPen(color, width, g));
    }
    for (std::size_t g = 0; g < groupLegend_.size(); ++g)
        groupLegend_[g]->setPen(groupPen(theme.foreground(), width, g));
    droppedBand_->setBrush(withAlpha(theme.subtle(), theme.dark() ? 40 : 30));
    keepLine_->setPen(QPen(theme.foreground(), 1.2, Qt::DashDotLine));
    keepLabel_->setColor(theme.foreground());
    keptLabel_->setColor(theme.foreground());
    droppedLabel_->setColor(theme.subtle());
    for (QCPItemText* text : {keepLabel_, keptLabel_, droppedLabel_})
        text->setFont(theme.font(-1, true));
    const int bandAlpha = theme.dark() ? 40 : 26;
    ternaryBand_->setBrush(withAlpha(Theme::ternaryColor(), bandAlpha));
    binaryBand_->setBrush(withAlpha(Theme::binaryColor(), bandAlpha));
    // On a dark background the decision blue is too dark to read as text: lighten the labels there.
    const int lighten = theme.dark() ? 160 : 100;
    ternaryLabel_->setColor(Theme::ternaryColor().lighter(lighten));
    binaryLabel_->setColor(Theme::binaryColor().lighter(lighten));
    switchLine_->setPen(QPen(theme.foreground(), 1.2, Qt::DashDotLine));
    switchLabel_->setColor(theme.foreground());
    for (QCPItemText* text : {ternaryLabel_, binaryLabel_, switchLabel_})
        text->setFont(theme.font(-1, true));
    for (TimeMarkers& markers : markers_)
        markers.restyle();

    // Room on the right for the "100" tick label, which the automatic margins do not reserve.
    basinPlot_->axisRect()->setMinimumMargins(QMargins(0, 0, 2 * theme.basePointSize(), 0));
    const bool sq = method_ == Method::Sq;
    const QColor basinColors[3] = {basinColor(0, sq), basinColor(1, sq), basinColor(2, sq)};
    QCPBars* bars[3] = {negative_, zero_, positive_};
    for (int basin = 0; basin < 3; ++basin) {
        bars[basin]->setPen(QPen(theme.background(), 1));
        bars[basin]->setBrush(basinColors[basin]);
    }
    for (std::size_t i = 0; i < shareLabels_.size(); ++i) {
        shareLabels_[i]->setColor(textOn(basinColors[i % 3]));
        shareLabels_[i]->setFont(theme.font(-2));
    }
    for (const Badge& badge : badges_)
        if (!badge.decision.isEmpty())
            styleBadge(badge);
    layoutBadges(true); // the font size may have changed
    requestReplot(timePlot_);
    requestReplot(basinPlot_);
}

} // namespace sq::ui
