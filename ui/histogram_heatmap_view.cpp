#include "ui/histogram_heatmap_view.h"
#include "ui/plot_refresh.h"

#include "ui/theme.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace sq::ui {

namespace {

constexpr double kGrowMargin = 0.1;   // share of the span added when the weight grid grows
constexpr double kMinTimeSpan = 1e-3; // epochs, so a single column still has a width
constexpr std::size_t kMaxLevelTicks = 16; // denser grids would paint the right edge solid
constexpr double kTickLength = 0.04;       // share of the plot's width

// Viridis (perceptually uniform, readable with the common colour-vision deficiencies), sampled at
// nine even stops: QCustomPlot 2.1 has no viridis preset.
QCPColorGradient viridis()
{
    static const QColor stops[] = {QColor(0x44, 0x01, 0x54), QColor(0x47, 0x2d, 0x7b), QColor(0x3b, 0x52, 0x8b),
                                   QColor(0x2c, 0x72, 0x8e), QColor(0x21, 0x91, 0x8c), QColor(0x28, 0xae, 0x80),
                                   QColor(0x5e, 0xc9, 0x62), QColor(0xad, 0xdc, 0x30), QColor(0xfd, 0xe7, 0x25)};
    QCPColorGradient gradient;
    gradient.clearColorStops();
    const int n = static_cast<int>(std::size(stops));
    for (int i = 0; i < n; ++i)
        gradient.setColorStopAt(static_cast<double>(i) / (n - 1), stops[i]);
    gradient.setColorInterpolation(QCPColorGradient::ciRGB);
    gradient.setLevelCount(256);
    return gradient;
}

QString countText(double count)
{
    if (count >= 1e6)
        return QStringLiteral("%1M").arg(count / 1e6, 0, 'g', 3);
    if (count >= 1e3)
        return QStringLiteral("%1k").arg(count / 1e3, 0, 'g', 3);
    return QString::number(count, 'g', 3);
}

// The colour scale holds log10(1 + count); its ticks are labelled with the counts themselves.
QSharedPointer<QCPAxisTickerText> countTicker(double maxLog)
{
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    ticker->addTick(0.0, QStringLiteral("0"));
    const bool dense = maxLog < 3.0; // add 3, 30, 300 between the powers of ten while they fit
    for (double decade = 1.0; std::log10(1.0 + decade) <= maxLog * 1.001; decade *= 10.0) {
        ticker->addTick(std::log10(1.0 + decade), countText(decade));
        if (dense && std::log10(1.0 + 3.0 * decade) <= maxLog * 1.001)
            ticker->addTick(std::log10(1.0 + 3.0 * decade), countText(3.0 * decade));
    }
    return ticker;
}

} // namespace

// ---- HistogramHistory ----------------------------------------------------------------------

HistogramHistory::HistogramHistory(int rows, int maxColumns)
    : rows_(std::max(rows, 2)), maxColumns_(std::max(maxColumns, 2))
{
}

void HistogramHistory::resample(const float* counts, int bins, double lo, double hi, double gridLo, double gridHi,
                                std::vector<float>& out)
{
    const int rows = static_cast<int>(out.size());
    if (bins <= 0 || rows <= 0 || !(hi > lo) || !(gridHi > gridLo))
        return;
    const double binWidth = (hi - lo) / bins;
    const double rowHeight = (gridHi - gridLo) / rows;
    auto rowOf = [&](double w) {
        return std::clamp(static_cast<int>(std::floor((w - gridLo) / rowHeight)), 0, rows - 1);
    };
    for (int b = 0; b < bins; ++b) {
        const double count = counts[b];
        if (count == 0.0)
            continue;
        const double b0 = lo + b * binWidth;
        const double b1 = b0 + binWidth;
        const int r0 = rowOf(b0);
        const int r1 = rowOf(b1 - 1e-12 * binWidth);
        // Share the bin by overlap; the end rows also take any part beyond the grid, so nothing is lost.
        for (int r = r0; r <= r1; ++r) {
            const double e0 = r == r0 ? b0 : gridLo + r * rowHeight;
            const double e1 = r == r1 ? b1 : gridLo + (r + 1) * rowHeight;
            out[static_cast<std::size_t>(r)] += static_cast<float>(count * (e1 - e0) / binWidth);
        }
    }
}

