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

    QString datasetDir() const;
    void setDatasetDir(const QString& dir);
    QStringList recentDatasets() const;

    // The reason shown next to a field, by its command-line flag ("--lr"); empty when valid.
    QString errorFor(const QString& flag) const;
    // The editor of a field, by flag (tests type into it as a user would).
    QWidget* editor(const QString& flag) const;

signals:
    void validityChanged(bool valid);
    void browseDatasetRequested();

private:
    struct Field {
        QString flag;
        QWidget* editor = nullptr;
        QLabel* error = nullptr;
        // Writes the field into a config; throws sq::Error (naming the flag) on bad text.
        std::function<void(TrainConfig&)> apply;
    };

    QLineEdit* addText(QFormLayout* form, const QString& label, const QString& flag, const QString& tip,
                       std::function<void(TrainConfig&, const QString&)> apply);
    QComboBox* addChoice(QFormLayout* form, const QString& label, const QString& flag, const QStringList& items,
                         std::function<void(TrainConfig&, const QString&)> apply);
    void addField(QFormLayout* form, const QString& label, Field field, QWidget* row = nullptr);
    void revalidate();
    void rememberDataset(const QString& dir);

    std::vector<Field> fields_;
    QComboBox* dataset_ = nullptr;
    QComboBox* model_ = nullptr;
    QLineEdit* arch_ = nullptr;
    bool valid_ = true;
};

} // namespace sq::ui
