#include "ui/frontier_view.h"

#include "ui/theme.h"

#include <qcustomplot.h>

#include <QFontMetricsF>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace sq::ui {

namespace {

QCPScatterStyle::ScatterShape shapeOf(MethodFamily family)
{
    // Shapes as well as colours, so the methods stay apart in grey print and for every eye.
    switch (family) {
    case MethodFamily::Sq:
        return QCPScatterStyle::ssDiamond;
    case MethodFamily::Binary:
        return QCPScatterStyle::ssCircle;
    case MethodFamily::Ternary:
        return QCPScatterStyle::ssSquare;
    case MethodFamily::Uniq:
        return QCPScatterStyle::ssTriangle;
    case MethodFamily::Cpq:
        return QCPScatterStyle::ssTriangleInverted;
    case MethodFamily::Float:
        break;
    }
    return QCPScatterStyle::ssDisc;
}

constexpr double kMarkerSize = 11.0;

} // namespace

FrontierView::FrontierView(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this))
{
    plot_->setMinimumSize(360, 260);
    plot_->setAutoAddPlottableToLegend(false);
    plot_->legend->setVisible(true);
    plot_->legend->setSelectableParts(QCPLegend::spNone);
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    plot_->xAxis->setScaleType(QCPAxis::stLogarithmic);
    plot_->xAxis->setTicker(makeBitsTicker());
    plot_->xAxis->setLabel(tr("model size (bits, log scale)"));
    plot_->yAxis->setLabel(tr("quantized test accuracy (%)"));
    plot_->plotLayout()->insertRow(0);
    plot_->plotLayout()->addElement(0, 0, new QCPTextElement(plot_, tr("Accuracy against model size, one marker per run")));
    // Labels avoid each other in pixels, so they are placed once the layout knows its pixels.
    connect(plot_, &QCustomPlot::afterLayout, this, &FrontierView::placeLabels);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(plot_);
    connect(&Theme::instance(), &Theme::changed, this, &FrontierView::restyle);
    clear();
}

void FrontierView::clear()
{
    plot_->clearGraphs();
    plot_->clearItems();
    plot_->legend->clearItems();
    markers_.clear();
    anchors_.clear();
    labels_.clear();
    floatLines_.clear();
    floatLabels_.clear();
    floatAccuracies_.clear();
    plot_->xAxis->setRange(1e4, 1e7);
    plot_->yAxis->setRange(0, 100);
    restyle();
}

QList<double> FrontierView::referenceLines() const { return floatAccuracies_; }

void FrontierView::setRuns(const QList<ComparedRun>& runs)
{
    clear();
    const MethodFamily order[] = {MethodFamily::Sq, MethodFamily::Binary, MethodFamily::Ternary, MethodFamily::Uniq,
                                  MethodFamily::Cpq};
    double xMin = INFINITY, xMax = 0, yMin = INFINITY, yMax = -INFINITY;
    for (const MethodFamily family : order) {
        QCPGraph* graph = nullptr;
        for (const ComparedRun& r : runs) {
            const auto& final = r.run->summary.final;
            if (r.family != family || !final || final->memory.modelBits == 0
                || !std::isfinite(final->evaluation.quantizedAccuracy))
                continue;
            if (!graph) {
                graph = plot_->addGraph();
                graph->setName(familyName(family));
                graph->setLineStyle(QCPGraph::lsNone);
                const QColor color = familyColor(family);
                graph->setPen(QPen(color, 1.6));
                graph->setScatterStyle(QCPScatterStyle(shapeOf(family), color.darker(130), color, kMarkerSize));
                graph->addToLegend();
            }
            const double bits = static_cast<double>(final->memory.modelBits);
            const double accuracy = 100.0 * final->evaluation.quantizedAccuracy;
            graph->addData(bits, accuracy);
            markers_.append({r.label, family, bits, accuracy});
            xMin = std::min(xMin, bits);
            xMax = std::max(xMax, bits);
            yMin = std::min(yMin, accuracy);
            yMax = std::max(yMax, accuracy);

            auto* anchor = new QCPItemTracer(plot_);
            anchor->setStyle(QCPItemTracer::tsNone);
            anchor->position->setCoords(bits, accuracy);
            auto* label = new QCPItemText(plot_);
            label->setText(r.label);
            label->position->setParentAnchor(anchor->position);
            label->position->setType(QCPItemPosition::ptAbsolute);
            label->setClipToAxisRect(false);
            anchors_.append(anchor);
            labels_.append(label);
        }
    }

    // Float runs: their (float) test accuracy across the whole plot, labelled at the right edge.
    bool floatInLegend = false;
    for (const ComparedRun& r : runs) {
        const auto& final = r.run->summary.final;
        if (r.family != MethodFamily::Float || !final || !std::isfinite(final->evaluation.floatAccuracy))
            continue;
        const double accuracy = 100.0 * final->evaluation.floatAccuracy;
        const QPen pen(Theme::floatColor(), 1.6, Qt::DashLine);
        auto* line = new QCPItemStraightLine(plot_);
        line->point1->setTypeX(QCPItemPosition::ptAxisRectRatio);
        line->point2->setTypeX(QCPItemPosition::ptAxisRectRatio);
        line->point1->setCoords(0, accuracy);
        line->point2->setCoords(1, accuracy);
        line->setPen(pen);
        auto* text = new QCPItemText(plot_);
        text->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
        text->position->setCoords(0.99, accuracy);
        text->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
        text->setText(tr("%1: %2% at %3 (float32)")
                          .arg(r.label)
                          .arg(accuracy, 0, 'f', 1)
                          .arg(formatBits(static_cast<double>(final->memory.modelBits))));
        floatLines_.append(line);
        floatLabels_.append(text);
        floatAccuracies_.append(accuracy);
        yMin = std::min(yMin, accuracy);
        yMax = std::max(yMax, accuracy);
        if (!floatInLegend) {
            // An empty graph draws nothing but gives the reference lines their legend entry.
            QCPGraph* key = plot_->addGraph();
            key->setName(tr("float (reference)"));
            key->setPen(pen);
            key->addToLegend();
            floatInLegend = true;
        }
    }

    if (xMax > 0) {
        // Room for the labels right of the rightmost marker and left of the leftmost.
        const double span = std::max(xMax / xMin, 4.0);
        plot_->xAxis->setRange(xMin / std::pow(span, 0.25), xMax * std::pow(span, 0.45));
    }
    if (std::isfinite(yMin)) {
        const double pad = std::max(2.0, 0.15 * (yMax - yMin));
        plot_->yAxis->setRange(std::max(0.0, yMin - pad), std::min(100.0, yMax + pad));
    }
    restyle();
}

