#include "ui/plot_refresh.h"

#include <qcustomplot.h>

#include <QEvent>

namespace sq::ui {

namespace {

constexpr const char* kStale = "sqReplotStale";

class StaleReplotFilter : public QObject {
public:
    using QObject::QObject;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        if (event->type() == QEvent::Paint && watched->property(kStale).toBool()) {
            watched->setProperty(kStale, false);
            // Redraws the plot's buffers now, so this very paint shows current data; the
            // extra update() it schedules is cheap.
            static_cast<QCustomPlot*>(watched)->replot(QCustomPlot::rpQueuedRefresh);
        }
        return false;
    }
};

} // namespace

void requestReplot(QCustomPlot* plot)
{
    if (plot->isVisible()) {
        plot->setProperty(kStale, false);
        plot->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    if (!plot->property(kStale).isValid())
        plot->installEventFilter(new StaleReplotFilter(plot));
    plot->setProperty(kStale, true);
}

} // namespace sq::ui
