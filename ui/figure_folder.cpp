#include "ui/figure_folder.h"

#include "core/error.h"
#include "ui/compare_view.h"
#include "ui/frontier_view.h"
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
    if (name == QLatin1String("depth") || name == QLatin1String("metrics") || name == QLatin1String("compare"))
        return {1000, 720};
    if (name == QLatin1String("frontier"))
        return {1000, 640};
    return {1000, 560};
}

void writeText(const QString& path, const QString& text)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text) || file.write(text.toUtf8()) < 0 || !file.commit())
        throw Error(QStringLiteral("%1: cannot write: %2").arg(path, file.errorString()).toStdString());
}

// Plots must render on machines without a display: an offscreen QApplication when the process has
// none (returned, so it lives as long as the caller needs it).
std::unique_ptr<QApplication> ensureApplication()
{
    static int argc = 1;
    static char name[] = "sq-train";
    static char* argv[] = {name, nullptr};
    if (QApplication::instance())
        return nullptr;
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    return std::make_unique<QApplication>(argc, argv);
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

    const std::unique_ptr<QApplication> app = ensureApplication();

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

QStringList renderComparisonFigures(const std::vector<std::shared_ptr<const LoadedRun>>& runs, const QString& dir,
                                    double dpi)
{
    if (runs.empty())
        throw Error(QStringLiteral("%1: no runs to compare").arg(dir).toStdString());
    const std::unique_ptr<QApplication> app = ensureApplication();
    if (!QDir().mkpath(dir))
        throw Error(QStringLiteral("%1: cannot create the folder").arg(dir).toStdString());
    QWidget host;
    FrontierView frontier(&host);
    CompareView compare(&host);
    const QList<ComparedRun> compared = compareRuns(runs);
    frontier.setRuns(compared);
    compare.setRuns(compared);
    const QDir folder(dir);
    QStringList written;
    const QList<Figure> figures = {
        {QStringLiteral("frontier"), QCoreApplication::translate("sq::ui", "Accuracy-memory frontier"), &frontier},
        {QStringLiteral("compare"), QCoreApplication::translate("sq::ui", "Compare runs"), &compare},
    };
    for (const Figure& figure : figures) {
        FigureOptions options;
        options.size = headlessSize(figure.name);
        options.dpi = dpi;
        options.title = figure.title;
        for (const FigureFormat format : {FigureFormat::Png, FigureFormat::Pdf, FigureFormat::Svg}) {
            const QString file = folder.filePath(figure.name + '.' + suffixOf(format));
            exportFigure(figure.view, file, options);
            written << file;
        }
    }
    return written;
}

} // namespace sq::ui
