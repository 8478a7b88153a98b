#include "ui/figure_export.h"

#include "core/error.h"

#include <qcustomplot.h>

#include <QCoreApplication>
#include <QFileInfo>
#include <QImage>
#include <QImageWriter>
#include <QLayout>
#include <QPdfWriter>
#include <QResizeEvent>
#include <QSaveFile>
#include <QSvgGenerator>

#include <cmath>

namespace sq::ui {

namespace {

constexpr int kMinSide = 16;
constexpr int kMaxSide = 20000;
constexpr double kMinDpi = 36.0;
constexpr double kMaxDpi = 2400.0;
constexpr double kMaxMegapixels = 150.0; // a 600 MB image: beyond any poster
constexpr double kScreenDpi = 96.0;      // the logical pixel every view is laid out in

[[noreturn]] void fail(const QString& path, const QString& problem)
{
    throw Error(QStringLiteral("%1: %2").arg(path, problem).toStdString());
}

// Geometry of hidden widgets (tabbed docks, views built headless) is settled only when they are
// shown; an export needs it now, so activate each layout and deliver pending resizes top-down.
void settleLayout(QWidget* widget)
{
    widget->ensurePolished();
    if (widget->testAttribute(Qt::WA_PendingResizeEvent)) {
        widget->setAttribute(Qt::WA_PendingResizeEvent, false);
        QResizeEvent event(widget->size(), QSize());
        QCoreApplication::sendEvent(widget, &event);
    }
    if (QLayout* layout = widget->layout())
        layout->activate();
    for (QWidget* child : widget->findChildren<QWidget*>(Qt::FindDirectChildrenOnly)) {
        if (!child->isHidden() && !child->isWindow())
            settleLayout(child);
    }
}

// Lays the view out at the figure's size for the export and restores it afterwards, so a docked
// view returns to its place untouched.
class ScopedFigureSize {
public:
    ScopedFigureSize(QWidget* view, QSize size) : view_(view), old_(view->size())
    {
        if (size.isValid() && size != old_)
            view_->resize(size);
        settleLayout(view_);
    }
    ~ScopedFigureSize()
    {
        if (view_->size() != old_) {
            view_->resize(old_);
            settleLayout(view_);
        }
    }
    ScopedFigureSize(const ScopedFigureSize&) = delete;
    ScopedFigureSize& operator=(const ScopedFigureSize&) = delete;

private:
    QWidget* view_;
    QSize old_;
};

void paintChildren(QWidget* parent, QCPPainter& painter, QPoint offset, const QRect& clip)
{
    for (QWidget* child : parent->findChildren<QWidget*>(Qt::FindDirectChildrenOnly)) {
        if (child->isHidden() || child->isWindow())
            continue;
        const QPoint origin = offset + child->pos();
        const QRect area = QRect(origin, child->size()).intersected(clip);
        if (area.isEmpty())
            continue;
        painter.save();
        painter.setClipRect(area, Qt::IntersectClip);
        if (auto* plot = qobject_cast<QCustomPlot*>(child)) {
            painter.translate(origin);
            plot->toPainter(&painter, plot->width(), plot->height());
        } else {
            child->render(&painter, origin, QRegion(), QWidget::RenderFlags());
            paintChildren(child, painter, origin, area);
        }
        painter.restore();
    }
}

void checkOptions(const QString& path, QSize size, double dpi)
{
    if (size.width() < kMinSide || size.height() < kMinSide || size.width() > kMaxSide || size.height() > kMaxSide)
        fail(path, QStringLiteral("figure size %1x%2 is outside %3..%4 pixels per side")
                       .arg(size.width()).arg(size.height()).arg(kMinSide).arg(kMaxSide));
    if (!std::isfinite(dpi) || dpi < kMinDpi || dpi > kMaxDpi)
        fail(path, QStringLiteral("DPI %1 is outside %2..%3").arg(dpi).arg(kMinDpi).arg(kMaxDpi));
}

void commit(QSaveFile& file, const QString& path)
{
    if (!file.commit())
        fail(path, QStringLiteral("cannot write: %1").arg(file.errorString()));
}

void writePng(QWidget* view, QSaveFile& file, const QString& path, double dpi)
{
    const double scale = dpi / kScreenDpi;
    const QSize pixels(static_cast<int>(std::lround(view->width() * scale)),
                       static_cast<int>(std::lround(view->height() * scale)));
    const double megapixels = static_cast<double>(pixels.width()) * pixels.height() / 1e6;
    if (megapixels > kMaxMegapixels)
        fail(path, QStringLiteral("%1x%2 pixels at %3 DPI is %4 megapixels; at most %5")
                       .arg(pixels.width()).arg(pixels.height()).arg(dpi).arg(megapixels, 0, 'f', 0).arg(kMaxMegapixels));
    QImage image(pixels, QImage::Format_ARGB32_Premultiplied);
    if (image.isNull())
        fail(path, QStringLiteral("out of memory for a %1x%2 image").arg(pixels.width()).arg(pixels.height()));
    image.fill(view->palette().color(QPalette::Window));
    {
        // Fonts resolve points against the device's DPI, so paint at screen DPI and scale the
        // painter; the file records the requested DPI afterwards.
        QCPPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setRenderHint(QPainter::TextAntialiasing);
        painter.scale(scale, scale);
        paintFigure(view, painter);
    }
    const int dotsPerMeter = static_cast<int>(std::lround(dpi / 0.0254));
    image.setDotsPerMeterX(dotsPerMeter);
    image.setDotsPerMeterY(dotsPerMeter);
    QImageWriter writer(&file, "png");
    if (!writer.write(image))
        fail(path, QStringLiteral("cannot encode PNG: %1").arg(writer.errorString()));
}

void writePdf(QWidget* view, QSaveFile& file, const QString& title)
{
    QPdfWriter pdf(&file);
    pdf.setTitle(title);
    pdf.setCreator(QStringLiteral("SQ Explorer"));
    pdf.setResolution(static_cast<int>(kScreenDpi)); // one device unit per logical pixel
    pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
    pdf.setPageSize(QPageSize(QSizeF(view->width() * 72.0 / kScreenDpi, view->height() * 72.0 / kScreenDpi),
                              QPageSize::Point, QString(), QPageSize::ExactMatch));
    QCPPainter painter(&pdf);
    painter.setMode(QCPPainter::pmVectorized);
    painter.setMode(QCPPainter::pmNoCaching);
    painter.fillRect(QRect(QPoint(0, 0), view->size()), view->palette().color(QPalette::Window));
    paintFigure(view, painter);
}

void writeSvg(QWidget* view, QSaveFile& file, const QString& title)
{
    QSvgGenerator svg;
    svg.setOutputDevice(&file);
    svg.setSize(view->size());
    svg.setViewBox(QRect(QPoint(0, 0), view->size()));
    svg.setResolution(static_cast<int>(kScreenDpi));
    svg.setTitle(title);
    svg.setDescription(QStringLiteral("SQ Explorer figure"));
    QCPPainter painter(&svg);
    painter.setMode(QCPPainter::pmVectorized);
    painter.setMode(QCPPainter::pmNoCaching);
    painter.fillRect(QRect(QPoint(0, 0), view->size()), view->palette().color(QPalette::Window));
    paintFigure(view, painter);
}

} // namespace

FigureFormat figureFormatFor(const QString& path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("png"))
        return FigureFormat::Png;
    if (suffix == QLatin1String("pdf"))
        return FigureFormat::Pdf;
    if (suffix == QLatin1String("svg"))
        return FigureFormat::Svg;
    fail(path, QStringLiteral("unknown figure format '.%1' (use .png, .pdf or .svg)").arg(suffix));
}