void HistogramHistory::add(double time, const Histogram& histogram, float alpha)
{
    const int bins = static_cast<int>(histogram.counts.size());
    if (bins == 0 || !(histogram.hi > histogram.lo))
        return;
    // Time before everything recorded: a new run that nobody cleared us for.
    if (!columns_.empty() && time < columns_.front().firstTime)
        clear();
    if (columns_.empty()) {
        const double margin = kGrowMargin * (histogram.hi - histogram.lo);
        lo_ = histogram.lo - margin;
        hi_ = histogram.hi + margin;
    } else if (histogram.lo < lo_ || histogram.hi > hi_) {
        grow(histogram.lo, histogram.hi);
    }
    Column column;
    column.firstTime = column.lastTime = time;
    column.snapshots = 1;
    column.alpha = alpha;
    column.counts.assign(static_cast<std::size_t>(rows_), 0.0f);
    resample(histogram.counts.data(), bins, histogram.lo, histogram.hi, lo_, hi_, column.counts);
    if (!columns_.empty() && time <= columns_.back().lastTime) {
        // A paused or repeated snapshot: the latest picture of that moment wins.
        columns_.back().counts = std::move(column.counts);
        columns_.back().alpha = alpha;
        return;
    }
    columns_.push_back(std::move(column));
    if (static_cast<int>(columns_.size()) > maxColumns_)
        mergePairs();
}

void HistogramHistory::clear()
{
    columns_.clear();
    lo_ = hi_ = 0.0;
}

void HistogramHistory::grow(double lo, double hi)
{
    double newLo = std::min(lo_, lo);
    double newHi = std::max(hi_, hi);
    const double margin = kGrowMargin * (newHi - newLo);
    if (lo < lo_)
        newLo -= margin;
    if (hi > hi_)
        newHi += margin;
    for (Column& column : columns_) {
        std::vector<float> counts(static_cast<std::size_t>(rows_), 0.0f);
        resample(column.counts.data(), rows_, lo_, hi_, newLo, newHi, counts);
        column.counts = std::move(counts);
    }
    lo_ = newLo;
    hi_ = newHi;
}

void HistogramHistory::mergePairs()
{
    std::vector<Column> merged;
    merged.reserve(columns_.size() / 2 + 1);
    for (std::size_t i = 0; i + 1 < columns_.size(); i += 2) {
        Column& a = columns_[i];
        const Column& b = columns_[i + 1];
        // The mean picture over both, each weighted by the snapshots it already stands for.
        const float wa = static_cast<float>(a.snapshots) / static_cast<float>(a.snapshots + b.snapshots);
        for (std::size_t r = 0; r < a.counts.size(); ++r)
            a.counts[r] = wa * a.counts[r] + (1.0f - wa) * b.counts[r];
        a.lastTime = b.lastTime;
        a.snapshots += b.snapshots;
        a.alpha = b.alpha;
        merged.push_back(std::move(a));
    }
    if (columns_.size() % 2 == 1)
        merged.push_back(std::move(columns_.back()));
    columns_ = std::move(merged);
}

// ---- HistogramHeatmapView ------------------------------------------------------------------

