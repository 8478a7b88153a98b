#include "ui/model_actions.h"

#include "core/data/dataset.h"
#include "core/error.h"
#include "core/model_eval.h"
#include "ui/training_controller.h"

#include <QAction>
#include <QFileDialog>
#include <QFileInfo>
#include <QSettings>
#include <QThread>
#include <QWidget>

#include <memory>

namespace sq::ui {

namespace {

QString lastFolder() { return QSettings().value(QStringLiteral("modelFolder"), QString()).toString(); }
void rememberFolder(const QString& path) { QSettings().setValue(QStringLiteral("modelFolder"), QFileInfo(path).absolutePath()); }

QString describe(const ModelFileEvaluation& e, const QString& path, const QString& dataset)
{
    QString layers;
    for (const StoredWeight& w : e.stored.weights)
        layers += QStringLiteral("<br>%1: %2, %3 bits, %4 weights")
                      .arg(QString::fromStdString(w.name), QString::fromStdString(w.decision))
                      .arg(w.bits)
                      .arg(w.count());
    return QObject::tr("<b>%1</b> (%2, %3)%4<br><br>test accuracy <b>%5 %</b> (%6 of %7 correct) on %8")
        .arg(QFileInfo(path).fileName(), QString::fromStdString(e.stored.method),
             QString::fromStdString(e.stored.architecture), layers)
        .arg(100.0 * e.result.accuracy(), 0, 'f', 2)
        .arg(e.result.correct)
        .arg(e.result.total)
        .arg(QFileInfo(dataset).fileName());
}

} // namespace

ModelActions::ModelActions(QWidget* window, TrainingController* controller, std::function<QString()> datasetDir)
    : QObject(window), window_(window), controller_(controller), datasetDir_(std::move(datasetDir)),
      export_(new QAction(tr("Export model…"), this)), evaluate_(new QAction(tr("Evaluate model file…"), this))
{
    export_->setToolTip(tr("Save the trained model as .sqm (bit-packed), .onnx or a C header (.h)"));
    evaluate_->setToolTip(tr("Measure a saved .sqm model's test accuracy on the current dataset"));
    connect(export_, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            window_, tr("Export model"), QFileInfo(lastFolder(), QStringLiteral("model.sqm")).filePath(),
            tr("SQ Explorer model (*.sqm);;ONNX model (*.onnx);;C header for microcontrollers (*.h)"));
        if (!path.isEmpty())
            exportTo(path);
    });
    connect(evaluate_, &QAction::triggered, this, [this] {
        const QString path =
            QFileDialog::getOpenFileName(window_, tr("Evaluate model file"), lastFolder(), tr("SQ Explorer model (*.sqm)"));
        if (!path.isEmpty())
            evaluateFile(path);
    });
    connect(controller_, &TrainingController::modelExported, this, [this](const QString& path, const QString& error) {
        if (!error.isEmpty()) {
            emit failed(error);
            return;
        }
        rememberFolder(path);
        emit exported(path);
    });
}

ModelActions::~ModelActions()
{
    if (evaluation_) {
        evaluation_->wait(); // a few seconds at most: one pass over the test split
        delete evaluation_;
    }
}

void ModelActions::exportTo(const QString& path)
{
    if (!controller_->exportModel(path))
        emit failed(tr("There is no trained model to export yet: start a run first."));
}

void ModelActions::evaluateFile(const QString& path)
{
    if (evaluation_) {
        emit failed(tr("%1: another model is still being evaluated").arg(path));
        return;
    }
    evaluate_->setEnabled(false);
    rememberFolder(path);
    QString dataset = datasetDir_();
    if (dataset.isEmpty())
        dataset = QString::fromStdString(defaultDatasetDir());

    // The result crosses back to the GUI thread by value; the worker never touches a widget.
    struct Outcome {
        QString report;
        QString error;
    };
    auto outcome = std::make_shared<Outcome>();
    QThread* worker = QThread::create([outcome, path, dataset] {
        try {
            const TrainConfig defaults;
            const ModelFileEvaluation e = evaluateModelFile(path.toStdString(), dataset.toStdString(), DatasetKind::Auto,
                                                            0, defaults.evalBatchSize, 0);
            outcome->report = describe(e, path, dataset);
        } catch (const std::exception& e) {
            outcome->error = QString::fromUtf8(e.what());
        }
    });
    evaluation_ = worker;
    connect(worker, &QThread::finished, this, [this, worker, outcome] {
        worker->wait();
        worker->deleteLater();
        evaluate_->setEnabled(true);
        if (outcome->error.isEmpty())
            emit evaluated(outcome->report);
        else
            emit failed(outcome->error);
    });
    worker->start();
}

} // namespace sq::ui