QString suffixOf(FigureFormat format)
{
    switch (format) {
    case FigureFormat::Png: return QStringLiteral("png");
    case FigureFormat::Pdf: return QStringLiteral("pdf");
    case FigureFormat::Svg: return QStringLiteral("svg");
    }
    return {};
}

void paintFigure(QWidget* view, QCPPainter& painter)
{
    const QRect all(QPoint(0, 0), view->size());
    painter.save();
    painter.setClipRect(all);
    view->render(&painter, QPoint(0, 0), QRegion(), QWidget::RenderFlags());
    paintChildren(view, painter, QPoint(0, 0), all);
    painter.restore();
}

void exportFigure(QWidget* view, const QString& path, const FigureOptions& options)
{
    const FigureFormat format = figureFormatFor(path);
    const QSize size = options.size.isEmpty() ? view->size() : options.size;
    checkOptions(path, size, options.dpi);
    const QString title = options.title.isEmpty() ? QFileInfo(path).completeBaseName() : options.title;

    const ScopedFigureSize layout(view, size);
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        fail(path, QStringLiteral("cannot open for writing: %1").arg(file.errorString()));
    switch (format) {
    case FigureFormat::Png: writePng(view, file, path, options.dpi); break;
    case FigureFormat::Pdf: writePdf(view, file, title); break;
    case FigureFormat::Svg: writeSvg(view, file, title); break;
    }
    commit(file, path);
}

} // namespace sq::ui
