// The "Export figure" dialog: which view, where (the suffix picks PNG, PDF or SVG), at what size
// and DPI. Errors stay in the dialog, next to the fields, and nothing half-written is left.
#pragma once

#include "ui/view_set.h"

#include <QDialog>

class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace sq::ui {

class ExportDialog : public QDialog {
    Q_OBJECT

public:
    ExportDialog(const QList<Figure>& figures, const QString& folder, QWidget* parent = nullptr);

    // Exports with the current fields; false (and the reason shown in the dialog) on failure.
    bool exportNow();
    QString path() const;
    QComboBox* figureBox() const { return figure_; }
    QLineEdit* pathField() const { return path_; }
    QSpinBox* widthBox() const { return width_; }
    QSpinBox* heightBox() const { return height_; }
    QSpinBox* dpiBox() const { return dpi_; }
    QString error() const;

private:
    void figureChanged();
    void browse();

    QList<Figure> figures_;
    QComboBox* figure_;
    QLineEdit* path_;
    QSpinBox* width_;
    QSpinBox* height_;
    QSpinBox* dpi_;
    QLabel* pixels_;
    QLabel* error_;
};

} // namespace sq::ui
