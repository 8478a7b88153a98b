#include "ui/histogram_view.h"
#include "ui/plot_refresh.h"

#include "ui/regularizer_view.h"
#include "ui/theme.h"

#include <QGridLayout>
#include <QScrollArea>
#include <QSplitter>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace sq::ui {

namespace {

constexpr int kCurveSamples = 241;

// 2 to 4 columns, preferring full rows: 3 layers side by side, 6 as 3 x 2, 8 as 4 x 2.
int columnsFor(int layers)
{
    if (layers <= 4)
        return std::max(1, layers);
    if (layers <= 6 || layers == 9)
        return 3;
    return 4;
}

// More levels than this and only the outermost ones (and zero) get a label: the rest would overlap.
constexpr std::size_t kMaxLabelledLevels = 9;
// More levels than this and the markers are drawn fainter, so the bars between them still read.
constexpr std::size_t kManyLevels = 16;

QString levelText(float level, float alpha)
{
    if (level == 0.0f)
        return QStringLiteral("0");
    if (alpha > 0.0f && std::abs(std::abs(level) - alpha) <= 1e-6f * alpha)
        return level < 0.0f ? QStringLiteral("−α") : QStringLiteral("+α");
    return QString::number(level, 'g', 3);
}

// A level as a multiple of the method's step: UniQ's levels sit at odd multiples of Δ/2
// ("−3Δ/2"), CPQ's at whole multiples of s ("+2s").
QString stepLevelText(float level, float step, const std::string& method)
{
    if (level == 0.0f)
        return QStringLiteral("0");
    if (!(step > 0.0f))
        return QString::number(level, 'g', 3);
    const QString sign = level < 0.0f ? QStringLiteral("−") : QStringLiteral("+");
    if (method == "uniq") {
        const long halves = std::lround(std::abs(level) / (0.5f * step));
        return halves == 1 ? sign + QStringLiteral("Δ/2") : sign + QStringLiteral("%1Δ/2").arg(halves);
    }
    const long k = std::lround(std::abs(level) / step);
    return k == 1 ? sign + QStringLiteral("s") : sign + QStringLiteral("%1s").arg(k);
}

bool isSqMethod(const LayerQuantState& s) { return s.method.empty() || s.method == "sq"; }

void makeXPlotYRatio(QCPItemPosition* position, QCustomPlot* plot)
{
    position->setTypeX(QCPItemPosition::ptPlotCoords);
    position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    position->setAxes(plot->xAxis, plot->yAxis);
    position->setAxisRect(plot->axisRect());
}

} // namespace

// One histogram plot: the bars of a layer's weights, its grid levels, its zero basin and its
// scale-free regularizer r(w)/alpha^p. Small multiples are compact; the enlarged one adds labels
// on the grid levels and a legend.
class HistogramPanel {
public:
    HistogramPanel(QWidget* parent, bool enlarged);

    QCustomPlot* plot() const { return plot_; }
    void show(const LayerSnapshot& layer, int p);
    void reset();
    void setHighlighted(bool on);
    void restyle();

private:
    void ensureLevelItems(std::size_t count);
    void ensureDroppedItems(std::size_t count);
    void styleContent();

    QCustomPlot* plot_;
    bool enlarged_;
    bool highlighted_ = false;
    QString decision_ = QStringLiteral("float");
    std::size_t levelsShown_ = 0; // grid levels drawn now (their pens fade when there are many)
    QCPTextElement* title_;
    QCPGraph* bars_;
    QCPGraph* curve_;
    QCPGraph* levelLegend_ = nullptr; // legend-only entries for the items (enlarged plot)
    QCPGraph* basinLegend_ = nullptr;
    QCPGraph* droppedLegend_ = nullptr;
    QCPItemRect* basin_;
    std::vector<QCPItemStraightLine*> levels_;
    std::vector<QCPItemText*> levelLabels_;
    std::vector<QCPItemStraightLine*> dropped_; // CPQ's levels of the groups the decision drops
};