HistogramHeatmapView::HistogramHeatmapView(QWidget* parent) : QWidget(parent)
{
    selector_ = new QComboBox(this);
    selector_->setMinimumContentsLength(10);
    connect(selector_, &QComboBox::currentIndexChanged, this, &HistogramHeatmapView::setSelectedLayer);

    plot_ = new QCustomPlot(this);
    plot_->setMinimumSize(420, 280);
    plot_->plotLayout()->insertRow(0);
    title_ = new QCPTextElement(plot_, tr("weight histogram over time: waiting for a run"));
    plot_->plotLayout()->addElement(0, 0, title_);
    plot_->xAxis->setLabel(tr("training time (epochs)"));
    plot_->yAxis->setLabel(tr("weight value"));

    map_ = new QCPColorMap(plot_->xAxis, plot_->yAxis);
    map_->setName(tr("weights per bin"));
    map_->setInterpolate(false);
    map_->removeFromLegend();
    scale_ = new QCPColorScale(plot_);
    scale_->setType(QCPAxis::atRight);
    scale_->setLabel(tr("weights per bin (log)"));
    scale_->setBarWidth(14);
    plot_->plotLayout()->addElement(1, 1, scale_);
    map_->setColorScale(scale_);
    scale_->setGradient(viridis()); // the map takes its scale's gradient once attached
    auto* margins = new QCPMarginGroup(plot_);
    plot_->axisRect()->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
    scale_->setMarginGroup(QCP::msTop | QCP::msBottom, margins);

    for (int i = 0; i < 2; ++i) {
        alphaOutlines_[i] = plot_->addGraph();
        alphaOutlines_[i]->removeFromLegend();
    }
    for (int i = 0; i < 2; ++i) {
        alphaLines_[i] = plot_->addGraph();
        alphaLines_[i]->setObjectName(QStringLiteral("alphaLine"));
        alphaLines_[i]->setName(tr("±α (grid scale)"));
        if (i == 1)
            alphaLines_[i]->removeFromLegend(); // one legend entry for the pair
    }
    levelLegend_ = plot_->addGraph();
    levelLegend_->setName(tr("current levels"));
    levelLegend_->removeFromLegend(); // listed while the ticks show
    commitLine_ = new QCPItemStraightLine(plot_);
    commitLine_->setVisible(false);
    commitLabel_ = new QCPItemText(plot_);
    commitLabel_->position->setTypeX(QCPItemPosition::ptPlotCoords);
    commitLabel_->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    commitLabel_->position->setAxes(plot_->xAxis, plot_->yAxis);
    commitLabel_->position->setAxisRect(plot_->axisRect());
    commitLabel_->setPositionAlignment(Qt::AlignTop | Qt::AlignLeft);
    commitLabel_->setPadding(QMargins(4, 2, 4, 2));
    commitLabel_->setText(tr("commit"));
    commitLabel_->setVisible(false);

    plot_->legend->setVisible(true);
    plot_->axisRect()->insetLayout()->take(plot_->legend);
    plot_->plotLayout()->addElement(2, 0, plot_->legend);
    plot_->plotLayout()->setRowStretchFactor(2, 0.001);
    plot_->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    // Filling the colour map costs columns x rows cells: do it once per replot, not per snapshot.
    connect(plot_, &QCustomPlot::beforeReplot, this, [this] {
        if (dirty_)
            fillColorMap();
    });

    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("layer"), this));
    top->addWidget(selector_);
    top->addStretch(1);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(plot_, 1);

    connect(&Theme::instance(), &Theme::changed, this, &HistogramHeatmapView::restyle);
    restyle();
    updateAxes();
}

HistogramHeatmapView::~HistogramHeatmapView() = default;

void HistogramHeatmapView::addSnapshot(const std::shared_ptr<const sq::Snapshot>& snapshot)
{
    if (!snapshot)
        return;
    const auto& layers = snapshot->layers;
    bool sameLayers = layers.size() == names_.size();
    for (std::size_t i = 0; sameLayers && i < layers.size(); ++i)
        sameLayers = layers[i].state.name == names_[i];
    if (!sameLayers) {
        histories_.assign(layers.size(), HistogramHistory());
        names_.clear();
        for (const LayerSnapshot& layer : layers)
            names_.push_back(layer.state.name);
        rebuildSelector();
    }
    decisions_.resize(layers.size());
    levels_.resize(layers.size());
    sqLayers_.resize(layers.size());
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const LayerQuantState& state = layers[i].state;
        histories_[i].add(snapshot->epochsElapsed, layers[i].histogram, state.alpha);
        decisions_[i] = QString::fromStdString(state.decision);
        sqLayers_[i] = state.method.empty() || state.method == "sq";
        levels_[i] = state.keepFloat ? std::vector<float>{} : state.levels;
    }
    if (snapshot->phase == Phase::Commit)
        commitStart_ = snapshot->commitStartEpoch;
    dirty_ = true;
    updateAxes();
}

void HistogramHeatmapView::clear()
{
    histories_.clear();
    names_.clear();
    decisions_.clear();
    levels_.clear();
    sqLayers_.clear();
    commitStart_ = -1.0;
    rebuildSelector();
    dirty_ = true;
    updateAxes();
}

QList<QCustomPlot*> HistogramHeatmapView::plots() const { return {plot_}; }

void HistogramHeatmapView::setSelectedLayer(int layer)
{
    if (layer < 0 || layer == selected_ || (!histories_.empty() && layer >= layerCount()))
        return;
    selected_ = layer;
    {
        const QSignalBlocker blocker(selector_);
        selector_->setCurrentIndex(layer < selector_->count() ? layer : -1);
    }
    dirty_ = true;
    updateAxes();
    emit selectedLayerChanged(selected_);
}

