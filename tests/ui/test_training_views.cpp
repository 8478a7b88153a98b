// Tests of the live training views (metrics, depth decisions, memory) fed with hand-made snapshots.
#include "ui/depth_view.h"
#include "ui/memory_view.h"
#include "ui/metrics_view.h"
#include "ui/theme.h"
#include "ui/time_series.h"

#include "ui/fake_snapshots.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QLabel>
#include <QSet>
#include <QtTest>

#include <cmath>
#include <numbers>
#include <tuple>

using sq::testing::fakeSnapshot;

namespace {

QCPGraph* graphNamed(QCustomPlot* plot, const QString& name)
{
    for (int i = 0; i < plot->graphCount(); ++i)
        if (plot->graph(i)->name() == name)
            return plot->graph(i);
    return nullptr;
}

QCPBars* barsNamed(QCustomPlot* plot, const QString& name)
{
    for (int i = 0; i < plot->plottableCount(); ++i)
        if (auto* bars = qobject_cast<QCPBars*>(plot->plottable(i)); bars && bars->name() == name)
            return bars;
    return nullptr;
}

template <typename Item>
QList<Item*> itemsNamed(QCustomPlot* plot, const QString& objectName)
{
    QList<Item*> items;
    for (int i = 0; i < plot->itemCount(); ++i)
        if (auto* item = qobject_cast<Item*>(plot->item(i)); item && item->objectName() == objectName)
            items << item;
    return items;
}

QStringList itemTexts(QCustomPlot* plot)
{
    QStringList texts;
    for (int i = 0; i < plot->itemCount(); ++i)
        if (auto* text = qobject_cast<QCPItemText*>(plot->item(i)); text && text->visible())
            texts << text->text();
    return texts;
}

// Value of `bars` at `key`, NaN when it has no bar there.
double barAt(QCPBars* bars, double key)
{
    for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
        if (it->key == key)
            return it->value;
    return std::nan("");
}

// Snapshots [first, last) of the fake run.
template <typename View>
void feedRange(View& view, int first, int last, int perEpoch = 10, int epochs = 3, int bins = 48)
{
    for (int i = first; i < last; ++i)
        view.addSnapshot(fakeSnapshot(i, perEpoch, epochs, bins));
}

template <typename View>
void feed(View& view, int count)
{
    feedRange(view, 0, count);
}

// Share of the pixels of `plot`'s rect between times t0 and t1 (in `image`, a grab of `view`) that
// show the bare background: close to 1 where nothing is drawn, low under the commit shading.
double bareShare(const QImage& image, QWidget* view, QCustomPlot* plot, QCPAxisRect* rect, double t0, double t1)
{
    const QColor bare = sq::ui::Theme::instance().background();
    QCPAxis* time = rect->axis(QCPAxis::atBottom);
    const int x0 = static_cast<int>(time->coordToPixel(t0));
    const int x1 = static_cast<int>(time->coordToPixel(t1));
    int total = 0;
    int count = 0;
    for (int y = rect->top() + 2; y < rect->bottom() - 2; ++y)
        for (int x = x0; x < x1; ++x) {
            ++total;
            count += image.pixelColor(plot->mapTo(view, QPoint(x, y))) == bare ? 1 : 0;
        }
    return total ? static_cast<double>(count) / total : 0.0;
}

// Whether a dashed mark in `colour` shows at time t over the height of `rect`, not hidden under
// the rect's background or grid: enough pixels by its column are nearer that colour than the
// background (anti-aliasing blends a thin line with what lies beneath).
bool markShows(const QImage& image, QWidget* view, QCustomPlot* plot, QCPAxisRect* rect, double t, const QColor& colour)
{
    const auto distance = [](const QColor& a, const QColor& b) {
        return std::abs(a.red() - b.red()) + std::abs(a.green() - b.green()) + std::abs(a.blue() - b.blue());
    };
    const QColor background = sq::ui::Theme::instance().background();
    const int x = static_cast<int>(std::lround(rect->axis(QCPAxis::atBottom)->coordToPixel(t)));
    int hits = 0;
    for (int y = rect->top(); y < rect->bottom(); ++y) {
        bool hit = false;
        for (int dx = -1; dx <= 1; ++dx) {
            const QColor c = image.pixelColor(plot->mapTo(view, QPoint(x + dx, y)));
            hit = hit || 2 * distance(c, colour) < distance(c, background);
        }
        hits += hit ? 1 : 0;
    }
    return hits > rect->height() / 4;
}

int distinctColours(const QImage& image)
{
    QSet<QRgb> colours;
    const QImage rgb = image.convertToFormat(QImage::Format_RGB32);
    for (int y = 0; y < rgb.height(); ++y) {
        const auto* line = reinterpret_cast<const QRgb*>(rgb.constScanLine(y));
        for (int x = 0; x < rgb.width(); ++x)
            colours.insert(line[x]);
    }
    return static_cast<int>(colours.size());
}

// Shows the view at a realistic size, lets the queued replots run, and grabs it; with
// SQ_SAVE_VIEW_PNGS set the picture goes to /tmp/view-<name>.png for a human to look at.
QImage render(QWidget& view, const QString& name)
{
    view.resize(900, 600);
    view.show();
    if (!QTest::qWaitForWindowExposed(&view))
        return {};
    QCoreApplication::processEvents();
    QCoreApplication::processEvents();
    const QImage image = view.grab().toImage();
    if (qEnvironmentVariableIsSet("SQ_SAVE_VIEW_PNGS"))
        image.save(QStringLiteral("/tmp/view-%1.png").arg(name));
    return image;
}

} // namespace

