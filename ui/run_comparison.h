// Loaded runs as the comparison views show them: a unique legend label and a colour per run, and
// the method family that colours and shapes the frontier's markers.
#pragma once

#include "core/io/run_loader.h"

#include <QColor>
#include <QList>
#include <QSharedPointer>
#include <QString>

#include <memory>
#include <vector>

class QCPAxisTicker;

namespace sq::ui {

enum class MethodFamily { Float, Binary, Ternary, Sq, Uniq, Cpq };

struct ComparedRun {
    std::shared_ptr<const LoadedRun> run;
    QString label;       // "SQ λ 1 γ 0.003"; the folder name is added when two runs would read alike
    QColor color;        // the run's colour in the overlaid curves
    MethodFamily family; // the frontier's colour and marker
};

MethodFamily methodFamily(const RunSummary& summary);
QString familyName(MethodFamily family); // "SQ", "binary", "ternary", "UniQ", "CPQ (DropBits)", "float"
QColor familyColor(MethodFamily family); // binary and ternary in their theme colours, the others distinct

// Labels, colours and families for runs in the order given.
QList<ComparedRun> compareRuns(const std::vector<std::shared_ptr<const LoadedRun>>& runs);

// "117.8 kbit", "8.68 Mbit": decimal prefixes, as model sizes are quoted in papers.
QString formatBits(double bits);
// A log-10 ticker whose labels carry that unit ("100 kbit", "1 Mbit") rather than bare powers.
QSharedPointer<QCPAxisTicker> makeBitsTicker();

} // namespace sq::ui