HistogramPanel::HistogramPanel(QWidget* parent, bool enlarged) : plot_(new QCustomPlot(parent)), enlarged_(enlarged)
{
    plot_->plotLayout()->insertRow(0);
    title_ = new QCPTextElement(plot_, QObject::tr("weight histogram: waiting for a run"));
    plot_->plotLayout()->addElement(0, 0, title_);
    plot_->xAxis->setLabel(QObject::tr("weight value"));
    plot_->yAxis->setLabel(QObject::tr("weights per bin"));
    plot_->yAxis->setNumberFormat(QStringLiteral("gb"));
    plot_->yAxis2->setLabel(QStringLiteral("r(w) / α^p"));
    plot_->yAxis2->setVisible(true);

    basin_ = new QCPItemRect(plot_);
    basin_->setObjectName(QStringLiteral("zeroBasin"));
    basin_->setLayer(QStringLiteral("background"));
    makeXPlotYRatio(basin_->topLeft, plot_);
    makeXPlotYRatio(basin_->bottomRight, plot_);
    basin_->setVisible(false);

    bars_ = plot_->addGraph();
    bars_->setObjectName(QStringLiteral("histogram"));
    bars_->setName(QObject::tr("weights"));
    bars_->setLineStyle(QCPGraph::lsStepLeft);
    curve_ = plot_->addGraph(plot_->xAxis, plot_->yAxis2);
    curve_->setObjectName(QStringLiteral("regularizer"));
    curve_->setName(QStringLiteral("r(w) / α^p"));
    if (enlarged_) {
        levelLegend_ = plot_->addGraph();
        levelLegend_->setName(QObject::tr("grid levels"));
        basinLegend_ = plot_->addGraph();
        basinLegend_->setName(QObject::tr("zero basin |w| < Δ"));
        droppedLegend_ = plot_->addGraph();
        droppedLegend_->setName(QObject::tr("dropped levels"));
        droppedLegend_->removeFromLegend(); // listed only while a CPQ layer drops some
        plot_->legend->setVisible(true);
        plot_->axisRect()->insetLayout()->take(plot_->legend);
        plot_->plotLayout()->addElement(2, 0, plot_->legend);
        plot_->plotLayout()->setRowStretchFactor(2, 0.001);
        plot_->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
        plot_->setMinimumSize(360, 260);
    } else {
        // Few ticks: the labels of a narrow plot would otherwise run into each other.
        plot_->xAxis->ticker()->setTickCount(3);
        plot_->yAxis->ticker()->setTickCount(4);
        plot_->yAxis2->ticker()->setTickCount(3);
        plot_->setCursor(Qt::PointingHandCursor);
        plot_->setToolTip(QObject::tr("Click to enlarge this layer"));
    }
    reset();
}

void HistogramPanel::ensureLevelItems(std::size_t count)
{
    while (levels_.size() < count) {
        auto* line = new QCPItemStraightLine(plot_);
        line->setObjectName(QStringLiteral("gridLevel"));
        levels_.push_back(line);
        if (enlarged_) {
            auto* label = new QCPItemText(plot_);
            makeXPlotYRatio(label->position, plot_);
            label->setPositionAlignment(Qt::AlignTop | Qt::AlignHCenter);
            label->setPadding(QMargins(3, 1, 3, 1));
            levelLabels_.push_back(label);
        }
    }
}

void HistogramPanel::ensureDroppedItems(std::size_t count)
{
    while (dropped_.size() < count) {
        auto* line = new QCPItemStraightLine(plot_);
        line->setObjectName(QStringLiteral("droppedLevel"));
        line->setLayer(QStringLiteral("background")); // behind the bars: greyed, not competing
        dropped_.push_back(line);
    }
}

void HistogramPanel::reset()
{
    bars_->data()->clear();
    curve_->data()->clear();
    basin_->setVisible(false);
    for (auto* line : levels_)
        line->setVisible(false);
    for (auto* label : levelLabels_)
        label->setVisible(false);
    for (auto* line : dropped_)
        line->setVisible(false);
    levelsShown_ = 0;
    decision_ = QStringLiteral("float");
    title_->setText(QObject::tr("weight histogram: waiting for a run"));
    plot_->xAxis->setRange(-1.0, 1.0);
    plot_->yAxis->setRange(0.0, 1.0);
    plot_->yAxis2->setRange(0.0, 1.0);
    styleContent();
    requestReplot(plot_);
}