class TestTrainingViews : public QObject {
    Q_OBJECT

private slots:
    void cleanup();

    void seriesKeepsEveryPointUntilFull();
    void seriesDecimatesPairwiseWithinCapacity();
    void seriesRewindsWhenTheRunGoesBack();
    void eventLabelsAreShort();

    void metricsSeriesGetOnePointPerSnapshot();
    void metricsTestAccuracyGetsOnePointPerEvaluatedEpoch();
    void metricsFollowARollback();
    void metricsMarkEventsAndCommitPhase();
    void metricsStayWithinCapOnLongRuns();
    void metricsLossLogScaleToggles();
    void metricsClearEmptiesEverything();

    void depthBadgesShowDecisionsAndBits();
    void depthBadgesFollowDecisionChanges();
    void depthBetaAndAlphaSeries();
    void depthBasinShares();
    void depthClearEmptiesEverything();

    void memoryBarsAreBitsTimesWeights();
    void memoryBarsFollowDecisions();
    void memorySummaryShowsCompression();
    void memoryClearEmptiesEverything();

    void viewsRenderSomethingVisible();
    void viewsRestyleOnThemeChange();
};

void TestTrainingViews::cleanup()
{
    sq::ui::Theme::instance().setDark(false);
    sq::ui::Theme::instance().setPresentation(false);
}

void TestTrainingViews::seriesKeepsEveryPointUntilFull()
{
    sq::ui::TimeSeries series(8);
    for (int i = 0; i < 7; ++i)
        series.append(i, 10.0 * i);
    QCOMPARE(series.size(), 7);
    QCOMPARE(series.stride(), 1);
    QCOMPARE(series.xs().back(), 6.0);
    QCOMPARE(series.ys().back(), 60.0);
}

// After a divergence the run goes back to an earlier step: the points after it are dropped, and
// the curve continues from there, still sorted.
void TestTrainingViews::seriesRewindsWhenTheRunGoesBack()
{
    sq::ui::TimeSeries series(8);
    for (int i = 0; i < 6; ++i)
        series.append(i, 10.0 * i);
    series.append(3.5, -1.0);
    QCOMPARE(series.xs(), (QVector<double>{0, 1, 2, 3, 3.5}));
    QCOMPARE(series.ys().back(), -1.0);
    series.append(4, 7.0);
    QCOMPARE(series.xs(), (QVector<double>{0, 1, 2, 3, 3.5, 4}));

    sq::ui::TimeSeries decimated(8);
    for (int i = 0; i < 9; ++i) // stride 2, a bucket half full at x = 8
        decimated.append(i, i);
    decimated.append(5, 50.0);
    QCOMPARE(decimated.xs(), (QVector<double>{0.5, 2.5, 4.5, 5}));
    decimated.append(6, 60.0); // 5 opened a bucket of two: 6 is its partner
    QCOMPARE(decimated.xs().back(), 5.5);
    QCOMPARE(decimated.ys().back(), 55.0);
    decimated.append(7, 70.0);
    QCOMPARE(decimated.xs(), (QVector<double>{0.5, 2.5, 4.5, 5.5, 7}));
}

