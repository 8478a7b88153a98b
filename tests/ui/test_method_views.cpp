// UniQ and CPQ (DropBits) in the explorer: the setup form's modes and per-method fields, each
// method's grid in the histogram views, CPQ's keep probabilities and bit badges in the depth view,
// one colour per bit-width everywhere, and the live mu slider steering a CPQ run.
#include "support/idx_fixture.h"
#include "ui/depth_view.h"
#include "ui/fake_snapshots.h"
#include "ui/histogram_heatmap_view.h"
#include "ui/histogram_view.h"
#include "ui/log_slider_field.h"
#include "ui/main_window.h"
#include "ui/memory_view.h"
#include "ui/metrics_view.h"
#include "ui/run_setup_panel.h"
#include "ui/theme.h"

#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QSet>
#include <QSlider>
#include <QTemporaryDir>
#include <QtTest>
#include <qcustomplot.h>

#include <algorithm>

using namespace sq;
using namespace sq::ui;
using sq::testing::fakeCpqSnapshot;
using sq::testing::fakeSnapshot;
using sq::testing::fakeUniqSnapshot;
using State = TrainingController::State;

namespace {

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

QList<double> verticalXs(QCustomPlot* plot, const QString& objectName)
{
    QList<double> xs;
    for (auto* line : visibleItems<QCPItemStraightLine>(plot, objectName))
        xs.append(line->point1->coords().x());
    std::sort(xs.begin(), xs.end());
    return xs;
}

QList<double> sorted(const std::vector<float>& values)
{
    QList<double> xs;
    for (float v : values)
        xs.append(v);
    std::sort(xs.begin(), xs.end());
    return xs;
}

bool sameLevels(const QList<double>& drawn, const std::vector<float>& levels)
{
    const QList<double> expected = sorted(levels);
    if (drawn.size() != expected.size())
        return false;
    for (int i = 0; i < drawn.size(); ++i)
        if (std::abs(drawn[i] - expected[i]) > 1e-7)
            return false;
    return true;
}

QCPGraph* graphNamed(QCustomPlot* plot, const QString& objectName)
{
    for (int i = 0; i < plot->graphCount(); ++i)
        if (plot->graph(i)->objectName() == objectName)
            return plot->graph(i);
    return nullptr;
}

bool legendHas(QCustomPlot* plot, const QString& name)
{
    for (int i = 0; i < plot->legend->itemCount(); ++i)
        if (auto* item = qobject_cast<QCPPlottableLegendItem*>(plot->legend->item(i)))
            if (item->plottable()->name() == name)
                return true;
    return false;
}

int distinctColours(const QImage& image)
{
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 2)
        for (int x = 0; x < image.width(); x += 2)
            colours.insert(image.pixel(x, y));
    return colours.size();
}

void settle()
{
    for (int i = 0; i < 3; ++i)
        QCoreApplication::processEvents();
}

void type(QWidget* editor, const QString& text)
{
    auto* edit = qobject_cast<QLineEdit*>(editor);
    QVERIFY(edit);
    edit->selectAll();
    if (text.isEmpty())
        QTest::keyClick(edit, Qt::Key_Delete);
    else
        QTest::keyClicks(edit, text);
}

void choose(QWidget* editor, const QString& text)
{
    auto* combo = qobject_cast<QComboBox*>(editor);
    QVERIFY(combo);
    const int index = combo->findText(text);
    QVERIFY2(index >= 0, qPrintable(text));
    combo->setCurrentIndex(index);
}

void maybeSave(QWidget& widget, const QString& name)
{
    if (qEnvironmentVariableIsSet("SQ_SAVE_VIEW_PNGS"))
        widget.grab().save(QStringLiteral("/tmp/view-%1.png").arg(name));
}

} // namespace