void HistogramPanel::show(const LayerSnapshot& layer, int p)
{
    const LayerQuantState& s = layer.state;
    const Histogram& h = layer.histogram;
    decision_ = QString::fromStdString(s.decision);
    const bool quantized = !s.keepFloat && decision_ != QLatin1String("float") && !s.levels.empty();

    const bool sq = isSqMethod(s);

    // Small multiples keep the title short enough for their width; the enlarged plot says it all.
    // "3-bit" already names the bits; "binary" and "ternary" get them added.
    QString title = decision_.endsWith(QLatin1String("-bit"))
                        ? QStringLiteral("%1 · %2").arg(QString::fromStdString(s.name), decision_)
                        : QStringLiteral("%1 · %2 · %3 bit").arg(QString::fromStdString(s.name), decision_).arg(s.bits);
    if (quantized && enlarged_) {
        if (sq)
            title += QStringLiteral(" · α %1 · β %2").arg(s.alpha, 0, 'g', 3).arg(s.beta, 0, 'f', 3);
        else if (s.method == "uniq")
            title += QStringLiteral(" · UniQ · %1 levels · Δ %2").arg(s.levels.size()).arg(s.step, 0, 'g', 3);
        else
            title += QStringLiteral(" · CPQ · %1 of %2 levels · s %3")
                         .arg(s.levels.size())
                         .arg(s.levels.size() + s.droppedLevels.size())
                         .arg(s.step, 0, 'g', 3);
        if (s.committed)
            title += QObject::tr(" · committed");
    }
    title_->setText(title);

    // Step series over the bin edges; the last count is repeated at hi so the last bin is drawn.
    const int n = static_cast<int>(h.counts.size());
    const double lo = h.lo;
    const double hi = h.hi > h.lo ? h.hi : h.lo + 1.0;
    QVector<double> keys(n + 1), values(n + 1);
    double maxCount = 0.0;
    for (int i = 0; i < n; ++i) {
        keys[i] = lo + (hi - lo) * i / n;
        values[i] = h.counts[static_cast<std::size_t>(i)];
        maxCount = std::max(maxCount, values[i]);
    }
    keys[n] = hi;
    values[n] = n > 0 ? values[n - 1] : 0.0;
    bars_->setData(keys, values, true);
    // UniQ's and CPQ's grids (CPQ's dropped levels above all) can reach past the weights: widen the
    // axis to the whole grid plus half a step, so every level is seen against the weights.
    double axisLo = lo;
    double axisHi = hi;
    if (quantized && !sq) {
        const float margin = 0.5f * std::max(s.step, 0.0f);
        for (const std::vector<float>* grid : {&s.levels, &s.droppedLevels})
            if (!grid->empty()) {
                axisLo = std::min(axisLo, static_cast<double>(grid->front() - margin));
                axisHi = std::max(axisHi, static_cast<double>(grid->back() + margin));
            }
    }
    plot_->xAxis->setRange(axisLo, axisHi);
    // Headroom above the tallest bar for the level labels.
    plot_->yAxis->setRange(0.0, maxCount > 0.0 ? maxCount * (enlarged_ ? 1.15 : 1.08) : 1.0);

    const std::size_t levelCount = quantized ? s.levels.size() : 0;
    levelsShown_ = levelCount;
    ensureLevelItems(levelCount);
    for (std::size_t i = 0; i < levels_.size(); ++i) {
        const bool on = i < levelCount;
        levels_[i]->setVisible(on);
        if (on) {
            levels_[i]->point1->setCoords(s.levels[i], 0.0);
            levels_[i]->point2->setCoords(s.levels[i], 1.0);
        }
        if (i < levelLabels_.size()) {
            // Many levels: label the outermost two and zero only.
            const bool labelled = on && (levelCount <= kMaxLabelledLevels || i == 0 || i + 1 == levelCount
                                         || s.levels[i] == 0.0f);
            levelLabels_[i]->setVisible(labelled);
            if (labelled) {
                levelLabels_[i]->position->setCoords(s.levels[i], 0.0);
                levelLabels_[i]->setText(sq ? levelText(s.levels[i], s.alpha)
                                            : stepLevelText(s.levels[i], s.step, s.method));
            }
        }
    }
    const std::size_t droppedCount = quantized && !sq ? s.droppedLevels.size() : 0;
    ensureDroppedItems(droppedCount);
    for (std::size_t i = 0; i < dropped_.size(); ++i) {
        const bool on = i < droppedCount;
        dropped_[i]->setVisible(on);
        if (on) {
            dropped_[i]->point1->setCoords(s.droppedLevels[i], 0.0);
            dropped_[i]->point2->setCoords(s.droppedLevels[i], 1.0);
        }
    }

    // The zero basin and the regularizer are SQ's; UniQ and CPQ have neither.
    const bool open = sq && quantized && s.delta > 0.0f;
    basin_->setVisible(open);
    basin_->topLeft->setCoords(-s.delta, 0.0);
    basin_->bottomRight->setCoords(s.delta, 1.0);

    const bool withCurve = sq && quantized && s.alpha > 0.0f;
    curve_->setVisible(withCurve);
    plot_->yAxis2->setVisible(withCurve);
    if (withCurve) {
        // The committed binary shape has no zero basin at all (SqShape::closedZeroBasin).
        const bool closed = decision_ == QLatin1String("binary") && s.committed;
        QVector<double> cKeys, cValues;
        sampleRegularizer(s.alpha, s.beta, p, closed, axisLo, axisHi, kCurveSamples, std::pow(static_cast<double>(s.alpha), p),
                          cKeys, cValues);
        curve_->setData(cKeys, cValues, true);
        const double top = *std::max_element(cValues.cbegin(), cValues.cend());
        plot_->yAxis2->setRange(0.0, top > 0.0 ? top * 1.08 : 1.0);
    } else {
        curve_->data()->clear();
    }
    if (enlarged_) {
        // The legend lists only what this layer shows.
        auto list = [this](QCPGraph* g, bool on) {
            if (on && !plot_->legend->hasItemWithPlottable(g))
                g->addToLegend();
            else if (!on)
                g->removeFromLegend();
        };
        list(curve_, withCurve);
        list(levelLegend_, quantized);
        list(basinLegend_, open);
        list(droppedLegend_, droppedCount > 0);
    }
    styleContent();
    requestReplot(plot_);
}

