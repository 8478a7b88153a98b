#include "ui/regularizer_view.h"
#include "ui/plot_refresh.h"

#include "core/quant/sq_regularizer.h"
#include "ui/theme.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QLabel>
#include <QSlider>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace sq::ui {

namespace {

constexpr int kSliderSteps = 1000;
constexpr int kCurveSamples = 801;
constexpr double kRangeInAlphas = 2.5; // the plot spans w in [-2.5 alpha, 2.5 alpha]

int toSlider(double value, double lo, double hi)
{
    return std::clamp(static_cast<int>(std::lround((value - lo) / (hi - lo) * kSliderSteps)), 0, kSliderSteps);
}

double fromSlider(int position, double lo, double hi) { return lo + (hi - lo) * position / kSliderSteps; }

QPen markerPen(const QColor& color, Qt::PenStyle style = Qt::DashLine)
{
    return QPen(color, std::max(1.0, Theme::instance().lineWidth() * 0.6), style);
}

// A text item anchored at plot x and at a fraction of the axis rect's height.
QCPItemText* makeTopLabel(QCustomPlot* plot, const QString& text)
{
    auto* label = new QCPItemText(plot);
    label->position->setTypeX(QCPItemPosition::ptPlotCoords);
    label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    label->position->setAxes(plot->xAxis, plot->yAxis);
    label->position->setAxisRect(plot->axisRect());
    label->setPositionAlignment(Qt::AlignTop | Qt::AlignHCenter);
    label->setPadding(QMargins(2, 2, 2, 2));
    label->setText(text);
    return label;
}

} // namespace

double sqRegularizerValue(double w, double alpha, double beta, int p, bool closedZeroBasin)
{
    const double a = std::abs(w);
    const double outer = std::pow(std::abs(a - alpha), p);
    if (closedZeroBasin)
        return outer;
    return std::min(outer, std::tan(beta) * std::pow(a, p));
}

void sampleRegularizer(double alpha, double beta, int p, bool closedZeroBasin, double from, double to, int samples,
                       double divisor, QVector<double>& keys, QVector<double>& values)
{
    samples = std::max(samples, 2);
    std::vector<double> xs;
    xs.reserve(static_cast<std::size_t>(samples) + 5);
    for (int i = 0; i < samples; ++i)
        xs.push_back(from + (to - from) * i / (samples - 1));
    const double delta = closedZeroBasin ? 0.0 : zeroBasinHalfWidth(alpha, beta, p);
    for (double kink : {0.0, -delta, delta, -alpha, alpha})
        if (kink > from && kink < to)
            xs.push_back(kink);
    std::sort(xs.begin(), xs.end());
    xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
    keys.resize(static_cast<qsizetype>(xs.size()));
    values.resize(keys.size());
    for (qsizetype i = 0; i < keys.size(); ++i) {
        keys[i] = xs[static_cast<std::size_t>(i)];
        values[i] = sqRegularizerValue(keys[i], alpha, beta, p, closedZeroBasin) / divisor;
    }
}

QColor zeroBasinShade()
{
    QColor c = Theme::ternaryColor();
    c.setAlpha(48);
    return c;
}