class TestMethodViews : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();

    void panelOffersEveryMode();
    void panelShowsOnlyTheModesFields();
    void panelRefusesBadMethodValues_data();
    void panelRefusesBadMethodValues();
    void panelIgnoresOtherModesFields();
    void panelConfigRoundTrip();

    void oneColourPerBitWidth();
    void histogramDrawsUniqLevels();
    void histogramGreysCpqDroppedLevels();
    void histogramKeepsSqGrid();
    void heatmapTicksCurrentLevels();

    void depthShowsCpqKeepProbabilitiesAndBadges();
    void depthShowsUniqStepAndBadges();
    void depthReturnsToSqAfterClear();
    void metricsNameEachMethodsTermAndControl();

    void viewsRenderMethodsVisibly();

    void muSliderEnabledOnlyForCpq();
    void muSliderSteersNextBatch();

private:
    QTemporaryDir dir_;
};

void TestMethodViews::initTestCase()
{
    QCoreApplication::setOrganizationName(QStringLiteral("SQ Explorer tests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_method_views"));
    QVERIFY(testing::writeIdxDataset(dir_.path(), 512, 64));
}

void TestMethodViews::init()
{
    QSettings().clear();
    Theme::instance().setPresentation(false);
    Theme::instance().setDark(false);
}

void TestMethodViews::panelOffersEveryMode()
{
    RunSetupPanel panel;
    auto* mode = qobject_cast<QComboBox*>(panel.editor("--mode"));
    QVERIFY(mode);
    QStringList items;
    for (int i = 0; i < mode->count(); ++i)
        items << mode->itemText(i);
    for (const char* expected : {"float", "binary", "ternary", "sq", "uniq", "CPQ (DropBits)"})
        QVERIFY2(items.contains(QLatin1String(expected)), expected);
    // CPQ is this project's specification of the method, and the choice says so.
    const QString tip = mode->itemData(mode->findText(QStringLiteral("CPQ (DropBits)")), Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(QStringLiteral("SPEC §2.2")) && tip.contains(QStringLiteral("this project")), qPrintable(tip));
    choose(mode, QStringLiteral("CPQ (DropBits)"));
    QCOMPARE(mode->toolTip(), tip);
    QVERIFY(panel.currentMode() == QuantMode::Cpq);
    choose(mode, QStringLiteral("uniq"));
    QVERIFY(panel.currentMode() == QuantMode::Uniq);
}

void TestMethodViews::panelShowsOnlyTheModesFields()
{
    RunSetupPanel panel;
    const QStringList sqOnly{"--lambda", "--gamma", "--p", "--beta-switch", "--lambda-schedule"};
    const QStringList uniqOnly{"--bits", "--layer-bits"};
    const QStringList cpqOnly{"--max-bits", "--drop-p", "--mu"};
    auto shown = [&](const QStringList& flags, bool expected) {
        for (const QString& flag : flags)
            if (panel.fieldShown(flag) != expected)
                return false;
        return true;
    };
    QVERIFY(shown(sqOnly, true) && shown(uniqOnly, false) && shown(cpqOnly, false));
    choose(panel.editor("--mode"), QStringLiteral("uniq"));
    QVERIFY(shown(sqOnly, false) && shown(uniqOnly, true) && shown(cpqOnly, false));
    choose(panel.editor("--mode"), QStringLiteral("CPQ (DropBits)"));
    QVERIFY(shown(sqOnly, false) && shown(uniqOnly, false) && shown(cpqOnly, true));
    // Shared settings stay whatever the mode.
    for (const char* flag : {"--keep-float", "--lr", "--epochs", "--dataset"})
        QVERIFY2(panel.fieldShown(QLatin1String(flag)), flag);
    choose(panel.editor("--mode"), QStringLiteral("binary"));
    QVERIFY(shown(sqOnly, true) && shown(uniqOnly, false) && shown(cpqOnly, false));
}

