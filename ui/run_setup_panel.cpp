#include "ui/run_setup_panel.h"

#include "core/architecture.h"
#include "core/error.h"
#include "core/quant/keep_float.h"

#include <QComboBox>
#include <QDir>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QVBoxLayout>

#include <cmath>
#include <numbers>

namespace sq::ui {

namespace {

constexpr int kMaxRecentDatasets = 8;

double toNumber(const QString& flag, const QString& text)
{
    bool ok = false;
    const double v = text.trimmed().toDouble(&ok);
    if (!ok || !std::isfinite(v))
        throw Error(flag.toStdString() + ": expected a number");
    return v;
}

int toWhole(const QString& flag, const QString& text)
{
    bool ok = false;
    const int v = text.trimmed().toInt(&ok);
    if (!ok)
        throw Error(flag.toStdString() + ": expected a whole number");
    return v;
}

QString number(double v) { return QString::number(v, 'g', 6); }

const char* const kCpqChoice = "CPQ (DropBits)";

// Whole numbers separated by commas, e.g. "1,2,2"; empty text is an empty list.
std::vector<int> toWholeList(const QString& flag, const QString& text)
{
    std::vector<int> values;
    for (const QString& item : text.split(QLatin1Char(','), Qt::KeepEmptyParts)) {
        if (text.trimmed().isEmpty())
            break;
        bool ok = false;
        const int v = item.trimmed().toInt(&ok);
        if (!ok)
            throw Error(flag.toStdString() + ": expected whole numbers separated by commas, e.g. 1,2,2");
        values.push_back(v);
    }
    return values;
}

// The engine refuses a --layer-bits list whose length is not the number of quantized layers when
// the run starts; for a preset the form can say so at once (a custom architecture's layers depend
// on the dataset's input shape, so its count is checked when the run is built).
void checkLayerBitsCount(const TrainConfig& c)
{
    if (c.sq.mode != QuantMode::Uniq || c.uniq.layerBits.empty() || !c.arch.empty())
        return;
    const Model model = buildPreset(c.model, presetInputShape(c.model), 10);
    const std::vector<bool> kept = resolveKeepFloat(model.quantTargets(), c.sq.keepFloat);
    std::string names;
    std::size_t count = 0;
    for (std::size_t i = 0; i < kept.size(); ++i)
        if (!kept[i]) {
            names += (names.empty() ? "" : ", ") + model.quantTargets()[i].name;
            ++count;
        }
    if (c.uniq.layerBits.size() != count)
        throw Error("--layer-bits: " + std::to_string(c.uniq.layerBits.size()) + " values for " + std::to_string(count)
                    + " quantized layers (" + names + ")");
}

} // namespace

QString RunSetupPanel::modeChoiceText(QuantMode mode)
{
    return mode == QuantMode::Cpq ? QString::fromLatin1(kCpqChoice) : QString::fromStdString(toString(mode));
}

QuantMode RunSetupPanel::currentMode() const
{
    const QString text = mode_ ? mode_->currentText() : QStringLiteral("sq");
    return text == QLatin1String(kCpqChoice) ? QuantMode::Cpq : parseQuantMode(text.toStdString());
}

bool RunSetupPanel::applies(const Field& field) const
{
    switch (field.scope) {
    case Scope::All:
        return true;
    case Scope::SqFamily:
        return isSqFamily(currentMode());
    case Scope::Uniq:
        return currentMode() == QuantMode::Uniq;
    case Scope::Cpq:
        return currentMode() == QuantMode::Cpq;
    }
    return true;
}

void RunSetupPanel::showMethodFields()
{
    for (const Field& f : fields_)
        if (f.cell)
            form_->setRowVisible(f.cell, applies(f));
}

bool RunSetupPanel::fieldShown(const QString& flag) const
{
    for (const Field& f : fields_)
        if (f.flag == flag)
            return applies(f);
    return false;
}

RunSetupPanel::RunSetupPanel(QWidget* parent) : QWidget(parent)
{
    auto* outer = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    form_ = form;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    outer->addLayout(form);
    outer->addStretch();

    // Dataset: editable, with the recent folders, a browse button and drag-and-drop on the window.
    dataset_ = new QComboBox;
    dataset_->setEditable(true);
    dataset_->setInsertPolicy(QComboBox::NoInsert);
    dataset_->setToolTip(tr("IDX (MNIST-style, plain or .gz) or CIFAR-10 binary folder"));
    const QStringList recent = QSettings().value(QStringLiteral("recentDatasets")).toStringList();
    dataset_->addItem(QString::fromStdString(defaultDatasetDir()));
    for (const QString& dir : recent)
        if (dataset_->findText(dir) < 0)
            dataset_->addItem(dir);
    auto* browse = new QPushButton(tr("Browse…"));
    connect(browse, &QPushButton::clicked, this, &RunSetupPanel::browseDatasetRequested);
    auto* datasetRow = new QWidget;
    auto* datasetLayout = new QHBoxLayout(datasetRow);
    datasetLayout->setContentsMargins(0, 0, 0, 0);
    datasetLayout->addWidget(dataset_, 1);
    datasetLayout->addWidget(browse);
    addField(form, tr("Dataset"),
             {QStringLiteral("--dataset"), dataset_, nullptr,
              [this](TrainConfig& c) {
                  const QString dir = datasetDir();
                  if (!QDir(dir).exists())
                      throw Error("--dataset: folder not found");
                  c.datasetDir = dir.toStdString();
              }},
             datasetRow);
    connect(dataset_, &QComboBox::currentTextChanged, this, &RunSetupPanel::revalidate);

    addText(form, tr("Train limit"), QStringLiteral("--train-limit"), tr("0 = every training image"),
            [](TrainConfig& c, const QString& t) { c.trainLimit = toWhole(QStringLiteral("--train-limit"), t); })
        ->setText(QStringLiteral("0"));
    addText(form, tr("Test limit"), QStringLiteral("--test-limit"), tr("0 = every test image"),
            [](TrainConfig& c, const QString& t) { c.testLimit = toWhole(QStringLiteral("--test-limit"), t); })
        ->setText(QStringLiteral("0"));

    QStringList models;
    for (const auto& name : presetNames())
        models << QString::fromStdString(name);
    models << tr("custom");
    model_ = addChoice(form, tr("Model"), QStringLiteral("--model"), models, [](TrainConfig& c, const QString& t) {
        if (t != QLatin1String("custom"))
            c.model = t.toStdString();
    });
    arch_ = addText(form, tr("Architecture"), QStringLiteral("--arch"),
                    tr("e.g. conv 32 3x3 pad 1, bn, relu, maxpool 2, dense 10"),
                    [this](TrainConfig& c, const QString& t) {
                        if (model_->currentText() != QLatin1String("custom"))
                            return;
                        if (t.trimmed().isEmpty())
                            throw Error("--arch: describe the layers, e.g. 'dense 256, bn, relu, dense 10'");
                        parseArchitecture(t.toStdString()); // syntax errors name the item
                        c.arch = t.toStdString();
                    });
    const auto updateArch = [this] {
        const bool custom = model_->currentText() == QLatin1String("custom");
        arch_->setEnabled(custom);
        if (!custom)
            arch_->setText(QString::fromStdString(presetArchitecture(model_->currentText().toStdString())));
    };
    connect(model_, &QComboBox::currentTextChanged, this, updateArch);

    mode_ = addChoice(form, tr("Mode"), QStringLiteral("--mode"),
                      {"sq", "ternary", "binary", "float", "uniq", QString::fromLatin1(kCpqChoice)},
                      [this](TrainConfig& c, const QString&) { c.sq.mode = currentMode(); });
    const QString modeTips[] = {
        tr("Smart Quantization: each layer learns whether it is binary (1 bit) or ternary (2 bits)"),
        tr("every layer ternary {−α, 0, +α}, 2 bits per weight"),
        tr("every layer binary {−α, +α}, 1 bit per weight"),
        tr("no quantization during training (float32)"),
        tr("UniQ (Pham et al. 2021): b bits per layer, 2^b levels without zero, trainable step Δ (SPEC §2.1)"),
        tr("CPQ with DropBits, as this project specifies it (SPEC §2.2, built from the papers' abstracts and "
           "Relaxed Quantization, not from the authors' code): learns each layer's bit-length, 2 to B, under "
           "the memory pressure μ"),
    };
    for (int i = 0; i < mode_->count(); ++i)
        mode_->setItemData(i, modeTips[i], Qt::ToolTipRole);
    const auto updateMode = [this] {
        mode_->setToolTip(mode_->currentData(Qt::ToolTipRole).toString());
        showMethodFields();
        emit modeChanged();
    };
    connect(mode_, &QComboBox::currentTextChanged, this, updateMode);

    // UniQ's settings (SPEC §2.1).
    setScope(Scope::Uniq);
    addText(form, tr("Bits per weight"), QStringLiteral("--bits"), tr("UniQ: 1 to 8 bits, 2^b levels"),
            [](TrainConfig& c, const QString& t) { c.uniq.bits = toWhole(QStringLiteral("--bits"), t); });
    addText(form, tr("Bits per layer"), QStringLiteral("--layer-bits"),
            tr("optional, one per quantized layer, e.g. 1,2,2"), [](TrainConfig& c, const QString& t) {
                c.uniq.layerBits = toWholeList(QStringLiteral("--layer-bits"), t);
            });

    // CPQ's settings (SPEC §2.2).
    setScope(Scope::Cpq);
    addText(form, tr("Max bits B"), QStringLiteral("--max-bits"), tr("CPQ: largest bit-length, 2 to 8"),
            [](TrainConfig& c, const QString& t) { c.cpq.maxBits = toWhole(QStringLiteral("--max-bits"), t); });
    addText(form, tr("Drop p (DropBits)"), QStringLiteral("--drop-p"),
            tr("group j dropped with probability p^(B−j+1); 0 ≤ p < 1"),
            [](TrainConfig& c, const QString& t) { c.cpq.dropP = toNumber(QStringLiteral("--drop-p"), t); });
    addText(form, tr("μ (memory pressure)"), QStringLiteral("--mu"), tr("pushes layers towards fewer bits, >= 0"),
            [](TrainConfig& c, const QString& t) { c.mu = toNumber(QStringLiteral("--mu"), t); });

    setScope(Scope::SqFamily);
    addText(form, tr("λ (regularization)"), QStringLiteral("--lambda"), tr("weight of the SQ regularizer, >= 0"),
            [](TrainConfig& c, const QString& t) { c.lambda = toNumber(QStringLiteral("--lambda"), t); });
    addChoice(form, tr("λ schedule"), QStringLiteral("--lambda-schedule"), {"constant", "linear", "exp"},
              [](TrainConfig& c, const QString& t) {
                  c.lambdaSchedule.kind = parseLambdaScheduleKind(t.toStdString());
              });
    addText(form, tr("λ ramp start"), QStringLiteral("--lambda-start"), tr("value the ramp starts from"),
            [](TrainConfig& c, const QString& t) {
                c.lambdaSchedule.start = static_cast<float>(toNumber(QStringLiteral("--lambda-start"), t));
            });
    addText(form, tr("λ ramp (epochs)"), QStringLiteral("--lambda-ramp-epochs"), tr("length of the ramp"),
            [](TrainConfig& c, const QString& t) {
                c.lambdaSchedule.rampEpochs = toNumber(QStringLiteral("--lambda-ramp-epochs"), t);
            });
    addText(form, tr("γ (memory pressure)"), QStringLiteral("--gamma"), tr("pushes layers towards binary, >= 0"),
            [](TrainConfig& c, const QString& t) { c.gamma = toNumber(QStringLiteral("--gamma"), t); });
    addChoice(form, tr("p (power)"), QStringLiteral("--p"), {"2", "1"},
              [](TrainConfig& c, const QString& t) { c.sq.p = t.toInt(); });
    addText(form, tr("β switch (rad)"), QStringLiteral("--beta-switch"), tr("ternary while β is below (3π/8 = 1.1781)"),
            [](TrainConfig& c, const QString& t) { c.sq.betaSwitch = toNumber(QStringLiteral("--beta-switch"), t); });
    setScope(Scope::All);
    addText(form, tr("Keep float"), QStringLiteral("--keep-float"), tr("layers left in float32: first, last, dense1…"),
            [this](TrainConfig& c, const QString& t) {
                std::set<std::string> names;
                for (const QString& n : t.split(QLatin1Char(','), Qt::SkipEmptyParts))
                    names.insert(n.trimmed().toStdString());
                if (model_->currentText() != QLatin1String("custom")) {
                    const std::string preset = model_->currentText().toStdString();
                    const Model m = buildPreset(preset, presetInputShape(preset), 10);
                    QStringList known{QStringLiteral("first"), QStringLiteral("last")};
                    for (const auto& target : m.quantTargets())
                        known << QString::fromStdString(target.name);
                    for (const auto& n : names)
                        if (!known.contains(QString::fromStdString(n)))
                            throw Error("--keep-float: no layer '" + n + "' (" + known.join(QStringLiteral(", ")).toStdString()
                                        + ")");
                }
                c.sq.keepFloat = names;
            });

    addChoice(form, tr("Optimizer"), QStringLiteral("--optimizer"), {"adam", "sgd"},
              [](TrainConfig& c, const QString& t) { c.optimizer.kind = parseOptimizerKind(t.toStdString()); });
    addText(form, tr("Learning rate"), QStringLiteral("--lr"), tr("> 0"),
            [](TrainConfig& c, const QString& t) { c.learningRate = toNumber(QStringLiteral("--lr"), t); });
    addChoice(form, tr("LR schedule"), QStringLiteral("--lr-schedule"), {"constant", "cosine", "step"},
              [](TrainConfig& c, const QString& t) { c.lrSchedule.kind = parseLrScheduleKind(t.toStdString()); });
    addText(form, tr("Batch size"), QStringLiteral("--batch"), tr("1 to 65536"),
            [](TrainConfig& c, const QString& t) { c.batchSize = toWhole(QStringLiteral("--batch"), t); });
    addText(form, tr("Epochs"), QStringLiteral("--epochs"), tr("training epochs"),
            [](TrainConfig& c, const QString& t) { c.epochs = toWhole(QStringLiteral("--epochs"), t); });
    addText(form, tr("Commit epochs"), QStringLiteral("--commit-epochs"),
            tr("final epochs with frozen depths (empty = 30%, at least 1)"), [](TrainConfig& c, const QString& t) {
                c.commitEpochs = t.trimmed().isEmpty() ? -1 : toWhole(QStringLiteral("--commit-epochs"), t);
            });
    addText(form, tr("Seed"), QStringLiteral("--seed"), tr("random seed, >= 0"), [](TrainConfig& c, const QString& t) {
        const int seed = toWhole(QStringLiteral("--seed"), t);
        if (seed < 0)
            throw Error("--seed: must be >= 0");
        c.seed = static_cast<std::uint64_t>(seed);
    });

    setConfig(TrainConfig{});
    updateArch();
    updateMode();
    revalidate();
}

void RunSetupPanel::addField(QFormLayout* form, const QString& label, Field field, QWidget* row)
{
    field.error = new QLabel;
    field.error->setWordWrap(true);
    field.error->setStyleSheet(QStringLiteral("color: #c0392b;"));
    field.error->setVisible(false);
    auto* cell = new QWidget;
    auto* layout = new QVBoxLayout(cell);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(1);
    layout->addWidget(row ? row : field.editor);
    layout->addWidget(field.error);
    form->addRow(label, cell);
    field.scope = scope_;
    field.cell = cell;
    fields_.push_back(std::move(field));
}

QLineEdit* RunSetupPanel::addText(QFormLayout* form, const QString& label, const QString& flag, const QString& tip,
                                  std::function<void(TrainConfig&, const QString&)> apply)
{
    auto* edit = new QLineEdit;
    edit->setToolTip(tip);
    edit->setPlaceholderText(tip);
    addField(form, label, {flag, edit, nullptr, [edit, apply](TrainConfig& c) { apply(c, edit->text()); }});
    connect(edit, &QLineEdit::textChanged, this, &RunSetupPanel::revalidate);
    return edit;
}

QComboBox* RunSetupPanel::addChoice(QFormLayout* form, const QString& label, const QString& flag,
                                    const QStringList& items, std::function<void(TrainConfig&, const QString&)> apply)
{
    auto* combo = new QComboBox;
    combo->addItems(items);
    addField(form, label, {flag, combo, nullptr, [combo, apply](TrainConfig& c) { apply(c, combo->currentText()); }});
    connect(combo, &QComboBox::currentTextChanged, this, &RunSetupPanel::revalidate);
    return combo;
}

std::optional<TrainConfig> RunSetupPanel::config() const
{
    if (!valid_)
        return std::nullopt;
    TrainConfig c;
    for (const Field& f : fields_)
        if (applies(f))
            f.apply(c);
    return c;
}

void RunSetupPanel::revalidate()
{
    TrainConfig c;
    bool valid = true;
    auto show = [](const Field& f, const QString& message) {
        f.error->setText(message);
        f.error->setVisible(!message.isEmpty());
        f.editor->setStyleSheet(message.isEmpty() ? QString() : QStringLiteral("border: 1px solid #c0392b;"));
    };
    // The message of an sq::Error starts with the flag it concerns: show the rest at that field.
    auto reasonFor = [](const Field& f, const Error& e) -> QString {
        const QString message = QString::fromStdString(e.what());
        const QString prefix = f.flag + QStringLiteral(": ");
        return message.startsWith(prefix) ? message.mid(prefix.size()) : QString();
    };
    for (const Field& f : fields_) {
        if (!applies(f)) {
            // The chosen mode ignores this field: its text cannot block a run.
            show(f, QString());
            continue;
        }
        try {
            f.apply(c);
            show(f, QString());
        } catch (const Error& e) {
            const QString reason = reasonFor(f, e);
            show(f, reason.isEmpty() ? QString::fromStdString(e.what()) : reason);
            valid = false;
        }
    }
    if (valid) {
        try {
            c.validate();
            checkLayerBitsCount(c);
        } catch (const Error& e) {
            valid = false;
            for (const Field& f : fields_)
                if (const QString reason = reasonFor(f, e); !reason.isEmpty())
                    show(f, reason);
        }
    }
    if (valid != valid_) {
        valid_ = valid;
        emit validityChanged(valid);
    }
}

void RunSetupPanel::setConfig(const TrainConfig& c)
{
    auto setText = [this](const QString& flag, const QString& text) {
        if (auto* edit = qobject_cast<QLineEdit*>(editor(flag)))
            edit->setText(text);
    };
    auto setChoice = [this](const QString& flag, const QString& text) {
        if (auto* combo = qobject_cast<QComboBox*>(editor(flag)))
            combo->setCurrentText(text);
    };
    if (!c.datasetDir.empty())
        setDatasetDir(QString::fromStdString(c.datasetDir));
    setText(QStringLiteral("--train-limit"), QString::number(c.trainLimit));
    setText(QStringLiteral("--test-limit"), QString::number(c.testLimit));
    setChoice(QStringLiteral("--model"), c.arch.empty() ? QString::fromStdString(c.model) : QStringLiteral("custom"));
    if (!c.arch.empty())
        setText(QStringLiteral("--arch"), QString::fromStdString(c.arch));
    setChoice(QStringLiteral("--mode"), modeChoiceText(c.sq.mode));
    setText(QStringLiteral("--bits"), QString::number(c.uniq.bits));
    QStringList layerBits;
    for (int b : c.uniq.layerBits)
        layerBits << QString::number(b);
    setText(QStringLiteral("--layer-bits"), layerBits.join(QLatin1Char(',')));
    setText(QStringLiteral("--max-bits"), QString::number(c.cpq.maxBits));
    setText(QStringLiteral("--drop-p"), number(c.cpq.dropP));
    setText(QStringLiteral("--mu"), number(c.mu));
    setText(QStringLiteral("--lambda"), number(c.lambda));
    setChoice(QStringLiteral("--lambda-schedule"), QString::fromStdString(toString(c.lambdaSchedule.kind)));
    setText(QStringLiteral("--lambda-start"), number(c.lambdaSchedule.start));
    setText(QStringLiteral("--lambda-ramp-epochs"), number(c.lambdaSchedule.rampEpochs));
    setText(QStringLiteral("--gamma"), number(c.gamma));
    setChoice(QStringLiteral("--p"), QString::number(c.sq.p));
    setText(QStringLiteral("--beta-switch"), number(c.sq.betaSwitch));
    QStringList keep;
    for (const auto& n : c.sq.keepFloat)
        keep << QString::fromStdString(n);
    setText(QStringLiteral("--keep-float"), keep.join(QLatin1Char(',')));
    setChoice(QStringLiteral("--optimizer"), QString::fromStdString(toString(c.optimizer.kind)));
    setText(QStringLiteral("--lr"), number(c.learningRate));
    setChoice(QStringLiteral("--lr-schedule"), QString::fromStdString(toString(c.lrSchedule.kind)));
    setText(QStringLiteral("--batch"), QString::number(c.batchSize));
    setText(QStringLiteral("--epochs"), QString::number(c.epochs));
    setText(QStringLiteral("--commit-epochs"), c.commitEpochs < 0 ? QString() : QString::number(c.commitEpochs));
    setText(QStringLiteral("--seed"), QString::number(c.seed));
    revalidate();
}

QString RunSetupPanel::datasetDir() const { return dataset_->currentText().trimmed(); }

void RunSetupPanel::setDatasetDir(const QString& dir)
{
    rememberDataset(dir);
    dataset_->setCurrentText(dir);
}

void RunSetupPanel::rememberDataset(const QString& dir)
{
    if (dir.isEmpty())
        return;
    QStringList recent = QSettings().value(QStringLiteral("recentDatasets")).toStringList();
    recent.removeAll(dir);
    recent.prepend(dir);
    while (recent.size() > kMaxRecentDatasets)
        recent.removeLast();
    QSettings().setValue(QStringLiteral("recentDatasets"), recent);
    if (dataset_->findText(dir) < 0)
        dataset_->insertItem(0, dir);
}

QStringList RunSetupPanel::recentDatasets() const
{
    return QSettings().value(QStringLiteral("recentDatasets")).toStringList();
}

QString RunSetupPanel::errorFor(const QString& flag) const
{
    for (const Field& f : fields_)
        if (f.flag == flag)
            return f.error->isHidden() ? QString() : f.error->text();
    return QString();
}

QWidget* RunSetupPanel::editor(const QString& flag) const
{
    for (const Field& f : fields_)
        if (f.flag == flag)
            return f.editor;
    return nullptr;
}

} // namespace sq::ui
