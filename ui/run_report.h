// The one-page run report that "Export all" and `sq-train --plots` write beside the figures:
// run settings, final accuracies and memory, the per-layer table and the figures (HTML).
#pragma once

#include "core/snapshot.h"
#include "core/train_config.h"

#include <QString>
#include <QStringList>

namespace sq::ui {

struct ReportFigure {
    QString title;
    QString file; // relative to the report, e.g. "histograms.png"
};

// config may be null (settings unknown); last is the run's latest snapshot.
QString runReportHtml(const TrainConfig* config, const Snapshot& last, const QList<ReportFigure>& figures);

} // namespace sq::ui