void TestMethodViews::panelRefusesBadMethodValues_data()
{
    QTest::addColumn<QString>("mode");
    QTest::addColumn<QString>("flag");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("reason");
    QTest::newRow("0 bits") << "uniq" << "--bits" << "0" << "[1, 8]";
    QTest::newRow("9 bits") << "uniq" << "--bits" << "9" << "[1, 8]";
    QTest::newRow("bits not a number") << "uniq" << "--bits" << "two" << "whole number";
    QTest::newRow("layer bits syntax") << "uniq" << "--layer-bits" << "1,x,2" << "commas";
    QTest::newRow("layer bits range") << "uniq" << "--layer-bits" << "1,9,2" << "[1, 8]";
    QTest::newRow("layer bits count") << "uniq" << "--layer-bits" << "1,2" << "3 quantized layers";
    QTest::newRow("B < 2") << "CPQ (DropBits)" << "--max-bits" << "1" << "[2, 8]";
    QTest::newRow("B > 8") << "CPQ (DropBits)" << "--max-bits" << "9" << "[2, 8]";
    QTest::newRow("p = 1") << "CPQ (DropBits)" << "--drop-p" << "1" << "[0, 1)";
    QTest::newRow("p < 0") << "CPQ (DropBits)" << "--drop-p" << "-0.1" << "[0, 1)";
    QTest::newRow("negative mu") << "CPQ (DropBits)" << "--mu" << "-1" << ">= 0";
    QTest::newRow("mu not a number") << "CPQ (DropBits)" << "--mu" << "lots" << "number";
}

void TestMethodViews::panelRefusesBadMethodValues()
{
    QFETCH(QString, mode);
    QFETCH(QString, flag);
    QFETCH(QString, text);
    QFETCH(QString, reason);
    RunSetupPanel panel;
    panel.setDatasetDir(dir_.path());
    choose(panel.editor("--model"), QStringLiteral("mlp"));
    choose(panel.editor("--mode"), mode);
    QVERIFY2(panel.isValid(), qPrintable(panel.errorFor("--dataset")));
    const QString good = qobject_cast<QLineEdit*>(panel.editor(flag))->text();
    type(panel.editor(flag), text);
    QVERIFY(!panel.isValid());
    QVERIFY(!panel.config().has_value());
    QVERIFY2(panel.errorFor(flag).contains(reason), qPrintable(panel.errorFor(flag)));
    // The reason sits at that field only.
    for (const char* other : {"--lr", "--epochs", "--keep-float"})
        QVERIFY(panel.errorFor(QLatin1String(other)).isEmpty());
    type(panel.editor(flag), good);
    QVERIFY2(panel.isValid(), qPrintable(panel.errorFor(flag)));
    QVERIFY(panel.errorFor(flag).isEmpty());
}

void TestMethodViews::panelIgnoresOtherModesFields()
{
    RunSetupPanel panel;
    panel.setDatasetDir(dir_.path());
    type(panel.editor("--gamma"), "-1");
    QVERIFY(!panel.isValid());
    // gamma means nothing to UniQ: its bad text neither blocks the run nor shows a reason.
    choose(panel.editor("--mode"), QStringLiteral("uniq"));
    QVERIFY(panel.isValid());
    QVERIFY(panel.errorFor("--gamma").isEmpty());
    type(panel.editor("--bits"), "12");
    QVERIFY(!panel.isValid());
    choose(panel.editor("--mode"), QStringLiteral("CPQ (DropBits)"));
    QVERIFY(panel.isValid());
    choose(panel.editor("--mode"), QStringLiteral("sq"));
    QVERIFY(!panel.isValid());
    QVERIFY2(panel.errorFor("--gamma").contains(QStringLiteral("got -1")), qPrintable(panel.errorFor("--gamma")));
    QVERIFY(panel.errorFor("--bits").isEmpty());
}

void TestMethodViews::panelConfigRoundTrip()
{
    RunSetupPanel panel;
    panel.setDatasetDir(dir_.path());
    choose(panel.editor("--mode"), QStringLiteral("CPQ (DropBits)"));
    type(panel.editor("--max-bits"), "5");
    type(panel.editor("--drop-p"), "0.2");
    type(panel.editor("--mu"), "0.3");
    auto config = panel.config();
    QVERIFY(config);
    QVERIFY(config->sq.mode == QuantMode::Cpq);
    QCOMPARE(config->cpq.maxBits, 5);
    QCOMPARE(config->cpq.dropP, 0.2);
    QCOMPARE(config->mu, 0.3);

    choose(panel.editor("--mode"), QStringLiteral("uniq"));
    type(panel.editor("--bits"), "3");
    type(panel.editor("--layer-bits"), "1, 2,4");
    config = panel.config();
    QVERIFY(config);
    QVERIFY(config->sq.mode == QuantMode::Uniq);
    QCOMPARE(config->uniq.bits, 3);
    QCOMPARE(config->uniq.layerBits, (std::vector<int>{1, 2, 4}));

    // setConfig brings every method's settings back, CPQ under its labelled choice.
    TrainConfig c = *config;
    c.sq.mode = QuantMode::Cpq;
    c.cpq.maxBits = 6;
    c.mu = 2.0;
    RunSetupPanel other;
    other.setConfig(c);
    QCOMPARE(qobject_cast<QComboBox*>(other.editor("--mode"))->currentText(), QStringLiteral("CPQ (DropBits)"));
    QCOMPARE(qobject_cast<QLineEdit*>(other.editor("--max-bits"))->text(), QStringLiteral("6"));
    QCOMPARE(qobject_cast<QLineEdit*>(other.editor("--mu"))->text(), QStringLiteral("2"));
    QCOMPARE(qobject_cast<QLineEdit*>(other.editor("--layer-bits"))->text(), QStringLiteral("1,2,4"));
}

