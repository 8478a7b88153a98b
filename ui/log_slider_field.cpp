#include "ui/log_slider_field.h"

#include <QEvent>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QSlider>

#include <cmath>

namespace sq::ui {

namespace {
constexpr int kSteps = 1000;
}

LogSliderField::LogSliderField(const QString& label, double minimum, double maximum, double fieldMaximum,
                               QWidget* parent)
    : QWidget(parent)
    , slider_(new QSlider(Qt::Horizontal))
    , field_(new QLineEdit)
    , error_(new QLabel)
    , minimum_(minimum)
    , maximum_(maximum)
    , fieldMaximum_(fieldMaximum)
{
    auto* layout = new QGridLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* title = new QLabel(label);
    title->setBuddy(field_);
    layout->addWidget(title, 0, 0);
    layout->addWidget(field_, 0, 1);
    layout->addWidget(slider_, 1, 0, 1, 2);
    layout->addWidget(error_, 2, 0, 1, 2);
    layout->setColumnStretch(0, 1);
    fitFieldWidth();
    slider_->setRange(0, kSteps);
    slider_->setToolTip(tr("%1 to %2, logarithmic").arg(minimum).arg(maximum));
    error_->setStyleSheet(QStringLiteral("color: #c0392b;"));
    error_->setVisible(false);

    connect(slider_, &QSlider::valueChanged, this, [this](int position) {
        value_ = fromSlider(position);
        const QSignalBlocker block(field_);
        field_->setText(QString::number(value_, 'g', 3));
        error_->setVisible(false);
        emit valueChanged(value_);
    });
    connect(field_, &QLineEdit::editingFinished, this, &LogSliderField::commitField);
}

void LogSliderField::fitFieldWidth()
{
    field_->setFixedWidth(field_->fontMetrics().horizontalAdvance(QStringLiteral("0.000000")) + 16);
}

void LogSliderField::changeEvent(QEvent* event)
{
    // Presentation mode enlarges the application font: the field must still show a whole value.
    if (event->type() == QEvent::FontChange)
        fitFieldWidth();
    QWidget::changeEvent(event);
}

int LogSliderField::toSlider(double value) const
{
    if (value <= minimum_)
        return 0;
    if (value >= maximum_)
        return kSteps;
    return static_cast<int>(std::lround(kSteps * std::log(value / minimum_) / std::log(maximum_ / minimum_)));
}

double LogSliderField::fromSlider(int position) const
{
    const double t = static_cast<double>(position) / kSteps;
    // Rounded to 3 significant digits so the numbers a user reads back are the ones applied.
    const double v = minimum_ * std::pow(maximum_ / minimum_, t);
    return QString::number(v, 'g', 3).toDouble();
}

void LogSliderField::display(double value)
{
    const QSignalBlocker blockSlider(slider_);
    const QSignalBlocker blockField(field_);
    slider_->setValue(toSlider(value));
    field_->setText(QString::number(value, 'g', 4));
}

void LogSliderField::showValue(double value)
{
    if (userEditing() || value == value_)
        return;
    value_ = value;
    display(value);
}

bool LogSliderField::userEditing() const { return slider_->isSliderDown() || field_->hasFocus(); }

void LogSliderField::commitField()
{
    bool ok = false;
    const double v = field_->text().trimmed().toDouble(&ok);
    if (!ok || !std::isfinite(v) || v < 0.0 || v > fieldMaximum_) {
        error_->setText(tr("enter a number from 0 to %1").arg(fieldMaximum_));
        error_->setVisible(true);
        return;
    }
    error_->setVisible(false);
    if (v == value_)
        return;
    value_ = v;
    display(v);
    emit valueChanged(v);
}

} // namespace sq::ui