RegularizerView::RegularizerView(QWidget* parent) : QWidget(parent), beta_(kBetaMin)
{
    plot_ = new QCustomPlot(this);
    plot_->setMinimumSize(420, 260);
    plot_->plotLayout()->insertRow(0);
    title_ = new QCPTextElement(plot_, QStringLiteral("r(w; α, β) = min( | |w| − α |^p ,  tan β · |w|^p )"));
    plot_->plotLayout()->addElement(0, 0, title_);
    plot_->xAxis->setLabel(QStringLiteral("weight w"));
    plot_->yAxis->setLabel(QStringLiteral("r(w; α, β)"));

    basin_ = new QCPItemRect(plot_);
    basin_->setObjectName(QStringLiteral("zeroBasin"));
    basin_->setLayer(QStringLiteral("background"));
    for (QCPItemPosition* corner : {basin_->topLeft, basin_->bottomRight}) {
        corner->setTypeX(QCPItemPosition::ptPlotCoords);
        corner->setTypeY(QCPItemPosition::ptAxisRectRatio);
        corner->setAxes(plot_->xAxis, plot_->yAxis);
        corner->setAxisRect(plot_->axisRect());
    }
    for (int i = 0; i < 2; ++i) {
        deltaLines_[i] = new QCPItemStraightLine(plot_);
        deltaLines_[i]->setObjectName(QStringLiteral("deltaMarker"));
        deltaLabels_[i] = makeTopLabel(plot_, i == 0 ? QStringLiteral("−Δ") : QStringLiteral("+Δ"));
    }

    curve_ = plot_->addGraph();
    curve_->setName(QStringLiteral("r(w)"));
    minima_ = plot_->addGraph();
    minima_->setName(QStringLiteral("minima (r = 0)"));
    minima_->setLineStyle(QCPGraph::lsNone);
    // Only a legend entry: the basin itself is the rectangle item behind the curve.
    basinLegend_ = plot_->addGraph();
    basinLegend_->setName(QStringLiteral("zero basin |w| < Δ"));
    basinLegend_->setPen(Qt::NoPen);

    plot_->legend->setVisible(true);
    plot_->axisRect()->insetLayout()->take(plot_->legend);
    plot_->plotLayout()->addElement(2, 0, plot_->legend);
    plot_->plotLayout()->setRowStretchFactor(2, 0.001);
    plot_->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);

    buildControls();
    connect(&Theme::instance(), &Theme::changed, this, &RegularizerView::restyle);
    syncControls();
    restyle();
}

void RegularizerView::buildControls()
{
    alphaSlider_ = new QSlider(Qt::Horizontal, this);
    betaSlider_ = new QSlider(Qt::Horizontal, this);
    for (QSlider* s : {alphaSlider_, betaSlider_})
        s->setRange(0, kSliderSteps);
    alphaSlider_->setToolTip(tr("Scale of the grid: the minima sit at −α and +α"));
    betaSlider_->setToolTip(tr("Shape: small β opens the zero basin (ternary), large β closes it (binary)"));
    powerBox_ = new QComboBox(this);
    powerBox_->addItem(QStringLiteral("p = 1 (linear walls)"), 1);
    powerBox_->addItem(QStringLiteral("p = 2 (parabolic walls)"), 2);
    powerBox_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    gammaBox_ = new QDoubleSpinBox(this);
    gammaBox_->setRange(0.0, 0.1);
    gammaBox_->setDecimals(4);
    gammaBox_->setSingleStep(0.0005);
    closedBox_ = new QCheckBox(tr("committed binary: zero basin closed"), this);
    alphaLabel_ = new QLabel(this);
    betaLabel_ = new QLabel(this);
    gammaLabel_ = new QLabel(this);
    explanation_ = new QLabel(this);
    // Long value texts wrap rather than widen the view.
    for (QLabel* label : {betaLabel_, gammaLabel_, explanation_})
        label->setWordWrap(true);
    explanation_->setObjectName(QStringLiteral("explanation"));

    connect(alphaSlider_, &QSlider::valueChanged, this, [this](int v) {
        if (syncing_)
            return;
        alpha_ = fromSlider(v, kAlphaMin, kAlphaMax);
        controlChanged();
    });
    connect(betaSlider_, &QSlider::valueChanged, this, [this](int v) {
        if (syncing_)
            return;
        setBeta(fromSlider(v, kBetaMin, kBetaMax));
        controlChanged();
    });
    connect(powerBox_, &QComboBox::currentIndexChanged, this, [this](int) {
        if (syncing_)
            return;
        setPower(powerBox_->currentData().toInt());
        controlChanged();
    });
    connect(gammaBox_, &QDoubleSpinBox::valueChanged, this, [this](double g) {
        if (syncing_)
            return;
        gamma_ = g;
        controlChanged();
    });
    connect(closedBox_, &QCheckBox::toggled, this, [this](bool on) {
        if (syncing_)
            return;
        setClosedZeroBasin(on);
        controlChanged();
    });

    auto* grid = new QGridLayout;
    grid->addWidget(new QLabel(tr("scale α"), this), 0, 0);
    grid->addWidget(alphaSlider_, 0, 1);
    grid->addWidget(alphaLabel_, 0, 2);
    grid->addWidget(new QLabel(tr("shape β"), this), 1, 0);
    grid->addWidget(betaSlider_, 1, 1);
    grid->addWidget(betaLabel_, 1, 2);
    grid->addWidget(new QLabel(tr("power p"), this), 2, 0);
    grid->addWidget(powerBox_, 2, 1);
    grid->addWidget(closedBox_, 2, 2);
    grid->addWidget(new QLabel(tr("memory pressure γ"), this), 3, 0);
    grid->addWidget(gammaBox_, 3, 1);
    grid->addWidget(gammaLabel_, 3, 2);
    grid->setColumnStretch(1, 2);
    grid->setColumnStretch(2, 3);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(plot_, 1);
    layout->addLayout(grid);
    layout->addWidget(explanation_);
}

