// The weight-distribution views (histograms, histogram heat map, regularizer) fed with fake
// snapshots: structure, grid markers, bounded history, the curve's values, and rendered pixels.
#include "core/quant/sq_regularizer.h"
#include "ui/fake_snapshots.h"
#include "ui/histogram_heatmap_view.h"
#include "ui/histogram_view.h"
#include "ui/regularizer_view.h"
#include "ui/theme.h"

#include <QComboBox>
#include <QSet>
#include <QSignalSpy>
#include <QSlider>
#include <QtTest>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <numbers>

using namespace sq;
using sq::testing::fakeSnapshot;

namespace {

template <typename View>
void feed(View& view, int count, int perEpoch = 10, int epochs = 3)
{
    for (int i = 0; i < count; ++i)
        view.addSnapshot(fakeSnapshot(i, perEpoch, epochs));
}

// Lets the queued replots run (they fill the heat map's cells).
void settle()
{
    for (int i = 0; i < 3; ++i)
        QCoreApplication::processEvents();
}

QString titleOf(QCustomPlot* plot)
{
    for (int i = 0; i < plot->plotLayout()->elementCount(); ++i)
        if (auto* title = qobject_cast<QCPTextElement*>(plot->plotLayout()->elementAt(i)))
            return title->text();
    return {};
}

QCPTextElement* titleElement(QCustomPlot* plot)
{
    for (int i = 0; i < plot->plotLayout()->elementCount(); ++i)
        if (auto* title = qobject_cast<QCPTextElement*>(plot->plotLayout()->elementAt(i)))
            return title;
    return nullptr;
}

template <typename Item>
QList<Item*> visibleItems(QCustomPlot* plot, const QString& objectName)
{
    QList<Item*> result;
    for (int i = 0; i < plot->itemCount(); ++i)
        if (auto* item = qobject_cast<Item*>(plot->item(i)))
            if (item->visible() && item->objectName() == objectName)
                result.append(item);
    return result;
}

QList<double> lineXs(QCustomPlot* plot, const QString& objectName)
{
    QList<double> xs;
    for (auto* line : visibleItems<QCPItemStraightLine>(plot, objectName)) {
        // Vertical: both points at the same x.
        if (line->point1->coords().x() != line->point2->coords().x())
            return {};
        xs.append(line->point1->coords().x());
    }
    std::sort(xs.begin(), xs.end());
    return xs;
}

QCPGraph* graphNamed(QCustomPlot* plot, const QString& objectName)
{
    for (int i = 0; i < plot->graphCount(); ++i)
        if (plot->graph(i)->objectName() == objectName || plot->graph(i)->name() == objectName)
            return plot->graph(i);
    return nullptr;
}

// The curve's value at exactly `key` (the sampler inserts the kinks), or NaN when absent.
double valueAt(QCPGraph* graph, double key, double tolerance = 1e-12)
{
    for (auto it = graph->data()->constBegin(); it != graph->data()->constEnd(); ++it)
        if (std::abs(it->key - key) <= tolerance)
            return it->value;
    return std::nan("");
}

bool near(double actual, double expected, double tol = 1e-6)
{
    return std::abs(actual - expected) <= tol * std::max(1.0, std::abs(expected));
}

#define QVERIFY_NEAR(actual, expected, tol)                                                                         \
    QVERIFY2(near((actual), (expected), (tol)),                                                                     \
             qPrintable(QStringLiteral("%1 = %2, expected %3").arg(#actual).arg((actual), 0, 'g', 10).arg((expected), 0, 'g', 10)))

// Distinct colours and the share of pixels that differ from the most common one (the background).
struct Pixels {
    int colours = 0;
    double nonBackground = 0.0;
};

Pixels pixelsOf(const QImage& source)
{
    const QImage image = source.convertToFormat(QImage::Format_RGB32);
    QHash<QRgb, int> counts;
    for (int y = 0; y < image.height(); ++y) {
        const auto* line = reinterpret_cast<const QRgb*>(image.constScanLine(y));
        for (int x = 0; x < image.width(); ++x)
            ++counts[line[x]];
    }
    int most = 0;
    for (int c : std::as_const(counts))
        most = std::max(most, c);
    const double total = static_cast<double>(image.width()) * image.height();
    return {static_cast<int>(counts.size()), total > 0 ? 1.0 - most / total : 0.0};
}

void maybeSave(QWidget& widget, const QString& name)
{
    if (qEnvironmentVariableIsSet("SQ_SAVE_VIEW_PNGS"))
        widget.grab().save(QStringLiteral("/tmp/view-%1.png").arg(name));
}

} // namespace

class TestDistributionViews : public QObject {
    Q_OBJECT

private slots:
    void init();

    void histogramSmallMultiples();
    void histogramGridMarkersAndBasin();
    void histogramRegularizerOverlay();
    void histogramSelection();
    void histogramFloatLayerHasNoGrid();
    void histogramClear();

    void heatmapColumns();
    void heatmapShowsBands();
    void heatmapBoundedHistory();
    void heatmapRangeCoversEveryHistogram();
    void heatmapSelectionAndClear();
    void historyRestartsOnEarlierTime();

    void regularizerZerosAndDelta();
    void regularizerMatchesCore();
    void regularizerPowerChangesCurve();
    void regularizerExplainsDecision();
    void regularizerShowLayerFollowsUntilUserMoves();
    void regularizerClear();

    void viewsRenderSomething();
    void presentationModeRestyles();
};

void TestDistributionViews::init()
{
    ui::Theme::instance().setPresentation(false);
    ui::Theme::instance().setDark(false);
}

void TestDistributionViews::histogramSmallMultiples()
{
    ui::HistogramView view;
    QCOMPARE(view.plots().size(), 1); // only the enlarged plot before any run
    feed(view, 30);
    QCOMPARE(view.layerCount(), 3);
    const auto plots = view.plots();
    QCOMPARE(plots.size(), 4); // enlarged + one small multiple per layer
    const auto last = fakeSnapshot(29);
    for (int i = 1; i < plots.size(); ++i) {
        QCPGraph* bars = graphNamed(plots[i], QStringLiteral("histogram"));
        QVERIFY(bars);
        // 48 bins drawn as steps: one point per bin edge.
        QCOMPARE(bars->data()->size(), 49);
        const std::string& name = last->layers[static_cast<std::size_t>(i - 1)].state.name;
        QVERIFY(titleOf(plots[i]).startsWith(QString::fromStdString(name)));
        QVERIFY(plots[i]->parentWidget() != plots[0]->parentWidget()); // small multiples live in their own grid
    }
}

void TestDistributionViews::histogramGridMarkersAndBasin()
{
    ui::HistogramView view;
    feed(view, 30);
    const auto last = fakeSnapshot(29);
    const LayerQuantState& ternary = last->layers[0].state;
    const LayerQuantState& binary = last->layers[1].state;
    QCOMPARE(QString::fromStdString(ternary.decision), QStringLiteral("ternary"));
    QCOMPARE(QString::fromStdString(binary.decision), QStringLiteral("binary"));

    const auto plots = view.plots();
    for (QCustomPlot* plot : {plots[0], plots[1]}) { // enlarged (layer 0 selected) and layer 0's multiple
        const QList<double> xs = lineXs(plot, QStringLiteral("gridLevel"));
        QCOMPARE(xs.size(), 3);
        QVERIFY_NEAR(xs[0], -ternary.alpha, 1e-9);
        QVERIFY_NEAR(xs[1], 0.0, 1e-9);
        QVERIFY_NEAR(xs[2], ternary.alpha, 1e-9);
        const auto basins = visibleItems<QCPItemRect>(plot, QStringLiteral("zeroBasin"));
        QCOMPARE(basins.size(), 1);
        QVERIFY(ternary.delta > 0.0f);
        QVERIFY_NEAR(basins[0]->topLeft->coords().x(), -ternary.delta, 1e-9);
        QVERIFY_NEAR(basins[0]->bottomRight->coords().x(), ternary.delta, 1e-9);
    }
    const QList<double> xs = lineXs(plots[2], QStringLiteral("gridLevel"));
    QCOMPARE(xs.size(), 2);
    QVERIFY_NEAR(xs[0], -binary.alpha, 1e-9);
    QVERIFY_NEAR(xs[1], binary.alpha, 1e-9);
    QVERIFY(visibleItems<QCPItemRect>(plots[2], QStringLiteral("zeroBasin")).isEmpty()); // binary: delta 0
}

void TestDistributionViews::histogramRegularizerOverlay()
{
    ui::HistogramView view;
    feed(view, 15); // mid search: every layer still has an open basin shape
    const auto s = fakeSnapshot(14);
    const LayerQuantState& q = s->layers[0].state;
    QCustomPlot* plot = view.plots()[1];
    QCPGraph* curve = graphNamed(plot, QStringLiteral("regularizer"));
    QVERIFY(curve && curve->visible());
    QCOMPARE(curve->valueAxis(), plot->yAxis2);
    QCOMPARE(plot->yAxis2->label(), QStringLiteral("r(w) / α^p"));
    QVERIFY_NEAR(valueAt(curve, q.alpha, 1e-7), 0.0, 1e-9);
    QVERIFY_NEAR(valueAt(curve, 0.0), 0.0, 1e-9);
    // Scale-free: at the histogram's edge w = -2.5 alpha, r / alpha^2 = 1.5^2.
    QVERIFY_NEAR(curve->data()->constBegin()->value, 2.25, 1e-4);

    view.setPower(1);
    QCOMPARE(view.power(), 1);
    QVERIFY_NEAR(curve->data()->constBegin()->value, 1.5, 1e-4);

    // A committed binary layer shows the closed basin: r(0) / alpha^p = 1.
    ui::HistogramView committed;
    feed(committed, 30);
    QVERIFY(fakeSnapshot(29)->layers[1].state.committed);
    QCPGraph* binaryCurve = graphNamed(committed.plots()[2], QStringLiteral("regularizer"));
    QVERIFY_NEAR(valueAt(binaryCurve, 0.0), 1.0, 1e-9);
    QCPGraph* ternaryCurve = graphNamed(committed.plots()[1], QStringLiteral("regularizer"));
    QVERIFY_NEAR(valueAt(ternaryCurve, 0.0), 0.0, 1e-9);
}

void TestDistributionViews::histogramSelection()
{
    ui::HistogramView view;
    view.resize(900, 700);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    feed(view, 30);
    QSignalSpy spy(&view, &ui::HistogramView::selectedLayerChanged);
    QCustomPlot* enlarged = view.plots()[0];
    QVERIFY(titleOf(enlarged).startsWith(QStringLiteral("dense1 · ternary · 2 bit · α 0.05")));

    view.setSelectedLayer(2);
    QCOMPARE(view.selectedLayer(), 2);
    QCOMPARE(spy.size(), 1);
    QCOMPARE(spy.at(0).at(0).toInt(), 2);
    QVERIFY2(titleOf(enlarged).startsWith(QStringLiteral("dense3 · binary · 1 bit · α 0.07")),
             qPrintable(titleOf(enlarged)));
    QCOMPARE(lineXs(enlarged, QStringLiteral("gridLevel")).size(), 2);

    view.setSelectedLayer(7); // out of range: ignored
    QCOMPARE(view.selectedLayer(), 2);
    QCOMPARE(spy.size(), 1);

    // Clicking a small multiple selects its layer.
    QCustomPlot* second = view.plots()[2];
    QTest::mouseClick(second, Qt::LeftButton, {}, second->rect().center());
    QCOMPARE(view.selectedLayer(), 1);
    QCOMPARE(spy.size(), 2);
    QVERIFY(titleOf(enlarged).startsWith(QStringLiteral("dense2")));
}

void TestDistributionViews::histogramFloatLayerHasNoGrid()
{
    auto s = std::make_shared<Snapshot>(*fakeSnapshot(5));
    LayerQuantState& q = s->layers[2].state;
    q.decision = "float";
    q.keepFloat = true;
    q.bits = 32;
    q.levels.clear();
    ui::HistogramView view;
    view.addSnapshot(s);
    QCustomPlot* plot = view.plots()[3];
    QVERIFY(titleOf(plot).contains(QStringLiteral("float · 32 bit")));
    QVERIFY(lineXs(plot, QStringLiteral("gridLevel")).isEmpty());
    QVERIFY(visibleItems<QCPItemRect>(plot, QStringLiteral("zeroBasin")).isEmpty());
    QVERIFY(!graphNamed(plot, QStringLiteral("regularizer"))->visible());
    QCOMPARE(graphNamed(plot, QStringLiteral("histogram"))->data()->size(), 49);
    // The quantized layers keep their grid.
    QCOMPARE(lineXs(view.plots()[1], QStringLiteral("gridLevel")).size(), 3);
}

void TestDistributionViews::histogramClear()
{
    ui::HistogramView view;
    feed(view, 30);
    view.clear();
    QCOMPARE(view.layerCount(), 0);
    QCOMPARE(view.plots().size(), 1);
    QCustomPlot* enlarged = view.plots()[0];
    QVERIFY(graphNamed(enlarged, QStringLiteral("histogram"))->data()->isEmpty());
    QVERIFY(lineXs(enlarged, QStringLiteral("gridLevel")).isEmpty());
    QVERIFY(visibleItems<QCPItemRect>(enlarged, QStringLiteral("zeroBasin")).isEmpty());
    feed(view, 3); // a new run fills it again
    QCOMPARE(view.plots().size(), 4);
}

void TestDistributionViews::heatmapColumns()
{
    ui::HistogramHeatmapView view;
    feed(view, 30);
    QCOMPARE(view.layerCount(), 3);
    QCOMPARE(view.plots().size(), 1);
    for (int l = 0; l < 3; ++l) {
        QCOMPARE(static_cast<int>(view.history(l)->columns().size()), 30);
        QCOMPARE(view.history(l)->rows(), 96);
    }
    QVERIFY(!view.history(3));
    QCustomPlot* plot = view.plots()[0];
    QCOMPARE(plot->xAxis->label(), QStringLiteral("training time (epochs)"));
    QCOMPARE(plot->yAxis->label(), QStringLiteral("weight value"));
    QVERIFY_NEAR(plot->xAxis->range().lower, fakeSnapshot(0)->epochsElapsed, 1e-9);
    QVERIFY_NEAR(plot->xAxis->range().upper, fakeSnapshot(29)->epochsElapsed, 1e-9);
    settle();
    auto* map = qobject_cast<QCPColorMap*>(plot->plottable(0));
    QVERIFY(map);
    QVERIFY(map->data()->keySize() >= 30);
    QCOMPARE(map->data()->valueSize(), 96);
    QCOMPARE(map->colorScale()->label(), QStringLiteral("weights per bin (log)"));
    // ±alpha over time: one point per column.
    QCOMPARE(graphNamed(plot, QStringLiteral("alphaLine"))->data()->size(), 30);
}

void TestDistributionViews::heatmapShowsBands()
{
    ui::HistogramHeatmapView view;
    view.show(); // cells are filled for display: a hidden plot skips its replots
    feed(view, 30);
    auto cellAt = [&](double t, double w) {
        settle();
        auto* map = qobject_cast<QCPColorMap*>(view.plots()[0]->plottable(0));
        int k = 0, r = 0;
        map->data()->coordToCell(t, w, &k, &r);
        return map->data()->cell(k, r);
    };
    const double t = fakeSnapshot(29)->epochsElapsed - 0.01;
    const float a0 = fakeSnapshot(29)->layers[0].state.alpha;
    // Ternary layer: three bright bands at -alpha, 0, +alpha with dark gaps between.
    const double zero0 = cellAt(t, 0.0);
    const double gap0 = cellAt(t, 0.5 * a0);
    QVERIFY(cellAt(t, a0) > gap0 + 1.0);
    QVERIFY(cellAt(t, -a0) > gap0 + 1.0);
    QVERIFY(zero0 > gap0 + 1.0);
    view.setSelectedLayer(1);
    const float a1 = fakeSnapshot(29)->layers[1].state.alpha;
    // Binary layer: two bands, nothing at zero.
    QVERIFY(cellAt(t, a1) > cellAt(t, 0.0) + 1.0);
    QVERIFY(cellAt(t, -a1) > cellAt(t, 0.0) + 1.0);
}

void TestDistributionViews::heatmapBoundedHistory()
{
    ui::HistogramHeatmapView view;
    const int n = 5000;
    feed(view, n, 100, 50);
    const ui::HistogramHistory* h = view.history(0);
    const int columns = static_cast<int>(h->columns().size());
    QVERIFY2(columns <= h->maxColumns(), qPrintable(QString::number(columns)));
    QVERIFY(columns >= h->maxColumns() / 2);
    QCOMPARE(h->maxColumns(), 600);
    int snapshots = 0;
    for (const auto& c : h->columns()) {
        snapshots += c.snapshots;
        QVERIFY(c.firstTime <= c.lastTime);
    }
    QCOMPARE(snapshots, n); // merging keeps every snapshot accounted for
    for (std::size_t i = 1; i < h->columns().size(); ++i)
        QVERIFY(h->columns()[i - 1].lastTime < h->columns()[i].firstTime);
    QVERIFY_NEAR(h->timeStart(), fakeSnapshot(0, 100, 50)->epochsElapsed, 1e-12);
    QVERIFY_NEAR(h->timeEnd(), fakeSnapshot(n - 1, 100, 50)->epochsElapsed, 1e-12);
    QVERIFY_NEAR(view.plots()[0]->xAxis->range().upper, h->timeEnd(), 1e-12);
    settle();
    auto* map = qobject_cast<QCPColorMap*>(view.plots()[0]->plottable(0));
    QVERIFY(map->data()->keySize() <= 2 * h->maxColumns());
}

void TestDistributionViews::heatmapRangeCoversEveryHistogram()
{
    ui::HistogramHeatmapView view;
    QList<std::pair<float, float>> ranges;
    for (int i = 0; i < 40; ++i) {
        auto s = std::make_shared<Snapshot>(*fakeSnapshot(i));
        // Ranges that widen, shift and narrow again: the grid must grow to cover all of them.
        const float scale = 1.0f + 0.15f * static_cast<float>(i % 17);
        const float shift = 0.01f * static_cast<float>((i % 5) - 2);
        for (LayerSnapshot& layer : s->layers) {
            layer.histogram.lo = layer.histogram.lo * scale + shift;
            layer.histogram.hi = layer.histogram.hi * scale + shift;
        }
        ranges.append({s->layers[0].histogram.lo, s->layers[0].histogram.hi});
        view.addSnapshot(s);
        const ui::HistogramHistory* h = view.history(0);
        // Resampling keeps the weight count, whatever the grid.
        double total = 0.0;
        for (float c : s->layers[0].histogram.counts)
            total += c;
        double kept = 0.0;
        for (float c : h->columns().back().counts)
            kept += c;
        QVERIFY_NEAR(kept, total, 1e-4);
    }
    const QCPRange y = view.plots()[0]->yAxis->range();
    const ui::HistogramHistory* h = view.history(0);
    for (const auto& [lo, hi] : ranges) {
        QVERIFY(h->lo() <= lo && h->hi() >= hi);
        QVERIFY(y.lower <= lo && y.upper >= hi);
    }
    QVERIFY_NEAR(y.lower, h->lo(), 1e-12);
}

void TestDistributionViews::heatmapSelectionAndClear()
{
    ui::HistogramHeatmapView view;
    feed(view, 30);
    QSignalSpy spy(&view, &ui::HistogramHeatmapView::selectedLayerChanged);
    auto* combo = view.findChild<QComboBox*>();
    QVERIFY(combo);
    QCOMPARE(combo->count(), 3);
    QVERIFY(titleOf(view.plots()[0]).startsWith(QStringLiteral("dense1 · ternary")));
    combo->setCurrentIndex(2);
    QCOMPARE(view.selectedLayer(), 2);
    QCOMPARE(spy.size(), 1);
    QVERIFY(titleOf(view.plots()[0]).startsWith(QStringLiteral("dense3 · binary")));
    view.setSelectedLayer(1);
    QCOMPARE(combo->currentIndex(), 1);
    QCOMPARE(spy.size(), 2);

    view.clear();
    QCOMPARE(view.layerCount(), 0);
    QCOMPARE(combo->count(), 0);
    settle();
    auto* map = qobject_cast<QCPColorMap*>(view.plots()[0]->plottable(0));
    QVERIFY(map->data()->isEmpty());
    QVERIFY(graphNamed(view.plots()[0], QStringLiteral("alphaLine"))->data()->isEmpty());
}

void TestDistributionViews::historyRestartsOnEarlierTime()
{
    ui::HistogramHistory history(8, 4);
    Histogram h{-1.0f, 1.0f, {1.0f, 2.0f, 3.0f, 4.0f}};
    for (int i = 1; i <= 3; ++i)
        history.add(i, h, 0.5f);
    QCOMPARE(history.columns().size(), std::size_t(3));
    history.add(3.0, Histogram{-1.0f, 1.0f, {0.0f, 0.0f, 0.0f, 8.0f}}, 0.6f); // same time: replaces
    QCOMPARE(history.columns().size(), std::size_t(3));
    QCOMPARE(history.columns().back().alpha, 0.6f);
    QVERIFY(history.columns().back().counts.front() == 0.0f);
    history.add(4.0, h, 0.5f);
    history.add(5.0, h, 0.5f); // 5 columns > 4: merged pairwise into 3
    QCOMPARE(history.columns().size(), std::size_t(3));
    QCOMPARE(history.columns()[0].snapshots, 2);
    QCOMPARE(history.columns()[0].lastTime, 2.0);
    history.add(0.5, h, 0.5f); // before everything recorded: a new run
    QCOMPARE(history.columns().size(), std::size_t(1));
    QCOMPARE(history.timeStart(), 0.5);
}

void TestDistributionViews::regularizerZerosAndDelta()
{
    ui::RegularizerView view;
    view.setAlpha(0.8);
    view.setBeta(std::numbers::pi / 4);
    view.setPower(2);
    QCustomPlot* plot = view.plots()[0];
    QCPGraph* curve = graphNamed(plot, QStringLiteral("r(w)"));
    QVERIFY(curve);
    QCOMPARE(plot->xAxis->label(), QStringLiteral("weight w"));
    QCOMPARE(plot->yAxis->label(), QStringLiteral("r(w; α, β)"));
    QVERIFY_NEAR(plot->xAxis->range().lower, -2.0, 1e-12);
    QVERIFY_NEAR(plot->xAxis->range().upper, 2.0, 1e-12);
    QVERIFY_NEAR(valueAt(curve, 0.0), 0.0, 1e-12);
    QVERIFY_NEAR(valueAt(curve, 0.8), 0.0, 1e-12);
    QVERIFY_NEAR(valueAt(curve, -0.8), 0.0, 1e-12);
    // Between the minima the curve is positive.
    QVERIFY(valueAt(curve, 0.0) < curve->data()->findBegin(0.2)->value);

    // Delta = alpha / (1 + tan(beta)^(1/p)) = alpha / 2 at beta = pi/4; there both branches meet.
    const double delta = 0.8 / (1.0 + std::sqrt(std::tan(std::numbers::pi / 4)));
    QVERIFY_NEAR(view.delta(), delta, 1e-9);
    QVERIFY_NEAR(valueAt(curve, delta), std::pow(0.8 - delta, 2), 1e-9);
    QVERIFY_NEAR(valueAt(curve, -delta), std::tan(std::numbers::pi / 4) * delta * delta, 1e-9);
    const QList<double> markers = lineXs(plot, QStringLiteral("deltaMarker"));
    QCOMPARE(markers.size(), 2);
    QVERIFY_NEAR(markers[0], -delta, 1e-12);
    QVERIFY_NEAR(markers[1], delta, 1e-12);
    const auto basins = visibleItems<QCPItemRect>(plot, QStringLiteral("zeroBasin"));
    QCOMPARE(basins.size(), 1);
    QVERIFY_NEAR(basins[0]->bottomRight->coords().x(), delta, 1e-12);
    QVERIFY(view.explanation().contains(QStringLiteral("Δ = 0.50α")));
    QCOMPARE(graphNamed(plot, QStringLiteral("minima (r = 0)"))->data()->size(), 3);

    // A binary shape: Delta shrinks and still matches the formula.
    view.setBeta(1.45);
    const double binaryDelta = 0.8 / (1.0 + std::sqrt(std::tan(1.45)));
    QVERIFY_NEAR(view.delta(), binaryDelta, 1e-9);
    QVERIFY_NEAR(valueAt(curve, binaryDelta), std::pow(0.8 - binaryDelta, 2), 1e-9);
}

void TestDistributionViews::regularizerMatchesCore()
{
    ui::RegularizerView view;
    for (int p : {1, 2})
        for (double beta : {std::numbers::pi / 4, 1.2, 1.5}) {
            view.setAlpha(0.6);
            view.setBeta(beta);
            view.setPower(p);
            QCPGraph* curve = graphNamed(view.plots()[0], QStringLiteral("r(w)"));
            SqShape shape;
            shape.alpha = 0.6f;
            shape.beta = static_cast<float>(beta);
            shape.p = p;
            int checked = 0;
            for (int i = 0; i < curve->data()->size(); i += 37, ++checked) {
                const auto it = curve->data()->at(i);
                const float w = static_cast<float>(it->key);
                // The core's layer term of one weight is r(w) / alpha^p.
                const double core = sqLayerTerm(&w, 1, shape, 0.0, nullptr, 0.0f).value * std::pow(0.6, p);
                QVERIFY2(near(it->value, core, 1e-4), qPrintable(QStringLiteral("p %1 beta %2 w %3: %4 vs %5")
                                                                    .arg(p).arg(beta).arg(w).arg(it->value).arg(core)));
            }
            QVERIFY(checked > 10);
        }
}

void TestDistributionViews::regularizerPowerChangesCurve()
{
    ui::RegularizerView view;
    view.setAlpha(1.0);
    view.setBeta(1.2);
    QCPGraph* curve = graphNamed(view.plots()[0], QStringLiteral("r(w)"));
    const double p2AtEdge = curve->data()->constBegin()->value; // w = -2.5: (1.5)^2
    const double p2Delta = view.delta();
    QVERIFY_NEAR(p2AtEdge, 2.25, 1e-9);

    auto* box = view.findChild<QComboBox*>();
    QVERIFY(box);
    box->setCurrentIndex(box->findData(1)); // as a user would
    QCOMPARE(view.power(), 1);
    QVERIFY_NEAR(curve->data()->constBegin()->value, 1.5, 1e-9);
    QVERIFY_NEAR(view.delta(), 1.0 / (1.0 + std::tan(1.2)), 1e-9);
    QVERIFY(std::abs(view.delta() - p2Delta) > 0.05);
    QVERIFY_NEAR(valueAt(curve, view.delta()), 1.0 - view.delta(), 1e-9);
}

void TestDistributionViews::regularizerExplainsDecision()
{
    ui::RegularizerView view;
    view.setBeta(1.0);
    QVERIFY(view.ternary());
    QVERIFY(view.explanation().startsWith(QStringLiteral("ternary")));
    QVERIFY(view.explanation().contains(QStringLiteral("three minima")));
    view.setBeta(kBetaSwitchDefault + 0.01);
    QVERIFY(!view.ternary());
    QVERIFY(view.explanation().startsWith(QStringLiteral("binary")));
    QCOMPARE(graphNamed(view.plots()[0], QStringLiteral("minima (r = 0)"))->data()->size(), 3);

    // The committed binary shape: basin closed, r(0) = alpha^p, two minima.
    view.setAlpha(0.5);
    view.setClosedZeroBasin(true);
    QVERIFY(view.closedZeroBasin());
    QCPGraph* curve = graphNamed(view.plots()[0], QStringLiteral("r(w)"));
    QVERIFY_NEAR(valueAt(curve, 0.0), 0.25, 1e-12);
    QCOMPARE(graphNamed(view.plots()[0], QStringLiteral("minima (r = 0)"))->data()->size(), 2);
    QVERIFY(visibleItems<QCPItemRect>(view.plots()[0], QStringLiteral("zeroBasin")).isEmpty());
    QVERIFY(view.explanation().contains(QStringLiteral("closed")));
    // Back to a ternary beta: a ternary layer always has its basin.
    view.setBeta(0.9);
    QVERIFY(!view.closedZeroBasin());
}

void TestDistributionViews::regularizerShowLayerFollowsUntilUserMoves()
{
    ui::RegularizerView view;
    const auto first = fakeSnapshot(0);
    view.showLayer(first->layers[1].state);
    QVERIFY_NEAR(view.alpha(), first->layers[1].state.alpha, 1e-7);
    QVERIFY_NEAR(view.beta(), first->layers[1].state.beta, 1e-7);
    QVERIFY(view.explanation().startsWith(QStringLiteral("dense2: ")));

    const auto later = fakeSnapshot(25); // dense2's beta has grown by then
    QVERIFY(later->layers[1].state.beta > first->layers[1].state.beta + 0.1f);
    view.addSnapshot(later);
    QVERIFY_NEAR(view.beta(), later->layers[1].state.beta, 1e-7);
    QVERIFY(view.closedZeroBasin()); // committed binary

    // Once the user moves beta, the view stops following the layer.
    auto sliders = view.findChildren<QSlider*>();
    QCOMPARE(sliders.size(), 2);
    QSlider* betaSlider = sliders[1];
    betaSlider->setValue(0);
    QVERIFY_NEAR(view.beta(), kBetaMin, 1e-9);
    view.addSnapshot(fakeSnapshot(29));
    QVERIFY_NEAR(view.beta(), kBetaMin, 1e-9);
    QVERIFY(!view.explanation().startsWith(QStringLiteral("dense2")));
}

void TestDistributionViews::regularizerClear()
{
    ui::RegularizerView view;
    view.setAlpha(0.3);
    view.setBeta(1.4);
    view.setPower(1);
    view.clear();
    QCOMPARE(view.alpha(), 1.0);
    QVERIFY_NEAR(view.beta(), kBetaMin, 1e-12);
    QCOMPARE(view.power(), 2);
    QVERIFY_NEAR(view.plots()[0]->xAxis->range().upper, 2.5, 1e-12);
}

void TestDistributionViews::viewsRenderSomething()
{
    ui::HistogramView histograms;
    ui::HistogramHeatmapView heatmap;
    ui::RegularizerView regularizer;
    QList<QWidget*> views{&histograms, &heatmap, &regularizer};
    for (QWidget* w : views) {
        w->resize(1000, 760);
        w->show();
        QVERIFY(QTest::qWaitForWindowExposed(w));
    }
    feed(histograms, 30);
    feed(heatmap, 30);
    regularizer.showLayer(fakeSnapshot(10)->layers[0].state);
    settle();
    const QStringList names{QStringLiteral("histogram"), QStringLiteral("heatmap"), QStringLiteral("regularizer")};
    for (int i = 0; i < views.size(); ++i) {
        const Pixels px = pixelsOf(views[i]->grab().toImage());
        QVERIFY2(px.colours > 20, qPrintable(QStringLiteral("%1: %2 colours").arg(names[i]).arg(px.colours)));
        QVERIFY2(px.nonBackground > 0.05,
                 qPrintable(QStringLiteral("%1: %2 drawn").arg(names[i]).arg(px.nonBackground)));
        maybeSave(*views[i], names[i]);
    }
    // The heat map's cells are drawn: viridis' bright yellow end shows up somewhere.
    const QImage map = heatmap.plots()[0]->grab().toImage().convertToFormat(QImage::Format_RGB32);
    bool yellow = false;
    for (int y = 0; y < map.height() && !yellow; ++y)
        for (int x = 0; x < map.width() && !yellow; ++x) {
            const QColor c = map.pixelColor(x, y);
            yellow = c.red() > 200 && c.green() > 200 && c.blue() < 80;
        }
    QVERIFY(yellow);

    ui::Theme::instance().setPresentation(true);
    settle();
    for (int i = 0; i < views.size(); ++i)
        maybeSave(*views[i], names[i] + QStringLiteral("-presentation"));
    ui::Theme::instance().setDark(true);
    settle();
    for (int i = 0; i < views.size(); ++i)
        maybeSave(*views[i], names[i] + QStringLiteral("-dark"));
}

void TestDistributionViews::presentationModeRestyles()
{
    ui::HistogramView histograms;
    ui::HistogramHeatmapView heatmap;
    ui::RegularizerView regularizer;
    feed(histograms, 5);
    feed(heatmap, 5);
    QList<QCustomPlot*> plots = histograms.plots() + heatmap.plots() + regularizer.plots();
    QList<int> before;
    for (QCustomPlot* p : plots)
        before.append(p->xAxis->labelFont().pointSize());
    const double thin = graphNamed(regularizer.plots()[0], QStringLiteral("r(w)"))->pen().widthF();
    ui::Theme::instance().setPresentation(true);
    for (int i = 0; i < plots.size(); ++i) {
        QVERIFY2(plots[i]->xAxis->labelFont().pointSize() > before[i], qPrintable(QString::number(i)));
        QVERIFY(titleElement(plots[i])->font().pointSize() >= 14);
    }
    QVERIFY(graphNamed(regularizer.plots()[0], QStringLiteral("r(w)"))->pen().widthF() > thin);
    QCOMPARE(graphNamed(histograms.plots()[0], QStringLiteral("regularizer"))->pen().widthF(),
             ui::Theme::instance().lineWidth());
}

QTEST_MAIN(TestDistributionViews)
#include "test_distribution_views.moc"