void TestMethodViews::oneColourPerBitWidth()
{
    QSet<QRgb> colours;
    for (int bits = 1; bits <= 8; ++bits)
        colours.insert(Theme::bitsColor(bits).rgb());
    colours.insert(Theme::floatColor().rgb());
    QCOMPARE(colours.size(), 9);
    QCOMPARE(Theme::bitsColor(1), Theme::binaryColor());
    QCOMPARE(Theme::bitsColor(2), Theme::ternaryColor());
    QCOMPARE(Theme::bitsColor(1), QColor(0x00, 0x72, 0xb2));
    QCOMPARE(Theme::bitsColor(2), QColor(0xd5, 0x5e, 0x00));
    for (int bits = 3; bits <= 8; ++bits)
        QCOMPARE(Theme::decisionColor(QStringLiteral("%1-bit").arg(bits)), Theme::bitsColor(bits));
    QCOMPARE(Theme::decisionColor(QStringLiteral("2-bit")), Theme::ternaryColor()); // UniQ's 2 bits
    QCOMPARE(Theme::decisionColor(QStringLiteral("float")), Theme::floatColor());

    // The same colour for the same width in the histograms, the badges and the memory bars.
    const auto s = fakeCpqSnapshot(5); // dense1 3-bit, dense2 ternary, dense3 4-bit
    HistogramView histograms;
    histograms.addSnapshot(s);
    QCOMPARE(graphNamed(histograms.plots()[1], QStringLiteral("histogram"))->pen().color(), Theme::bitsColor(3));
    QCOMPARE(graphNamed(histograms.plots()[3], QStringLiteral("histogram"))->pen().color(), Theme::bitsColor(4));
    DepthView depth;
    depth.addSnapshot(s);
    int badges = 0;
    for (QLabel* label : depth.findChildren<QLabel*>())
        if (label->text().startsWith(QStringLiteral("dense1"))) {
            QVERIFY(label->styleSheet().contains(Theme::bitsColor(3).name()));
            ++badges;
        } else if (label->text().startsWith(QStringLiteral("dense3"))) {
            QVERIFY(label->styleSheet().contains(Theme::bitsColor(4).name()));
            ++badges;
        }
    QCOMPARE(badges, 2);
    MemoryView memory;
    memory.addSnapshot(s);
    QCustomPlot* plot = memory.plots().front();
    int bars = 0;
    for (int i = 0; i < plot->plottableCount(); ++i)
        if (plot->plottable(i)->name() == QLatin1String("3-bit")) {
            QCOMPARE(plot->plottable(i)->brush().color(), Theme::bitsColor(3));
            ++bars;
        }
    QCOMPARE(bars, 1);
}