void TestTrainingViews::seriesDecimatesPairwiseWithinCapacity()
{
    sq::ui::TimeSeries series(8);
    for (int i = 0; i < 8; ++i)
        series.append(i, 10.0 * i);
    // Full: neighbouring pairs merged into their means.
    QCOMPARE(series.size(), 4);
    QCOMPARE(series.stride(), 2);
    QCOMPARE(series.xs(), (QVector<double>{0.5, 2.5, 4.5, 6.5}));
    QCOMPARE(series.ys(), (QVector<double>{5.0, 25.0, 45.0, 65.0}));
    // The next point shows at once, then is averaged with its partner.
    series.append(8, 80.0);
    QCOMPARE(series.size(), 5);
    QCOMPARE(series.xs().back(), 8.0);
    series.append(9, 90.0);
    QCOMPARE(series.size(), 5);
    QCOMPARE(series.xs().back(), 8.5);
    QCOMPARE(series.ys().back(), 85.0);

    sq::ui::TimeSeries big;
    for (int i = 0; i < 20000; ++i)
        big.append(i, i);
    QVERIFY(big.size() <= sq::ui::TimeSeries::kDefaultCapacity);
    QVERIFY(big.size() >= sq::ui::TimeSeries::kDefaultCapacity / 2);
    QVERIFY(big.xs().front() < 10.0);     // the beginning is kept, not dropped
    QVERIFY(big.xs().back() > 19990.0);   // and the end stays live
    for (int i = 1; i < big.size(); ++i)
        QVERIFY(big.xs()[i] > big.xs()[i - 1]);
    big.clear();
    QCOMPARE(big.size(), 0);
    QCOMPARE(big.stride(), 1);
}

void TestTrainingViews::eventLabelsAreShort()
{
    QCOMPARE(sq::ui::eventLabel({0, 1.5, "lambda", 1.0, 3.0}), QStringLiteral("λ 1→3"));
    QCOMPARE(sq::ui::eventLabel({0, 2.0, "gamma", 0.003, 0.01}), QStringLiteral("γ 0.003→0.01"));
    QCOMPARE(sq::ui::eventLabel({0, 2.0, "lr", 1e-3, 3e-4}), QStringLiteral("lr 0.001→0.0003"));
}

void TestTrainingViews::metricsSeriesGetOnePointPerSnapshot()
{
    sq::ui::MetricsView view;
    feed(view, 30);
    QCOMPARE(view.plots().size(), 1);
    QCustomPlot* plot = view.plots().front();
    for (const char* name : {"cross-entropy", "regularizer λ·ΣR", "train", "λ", "γ"}) {
        QCPGraph* graph = graphNamed(plot, QString::fromUtf8(name));
        QVERIFY2(graph, name);
        QCOMPARE(graph->dataCount(), 30);
    }
    QCPGraph* ce = graphNamed(plot, QStringLiteral("cross-entropy"));
    QCOMPARE(ce->data()->at(0)->key, 0.1);
    QVERIFY(qAbs(ce->data()->at(0)->value - (0.3 + 0.7 * std::exp(-0.1))) < 1e-12);
    QCPGraph* train = graphNamed(plot, QStringLiteral("train"));
    QVERIFY(qAbs(train->data()->at(29)->value - 100.0 * (0.9 - 0.3 * std::exp(-3.0))) < 1e-9);
    QCPGraph* lambda = graphNamed(plot, QStringLiteral("λ"));
    QCOMPARE(lambda->data()->at(0)->value, 1.0);
    QCOMPARE(lambda->data()->at(29)->value, 3.0);
    QCOMPARE(lambda->valueAxis()->scaleType(), QCPAxis::stLogarithmic);
    // The shared time axis spans the whole run and says what it measures.
    QVERIFY(ce->keyAxis()->range().upper >= 3.0 && ce->keyAxis()->range().upper < 3.1);
    QCOMPARE(ce->keyAxis()->range().lower, 0.0);
    QVERIFY(plot->axisRects().back()->axis(QCPAxis::atBottom)->label().contains(QStringLiteral("training time (epochs)")));
    QCOMPARE(ce->valueAxis()->label(), QStringLiteral("loss (nats)"));
    QCOMPARE(train->valueAxis()->label(), QStringLiteral("accuracy (%)"));
}