void RegularizerView::addSnapshot(const std::shared_ptr<const sq::Snapshot>& snapshot)
{
    if (!snapshot || followed_.empty())
        return;
    for (const LayerSnapshot& layer : snapshot->layers)
        if (layer.state.name == followed_) {
            showLayer(layer.state);
            return;
        }
}

void RegularizerView::clear()
{
    followed_.clear();
    shownLayer_.clear();
    alpha_ = 1.0;
    beta_ = kBetaMin;
    p_ = 2;
    gamma_ = 3e-3;
    closed_ = false;
    syncControls();
    refresh();
}

QList<QCustomPlot*> RegularizerView::plots() const { return {plot_}; }

void RegularizerView::showLayer(const sq::LayerQuantState& layer)
{
    followed_ = layer.name;
    shownLayer_ = QString::fromStdString(layer.name);
    if (layer.alpha > 0.0f)
        alpha_ = layer.alpha;
    beta_ = std::clamp(static_cast<double>(layer.beta), kBetaMin, kBetaMax);
    closed_ = layer.committed && layer.decision == "binary";
    syncControls();
    refresh();
}

double RegularizerView::delta() const { return closed_ ? 0.0 : zeroBasinHalfWidth(alpha_, beta_, p_); }

bool RegularizerView::ternary() const { return !closed_ && beta_ < kBetaSwitchDefault; }

QString RegularizerView::explanation() const
{
    const QString prefix = shownLayer_.isEmpty() ? QString() : shownLayer_ + QStringLiteral(": ");
    const QString deltaText = QStringLiteral("Δ = %1α").arg(delta() / alpha_, 0, 'f', 2);
    QString text;
    if (closed_)
        text = tr("binary, committed: the zero basin is closed, leaving two minima −α and +α; every weight "
                  "is pulled to ±α and stored with 1 bit.");
    else if (ternary())
        text = tr("ternary (β < β_switch = 3π/8): three minima −α, 0, +α; zero basin |w| < %1. Weights "
                  "inside it are pulled to 0, the others to ±α; 2 bits per weight.")
                   .arg(deltaText);
    else
        text = tr("binary (β ≥ β_switch = 3π/8): the zero basin |w| < %1 is narrow and closes at commit, "
                  "leaving the minima −α and +α; 1 bit per weight.")
                   .arg(deltaText);
    return prefix + text;
}

void RegularizerView::setAlpha(double alpha)
{
    if (!(alpha > 0.0))
        return;
    alpha_ = alpha;
    syncControls();
    refresh();
}

void RegularizerView::setBeta(double beta)
{
    beta_ = std::clamp(beta, kBetaMin, kBetaMax);
    // A ternary layer has an open basin by definition; only binary layers close it at commit.
    if (beta_ < kBetaSwitchDefault)
        closed_ = false;
    syncControls();
    refresh();
}

void RegularizerView::setPower(int p)
{
    if (p != 1 && p != 2)
        return;
    p_ = p;
    syncControls();
    refresh();
}

void RegularizerView::setGamma(double gamma)
{
    gamma_ = std::max(0.0, gamma);
    syncControls();
    refresh();
}

