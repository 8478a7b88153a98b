// Figure export: every view to PNG at a chosen size and DPI, vector PDF and SVG, "export all" with
// its report, the headless path sq-train uses, and clear refusals of bad names and sizes.
#include "core/error.h"
#include "fake_snapshots.h"
#include "ui/figure_folder.h"

#include <QDomDocument>
#include <QImage>
#include <QImageReader>
#include <QTemporaryDir>
#include <QtTest>

using namespace sq;
using namespace sq::ui;
using sq::testing::fakeSnapshot;

namespace {

int distinctColours(const QImage& image)
{
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 3)
        for (int x = 0; x < image.width(); x += 3)
            colours.insert(image.pixel(x, y));
    return static_cast<int>(colours.size());
}

QByteArray readAll(const QString& path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

} // namespace

class TestFigureExport : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void pngHasChosenSizeAndDpi_data();
    void pngHasChosenSizeAndDpi();
    void vectorFormatsCarryThePlots_data();
    void vectorFormatsCarryThePlots();
    void exportRestoresTheViewSize();
    void badNamesAndSizesAreRefused();
    void exportAllWritesEveryFigureAndReport();
    void headlessRenderingFromSnapshots();

private:
    QWidget* view(const QString& name) const
    {
        for (const Figure& f : views_->figures())
            if (f.name == name)
                return f.view;
        return nullptr;
    }

    std::unique_ptr<QWidget> host_;
    std::unique_ptr<ViewSet> views_;
    QTemporaryDir dir_;
};

void TestFigureExport::init()
{
    host_ = std::make_unique<QWidget>();
    views_ = std::make_unique<ViewSet>(host_.get());
    for (const Figure& f : views_->figures())
        f.view->resize(800, 500);
    for (int i = 0; i < 30; ++i)
        views_->addSnapshot(fakeSnapshot(i));
}

void TestFigureExport::cleanup()
{
    views_.reset();
    host_.reset();
}

void TestFigureExport::pngHasChosenSizeAndDpi_data()
{
    QTest::addColumn<int>("figure");
    QTest::addColumn<double>("dpi");
    for (int i = 0; i < 6; ++i) {
        QTest::addRow("view %d at 96 dpi", i) << i << 96.0;
        QTest::addRow("view %d at 300 dpi", i) << i << 300.0;
    }
}

void TestFigureExport::pngHasChosenSizeAndDpi()
{
    QFETCH(int, figure);
    QFETCH(double, dpi);
    const Figure f = views_->figures().at(figure);
    const QString path = dir_.filePath(f.name + QString::number(dpi) + QStringLiteral(".png"));
    FigureOptions options;
    options.size = QSize(640, 400);
    options.dpi = dpi;
    exportFigure(f.view, path, options);

    QImageReader reader(path);
    const QImage image = reader.read();
    QVERIFY2(!image.isNull(), qPrintable(reader.errorString()));
    const double scale = dpi / 96.0;
    QCOMPARE(image.width(), qRound(640 * scale));
    QCOMPARE(image.height(), qRound(400 * scale));
    QCOMPARE(qRound(image.dotsPerMeterX() * 0.0254), qRound(dpi));
    QVERIFY2(distinctColours(image) > 8, "the figure is blank");
}

void TestFigureExport::vectorFormatsCarryThePlots_data()
{
    QTest::addColumn<QString>("suffix");
    QTest::newRow("pdf") << QStringLiteral("pdf");
    QTest::newRow("svg") << QStringLiteral("svg");
}

void TestFigureExport::vectorFormatsCarryThePlots()
{
    QFETCH(QString, suffix);
    const QString path = dir_.filePath(QStringLiteral("histograms.") + suffix);
    exportFigure(view(QStringLiteral("histograms")), path);
    const QByteArray bytes = readAll(path);
    QVERIFY(bytes.size() > 5000);
    if (suffix == QLatin1String("pdf")) {
        QVERIFY(bytes.startsWith("%PDF-"));
        QVERIFY(bytes.trimmed().endsWith("%%EOF"));
        return;
    }
    QDomDocument svg;
    QVERIFY(svg.setContent(bytes));
    QCOMPARE(svg.documentElement().tagName(), QStringLiteral("svg"));
    // Plots come out as vector paths and text, not one embedded bitmap.
    QVERIFY(svg.elementsByTagName(QStringLiteral("path")).size() + svg.elementsByTagName(QStringLiteral("polyline")).size() > 20);
    QVERIFY(bytes.contains("weight value"));
}

