// A slider on a logarithmic scale paired with a numeric field, for live hyperparameters.
#pragma once

#include <QWidget>

class QLabel;
class QLineEdit;
class QSlider;

namespace sq::ui {

class LogSliderField : public QWidget {
    Q_OBJECT

public:
    // The slider spans [minimum, maximum] logarithmically; the field also accepts 0 and values
    // outside the slider's span up to `fieldMaximum`.
    LogSliderField(const QString& label, double minimum, double maximum, double fieldMaximum,
                   QWidget* parent = nullptr);

    double value() const { return value_; }
    // Shows a value without emitting valueChanged (e.g. what a schedule set); ignored while the
    // user is dragging or typing, so the display never fights the hand.
    void showValue(double value);
    bool userEditing() const;

    QSlider* slider() const { return slider_; }
    QLineEdit* field() const { return field_; }

protected:
    void changeEvent(QEvent* event) override;

signals:
    // Only for changes the user makes.
    void valueChanged(double value);

private:
    int toSlider(double value) const;
    double fromSlider(int position) const;
    void display(double value);
    void commitField();
    void fitFieldWidth();

    QSlider* slider_;
    QLineEdit* field_;
    QLabel* error_;
    double minimum_;
    double maximum_;
    double fieldMaximum_;
    double value_ = 0.0;
};

} // namespace sq::ui
