// Replots that cost nothing while a plot is out of sight (a hidden dock tab, a closed view).
#pragma once

class QCustomPlot;

namespace sq::ui {

// Queues a replot if the plot is visible; otherwise marks it stale and replots it just before it
// is next painted (shown, or grabbed for an export). The GUI thread shares the CPU with training,
// so drawing what nobody sees would slow training down.
void requestReplot(QCustomPlot* plot);

} // namespace sq::ui
