// Colours, fonts and line widths shared by every view; presentation mode and light/dark palettes.
#pragma once

#include <QColor>
#include <QFont>
#include <QObject>
#include <QString>

class QCustomPlot;

namespace sq::ui {

// One theme for the whole application. Views style their plots through applyTo() and restyle
// when changed() fires. The decision colours come from the Okabe-Ito palette, which stays
// distinguishable for the common forms of colour blindness, and are the same in every view.
class Theme : public QObject {
    Q_OBJECT

public:
    static Theme& instance();

    bool presentation() const { return presentation_; }
    void setPresentation(bool on);
    bool dark() const { return dark_; }
    void setDark(bool on);

    int basePointSize() const { return presentation_ ? 16 : 10; }
    QFont font(int delta = 0, bool bold = false) const;
    double lineWidth() const { return presentation_ ? 3.0 : 1.6; }

    QColor background() const;
    QColor foreground() const;
    QColor gridColor() const;
    QColor subtle() const; // secondary text, markers

    static QColor binaryColor();  // Okabe-Ito blue
    static QColor ternaryColor(); // Okabe-Ito vermillion
    static QColor floatColor();   // neutral grey
    // One colour per storage bit-width, the same in every view and for every method: 1 is the
    // binary blue, 2 the ternary vermillion (UniQ's four-level 2-bit grid too), 3..8 further
    // Okabe-Ito and Tol colours; anything else (32: float) is the float grey.
    static QColor bitsColor(int bits);
    // "binary" | "ternary" | "<b>-bit" (UniQ, CPQ) | "float", coloured by its bit-width.
    static QColor decisionColor(const QString& decision);
    static QColor droppedColor(); // CPQ's dropped levels: greyed, lighter than float
    static QColor seriesColor(int index);                 // Okabe-Ito cycle for per-layer series
    static QColor quantizedColor();                       // quantized accuracy (vs float accuracy)
    QColor commitShade() const;                           // background of the commit phase
    QColor eventColor() const;                            // marks of live changes

    // Fonts, colours, grid and background of a plot and its axes; call again on changed().
    void applyTo(QCustomPlot* plot) const;

signals:
    void changed();

private:
    Theme() = default;
    bool presentation_ = false;
    bool dark_ = false;
};

} // namespace sq::ui