void TestTrainingViews::metricsTestAccuracyGetsOnePointPerEvaluatedEpoch()
{
    sq::ui::MetricsView view;
    QCustomPlot* plot = view.plots().front();
    QCPGraph* fl = graphNamed(plot, QStringLiteral("test (float)"));
    QCPGraph* qu = graphNamed(plot, QStringLiteral("test (quantized)"));
    QVERIFY(fl && qu);
    feedRange(view, 0, 9); // before the first evaluation
    QCOMPARE(fl->dataCount(), 0);
    feedRange(view, 9, 30);
    // Ten snapshots per epoch share each evaluation: it is added once, when it appears.
    QCOMPARE(fl->dataCount(), 3);
    QCOMPARE(qu->dataCount(), 3);
    for (int e = 1; e <= 3; ++e) {
        QCOMPARE(fl->data()->at(e - 1)->key, static_cast<double>(e));
        QVERIFY(qAbs(fl->data()->at(e - 1)->value - 100.0 * (0.86 + 0.01 * e)) < 1e-9);
        QVERIFY(qAbs(qu->data()->at(e - 1)->value - 100.0 * (0.84 + 0.015 * e)) < 1e-9);
    }
    QCOMPARE(fl->pen().color(), sq::ui::Theme::floatColor());
    QCOMPARE(qu->pen().color(), sq::ui::Theme::quantizedColor());
    QVERIFY(qu->scatterStyle().shape() != QCPScatterStyle::ssNone);
}

// A divergence takes the run back across an evaluation: the curves lose what came after the
// restored step, and the epoch evaluated again gets one point, not two.
void TestTrainingViews::metricsFollowARollback()
{
    sq::ui::MetricsView view;
    QCustomPlot* plot = view.plots().front();
    QCPGraph* ce = graphNamed(plot, QStringLiteral("cross-entropy"));
    QCPGraph* fl = graphNamed(plot, QStringLiteral("test (float)"));
    feedRange(view, 0, 24); // evaluated epochs 1 and 2
    QCOMPARE(fl->dataCount(), 2);
    feedRange(view, 17, 30); // back to step 180 (epoch 1.8), then on to the end
    QCOMPARE(ce->dataCount(), 30);
    for (int i = 1; i < ce->dataCount(); ++i)
        QVERIFY(ce->data()->at(i)->key > ce->data()->at(i - 1)->key);
    QCOMPARE(fl->dataCount(), 3);
    for (int e = 1; e <= 3; ++e)
        QCOMPARE(fl->data()->at(e - 1)->key, static_cast<double>(e));
}

void TestTrainingViews::metricsMarkEventsAndCommitPhase()
{
    sq::ui::MetricsView view;
    QCustomPlot* plot = view.plots().front();
    feedRange(view, 0, 14); // t = 1.4: no change yet
    QVERIFY(itemsNamed<QCPItemStraightLine>(plot, QStringLiteral("eventMarker")).isEmpty());
    feedRange(view, 14, 30);
    const auto markers = itemsNamed<QCPItemStraightLine>(plot, QStringLiteral("eventMarker"));
    QCOMPARE(markers.size(), 3); // one line through each stacked plot, the change recorded once
    for (QCPItemStraightLine* line : markers) {
        QCOMPARE(line->point1->coords().x(), 1.5);
        QCOMPARE(line->point2->coords().x(), 1.5);
        QCOMPARE(line->pen().style(), Qt::DashLine);
        QCOMPARE(line->pen().color(), sq::ui::Theme::instance().eventColor());
    }
    QCOMPARE(itemTexts(plot).count(QStringLiteral("λ 1→3")), 1);

    const auto shades = itemsNamed<QCPItemRect>(plot, QStringLiteral("commitShade"));
    QCOMPARE(shades.size(), 3);
    const auto last = fakeSnapshot(29);
    for (QCPItemRect* shade : shades) {
        QVERIFY(shade->visible());
        QCOMPARE(shade->topLeft->coords().x(), static_cast<double>(last->commitStartEpoch));
        QCOMPARE(shade->bottomRight->coords().x(), static_cast<double>(last->epochs));
        QCOMPARE(shade->brush().color(), sq::ui::Theme::instance().commitShade());
    }
    QVERIFY(itemTexts(plot).contains(QStringLiteral("commit")));
}

void TestTrainingViews::metricsStayWithinCapOnLongRuns()
{
    sq::ui::MetricsView view;
    feedRange(view, 0, 20000, 10000, 2, 4);
    QCPGraph* ce = graphNamed(view.plots().front(), QStringLiteral("cross-entropy"));
    QVERIFY(ce->dataCount() <= sq::ui::TimeSeries::kDefaultCapacity);
    QVERIFY(ce->dataCount() >= sq::ui::TimeSeries::kDefaultCapacity / 2);
    QVERIFY(ce->data()->at(0)->key < 0.01);
    QVERIFY(ce->data()->at(ce->dataCount() - 1)->key > 1.99);
    QCOMPARE(graphNamed(view.plots().front(), QStringLiteral("test (float)"))->dataCount(), 2);
}

