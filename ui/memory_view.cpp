#include "ui/memory_view.h"
#include "ui/plot_refresh.h"

#include "core/snapshot.h"
#include "ui/theme.h"

#include <qcustomplot.h>

#include <QLabel>
#include <QLocale>
#include <QVBoxLayout>

#include <algorithm>

namespace sq::ui {

namespace {

QString grouped(std::uint64_t value) { return QLocale(QLocale::English).toString(static_cast<qulonglong>(value)); }

// "117.8 kbit", "1.77 Mbit": decimal prefixes, as for bandwidths and model sizes in papers.
QString formatBits(double bits)
{
    if (bits >= 1e9)
        return QStringLiteral("%1 Gbit").arg(bits / 1e9, 0, 'f', 2);
    if (bits >= 1e6)
        return QStringLiteral("%1 Mbit").arg(bits / 1e6, 0, 'f', 2);
    if (bits >= 1e3)
        return QStringLiteral("%1 kbit").arg(bits / 1e3, 0, 'f', 1);
    return QStringLiteral("%1 bit").arg(bits, 0, 'f', 0);
}

QString formatBytes(double bits)
{
    const double bytes = bits / 8.0;
    if (bytes >= 1e6)
        return QStringLiteral("%1 MB").arg(bytes / 1e6, 0, 'f', 2);
    if (bytes >= 1e3)
        return QStringLiteral("%1 kB").arg(bytes / 1e3, 0, 'f', 1);
    return QStringLiteral("%1 B").arg(bytes, 0, 'f', 0);
}

} // namespace

MemoryView::MemoryView(QWidget* parent)
    : QWidget(parent)
{
    plot_ = new QCustomPlot(this);
    plot_->setMinimumSize(320, 240);
    plot_->setAutoAddPlottableToLegend(false);
    plot_->legend->setVisible(true);
    plot_->legend->setSelectableParts(QCPLegend::spNone);
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    plot_->xAxis->setLabel(tr("layer"));
    plot_->xAxis->grid()->setVisible(false);
    plot_->xAxis->setTicker(QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText));
    // Fixed order, so the legend reads the same in every run.
    for (const char* decision : {"binary", "ternary", "float"})
        barsFor(QString::fromLatin1(decision));

    headline_ = new QLabel(this);
    details_ = new QLabel(this);
    details_->setWordWrap(true);
    for (QLabel* label : {headline_, details_})
        label->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(headline_);
    layout->addWidget(details_);
    layout->addWidget(plot_, 1);

    connect(&Theme::instance(), &Theme::changed, this, &MemoryView::restyle);
    restyle();
    clear();
}

QCPBars* MemoryView::barsFor(const QString& decision)
{
    for (const auto& [name, bars] : bars_)
        if (name == decision)
            return bars;
    auto* bars = new QCPBars(plot_->xAxis, plot_->yAxis);
    bars->setName(decision);
    bars->setWidth(0.6);
    bars->setPen(Qt::NoPen);
    bars->setBrush(Theme::decisionColor(decision));
    bars_.emplace_back(decision, bars);
    return bars;
}