void RegularizerView::setClosedZeroBasin(bool closed)
{
    closed_ = closed && beta_ >= kBetaSwitchDefault;
    syncControls();
    refresh();
}

void RegularizerView::controlChanged()
{
    followed_.clear();
    shownLayer_.clear();
    refresh();
}

void RegularizerView::syncControls()
{
    syncing_ = true;
    alphaSlider_->setValue(toSlider(alpha_, kAlphaMin, kAlphaMax));
    betaSlider_->setValue(toSlider(beta_, kBetaMin, kBetaMax));
    powerBox_->setCurrentIndex(powerBox_->findData(p_));
    gammaBox_->setValue(gamma_);
    closedBox_->setEnabled(beta_ >= kBetaSwitchDefault);
    closedBox_->setChecked(closed_);
    syncing_ = false;
}

void RegularizerView::refresh()
{
    const Theme& theme = Theme::instance();
    const double a = alpha_;
    const double d = delta();
    const QColor color = ternary() ? Theme::ternaryColor() : Theme::binaryColor();

    QVector<double> keys, values;
    sampleRegularizer(a, beta_, p_, closed_, -kRangeInAlphas * a, kRangeInAlphas * a, kCurveSamples, 1.0, keys, values);
    curve_->setData(keys, values, true);
    curve_->setPen(QPen(color, theme.lineWidth()));
    const double top = *std::max_element(values.cbegin(), values.cend());

    QVector<double> minimaKeys{-a, a};
    if (!closed_)
        minimaKeys.insert(1, 0.0);
    minima_->setData(minimaKeys, QVector<double>(minimaKeys.size(), 0.0), true);
    minima_->setPen(QPen(color, theme.lineWidth()));
    minima_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, color, theme.background(),
                                             theme.presentation() ? 14 : 9));

    const bool open = d > 0.0;
    basin_->setVisible(open);
    basin_->setPen(Qt::NoPen);
    basin_->setBrush(zeroBasinShade());
    basin_->topLeft->setCoords(-d, 0.0);
    basin_->bottomRight->setCoords(d, 1.0);
    basinLegend_->setBrush(zeroBasinShade());
    for (int i = 0; i < 2; ++i) {
        const double x = i == 0 ? -d : d;
        deltaLines_[i]->setVisible(open);
        deltaLines_[i]->point1->setCoords(x, 0.0);
        deltaLines_[i]->point2->setCoords(x, 1.0);
        deltaLines_[i]->setPen(markerPen(Theme::ternaryColor()));
        deltaLabels_[i]->setVisible(open);
        deltaLabels_[i]->position->setCoords(x, 0.0);
        deltaLabels_[i]->setFont(theme.font(0, true));
        deltaLabels_[i]->setColor(Theme::ternaryColor());
    }

    plot_->xAxis->setRange(-kRangeInAlphas * a, kRangeInAlphas * a);
    // Headroom for the Delta labels above the curve, and below zero so the minima markers show whole.
    plot_->yAxis->setRange(-0.03 * top, top * 1.15);

    alphaLabel_->setText(QStringLiteral("α = %1").arg(a, 0, 'g', 3));
    betaLabel_->setText(QStringLiteral("β = %1 rad (%2°) · %3 (β_switch = 3π/8 ≈ %4)")
                            .arg(beta_, 0, 'f', 3)
                            .arg(beta_ * 180.0 / std::numbers::pi, 0, 'f', 1)
                            .arg(ternary() ? tr("ternary") : tr("binary"))
                            .arg(kBetaSwitchDefault, 0, 'f', 3));
    gammaLabel_->setText(tr("γ·cot β = %1 (falls as β grows: γ pushes toward binary)")
                             .arg(gamma_ / std::tan(beta_), 0, 'g', 3));
    explanation_->setText(explanation());
    requestReplot(plot_);
}

void RegularizerView::restyle()
{
    const Theme& theme = Theme::instance();
    theme.applyTo(plot_);
    setFont(theme.font());
    explanation_->setFont(theme.font(1));
    refresh();
}

} // namespace sq::ui
