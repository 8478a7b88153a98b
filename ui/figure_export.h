// Figures for papers and slides: any view rendered to PNG (chosen size and DPI), PDF or SVG, with
// its plots drawn as vector graphics. The GUI and the headless `sq-train --plots` share this code.
#pragma once

#include <QSize>
#include <QString>

class QCPPainter;
class QWidget;

namespace sq::ui {

enum class FigureFormat { Png, Pdf, Svg };

// From a file name's suffix (.png, .pdf, .svg; case-insensitive); throws sq::Error naming the file.
FigureFormat figureFormatFor(const QString& path);
QString suffixOf(FigureFormat format);

struct FigureOptions {
    QSize size;        // layout size in logical pixels; empty: the view's current size
    double dpi = 96.0; // PNG: pixels = size * dpi / 96 and the file records the DPI; PDF/SVG: resolution
    QString title;     // document title of PDF and SVG files
};

// Lays `view` out at `options.size` for the duration of the call (restoring its size after), then
// writes it to `path` atomically. Throws sq::Error naming the file or the bad option.
void exportFigure(QWidget* view, const QString& path, const FigureOptions& options = {});

// Paints `view` and its visible children in the view's own coordinates: QCustomPlots through
// their vector path (toPainter), every other widget as it paints itself.
void paintFigure(QWidget* view, QCPPainter& painter);

} // namespace sq::ui