void HistogramPanel::setHighlighted(bool on)
{
    if (highlighted_ == on)
        return;
    highlighted_ = on;
    restyle();
}

void HistogramPanel::styleContent()
{
    const Theme& theme = Theme::instance();
    const QColor color = Theme::decisionColor(decision_);
    QColor fill = color;
    fill.setAlpha(80);
    bars_->setPen(QPen(color, std::max(1.0, theme.lineWidth() * 0.6)));
    bars_->setBrush(fill);
    curve_->setPen(QPen(theme.foreground(), theme.lineWidth()));
    // Dense grids (UniQ at 5+ bits, CPQ's 4-bit grid in a small multiple) get thin translucent
    // markers: dashes that close would merge into a wall hiding the bars.
    const bool dense = levelsShown_ > kManyLevels || (!enlarged_ && levelsShown_ > kMaxLabelledLevels);
    QColor levelColor = color.darker(115);
    double levelWidth = theme.lineWidth();
    if (dense) {
        levelColor.setAlpha(130);
        levelWidth = 1.0;
    }
    const QPen levelPen(levelColor, levelWidth, dense ? Qt::SolidLine : Qt::DashLine);
    for (auto* line : levels_)
        line->setPen(levelPen);
    const QPen droppedPen(Theme::droppedColor(), std::max(1.0, 0.8 * theme.lineWidth()), Qt::DotLine);
    for (auto* line : dropped_)
        line->setPen(droppedPen);
    for (auto* label : levelLabels_) {
        label->setColor(color.darker(115));
        label->setFont(theme.font(0, true));
        label->setBrush(QColor(theme.background().red(), theme.background().green(), theme.background().blue(), 200));
    }
    basin_->setPen(Qt::NoPen);
    basin_->setBrush(zeroBasinShade());
    if (levelLegend_) {
        levelLegend_->setPen(levelPen);
        basinLegend_->setPen(Qt::NoPen);
        basinLegend_->setBrush(zeroBasinShade());
        droppedLegend_->setPen(droppedPen);
    }
}

