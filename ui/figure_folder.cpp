#include "ui/figure_folder.h"

#include "core/error.h"
#include "ui/run_report.h"

#include <QApplication>
#include <QDir>
#include <QSaveFile>
#include <QWidget>

namespace sq::ui {

namespace {

// Off screen there is no window to take a size from: each figure gets a size that suits it.
QSize headlessSize(const QString& name)
{
    if (name == QLatin1String("histograms"))
        return {1200, 800};
    if (name == QLatin1String("depth") || name == QLatin1String("metrics"))
        return {1000, 720};
    return {1000, 560};
}

void writeText(const QString& path, const QString& text)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text) || file.write(text.toUtf8()) < 0 || !file.commit())
        throw Error(QStringLiteral("%1: cannot write: %2").arg(path, file.errorString()).toStdString());
}

} // namespace

QStringList exportFigureFolder(const QList<Figure>& figures, const QString& dir, const FigureOptions& png,
                               const TrainConfig* config, const Snapshot& last)
{
    if (!QDir().mkpath(dir))
        throw Error(QStringLiteral("%1: cannot create the folder").arg(dir).toStdString());
    const QDir folder(dir);
    QStringList written;
    QList<ReportFigure> report;
    for (const Figure& figure : figures) {
        FigureOptions options = png;
        options.title = figure.title;
        for (const FigureFormat format : {FigureFormat::Png, FigureFormat::Pdf, FigureFormat::Svg}) {
            const QString file = figure.name + '.' + suffixOf(format);
            exportFigure(figure.view, folder.filePath(file), options);
            written << folder.filePath(file);
        }
        report.append({figure.title, figure.name + QStringLiteral(".png")});
    }
    const QString reportPath = folder.filePath(QStringLiteral("report.html"));
    writeText(reportPath, runReportHtml(config, last, report));
    written << reportPath;
    return written;
}

QStringList renderRunFigures(const std::vector<std::shared_ptr<const Snapshot>>& snapshots, const TrainConfig* config,
                             const QString& dir, double dpi)
{
    if (snapshots.empty())
        throw Error(QStringLiteral("%1: the run produced no snapshot to plot").arg(dir).toStdString());

    static int argc = 1;
    static char name[] = "sq-train";
    static char* argv[] = {name, nullptr};
    std::unique_ptr<QApplication> app;
    if (!QApplication::instance()) {
        // Plots must render on machines without a display, whatever DISPLAY says.
        if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
        app = std::make_unique<QApplication>(argc, argv);
    }

    QWidget host;
    ViewSet views(&host);
    const QList<Figure> figures = views.figures();
    for (const Figure& figure : figures)
        figure.view->resize(headlessSize(figure.name));
    for (const auto& snapshot : snapshots)
        views.addSnapshot(snapshot);
    FigureOptions png;
    png.dpi = dpi;
    return exportFigureFolder(figures, dir, png, config, *snapshots.back());
}

} // namespace sq::ui