void FrontierView::placeLabels()
{
    // Greedy, left to right: each label takes the first spot beside its marker that overlaps no
    // marker, no label placed before it and stays inside the plot; failing that, the spot with the
    // least overlap. Runs with nearly equal size and accuracy keep readable labels this way.
    const QRectF area = plot_->axisRect()->rect();
    QList<QRectF> taken;
    QList<QPointF> centres;
    for (const QCPItemTracer* anchor : anchors_)
        centres.append(anchor->position->pixelPosition());
    for (const QPointF& c : centres)
        taken.append(QRectF(c.x() - kMarkerSize / 2 - 2, c.y() - kMarkerSize / 2 - 2, kMarkerSize + 4, kMarkerSize + 4));
    // The float reference lines and their labels at the right edge are obstacles too.
    for (const QCPItemText* text : floatLabels_) {
        const double y = text->position->pixelPosition().y();
        const double width = QFontMetricsF(text->font()).horizontalAdvance(text->text()) + 8;
        taken.append(QRectF(area.left(), y - 2, area.width(), 4));
        taken.append(QRectF(area.right() - width, y - 20, width, 20));
    }

    QList<int> order;
    for (int i = 0; i < labels_.size(); ++i)
        order.append(i);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return centres[a].x() < centres[b].x(); });

    struct Spot {
        double dx, dy;
        Qt::Alignment align;
    };
    const double m = kMarkerSize / 2 + 4;
    const Spot spots[] = {
        {m, 0, Qt::AlignLeft | Qt::AlignVCenter},       {0, -m, Qt::AlignHCenter | Qt::AlignBottom},
        {0, m, Qt::AlignHCenter | Qt::AlignTop},        {-m, 0, Qt::AlignRight | Qt::AlignVCenter},
        {m, -m, Qt::AlignLeft | Qt::AlignBottom},       {m, m, Qt::AlignLeft | Qt::AlignTop},
        {-m, -m, Qt::AlignRight | Qt::AlignBottom},     {-m, m, Qt::AlignRight | Qt::AlignTop},
        {0, -2.6 * m, Qt::AlignHCenter | Qt::AlignBottom}, {0, 2.6 * m, Qt::AlignHCenter | Qt::AlignTop},
        {m, -2.6 * m, Qt::AlignLeft | Qt::AlignBottom}, {m, 2.6 * m, Qt::AlignLeft | Qt::AlignTop},
    };
    for (const int i : order) {
        QCPItemText* label = labels_[i];
        const QFontMetricsF metrics(label->font());
        const QSizeF size = metrics.size(0, label->text()) + QSizeF(4, 2);
        const auto rectFor = [&](const Spot& s) {
            QPointF p = centres[i] + QPointF(s.dx, s.dy);
            if (s.align & Qt::AlignRight)
                p.rx() -= size.width();
            else if (s.align & Qt::AlignHCenter)
                p.rx() -= size.width() / 2;
            if (s.align & Qt::AlignBottom)
                p.ry() -= size.height();
            else if (s.align & Qt::AlignVCenter)
                p.ry() -= size.height() / 2;
            return QRectF(p, size);
        };
        const auto cost = [&](const QRectF& r) {
            double overlap = 0;
            for (int k = 0; k < taken.size(); ++k) {
                if (k == i) // the label's own marker
                    continue;
                const QRectF o = r.intersected(taken[k]);
                if (!o.isEmpty())
                    overlap += o.width() * o.height();
            }
            const QRectF inside = r.intersected(area);
            overlap += 2 * (r.width() * r.height() - inside.width() * inside.height());
            return overlap;
        };
        const Spot* best = &spots[0];
        double bestCost = INFINITY;
        for (const Spot& s : spots) {
            const double c = cost(rectFor(s));
            if (c < bestCost) {
                best = &s;
                bestCost = c;
            }
            if (c == 0)
                break;
        }
        label->setPositionAlignment(best->align);
        label->position->setCoords(best->dx, best->dy);
        taken.append(rectFor(*best));
    }
}

void FrontierView::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void FrontierView::restyle()
{
    Theme& theme = Theme::instance();
    theme.applyTo(plot_);
    for (QCPItemText* label : labels_) {
        label->setFont(theme.font(-1));
        label->setColor(theme.foreground());
    }
    for (QCPItemText* label : floatLabels_) {
        label->setFont(theme.font(-1));
        label->setColor(theme.subtle());
    }
    for (QCPItemStraightLine* line : floatLines_) {
        QPen pen = line->pen();
        pen.setWidthF(theme.lineWidth());
        line->setPen(pen);
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace sq::ui