void TestMethodViews::histogramDrawsUniqLevels()
{
    HistogramView view;
    const auto s = fakeUniqSnapshot(12); // 1, 2 and 3 bits
    view.addSnapshot(s);
    const auto plots = view.plots();
    QCOMPARE(plots.size(), 4);
    for (int l = 0; l < 3; ++l) {
        const LayerQuantState& state = s->layers[static_cast<std::size_t>(l)].state;
        QCOMPARE(state.levels.size(), std::size_t(2) << l);
        QCustomPlot* small = plots[l + 1];
        QVERIFY2(sameLevels(verticalXs(small, QStringLiteral("gridLevel")), state.levels), state.name.c_str());
        QVERIFY(visibleItems<QCPItemStraightLine>(small, QStringLiteral("droppedLevel")).isEmpty());
        // No zero level, no basin and no regularizer: those are SQ's.
        QVERIFY(!verticalXs(small, QStringLiteral("gridLevel")).contains(0.0));
        QVERIFY(visibleItems<QCPItemRect>(small, QStringLiteral("zeroBasin")).isEmpty());
        QVERIFY(!graphNamed(small, QStringLiteral("regularizer"))->visible());
        // Every level within the x axis.
        QVERIFY(small->xAxis->range().contains(state.levels.front()));
        QVERIFY(small->xAxis->range().contains(state.levels.back()));
    }
    view.setSelectedLayer(2);
    QCustomPlot* enlarged = plots[0];
    QVERIFY(sameLevels(verticalXs(enlarged, QStringLiteral("gridLevel")), s->layers[2].state.levels));
    QVERIFY(!enlarged->yAxis2->visible());
    QVERIFY(legendHas(enlarged, QStringLiteral("grid levels")));
    QVERIFY(!legendHas(enlarged, QStringLiteral("r(w) / α^p")));
    // Levels are labelled in steps of Delta/2.
    QStringList labels;
    for (int i = 0; i < enlarged->itemCount(); ++i)
        if (auto* text = qobject_cast<QCPItemText*>(enlarged->item(i)); text && text->visible())
            labels << text->text();
    QVERIFY2(labels.contains(QStringLiteral("+Δ/2")) && labels.contains(QStringLiteral("−7Δ/2")), qPrintable(labels.join(' ')));

    // 8 bits: one marker for each of the 256 levels.
    HistogramView wide;
    wide.addSnapshot(fakeUniqSnapshot(3, {8, 8, 8}));
    QCOMPARE(verticalXs(wide.plots()[1], QStringLiteral("gridLevel")).size(), 256);
}

void TestMethodViews::histogramGreysCpqDroppedLevels()
{
    HistogramView view;
    const auto s = fakeCpqSnapshot(12); // B = 4: 15 levels; dense1 3-bit, dense2 ternary, dense3 4-bit
    view.addSnapshot(s);
    const auto plots = view.plots();
    const std::size_t expectedActive[] = {7, 3, 15};
    for (std::size_t l = 0; l < 3; ++l) {
        const LayerQuantState& state = s->layers[l].state;
        QCOMPARE(state.levels.size(), expectedActive[l]);
        QCOMPARE(state.levels.size() + state.droppedLevels.size(), std::size_t(15));
        QCustomPlot* small = plots[static_cast<int>(l) + 1];
        QVERIFY(sameLevels(verticalXs(small, QStringLiteral("gridLevel")), state.levels));
        QVERIFY(sameLevels(verticalXs(small, QStringLiteral("droppedLevel")), state.droppedLevels));
        for (auto* line : visibleItems<QCPItemStraightLine>(small, QStringLiteral("droppedLevel")))
            QCOMPARE(line->pen().color(), Theme::droppedColor());
        for (auto* line : visibleItems<QCPItemStraightLine>(small, QStringLiteral("gridLevel")))
            QVERIFY(line->pen().color() != Theme::droppedColor());
        QVERIFY(small->xAxis->range().contains(s->layers[l].state.droppedLevels.empty()
                                                   ? state.levels.back()
                                                   : state.droppedLevels.back()));
        QVERIFY(!graphNamed(small, QStringLiteral("regularizer"))->visible());
    }
    view.setSelectedLayer(1);
    QVERIFY(legendHas(plots[0], QStringLiteral("dropped levels")));
    view.setSelectedLayer(2); // keeps every group: nothing greyed, nothing listed
    QVERIFY(!legendHas(plots[0], QStringLiteral("dropped levels")));
    QVERIFY(visibleItems<QCPItemStraightLine>(plots[0], QStringLiteral("droppedLevel")).isEmpty());

    // A later snapshot with fewer dropped levels hides the surplus markers.
    view.addSnapshot(fakeCpqSnapshot(13, 3));
    QCOMPARE(verticalXs(plots[2], QStringLiteral("droppedLevel")).size(), 4); // ternary of B = 3
}