void MemoryView::addSnapshot(const std::shared_ptr<const sq::Snapshot>& snapshot)
{
    if (!snapshot)
        return;
    const Snapshot& s = *snapshot;
    const Theme& theme = Theme::instance();

    double maxBits = 0.0;
    for (const LayerSnapshot& layer : s.layers)
        maxBits = std::max(maxBits, static_cast<double>(layer.state.bits) * static_cast<double>(layer.state.weights));
    // One unit for the whole axis, chosen so the largest bar reads as a small number.
    const bool mega = maxBits >= 1e6;
    const double unit = mega ? 1e6 : 1e3;
    plot_->yAxis->setLabel(mega ? tr("storage (Mbit)") : tr("storage (kbit)"));

    std::vector<std::pair<QVector<double>, QVector<double>>> data(bars_.size());
    auto ticker = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    while (labels_.size() > s.layers.size()) {
        plot_->removeItem(labels_.back());
        labels_.pop_back();
    }
    for (std::size_t i = 0; i < s.layers.size(); ++i) {
        const LayerQuantState& state = s.layers[i].state;
        const double key = static_cast<double>(i);
        const double bits = static_cast<double>(state.bits) * static_cast<double>(state.weights);
        QCPBars* bars = barsFor(QString::fromStdString(state.decision));
        data.resize(bars_.size());
        const auto set = std::find_if(bars_.begin(), bars_.end(), [&](const auto& entry) { return entry.second == bars; });
        auto& [keys, values] = data[static_cast<std::size_t>(set - bars_.begin())];
        keys << key;
        values << bits / unit;
        ticker->addTick(key, QStringLiteral("%1\n%2 weights").arg(QString::fromStdString(state.name), grouped(state.weights)));

        if (i == labels_.size()) {
            auto* label = new QCPItemText(plot_);
            label->setPositionAlignment(Qt::AlignHCenter | Qt::AlignBottom);
            label->setTextAlignment(Qt::AlignHCenter);
            label->setPadding(QMargins(2, 2, 2, 3));
            label->setSelectable(false);
            label->setFont(theme.font(-1));
            label->setColor(theme.foreground());
            labels_.push_back(label);
        }
        labels_[i]->setText(QStringLiteral("%1 bit\n%2").arg(state.bits).arg(formatBits(bits)));
        labels_[i]->position->setCoords(key, bits / unit);
    }

    plot_->legend->clearItems();
    for (std::size_t b = 0; b < bars_.size(); ++b) {
        QCPBars* bars = bars_[b].second;
        bars->setData(data[b].first, data[b].second, true);
        if (!data[b].first.isEmpty())
            bars->addToLegend(plot_->legend);
    }
    plot_->xAxis->setTicker(ticker);
    plot_->xAxis->setRange(-0.6, std::max<double>(0.6, s.layers.size() - 0.4));
    // Headroom above the tallest bar for its two-line label and the legend.
    plot_->yAxis->setRange(0.0, maxBits > 0.0 ? 1.35 * maxBits / unit : 1.0);

    const MemoryReport& m = s.memory;
    headline_->setText(tr("×%1 smaller than float32 (whole model)").arg(m.compression(), 0, 'f', 1));
    details_->setText(tr("Weights: %1 bits (%2, %3), ×%4 smaller than float32 weights (%5).\n"
                         "Model: %6 bits (%7, %8) with scales, biases and other float parameters; "
                         "float32 model %9 (%10).")
                          .arg(grouped(m.weightBits), formatBits(static_cast<double>(m.weightBits)),
                               formatBytes(static_cast<double>(m.weightBits)))
                          .arg(m.weightCompression(), 0, 'f', 1)
                          .arg(formatBits(static_cast<double>(m.floatWeightBits)), grouped(m.modelBits),
                               formatBits(static_cast<double>(m.modelBits)), formatBytes(static_cast<double>(m.modelBits)),
                               formatBits(static_cast<double>(m.floatModelBits)),
                               formatBytes(static_cast<double>(m.floatModelBits))));
    requestReplot(plot_);
}

void MemoryView::clear()
{
    for (const auto& entry : bars_)
        entry.second->data()->clear();
    for (QCPItemText* label : labels_)
        plot_->removeItem(label);
    labels_.clear();
    plot_->legend->clearItems();
    plot_->xAxis->setTicker(QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText));
    plot_->xAxis->setRange(-0.6, 0.6);
    plot_->yAxis->setLabel(tr("storage (kbit)"));
    plot_->yAxis->setRange(0.0, 1.0);
    headline_->clear();
    details_->clear();
    requestReplot(plot_);
}

QList<QCustomPlot*> MemoryView::plots() const { return {plot_}; }

QString MemoryView::summaryText() const
{
    if (headline_->text().isEmpty())
        return {};
    return headline_->text() + QLatin1Char('\n') + details_->text();
}

void MemoryView::restyle()
{
    const Theme& theme = Theme::instance();
    theme.applyTo(plot_);
    for (const auto& [decision, bars] : bars_)
        bars->setBrush(Theme::decisionColor(decision));
    for (QCPItemText* label : labels_) {
        label->setFont(theme.font(-1));
        label->setColor(theme.foreground());
    }
    headline_->setFont(theme.font(4, true));
    details_->setFont(theme.font(0));
    requestReplot(plot_);
}

} // namespace sq::ui
