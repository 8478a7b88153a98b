// "Export all": every view as PNG, PDF and SVG in one folder with a one-page report.html, from the
// window's live views or, headless for `sq-train --plots`, from views laid out off screen.
#pragma once

#include "core/io/run_loader.h"
#include "core/snapshot.h"
#include "core/train_config.h"
#include "ui/figure_export.h"
#include "ui/view_set.h"

#include <QStringList>

#include <memory>
#include <vector>

namespace sq::ui {

// Writes <name>.png (with `png`'s DPI; each view at png.size, or its current size when empty),
// <name>.pdf, <name>.svg and report.html into dir (created if needed). Returns the written paths.
// config may be null; last is the snapshot the report describes.
QStringList exportFigureFolder(const QList<Figure>& figures, const QString& dir, const FigureOptions& png,
                               const TrainConfig* config, const Snapshot& last);

// Headless: builds the views off screen (creating an offscreen QApplication if the process has
// none), feeds them `snapshots` in order and exports the folder as above. Throws sq::Error.
QStringList renderRunFigures(const std::vector<std::shared_ptr<const Snapshot>>& snapshots, const TrainConfig* config,
                             const QString& dir, double dpi = 144.0);

// Headless, for `sq-train --compare`: lays the frontier and the compare (overlaid curves) views
// out off screen for `runs` and writes frontier.{png,pdf,svg} and compare.{png,pdf,svg} into
// dir. Returns the written paths. Throws sq::Error.
QStringList renderComparisonFigures(const std::vector<std::shared_ptr<const LoadedRun>>& runs, const QString& dir,
                                    double dpi = 144.0);

} // namespace sq::ui