void TestMethodViews::histogramKeepsSqGrid()
{
    HistogramView view;
    view.addSnapshot(fakeCpqSnapshot(3));
    view.addSnapshot(fakeSnapshot(20)); // SQ again: -alpha/0/+alpha, basin and curve, nothing greyed
    const auto plots = view.plots();
    QCOMPARE(verticalXs(plots[1], QStringLiteral("gridLevel")).size(), 3);
    QVERIFY(visibleItems<QCPItemStraightLine>(plots[1], QStringLiteral("droppedLevel")).isEmpty());
    QCOMPARE(visibleItems<QCPItemRect>(plots[1], QStringLiteral("zeroBasin")).size(), 1);
    QVERIFY(graphNamed(plots[1], QStringLiteral("regularizer"))->visible());
    QVERIFY(!legendHas(plots[0], QStringLiteral("dropped levels")));
}

void TestMethodViews::heatmapTicksCurrentLevels()
{
    HistogramHeatmapView view;
    for (int i = 0; i < 8; ++i)
        view.addSnapshot(fakeCpqSnapshot(i));
    settle();
    QCustomPlot* plot = view.plots().front();
    const auto last = fakeCpqSnapshot(7);
    QCOMPARE(visibleItems<QCPItemLine>(plot, QStringLiteral("levelTick")).size(),
             static_cast<int>(last->layers[0].state.levels.size()));
    view.setSelectedLayer(1);
    QCOMPARE(visibleItems<QCPItemLine>(plot, QStringLiteral("levelTick")).size(), 3);
    // SQ draws its grid as the ±alpha lines only.
    view.clear();
    view.addSnapshot(fakeSnapshot(0));
    QVERIFY(visibleItems<QCPItemLine>(plot, QStringLiteral("levelTick")).isEmpty());
}

void TestMethodViews::depthShowsCpqKeepProbabilitiesAndBadges()
{
    DepthView view;
    const int count = 25;
    for (int i = 0; i < count; ++i)
        view.addSnapshot(fakeCpqSnapshot(i));
    const QList<QCPGraph*> keeps = view.keepProbabilityGraphs();
    QCOMPARE(keeps.size(), 3 * 2); // 3 layers x groups 3..4
    const auto last = fakeCpqSnapshot(count - 1);
    for (int k = 0; k < keeps.size(); ++k) {
        QCOMPARE(keeps[k]->dataCount(), count);
        const float expected = last->layers[static_cast<std::size_t>(k / 2)].state.keepProbability[static_cast<std::size_t>(k % 2)];
        QCOMPARE(static_cast<float>((keeps[k]->data()->constEnd() - 1)->value), expected);
    }
    QCustomPlot* time = view.plots().front();
    QCOMPARE(visibleItems<QCPItemStraightLine>(time, QStringLiteral("keepThreshold")).size(), 1);
    QCOMPARE(visibleItems<QCPItemStraightLine>(time, QStringLiteral("keepThreshold")).front()->point1->coords().y(), 0.5);
    QVERIFY(visibleItems<QCPItemStraightLine>(time, QStringLiteral("betaSwitch")).isEmpty());
    QVERIFY(legendHas(time, QStringLiteral("group 4")));
    const QStringList badges = view.badgeTexts();
    QCOMPARE(badges.size(), 3);
    QVERIFY2(badges[0].startsWith(QStringLiteral("dense1 · 3-bit")), qPrintable(badges[0]));
    QVERIFY2(badges[1].startsWith(QStringLiteral("dense2 · ternary · 2 bit")), qPrintable(badges[1]));
    QVERIFY2(badges[2].startsWith(QStringLiteral("dense3 · 4-bit")), qPrintable(badges[2]));
    QVERIFY(badges[2].endsWith(QStringLiteral("committed"))); // the last epoch commits
}

