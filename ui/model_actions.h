// The window's model commands: export the trained model (native .sqm, ONNX or a C header, by the
// file's suffix) and evaluate a saved .sqm file on the current dataset, off the GUI thread.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>

class QAction;
class QThread;
class QWidget;

namespace sq::ui {

class TrainingController;

class ModelActions : public QObject {
    Q_OBJECT

public:
    // datasetDir: where "Evaluate" measures accuracy (the run setup's dataset when asked).
    ModelActions(QWidget* window, TrainingController* controller, std::function<QString()> datasetDir);
    ~ModelActions() override;

    QAction* exportAction() const { return export_; }
    QAction* evaluateAction() const { return evaluate_; }

    // Without dialogs (tests, scripting): evaluation runs on a background thread and ends with
    // evaluated() or failed().
    void evaluateFile(const QString& path);
    void exportTo(const QString& path);

signals:
    void evaluated(const QString& report);
    void exported(const QString& path);
    void failed(const QString& message);

private:
    QWidget* window_;
    TrainingController* controller_;
    std::function<QString()> datasetDir_;
    QAction* export_;
    QAction* evaluate_;
    QPointer<QThread> evaluation_; // the running evaluation, waited for on destruction
};

} // namespace sq::ui
