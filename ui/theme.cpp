#include "ui/theme.h"

#include <qcustomplot.h>

namespace sq::ui {

Theme& Theme::instance()
{
    static Theme theme;
    return theme;
}

void Theme::setPresentation(bool on)
{
    if (presentation_ == on)
        return;
    presentation_ = on;
    emit changed();
}

void Theme::setDark(bool on)
{
    if (dark_ == on)
        return;
    dark_ = on;
    emit changed();
}

QFont Theme::font(int delta, bool bold) const
{
    QFont f;
    f.setPointSize(basePointSize() + delta);
    f.setBold(bold);
    return f;
}

QColor Theme::background() const { return dark_ ? QColor(0x1e, 0x1f, 0x22) : QColor(Qt::white); }
QColor Theme::foreground() const { return dark_ ? QColor(0xe8, 0xe8, 0xe8) : QColor(0x20, 0x20, 0x20); }
QColor Theme::gridColor() const { return dark_ ? QColor(0x3a, 0x3c, 0x40) : QColor(0xe2, 0xe2, 0xe2); }
QColor Theme::subtle() const { return dark_ ? QColor(0xa0, 0xa0, 0xa0) : QColor(0x70, 0x70, 0x70); }

QColor Theme::binaryColor() { return QColor(0x00, 0x72, 0xb2); }
QColor Theme::ternaryColor() { return QColor(0xd5, 0x5e, 0x00); }
QColor Theme::floatColor() { return QColor(0x88, 0x88, 0x88); }
QColor Theme::quantizedColor() { return QColor(0x00, 0x9e, 0x73); }

QColor Theme::decisionColor(const QString& decision)
{
    if (decision == QLatin1String("binary"))
        return binaryColor();
    if (decision == QLatin1String("ternary"))
        return ternaryColor();
    return floatColor();
}

QColor Theme::seriesColor(int index)
{
    // Okabe-Ito without black; the decision colours come last so layers rarely look like decisions.
    static const QColor colors[] = {QColor(0xe6, 0x9f, 0x00), QColor(0x56, 0xb4, 0xe9), QColor(0x00, 0x9e, 0x73),
                                    QColor(0xcc, 0x79, 0xa7), QColor(0xf0, 0xe4, 0x42), QColor(0x00, 0x72, 0xb2),
                                    QColor(0xd5, 0x5e, 0x00)};
    const int n = static_cast<int>(std::size(colors));
    return colors[((index % n) + n) % n];
}

QColor Theme::commitShade() const { return dark_ ? QColor(255, 255, 255, 22) : QColor(0, 0, 0, 14); }
QColor Theme::eventColor() const { return dark_ ? QColor(0xf0, 0xe4, 0x42) : QColor(0x99, 0x55, 0x00); }

void Theme::applyTo(QCustomPlot* plot) const
{
    plot->setBackground(background());
    const QFont tick = font(-1);
    const QFont label = font(0);
    for (QCPAxisRect* rect : plot->axisRects()) {
        rect->setBackground(background());
        for (QCPAxis* axis : rect->axes()) {
            axis->setTickLabelFont(tick);
            axis->setLabelFont(label);
            axis->setTickLabelColor(foreground());
            axis->setLabelColor(foreground());
            axis->setBasePen(QPen(subtle(), 1));
            axis->setTickPen(QPen(subtle(), 1));
            axis->setSubTickPen(QPen(subtle(), 1));
            axis->grid()->setPen(QPen(gridColor(), 1, Qt::SolidLine));
            axis->grid()->setSubGridVisible(false);
            axis->grid()->setZeroLinePen(Qt::NoPen);
        }
    }
    if (plot->legend) {
        plot->legend->setFont(tick);
        plot->legend->setTextColor(foreground());
        plot->legend->setBrush(QBrush(background()));
        plot->legend->setBorderPen(QPen(gridColor()));
    }
    for (int i = 0; i < plot->plotLayout()->elementCount(); ++i)
        if (auto* title = qobject_cast<QCPTextElement*>(plot->plotLayout()->elementAt(i))) {
            title->setFont(font(1, true));
            title->setTextColor(foreground());
        }
}

} // namespace sq::ui