void TestTrainingViews::metricsLossLogScaleToggles()
{
    sq::ui::MetricsView view;
    feed(view, 10);
    QCPAxis* lossAxis = graphNamed(view.plots().front(), QStringLiteral("cross-entropy"))->valueAxis();
    QVERIFY(!view.lossLogScale());
    QCOMPARE(lossAxis->range().lower, 0.0);
    view.setLossLogScale(true);
    QVERIFY(view.lossLogScale());
    QCOMPARE(lossAxis->scaleType(), QCPAxis::stLogarithmic);
    QVERIFY(lossAxis->range().lower > 0.0);
    QVERIFY(view.findChild<QCheckBox*>()->isChecked());
    view.findChild<QCheckBox*>()->setChecked(false); // the check box drives the same switch
    QVERIFY(!view.lossLogScale());
}

void TestTrainingViews::metricsClearEmptiesEverything()
{
    sq::ui::MetricsView view;
    feed(view, 30);
    view.clear();
    QCustomPlot* plot = view.plots().front();
    for (int i = 0; i < plot->graphCount(); ++i)
        QCOMPARE(plot->graph(i)->dataCount(), 0);
    QVERIFY(itemsNamed<QCPItemStraightLine>(plot, QStringLiteral("eventMarker")).isEmpty());
    for (QCPItemRect* shade : itemsNamed<QCPItemRect>(plot, QStringLiteral("commitShade")))
        QVERIFY(!shade->visible());
    // A new run starts from scratch, test accuracies included.
    feed(view, 12);
    QCOMPARE(graphNamed(plot, QStringLiteral("train"))->dataCount(), 12);
    QCOMPARE(graphNamed(plot, QStringLiteral("test (quantized)"))->dataCount(), 1);
}

void TestTrainingViews::depthBadgesShowDecisionsAndBits()
{
    sq::ui::DepthView view;
    QVERIFY(view.badgeTexts().isEmpty());
    feed(view, 1);
    QCOMPARE(view.badgeTexts(), (QStringList{QStringLiteral("dense1 · ternary · 2 bit"), QStringLiteral("dense2 · binary · 1 bit"),
                                             QStringLiteral("dense3 · binary · 1 bit")}));
    // Coloured with the decision colours every view uses.
    const auto labels = view.findChildren<QLabel*>();
    int checked = 0;
    for (QLabel* label : labels) {
        if (label->text().startsWith(QStringLiteral("dense1"))) {
            QVERIFY(label->styleSheet().contains(sq::ui::Theme::ternaryColor().name()));
            ++checked;
        } else if (label->text().startsWith(QStringLiteral("dense2"))) {
            QVERIFY(label->styleSheet().contains(sq::ui::Theme::binaryColor().name()));
            QVERIFY(!label->styleSheet().contains(sq::ui::Theme::ternaryColor().name()));
            ++checked;
        }
    }
    QCOMPARE(checked, 2);
    // In the commit phase every depth is frozen and the badges say so.
    feedRange(view, 1, 25);
    for (const QString& text : view.badgeTexts())
        QVERIFY2(text.endsWith(QStringLiteral("committed")), qPrintable(text));
}

void TestTrainingViews::depthBadgesFollowDecisionChanges()
{
    sq::ui::DepthView view;
    feedRange(view, 0, 5);
    auto changed = std::make_shared<sq::Snapshot>(*fakeSnapshot(5));
    sq::LayerQuantState& first = changed->layers[0].state;
    first.beta = 1.3f;
    first.decision = "binary";
    first.bits = 1;
    sq::LayerQuantState& third = changed->layers[2].state;
    third.keepFloat = true;
    third.decision = "float";
    third.bits = 32;
    view.addSnapshot(changed);
    QCOMPARE(view.badgeTexts().at(0), QStringLiteral("dense1 · binary · 1 bit"));
    QCOMPARE(view.badgeTexts().at(2), QStringLiteral("dense3 · float · 32 bit"));
    for (QLabel* label : view.findChildren<QLabel*>())
        if (label->text().startsWith(QStringLiteral("dense1")))
            QVERIFY(label->styleSheet().contains(sq::ui::Theme::binaryColor().name()));
    view.addSnapshot(fakeSnapshot(6));
    QCOMPARE(view.badgeTexts().at(0), QStringLiteral("dense1 · ternary · 2 bit"));
}