void HistogramPanel::restyle()
{
    const Theme& theme = Theme::instance();
    theme.applyTo(plot_);
    if (!enlarged_) {
        // Small multiples trade font size for room; presentation mode still enlarges them.
        for (QCPAxis* axis : plot_->axisRect()->axes()) {
            axis->setTickLabelFont(theme.font(-2));
            axis->setLabelFont(theme.font(-1));
        }
        title_->setFont(theme.font(0, true));
        const int scale = theme.basePointSize();
        plot_->setMinimumSize(20 * scale, 18 * scale);
    }
    if (highlighted_) {
        // The selected small multiple gets a tinted frame around its axis rect.
        plot_->setBackground(theme.gridColor());
        title_->setTextColor(theme.foreground());
    }
    styleContent();
    requestReplot(plot_);
}

HistogramView::HistogramView(QWidget* parent) : QWidget(parent)
{
    auto* splitter = new QSplitter(Qt::Vertical, this);
    enlarged_ = std::make_unique<HistogramPanel>(splitter, true);
    splitter->addWidget(enlarged_->plot());
    auto* scroll = new QScrollArea(splitter);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    grid_ = new QWidget;
    gridLayout_ = new QGridLayout(grid_);
    gridLayout_->setContentsMargins(0, 0, 0, 0);
    gridLayout_->setSpacing(4);
    scroll->setWidget(grid_);
    splitter->addWidget(scroll);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setSizes({600, 400}); // proportions: the enlarged layer above, the small multiples below
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(splitter);

    connect(&Theme::instance(), &Theme::changed, this, &HistogramView::restyle);
    restyle();
}

HistogramView::~HistogramView() = default;

void HistogramView::addSnapshot(const std::shared_ptr<const sq::Snapshot>& snapshot)
{
    if (!snapshot)
        return;
    const auto& incoming = snapshot->layers;
    bool sameLayers = incoming.size() == layers_.size();
    for (std::size_t i = 0; sameLayers && i < incoming.size(); ++i)
        sameLayers = incoming[i].state.name == layers_[i].state.name;
    layers_ = incoming;
    if (!sameLayers)
        rebuildSmallMultiples();
    if (!layers_.empty() && selected_ >= layerCount()) {
        selected_ = 0;
        emit selectedLayerChanged(selected_);
    }
    refresh();
}

void HistogramView::clear()
{
    layers_.clear();
    rebuildSmallMultiples();
    enlarged_->reset();
}

QList<QCustomPlot*> HistogramView::plots() const
{
    QList<QCustomPlot*> result{enlarged_->plot()};
    for (const auto& panel : small_)
        result.append(panel->plot());
    return result;
}

void HistogramView::setSelectedLayer(int layer)
{
    if (layer < 0 || layer == selected_ || (!layers_.empty() && layer >= layerCount()))
        return;
    selected_ = layer;
    refresh();
    emit selectedLayerChanged(selected_);
}

void HistogramView::setPower(int p)
{
    if ((p != 1 && p != 2) || p == power_)
        return;
    power_ = p;
    refresh();
}

void HistogramView::rebuildSmallMultiples()
{
    for (const auto& panel : small_)
        delete panel->plot();
    small_.clear();
    const int columns = columnsFor(layerCount());
    for (int i = 0; i < layerCount(); ++i) {
        auto panel = std::make_unique<HistogramPanel>(grid_, false);
        gridLayout_->addWidget(panel->plot(), i / columns, i % columns);
        connect(panel->plot(), &QCustomPlot::mousePress, this, [this, i](QMouseEvent*) { setSelectedLayer(i); });
        panel->restyle();
        small_.push_back(std::move(panel));
    }
}

void HistogramView::refresh()
{
    for (std::size_t i = 0; i < small_.size() && i < layers_.size(); ++i) {
        small_[i]->setHighlighted(static_cast<int>(i) == selected_);
        small_[i]->show(layers_[i], power_);
    }
    if (selected_ < layerCount())
        enlarged_->show(layers_[static_cast<std::size_t>(selected_)], power_);
}

void HistogramView::restyle()
{
    enlarged_->restyle();
    for (const auto& panel : small_)
        panel->restyle();
}

} // namespace sq::ui
