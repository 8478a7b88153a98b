#include "ui/export_dialog.h"

#include "core/error.h"
#include "ui/figure_export.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>

namespace sq::ui {

ExportDialog::ExportDialog(const QList<Figure>& figures, const QString& folder, QWidget* parent)
    : QDialog(parent), figures_(figures), figure_(new QComboBox), path_(new QLineEdit), width_(new QSpinBox),
      height_(new QSpinBox), dpi_(new QSpinBox), pixels_(new QLabel), error_(new QLabel)
{
    setWindowTitle(tr("Export figure"));
    for (const Figure& f : figures_)
        figure_->addItem(f.title, f.name);

    for (QSpinBox* side : {width_, height_}) {
        side->setRange(16, 20000);
        side->setSuffix(tr(" px"));
    }
    dpi_->setRange(36, 2400);
    dpi_->setValue(300);
    dpi_->setSuffix(tr(" dpi"));
    dpi_->setToolTip(tr("PNG: pixels = size × DPI / 96. PDF and SVG are vector graphics at any zoom."));
    path_->setText(QDir(folder).filePath(QStringLiteral("figure.png")));
    path_->setToolTip(tr("The suffix chooses the format: .png, .pdf or .svg"));
    error_->setObjectName(QStringLiteral("exportError"));
    error_->setWordWrap(true);
    error_->setStyleSheet(QStringLiteral("color: #D55E00"));

    auto* browse = new QPushButton(tr("Browse…"));
    auto* pathRow = new QHBoxLayout;
    pathRow->addWidget(path_, 1);
    pathRow->addWidget(browse);
    auto* sizeRow = new QHBoxLayout;
    sizeRow->addWidget(width_);
    sizeRow->addWidget(new QLabel(QStringLiteral("×")));
    sizeRow->addWidget(height_);
    sizeRow->addStretch();

    auto* form = new QFormLayout;
    form->addRow(tr("Figure"), figure_);
    form->addRow(tr("File"), pathRow);
    form->addRow(tr("Size"), sizeRow);
    form->addRow(tr("Resolution"), dpi_);
    form->addRow(QString(), pixels_);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
    buttons->addButton(tr("Export"), QDialogButtonBox::AcceptRole);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(error_);
    layout->addWidget(buttons);

    const auto showPixels = [this] {
        const double scale = dpi_->value() / 96.0;
        pixels_->setText(tr("PNG: %1 × %2 pixels").arg(qRound(width_->value() * scale)).arg(qRound(height_->value() * scale)));
    };
    connect(width_, &QSpinBox::valueChanged, this, showPixels);
    connect(height_, &QSpinBox::valueChanged, this, showPixels);
    connect(dpi_, &QSpinBox::valueChanged, this, showPixels);
    connect(figure_, &QComboBox::currentIndexChanged, this, &ExportDialog::figureChanged);
    connect(browse, &QPushButton::clicked, this, &ExportDialog::browse);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        if (exportNow())
            accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    figureChanged();
    showPixels();
}

QString ExportDialog::path() const { return path_->text().trimmed(); }
QString ExportDialog::error() const { return error_->text(); }

void ExportDialog::figureChanged()
{
    const int index = figure_->currentIndex();
    if (index < 0 || index >= figures_.size())
        return;
    const Figure& f = figures_.at(index);
    // Hidden (tabbed) views have no size of their own yet: offer a sensible one.
    const QSize size = f.view->isVisible() && f.view->width() >= 16 ? f.view->size() : QSize(1000, 640);
    width_->setValue(size.width());
    height_->setValue(size.height());
    const QFileInfo current(path());
    path_->setText(current.dir().filePath(f.name + '.' + (current.suffix().isEmpty() ? QStringLiteral("png") : current.suffix())));
}

void ExportDialog::browse()
{
    const QString chosen = QFileDialog::getSaveFileName(this, tr("Export figure"), path(),
                                                        tr("PNG image (*.png);;PDF document (*.pdf);;SVG drawing (*.svg)"));
    if (!chosen.isEmpty())
        path_->setText(chosen);
}

bool ExportDialog::exportNow()
{
    const int index = figure_->currentIndex();
    if (index < 0 || index >= figures_.size())
        return false;
    FigureOptions options;
    options.size = QSize(width_->value(), height_->value());
    options.dpi = dpi_->value();
    options.title = figures_.at(index).title;
    try {
        exportFigure(figures_.at(index).view, path(), options);
    } catch (const Error& e) {
        error_->setText(QString::fromUtf8(e.what()));
        return false;
    }
    error_->clear();
    return true;
}

} // namespace sq::ui