void TestTrainingViews::depthBetaAndAlphaSeries()
{
    sq::ui::DepthView view;
    feed(view, 30);
    const QList<QCustomPlot*> plots = view.plots();
    QCOMPARE(plots.size(), 2);
    QCustomPlot* time = plots.front();
    QCOMPARE(time->graphCount(), 6); // beta and alpha for each of the 3 layers
    const auto last = fakeSnapshot(29);
    int betas = 0;
    for (int i = 0; i < time->graphCount(); ++i) {
        QCPGraph* graph = time->graph(i);
        QCOMPARE(graph->dataCount(), 30);
        const int layer = i / 2;
        QCOMPARE(graph->name(), QString::fromStdString(last->layers[layer].state.name));
        QCOMPARE(graph->pen().color(), sq::ui::Theme::seriesColor(layer));
        const bool beta = graph->valueAxis()->label() == QStringLiteral("β (rad)");
        betas += beta ? 1 : 0;
        const double expected = beta ? last->layers[layer].state.beta : last->layers[layer].state.alpha;
        QCOMPARE(graph->data()->at(29)->value, expected);
        if (beta) {
            QVERIFY(graph->valueAxis()->range().lower < std::numbers::pi / 4);
            QVERIFY(graph->valueAxis()->range().upper >= std::numbers::pi / 2);
        } else {
            QCOMPARE(graph->valueAxis()->label(), QStringLiteral("α (weight units)"));
        }
    }
    QCOMPARE(betas, 3);

    const auto switches = itemsNamed<QCPItemStraightLine>(time, QStringLiteral("betaSwitch"));
    QCOMPARE(switches.size(), 1);
    QCOMPARE(switches.front()->point1->coords().y(), 3.0 * std::numbers::pi / 8.0);
    QCOMPARE(switches.front()->point2->coords().y(), 3.0 * std::numbers::pi / 8.0);
    const QStringList texts = itemTexts(time);
    for (const char* text : {"switch (3π/8)", "ternary", "binary", "λ 1→3", "commit"})
        QVERIFY2(texts.contains(QString::fromUtf8(text)), text);
    const auto ternary = itemsNamed<QCPItemRect>(time, QStringLiteral("ternaryBand"));
    QCOMPARE(ternary.size(), 1);
    QCOMPARE(ternary.front()->brush().color().rgb(), sq::ui::Theme::ternaryColor().rgb());
    QVERIFY(ternary.front()->brush().color().alpha() < 80); // light shading, curves stay readable

    const auto markers = itemsNamed<QCPItemStraightLine>(time, QStringLiteral("eventMarker"));
    QCOMPARE(markers.size(), 2);
    for (QCPItemStraightLine* line : markers)
        QCOMPARE(line->point1->coords().x(), 1.5);
    for (QCPItemRect* shade : itemsNamed<QCPItemRect>(time, QStringLiteral("commitShade")))
        QCOMPARE(shade->topLeft->coords().x(), 2.0);

    view.setBetaSwitch(1.2);
    QCOMPARE(switches.front()->point1->coords().y(), 1.2);
    QVERIFY(itemTexts(time).contains(QStringLiteral("switch (β = 1.200)")));
}

void TestTrainingViews::depthBasinShares()
{
    sq::ui::DepthView view;
    feed(view, 3);
    QCustomPlot* basins = view.plots().at(1);
    QCPBars* negative = barsNamed(basins, QStringLiteral("−α"));
    QCPBars* zero = barsNamed(basins, QStringLiteral("0"));
    QCPBars* positive = barsNamed(basins, QStringLiteral("+α"));
    QVERIFY(negative && zero && positive);
    QCOMPARE(barAt(zero, 0.0), 30.0);
    QCOMPARE(barAt(negative, 0.0), 35.0);
    QCOMPARE(barAt(positive, 0.0), 35.0);
    QCOMPARE(barAt(zero, 1.0), 0.0);
    QCOMPARE(barAt(positive, 2.0), 50.0);
    QCOMPARE(zero->barBelow(), negative); // stacked: each bar is 100% wide
    QCOMPARE(positive->barBelow(), zero);
    QVERIFY(basins->xAxis->label().endsWith(QStringLiteral("(%)")));
    QVERIFY(itemTexts(basins).contains(QStringLiteral("30%")));
}

void TestTrainingViews::depthClearEmptiesEverything()
{
    sq::ui::DepthView view;
    feed(view, 30);
    view.clear();
    QVERIFY(view.badgeTexts().isEmpty());
    QCustomPlot* time = view.plots().front();
    QCOMPARE(time->graphCount(), 0);
    QVERIFY(itemsNamed<QCPItemStraightLine>(time, QStringLiteral("eventMarker")).isEmpty());
    for (QCPItemRect* shade : itemsNamed<QCPItemRect>(time, QStringLiteral("commitShade")))
        QVERIFY(!shade->visible());
    QCustomPlot* basins = view.plots().at(1);
    for (int i = 0; i < basins->plottableCount(); ++i)
        QCOMPARE(basins->plottable(i)->interface1D()->dataCount(), 0);
    QVERIFY(!itemTexts(basins).contains(QStringLiteral("30%")));
    feed(view, 2);
    QCOMPARE(view.badgeTexts().size(), 3);
    QCOMPARE(time->graph(0)->dataCount(), 2);
}