void TestMethodViews::depthShowsUniqStepAndBadges()
{
    DepthView view;
    for (int i = 0; i < 10; ++i)
        view.addSnapshot(fakeUniqSnapshot(i));
    QVERIFY(view.keepProbabilityGraphs().isEmpty());
    QCOMPARE(view.badgeTexts(), (QStringList{QStringLiteral("dense1 · binary · 1 bit"), QStringLiteral("dense2 · 2-bit"),
                                             QStringLiteral("dense3 · 3-bit")}));
    QCustomPlot* time = view.plots().front();
    QVERIFY(visibleItems<QCPItemStraightLine>(time, QStringLiteral("betaSwitch")).isEmpty());
    QVERIFY(visibleItems<QCPItemStraightLine>(time, QStringLiteral("keepThreshold")).isEmpty());
    // The top plot follows Delta, on an axis that holds it.
    const auto rects = time->axisRects();
    QVERIFY(rects.front()->axis(QCPAxis::atLeft)->label().contains(QStringLiteral("Δ")));
    int withData = 0;
    for (int i = 0; i < time->graphCount(); ++i) {
        QCPGraph* g = time->graph(i);
        if (g->keyAxis()->axisRect() == rects.front() && g->dataCount() == 10) {
            const double delta = (g->data()->constEnd() - 1)->value;
            QVERIFY(rects.front()->axis(QCPAxis::atLeft)->range().contains(delta));
            ++withData;
        }
    }
    QCOMPARE(withData, 3);
}

void TestMethodViews::depthReturnsToSqAfterClear()
{
    DepthView view;
    view.addSnapshot(fakeCpqSnapshot(0));
    view.clear();
    QVERIFY(view.keepProbabilityGraphs().isEmpty());
    view.addSnapshot(fakeSnapshot(0));
    QCustomPlot* time = view.plots().front();
    QCOMPARE(visibleItems<QCPItemStraightLine>(time, QStringLiteral("betaSwitch")).size(), 1);
    QVERIFY(visibleItems<QCPItemStraightLine>(time, QStringLiteral("keepThreshold")).isEmpty());
    QVERIFY(time->axisRects().front()->axis(QCPAxis::atLeft)->label().contains(QStringLiteral("β")));
    // And a new method on the same layer names switches without a clear, too.
    view.addSnapshot(fakeCpqSnapshot(1));
    QCOMPARE(view.keepProbabilityGraphs().size(), 6);
}

void TestMethodViews::viewsRenderMethodsVisibly()
{
    for (const char* method : {"uniq", "cpq"}) {
        HistogramView histograms;
        HistogramHeatmapView heatmap;
        DepthView depth;
        for (QWidget* w : std::initializer_list<QWidget*>{&histograms, &heatmap, &depth}) {
            w->resize(900, 620);
            w->show();
        }
        for (int i = 0; i < 20; ++i) {
            const auto s = QLatin1String(method) == QLatin1String("uniq") ? fakeUniqSnapshot(i) : fakeCpqSnapshot(i);
            histograms.addSnapshot(s);
            heatmap.addSnapshot(s);
            depth.addSnapshot(s);
        }
        settle();
        const QString tag = QLatin1String(method);
        for (QWidget* w : std::initializer_list<QWidget*>{&histograms, &heatmap, &depth}) {
            const QImage image = w->grab().toImage();
            QVERIFY(!image.isNull());
            QVERIFY2(distinctColours(image) > 12, w->metaObject()->className());
            maybeSave(*w, tag + QLatin1Char('-') + QString::fromLatin1(w->metaObject()->className()).section(':', -1));
        }
    }
}

void TestMethodViews::muSliderEnabledOnlyForCpq()
{
    MainWindow w;
    RunSetupPanel* setup = w.setupPanel();
    QVERIFY(!w.muControl()->isEnabled());
    QVERIFY(w.lambdaControl()->isEnabled());
    choose(setup->editor("--mode"), QStringLiteral("CPQ (DropBits)"));
    QVERIFY(w.muControl()->isEnabled());
    QVERIFY(!w.lambdaControl()->isEnabled());
    QVERIFY(!w.gammaControl()->isEnabled());
    choose(setup->editor("--mode"), QStringLiteral("uniq"));
    QVERIFY(!w.muControl()->isEnabled());
    QVERIFY(!w.lambdaControl()->isEnabled());
}