void TestFigureExport::exportRestoresTheViewSize()
{
    QWidget* metrics = view(QStringLiteral("metrics"));
    const QSize before = metrics->size();
    FigureOptions options;
    options.size = QSize(1400, 900);
    exportFigure(metrics, dir_.filePath(QStringLiteral("metrics.png")), options);
    QCOMPARE(metrics->size(), before);
    QCOMPARE(QImage(dir_.filePath(QStringLiteral("metrics.png"))).size(), QSize(1400, 900));
}

void TestFigureExport::badNamesAndSizesAreRefused()
{
    const auto refuses = [&](const QString& name, const FigureOptions& options, const char* needle) {
        const QString path = dir_.filePath(name);
        try {
            exportFigure(view(QStringLiteral("memory")), path, options);
        } catch (const Error& e) {
            const QString message = QString::fromUtf8(e.what());
            if (!message.contains(name) || !message.contains(QLatin1String(needle))) {
                qWarning() << message;
                return false;
            }
            return !QFileInfo::exists(path);
        }
        return false;
    };
    QVERIFY(refuses(QStringLiteral("figure.bmp"), {}, "unknown figure format"));
    QVERIFY(refuses(QStringLiteral("tiny.png"), {QSize(4, 4), 96.0, {}}, "figure size"));
    QVERIFY(refuses(QStringLiteral("huge.png"), {QSize(20000, 20000), 96.0, {}}, "megapixels"));
    QVERIFY(refuses(QStringLiteral("dpi.png"), {QSize(400, 300), 0.0, {}}, "DPI"));
    QVERIFY(refuses(QStringLiteral("nan.pdf"), {QSize(400, 300), std::nan(""), {}}, "DPI"));
    QVERIFY(refuses(QStringLiteral("missing/folder/figure.svg"), {}, "cannot open"));
}

void TestFigureExport::exportAllWritesEveryFigureAndReport()
{
    TrainConfig config;
    config.datasetDir = "/data/fashion-mnist";
    const QString out = dir_.filePath(QStringLiteral("all"));
    const QStringList files = exportFigureFolder(views_->figures(), out, {}, &config, *views_->latest());
    QCOMPARE(files.size(), 6 * 3 + 1);
    for (const QString& file : files)
        QVERIFY2(QFileInfo(file).size() > 0, qPrintable(file));
    const QString report = QString::fromUtf8(readAll(out + QStringLiteral("/report.html")));
    for (const Figure& f : views_->figures())
        QVERIFY(report.contains(QStringLiteral("src=\"%1.png\"").arg(f.name)));
    for (const LayerSnapshot& layer : views_->latest()->layers)
        QVERIFY(report.contains(QString::fromStdString(layer.state.name)));
    QVERIFY(report.contains(QStringLiteral("fashion-mnist")));
    QVERIFY(report.contains(QStringLiteral("quantized")));
}

void TestFigureExport::headlessRenderingFromSnapshots()
{
    std::vector<std::shared_ptr<const Snapshot>> snapshots;
    for (int i = 0; i < 20; ++i)
        snapshots.push_back(fakeSnapshot(i));
    const QString out = dir_.filePath(QStringLiteral("headless"));
    const QStringList files = renderRunFigures(snapshots, nullptr, out, 96.0);
    QCOMPARE(files.size(), 19);
    const QImage histograms(out + QStringLiteral("/histograms.png"));
    QCOMPARE(histograms.size(), QSize(1200, 800));
    QVERIFY(distinctColours(histograms) > 8);
    QVERIFY_THROWS_EXCEPTION(Error, renderRunFigures({}, nullptr, out));
}

QTEST_MAIN(TestFigureExport)
#include "test_figure_export.moc"