void TestTrainingViews::memoryBarsAreBitsTimesWeights()
{
    sq::ui::MemoryView view;
    const auto snapshot = fakeSnapshot(10);
    view.addSnapshot(snapshot);
    QCustomPlot* plot = view.plots().front();
    QCOMPARE(plot->yAxis->label(), QStringLiteral("storage (kbit)"));
    for (std::size_t i = 0; i < snapshot->layers.size(); ++i) {
        const sq::LayerQuantState& state = snapshot->layers[i].state;
        QCPBars* bars = barsNamed(plot, QString::fromStdString(state.decision));
        QVERIFY(bars);
        QCOMPARE(bars->brush().color(), sq::ui::Theme::decisionColor(QString::fromStdString(state.decision)));
        QCOMPARE(barAt(bars, static_cast<double>(i)) * 1000.0, static_cast<double>(state.bits * state.weights));
    }
    const QStringList texts = itemTexts(plot);
    QCOMPARE(texts.size(), 3);
    QVERIFY(texts.at(0).startsWith(QStringLiteral("2 bit")));
    QVERIFY(texts.at(1).startsWith(QStringLiteral("1 bit")));
}

void TestTrainingViews::memoryBarsFollowDecisions()
{
    sq::ui::MemoryView view;
    view.addSnapshot(fakeSnapshot(3));
    auto changed = std::make_shared<sq::Snapshot>(*fakeSnapshot(4));
    for (sq::LayerSnapshot& layer : changed->layers) {
        layer.state.decision = "float";
        layer.state.bits = 32;
    }
    view.addSnapshot(changed);
    QCustomPlot* plot = view.plots().front();
    QCOMPARE(barsNamed(plot, QStringLiteral("ternary"))->dataCount(), 0);
    QCOMPARE(barsNamed(plot, QStringLiteral("binary"))->dataCount(), 0);
    QCPBars* floats = barsNamed(plot, QStringLiteral("float"));
    QCOMPARE(floats->dataCount(), 3);
    // 784*64*32 bits is past 1 Mbit: the axis switches to Mbit.
    QCOMPARE(plot->yAxis->label(), QStringLiteral("storage (Mbit)"));
    QCOMPARE(barAt(floats, 0.0), 784.0 * 64.0 * 32.0 / 1e6);
    QCOMPARE(plot->legend->itemCount(), 1);
    QVERIFY(itemTexts(plot).at(0).startsWith(QStringLiteral("32 bit")));
}

void TestTrainingViews::memorySummaryShowsCompression()
{
    sq::ui::MemoryView view;
    QVERIFY(view.summaryText().isEmpty());
    const auto snapshot = fakeSnapshot(10);
    view.addSnapshot(snapshot);
    const QString summary = view.summaryText();
    const QString model = QStringLiteral("×%1 smaller than float32").arg(snapshot->memory.compression(), 0, 'f', 1);
    QVERIFY2(summary.contains(model), qPrintable(summary));
    QCOMPARE(model, QStringLiteral("×15.0 smaller than float32")); // 1,769,792 / 117,792
    QVERIFY2(summary.contains(QStringLiteral("×%1").arg(snapshot->memory.weightCompression(), 0, 'f', 1)), qPrintable(summary));
    QVERIFY2(summary.contains(QStringLiteral("105,088 bits")), qPrintable(summary)); // weight bits
    QVERIFY2(summary.contains(QStringLiteral("117,792 bits")), qPrintable(summary)); // model bits
    QVERIFY2(summary.contains(QStringLiteral("1.77 Mbit")), qPrintable(summary));    // float32 model
}

void TestTrainingViews::memoryClearEmptiesEverything()
{
    sq::ui::MemoryView view;
    view.addSnapshot(fakeSnapshot(10));
    view.clear();
    QVERIFY(view.summaryText().isEmpty());
    QCustomPlot* plot = view.plots().front();
    for (int i = 0; i < plot->plottableCount(); ++i)
        QCOMPARE(plot->plottable(i)->interface1D()->dataCount(), 0);
    QVERIFY(itemTexts(plot).isEmpty());
    QCOMPARE(plot->legend->itemCount(), 0);
}