const HistogramHistory* HistogramHeatmapView::history(int layer) const
{
    return layer >= 0 && layer < layerCount() ? &histories_[static_cast<std::size_t>(layer)] : nullptr;
}

void HistogramHeatmapView::rebuildSelector()
{
    const QSignalBlocker blocker(selector_);
    selector_->clear();
    for (const std::string& name : names_)
        selector_->addItem(QString::fromStdString(name));
    if (!names_.empty() && selected_ >= layerCount()) {
        selected_ = 0;
        emit selectedLayerChanged(selected_);
    }
    selector_->setCurrentIndex(selected_ < selector_->count() ? selected_ : -1);
}

// Ranges, title and commit mark follow every snapshot; the cells wait for the replot.
void HistogramHeatmapView::updateAxes()
{
    const HistogramHistory* h = history(selected_);
    if (!h || h->empty()) {
        title_->setText(tr("weight histogram over time: waiting for a run"));
        plot_->xAxis->setRange(0.0, 1.0);
        plot_->yAxis->setRange(-1.0, 1.0);
        commitLine_->setVisible(false);
        commitLabel_->setVisible(false);
    } else {
        const auto i = static_cast<std::size_t>(selected_);
        title_->setText(QStringLiteral("%1 · %2 · weight histogram over time")
                            .arg(QString::fromStdString(names_[i]), decisions_[i]));
        const double t0 = h->timeStart();
        const double t1 = std::max(h->timeEnd(), t0 + kMinTimeSpan);
        plot_->xAxis->setRange(t0, t1);
        plot_->yAxis->setRange(h->lo(), h->hi());
        const bool commit = commitStart_ >= t0 && commitStart_ <= t1;
        commitLine_->setVisible(commit);
        commitLabel_->setVisible(commit);
        commitLine_->point1->setCoords(commitStart_, 0.0);
        commitLine_->point2->setCoords(commitStart_, 1.0);
        commitLabel_->position->setCoords(commitStart_, 0.0);
    }
    updateLevelTicks();
    requestReplot(plot_);
}

void HistogramHeatmapView::updateLevelTicks()
{
    // SQ's grid is the ±α lines already; UniQ's and CPQ's inner levels get ticks at the right edge,
    // where the latest column is, so they read as "the grid now" rather than as history.
    const auto i = static_cast<std::size_t>(selected_);
    const HistogramHistory* h = history(selected_);
    const bool show = h && !h->empty() && i < levels_.size() && !sqLayers_[i] && !levels_[i].empty()
                      && levels_[i].size() <= kMaxLevelTicks;
    const std::size_t count = show ? levels_[i].size() : 0;
    while (levelTicks_.size() < count) {
        auto* tick = new QCPItemLine(plot_);
        tick->setObjectName(QStringLiteral("levelTick"));
        tick->setClipToAxisRect(true);
        for (QCPItemPosition* end : {tick->start, tick->end}) {
            end->setTypeX(QCPItemPosition::ptAxisRectRatio);
            end->setTypeY(QCPItemPosition::ptPlotCoords);
            end->setAxes(plot_->xAxis, plot_->yAxis);
            end->setAxisRect(plot_->axisRect());
        }
        levelTicks_.push_back(tick);
    }
    const QColor color = i < decisions_.size() ? Theme::decisionColor(decisions_[i]) : Theme::floatColor();
    const QPen pen(color.lighter(Theme::instance().dark() ? 140 : 115), Theme::instance().lineWidth() + 1.5);
    for (std::size_t k = 0; k < levelTicks_.size(); ++k) {
        QCPItemLine* tick = levelTicks_[k];
        tick->setVisible(k < count);
        if (k >= count)
            continue;
        tick->start->setCoords(1.0 - kTickLength, levels_[i][k]);
        tick->end->setCoords(1.0, levels_[i][k]);
        tick->setPen(pen);
    }
    levelLegend_->setPen(pen);
    if (count > 0 && !plot_->legend->hasItemWithPlottable(levelLegend_))
        levelLegend_->addToLegend();
    else if (count == 0)
        levelLegend_->removeFromLegend();
    const bool sqLayer = i >= sqLayers_.size() || sqLayers_[i];
    alphaLines_[0]->setName(sqLayer ? tr("±α (grid scale)") : tr("outermost levels"));
}

