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

QColor Theme::bitsColor(int bits)
{
    // 3..8 avoid the yellow of Okabe-Ito (unreadable as a thin line on white) and take Tol's wine
    // and indigo for the two widths Okabe-Ito has no further distinct hue for. Neighbouring widths
    // differ in hue and lightness, so they stay apart under protan/deutan/tritan vision too.
    switch (bits) {
    case 1:
        return binaryColor();
    case 2:
        return ternaryColor();
    case 3:
        return QColor(0x00, 0x9e, 0x73); // Okabe-Ito bluish green
    case 4:
        return QColor(0xcc, 0x79, 0xa7); // Okabe-Ito reddish purple
    case 5:
        return QColor(0xe6, 0x9f, 0x00); // Okabe-Ito orange
    case 6:
        return QColor(0x56, 0xb4, 0xe9); // Okabe-Ito sky blue
    case 7:
        return QColor(0x88, 0x22, 0x55); // Tol wine
    case 8:
        return QColor(0x33, 0x22, 0x88); // Tol indigo
    default:
        return floatColor();
    }
}

QColor Theme::decisionColor(const QString& decision)
{
    if (decision == QLatin1String("binary"))
        return binaryColor();
    if (decision == QLatin1String("ternary"))
        return ternaryColor();
    if (decision.endsWith(QLatin1String("-bit"))) {
        bool ok = false;
        const int bits = decision.chopped(4).toInt(&ok);
        if (ok)
            return bitsColor(bits);
    }
    return floatColor();
}

QColor Theme::droppedColor() { return QColor(0xb4, 0xb4, 0xb4); }

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
