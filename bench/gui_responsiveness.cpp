// Measures what a user feels while training runs in the explorer: event-loop latency of the GUI
// thread (a 10 ms QTimer probe: how late each tick fires) and the training throughput with every
// view plotting live. Compare the throughput with headless sq-train on the same run.
//
//   sq-gui-bench [--epochs N] [--train-limit N] [--threads N] [--screenshot FILE]
#include "ui/main_window.h"
#include "ui/run_setup_panel.h"

#include <QAction>
#include <QApplication>
#include <QCommandLineParser>
#include <QComboBox>
#include <QElapsedTimer>
#include <QLineEdit>
#include <QSettings>
#include <QTimer>

#include <qcustomplot.h>

#include <algorithm>
#include <cstdio>
#include <vector>

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("SQ Explorer bench"));
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption epochs(QStringLiteral("epochs"), QStringLiteral("Epochs."), QStringLiteral("N"),
                                    QStringLiteral("2"));
    const QCommandLineOption limit(QStringLiteral("train-limit"), QStringLiteral("Training images."),
                                   QStringLiteral("N"), QStringLiteral("0"));
    const QCommandLineOption shot(QStringLiteral("screenshot"), QStringLiteral("Save the window mid-run."),
                                  QStringLiteral("FILE"));
    const QCommandLineOption finalShot(QStringLiteral("final-screenshot"), QStringLiteral("Save the window after the run."),
                                       QStringLiteral("FILE"));
    const QCommandLineOption look(QStringLiteral("look"), QStringLiteral("dark, presentation or both (comma-separated)."),
                                  QStringLiteral("LIST"));
    parser.addOptions({epochs, limit, shot, finalShot, look});
    parser.process(app);
    QSettings().clear(); // measure the default layout, not whatever the last run left

    sq::ui::MainWindow window;
    window.resize(1600, 1000);
    window.show();
    if (parser.value(look).contains(QStringLiteral("dark")))
        window.darkAction()->trigger();
    if (parser.value(look).contains(QStringLiteral("presentation")))
        window.presentationAction()->trigger();
    auto* setup = window.setupPanel();
    qobject_cast<QLineEdit*>(setup->editor(QStringLiteral("--epochs")))->setText(parser.value(epochs));
    qobject_cast<QLineEdit*>(setup->editor(QStringLiteral("--train-limit")))->setText(parser.value(limit));
    qobject_cast<QLineEdit*>(setup->editor(QStringLiteral("--commit-epochs")))->setText(QStringLiteral("1"));

    std::vector<double> lateMs;
    QElapsedTimer clock;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(10);
    qint64 expected = 0;
    QObject::connect(&probe, &QTimer::timeout, &app, [&] {
        const qint64 now = clock.nsecsElapsed();
        if (expected > 0)
            lateMs.push_back(std::max<qint64>(0, now - expected) / 1e6);
        expected = now + 10'000'000;
    });

    double imagesPerSecondSum = 0.0;
    int throughputSamples = 0;
    bool shotTaken = false;
    QObject::connect(window.controller(), &sq::ui::TrainingController::snapshot, &app,
                     [&](std::shared_ptr<const sq::Snapshot> s) {
                         if (s->imagesPerSecond > 0 && !s->finished && s->step > s->batchesPerEpoch / 4) {
                             imagesPerSecondSum += s->imagesPerSecond;
                             ++throughputSamples;
                         }
                         if (parser.isSet(shot) && !shotTaken && s->epochsElapsed > 0.6 * s->epochs) {
                             window.grab().save(parser.value(shot));
                             shotTaken = true;
                         }
                     });
    QObject::connect(window.controller(), &sq::ui::TrainingController::stateChanged, &app,
                     [&](sq::ui::TrainingController::State state) {
                         using State = sq::ui::TrainingController::State;
                         if (state == State::Running && !probe.isActive()) {
                             clock.start();
                             probe.start();
                         }
                         if (state == State::Finished || state == State::Failed || state == State::Stopped)
                             QTimer::singleShot(500, &app, [&] {
                                 if (parser.isSet(finalShot))
                                     window.grab().save(parser.value(finalShot));
                                 QApplication::quit();
                             });
                     });
    QTimer::singleShot(100, &window, [&] { window.startTraining(); });
    QApplication::exec();

    if (lateMs.empty()) {
        std::fprintf(stderr, "no measurements: %s\n", qPrintable(window.lastError()));
        return 1;
    }
    std::sort(lateMs.begin(), lateMs.end());
    const auto at = [&](double q) { return lateMs[static_cast<std::size_t>(q * (lateMs.size() - 1))]; };
    std::printf("event-loop latency over %zu probes: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", lateMs.size(), at(0.5),
                at(0.99), lateMs.back());
    std::printf("training throughput with live views: %.0f images/s (mean of %d snapshots)\n",
                throughputSamples ? imagesPerSecondSum / throughputSamples : 0.0, throughputSamples);
    // QCustomPlot's own measure of how long a replot takes (averaged over its recent replots).
    for (QWidget* view : window.views()) {
        double total = 0.0;
        for (QCustomPlot* plot : view->findChildren<QCustomPlot*>())
            total += plot->replotTime(true);
        std::printf("  %-28s replot %.1f ms (all its plots)\n", view->metaObject()->className(), total);
    }
    return 0;
}
