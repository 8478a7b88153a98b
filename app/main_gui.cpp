// sq-explorer: the explorer window on the default dataset, ready to start (--autostart: at once).
#include "ui/main_window.h"
#include "ui/run_setup_panel.h"

#include <QAction>

#include <QApplication>
#include <QCommandLineParser>

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("sq-explorer"));
    QApplication::setOrganizationName(QStringLiteral("SQ Explorer"));
    QApplication::setApplicationVersion(QStringLiteral(SQ_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Trains small networks with Smart Quantization (adaptive binary-ternary quantization) and shows "
        "weight histograms, depth decisions and metrics live."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption autostart(QStringLiteral("autostart"), QStringLiteral("Start training at once (demos)."));
    const QCommandLineOption dataset(QStringList{QStringLiteral("dataset")},
                                     QStringLiteral("IDX or CIFAR-10 folder (default: Fashion-MNIST)."),
                                     QStringLiteral("DIR"));
    const QCommandLineOption presentation(QStringLiteral("presentation"),
                                          QStringLiteral("Start in presentation mode (large fonts, thick lines)."));
    const QCommandLineOption dark(QStringLiteral("dark"), QStringLiteral("Use the dark palette."));
    parser.addOptions({autostart, dataset, presentation, dark});
    parser.addPositionalArgument(QStringLiteral("runs"),
                                 QStringLiteral("Run folders to open (one is re-displayed; several are compared)."),
                                 QStringLiteral("[RUN_DIR...]"));
    parser.process(app);

    sq::ui::MainWindow window;
    if (parser.isSet(dataset))
        window.setupPanel()->setDatasetDir(parser.value(dataset));
    if (parser.isSet(dark) && !window.darkAction()->isChecked())
        window.darkAction()->trigger();
    if (parser.isSet(presentation))
        window.presentationAction()->trigger();
    window.show();
    if (!parser.positionalArguments().isEmpty())
        window.openRunFolders(parser.positionalArguments());
    if (parser.isSet(autostart))
        window.startTraining();
    return QApplication::exec();
}
