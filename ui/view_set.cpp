#include "ui/view_set.h"

#include "ui/depth_view.h"
#include "ui/histogram_heatmap_view.h"
#include "ui/histogram_view.h"
#include "ui/memory_view.h"
#include "ui/metrics_view.h"
#include "ui/regularizer_view.h"

#include <QCoreApplication>

#include <algorithm>

namespace sq::ui {

ViewSet::ViewSet(QWidget* parent)
    : histograms(new HistogramView(parent)), heatmap(new HistogramHeatmapView(parent)), depth(new DepthView(parent)),
      metrics(new MetricsView(parent)), memory(new MemoryView(parent)), regularizer(new RegularizerView(parent))
{
}

void ViewSet::addSnapshot(const std::shared_ptr<const Snapshot>& snapshot)
{
    const bool first = !latest_;
    latest_ = snapshot;
    histograms->addSnapshot(snapshot);
    heatmap->addSnapshot(snapshot);
    depth->addSnapshot(snapshot);
    metrics->addSnapshot(snapshot);
    memory->addSnapshot(snapshot);
    if (first && !snapshot->layers.empty())
        selectLayer(histograms->selectedLayer());
    regularizer->addSnapshot(snapshot);
}

void ViewSet::clear()
{
    histograms->clear();
    heatmap->clear();
    depth->clear();
    metrics->clear();
    memory->clear();
    latest_.reset();
}

void ViewSet::selectLayer(int layer)
{
    heatmap->setSelectedLayer(layer);
    if (!latest_ || latest_->layers.empty())
        return;
    const auto index = static_cast<std::size_t>(std::clamp(layer, 0, static_cast<int>(latest_->layers.size()) - 1));
    regularizer->showLayer(latest_->layers[index].state);
}

QList<Figure> ViewSet::figures() const
{
    const auto tr = [](const char* text) { return QCoreApplication::translate("sq::ui::ViewSet", text); };
    return {
        {QStringLiteral("histograms"), tr("Weight histograms"), histograms},
        {QStringLiteral("heatmap"), tr("Histogram over time"), heatmap},
        {QStringLiteral("depth"), tr("Depth decisions"), depth},
        {QStringLiteral("metrics"), tr("Training metrics"), metrics},
        {QStringLiteral("memory"), tr("Memory"), memory},
        {QStringLiteral("regularizer"), tr("Regularizer explorer"), regularizer},
    };
}

} // namespace sq::ui
