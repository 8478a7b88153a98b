// The run setup form: dataset, model, method and optimizer settings, validated at each field.
#pragma once

#include "core/train_config.h"

#include <QString>
#include <QStringList>
#include <QWidget>

#include <functional>
#include <optional>
#include <vector>

class QComboBox;
class QFormLayout;
class QLabel;
class QLineEdit;

namespace sq::ui {

class RunSetupPanel : public QWidget {
    Q_OBJECT

public:
    explicit RunSetupPanel(QWidget* parent = nullptr);

    // The form as a configuration; nullopt when a field is invalid (its reason is shown beside it).
    std::optional<TrainConfig> config() const;
    void setConfig(const TrainConfig& config);
    bool isValid() const { return valid_; }
    QuantMode currentMode() const; // the chosen mode, whether or not the other fields are valid

    QString datasetDir() const;
    void setDatasetDir(const QString& dir);
    QStringList recentDatasets() const;

    // The reason shown next to a field, by its command-line flag ("--lr"); empty when valid.
    QString errorFor(const QString& flag) const;
    // The editor of a field, by flag (tests type into it as a user would).
    QWidget* editor(const QString& flag) const;
    // False when the field's row is hidden because the chosen mode does not use it.
    bool fieldShown(const QString& flag) const;

    // The mode choice's text for a mode ("CPQ (DropBits)" for cpq, the mode name otherwise).
    static QString modeChoiceText(QuantMode mode);

signals:
    void validityChanged(bool valid);
    void modeChanged();
    void browseDatasetRequested();

private:
    // Which training modes a field means something for; the others hide its row and ignore it.
    enum class Scope { All, SqFamily, Uniq, Cpq };

    struct Field {
        QString flag;
        QWidget* editor = nullptr;
        QLabel* error = nullptr;
        // Writes the field into a config; throws sq::Error (naming the flag) on bad text.
        std::function<void(TrainConfig&)> apply;
        Scope scope = Scope::All;
        QWidget* cell = nullptr; // the form row's field widget (editor and reason)
    };

    QLineEdit* addText(QFormLayout* form, const QString& label, const QString& flag, const QString& tip,
                       std::function<void(TrainConfig&, const QString&)> apply);
    QComboBox* addChoice(QFormLayout* form, const QString& label, const QString& flag, const QStringList& items,
                         std::function<void(TrainConfig&, const QString&)> apply);
    void addField(QFormLayout* form, const QString& label, Field field, QWidget* row = nullptr);
    // The fields added from now on apply only to `scope`'s modes.
    void setScope(Scope scope) { scope_ = scope; }
    bool applies(const Field& field) const;
    void showMethodFields(); // the rows of the chosen mode, the others hidden
    void revalidate();
    void rememberDataset(const QString& dir);

    std::vector<Field> fields_;
    QFormLayout* form_ = nullptr;
    Scope scope_ = Scope::All;
    QComboBox* mode_ = nullptr;
    QComboBox* dataset_ = nullptr;
    QComboBox* model_ = nullptr;
    QLineEdit* arch_ = nullptr;
    bool valid_ = true;
};

} // namespace sq::ui