void TestMethodViews::muSliderSteersNextBatch()
{
    MainWindow w;
    w.show();
    RunSetupPanel* setup = w.setupPanel();
    setup->setDatasetDir(dir_.path());
    choose(setup->editor("--model"), QStringLiteral("custom"));
    type(setup->editor("--arch"), "dense 16, bn, relu, dense 10");
    choose(setup->editor("--mode"), QStringLiteral("CPQ (DropBits)"));
    type(setup->editor("--max-bits"), "3");
    type(setup->editor("--epochs"), "2");
    type(setup->editor("--commit-epochs"), "1");
    type(setup->editor("--batch"), "32");
    QVERIFY2(setup->isValid(), qPrintable(setup->errorFor("--arch")));
    QVERIFY(w.startTraining(true));
    QTRY_COMPARE_WITH_TIMEOUT(w.controller()->state(), State::Paused, 30000);
    QVERIFY(w.muControl()->isEnabled());
    w.stepBatchAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(w.controller()->latestSnapshot()->step, std::int64_t(1), 10000);
    QCOMPARE(w.controller()->latestSnapshot()->mu, kCpqMuDefault);

    QSlider* slider = w.muControl()->slider();
    slider->setValue(slider->maximum()); // mu = 10
    QCOMPARE(w.muControl()->value(), 10.0);
    QCOMPARE(w.controller()->latestSnapshot()->mu, kCpqMuDefault); // not before the next batch
    w.stepBatchAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(w.controller()->latestSnapshot()->step, std::int64_t(2), 10000);
    const auto s = w.controller()->latestSnapshot();
    QCOMPARE(s->mu, 10.0);
    QCOMPARE(s->events.size(), std::size_t(1));
    QCOMPARE(QString::fromStdString(s->events.front().parameter), QStringLiteral("mu"));
    QCOMPARE(s->events.front().to, 10.0);
    // Marked on the time plots like a lambda change.
    QTRY_VERIFY_WITH_TIMEOUT(w.snapshotsShown() >= 2, 5000);
    int marks = 0;
    for (QCustomPlot* plot : w.findChildren<QCustomPlot*>())
        marks += visibleItems<QCPItemStraightLine>(plot, QStringLiteral("eventMarker")).size();
    QVERIFY(marks >= 2);
    w.controller()->stop();
    QTRY_COMPARE_WITH_TIMEOUT(w.controller()->state(), State::Stopped, 30000);
}

void TestMethodViews::metricsNameEachMethodsTermAndControl()
{
    MetricsView view;
    QCustomPlot* plot = view.plots().front();
    const auto graphNamed = [plot](const QString& fragment) -> QCPGraph* {
        for (int i = 0; i < plot->graphCount(); ++i)
            if (plot->graph(i)->name().contains(fragment))
                return plot->graph(i);
        return nullptr;
    };
    QVERIFY(graphNamed(QStringLiteral("λ·ΣR")));

    for (int i = 0; i < 10; ++i)
        view.addSnapshot(fakeCpqSnapshot(i));
    QVERIFY(!graphNamed(QStringLiteral("λ·ΣR")));
    QVERIFY(graphNamed(QStringLiteral("memory term μ")));
    // The control curve follows mu, not lambda; gamma is not drawn for CPQ.
    QCPGraph* control = nullptr;
    for (int i = 0; i < plot->graphCount(); ++i)
        if (plot->graph(i)->name() == QStringLiteral("μ"))
            control = plot->graph(i);
    QVERIFY(control && control->data()->size() > 0);
    QCOMPARE(control->data()->at(control->data()->size() - 1)->value, fakeCpqSnapshot(9)->mu);
    QCOMPARE(graphNamed(QStringLiteral("γ"))->data()->size(), 0);

    view.clear();
    for (int i = 0; i < 3; ++i)
        view.addSnapshot(fakeUniqSnapshot(i));
    QVERIFY(graphNamed(QStringLiteral("no regularizer (UniQ)")));
    view.clear();
    QVERIFY(graphNamed(QStringLiteral("λ·ΣR")));
}

QTEST_MAIN(TestMethodViews)
#include "test_method_views.moc"