void TestTrainingViews::viewsRenderSomethingVisible()
{
    sq::ui::MetricsView metrics;
    sq::ui::DepthView depth;
    sq::ui::MemoryView memory;
    QCOMPARE(distinctColours(render(metrics, QStringLiteral("metrics-empty"))) > 3, true);
    feed(metrics, 30);
    feed(depth, 30);
    feed(memory, 30);
    // Anti-aliased curves, shading and text in several colours: a blank or one-colour widget fails.
    for (auto [view, name] : {std::pair<QWidget*, const char*>{&metrics, "metrics"}, {&depth, "depth"}, {&memory, "memory"}}) {
        const QImage image = render(*view, QString::fromLatin1(name));
        QVERIFY2(!image.isNull(), name);
        const int colours = distinctColours(image);
        QVERIFY2(colours > 40, qPrintable(QStringLiteral("%1: %2 colours").arg(QString::fromLatin1(name)).arg(colours)));
    }
    // The commit phase is visibly shaded in every stacked plot, not hidden behind a background.
    const QImage image = metrics.grab().toImage();
    QCustomPlot* plot = metrics.plots().front();
    QCOMPARE(plot->axisRects().size(), 3);
    for (QCPAxisRect* rect : plot->axisRects()) {
        QVERIFY(bareShare(image, &metrics, plot, rect, 0.55, 0.65) > 0.6);
        QVERIFY(bareShare(image, &metrics, plot, rect, 2.05, 2.15) < 0.1);
        // and the live change is marked through each of them
        const QColor event = sq::ui::Theme::instance().eventColor();
        QVERIFY(markShows(image, &metrics, plot, rect, 1.5, event));
        QVERIFY(!markShows(image, &metrics, plot, rect, 0.75, event));
    }
    metrics.setLossLogScale(true);
    QVERIFY(distinctColours(render(metrics, QStringLiteral("metrics-log"))) > 40);
    const QImage depthImage = depth.grab().toImage();
    QCustomPlot* time = depth.plots().front();
    QCOMPARE(time->axisRects().size(), 2);
    for (QCPAxisRect* rect : time->axisRects()) {
        QVERIFY(markShows(depthImage, &depth, time, rect, 1.5, sq::ui::Theme::instance().eventColor()));
        QVERIFY(!markShows(depthImage, &depth, time, rect, 0.75, sq::ui::Theme::instance().eventColor()));
    }
}

void TestTrainingViews::viewsRestyleOnThemeChange()
{
    sq::ui::MetricsView metrics;
    sq::ui::DepthView depth;
    sq::ui::MemoryView memory;
    feed(metrics, 30);
    feed(depth, 30);
    feed(memory, 30);
    sq::ui::Theme& theme = sq::ui::Theme::instance();
    theme.setDark(true);
    theme.setPresentation(true);
    for (QWidget* view : std::initializer_list<QWidget*>{&metrics, &depth, &memory}) {
        QList<QCustomPlot*> plots;
        if (auto* m = qobject_cast<sq::ui::MetricsView*>(view))
            plots = m->plots();
        else if (auto* d = qobject_cast<sq::ui::DepthView*>(view))
            plots = d->plots();
        else
            plots = qobject_cast<sq::ui::MemoryView*>(view)->plots();
        for (QCustomPlot* plot : plots) {
            QCOMPARE(plot->axisRect()->backgroundBrush().color(), theme.background());
            QCOMPARE(plot->axisRect()->axis(QCPAxis::atLeft)->labelFont().pointSize(), theme.basePointSize());
        }
    }
    QCOMPARE(graphNamed(metrics.plots().front(), QStringLiteral("train"))->pen().widthF(), theme.lineWidth());
    QCOMPARE(depth.plots().front()->graph(0)->pen().widthF(), theme.lineWidth());
    const auto shades = itemsNamed<QCPItemRect>(metrics.plots().front(), QStringLiteral("commitShade"));
    QCOMPARE(shades.front()->brush().color(), theme.commitShade());
    for (auto [view, plot, name] :
         {std::tuple<QWidget*, QCustomPlot*, const char*>{&metrics, metrics.plots().front(), "metrics-dark-presentation"},
          {&depth, depth.plots().front(), "depth-dark-presentation"},
          {&memory, memory.plots().front(), "memory-dark-presentation"}}) {
        const QImage image = render(*view, QString::fromLatin1(name));
        QVERIFY2(distinctColours(image) > 40, name);
        // The plot's corner is drawn in the dark background, not left white.
        const QPoint corner = plot->mapTo(view, QPoint(2, 2));
        QCOMPARE(image.pixelColor(corner), theme.background());
    }
}

QTEST_MAIN(TestTrainingViews)
#include "test_training_views.moc"