void HistogramHeatmapView::fillColorMap()
{
    dirty_ = false;
    const HistogramHistory* h = history(selected_);
    const bool any = h && !h->empty();
    map_->setVisible(any);
    for (QCPGraph* g : {alphaLines_[0], alphaLines_[1], alphaOutlines_[0], alphaOutlines_[1]})
        g->data()->clear();
    if (!any) {
        map_->data()->clear();
        return;
    }
    const auto& columns = h->columns();
    const int n = static_cast<int>(columns.size());
    const int rows = h->rows();
    // log10(1 + count) per column, column-major like the history.
    std::vector<std::vector<double>> logs(columns.size());
    double maxLog = 0.0;
    for (std::size_t c = 0; c < columns.size(); ++c) {
        logs[c].reserve(columns[c].counts.size());
        for (float count : columns[c].counts) {
            logs[c].push_back(std::log10(1.0 + std::max(0.0f, count)));
            maxLog = std::max(maxLog, logs[c].back());
        }
    }

    // Cells are uniform in time while snapshots are not (wall-time cadence, merged columns): each
    // cell shows the column nearest in time, so the picture keeps the true time axis.
    const double t0 = h->timeStart();
    const double t1 = std::max(h->timeEnd(), t0 + kMinTimeSpan);
    const int cells = std::clamp(4 * n, 2, 2 * h->maxColumns());
    const double cellWidth = (t1 - t0) / cells;
    const double rowHeight = (h->hi() - h->lo()) / rows;
    QCPColorMapData* data = map_->data();
    data->setSize(cells, rows);
    data->setRange(QCPRange(t0 + cellWidth / 2, t1 - cellWidth / 2),
                   QCPRange(h->lo() + rowHeight / 2, h->hi() - rowHeight / 2));
    std::size_t c = 0;
    for (int k = 0; k < cells; ++k) {
        const double x = t0 + (k + 0.5) * cellWidth;
        while (c + 1 < columns.size() && x > 0.5 * (columns[c].lastTime + columns[c + 1].firstTime))
            ++c;
        for (int r = 0; r < rows; ++r)
            data->setCell(k, r, logs[c][static_cast<std::size_t>(r)]);
    }
    maxLog = std::max(maxLog, 0.3); // at least 0 to 1 weight on the scale
    map_->setDataRange(QCPRange(0.0, maxLog));
    scale_->axis()->setTicker(countTicker(maxLog));

    QVector<double> keys, upper, lower;
    for (const auto& column : columns) {
        keys.append(column.lastTime);
        upper.append(column.alpha);
        lower.append(-column.alpha);
    }
    alphaLines_[0]->setData(keys, upper, true);
    alphaLines_[1]->setData(keys, lower, true);
    alphaOutlines_[0]->setData(keys, upper, true);
    alphaOutlines_[1]->setData(keys, lower, true);
    const QColor color = Theme::decisionColor(decisions_[static_cast<std::size_t>(selected_)]);
    const double width = Theme::instance().lineWidth();
    for (QCPGraph* g : alphaLines_)
        g->setPen(QPen(color, width, Qt::DashLine));
    // A dark outline whatever the theme, so the dashes read on viridis' bright bands too.
    const Theme& theme = Theme::instance();
    for (QCPGraph* g : alphaOutlines_)
        g->setPen(QPen(theme.dark() ? theme.background() : theme.foreground(), width + 2.0));
}

void HistogramHeatmapView::restyle()
{
    const Theme& theme = Theme::instance();
    theme.applyTo(plot_);
    QCPAxis* axis = scale_->axis();
    axis->setTickLabelFont(theme.font(-1));
    axis->setLabelFont(theme.font(0));
    axis->setTickLabelColor(theme.foreground());
    axis->setLabelColor(theme.foreground());
    axis->setBasePen(QPen(theme.subtle(), 1));
    axis->setTickPen(QPen(theme.subtle(), 1));
    axis->setSubTickPen(Qt::NoPen);
    // A light line whatever the theme: most of the map is viridis' dark end.
    commitLine_->setPen(QPen(theme.dark() ? theme.foreground() : theme.background(),
                             std::max(1.0, theme.lineWidth() * 0.6), Qt::DashLine));
    commitLabel_->setFont(theme.font(-1));
    commitLabel_->setColor(theme.foreground());
    commitLabel_->setBrush(theme.background());
    setFont(theme.font());
    dirty_ = true; // pens of the alpha lines
    requestReplot(plot_);
}

} // namespace sq::ui
