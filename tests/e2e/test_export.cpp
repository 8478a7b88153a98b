// The model exports end to end: sq-train --out writes model.sqm, model.onnx and model.h;
// sq-train --eval reproduces the run's quantized accuracy to the image; the C header compiles
// under gcc -std=c99 -pedantic -Werror and predicts as the engine does; the ONNX file passes
// Debian's onnx checker and OpenCV's dnn module predicts as the engine does.
#include "core/data/dataset.h"
#include "core/io/model_file.h"
#include "core/model_eval.h"
#include "support/idx_fixture.h"
#include "support/run_program.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>

namespace {

const char* const kFashionDir = "/usr/share/datasets/fashion-mnist";
// Debian's interpreter, with python3-onnx and python3-opencv: another python may come first on PATH.
const char* const kPython = "/usr/bin/python3";

using Result = sq::testing::ProgramResult;
using sq::testing::runTrainer;

Result run(const QString& program, const QStringList& args, const QString& workDir = {})
{
    sq::testing::RunOptions options;
    options.workDir = workDir;
    return sq::testing::runProgram(program, args, options);
}

// One training run whose exports the tests check.
struct RunCase {
    QString name;
    QString dataset;
    QStringList args;
    int testImages = 0;
};

QJsonObject readJson(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

bool writeBytes(const QString& path, const void* data, qint64 size)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(static_cast<const char*>(data), size) == size;
}

// Compares another runtime's logits with the engine's: every prediction must agree unless the
// engine's two best logits are closer than float rounding could separate (then either answer is
// the same model), and every logit must agree to rounding.
struct Agreement {
    int agree = 0;
    int total = 0;
    int nearTies = 0;
    double maxDifference = 0.0;
};

Agreement compareLogits(const sq::Tensor& engine, const std::vector<float>& other, const std::vector<int>& otherLabels)
{
    Agreement a;
    const int n = engine.dim(0);
    const int k = engine.dim(1);
    for (int i = 0; i < n; ++i) {
        const float* e = engine.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(k);
        const float* o = other.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(k);
        int best = 0;
        for (int j = 1; j < k; ++j)
            best = e[j] > e[best] ? j : best;
        float second = -INFINITY;
        for (int j = 0; j < k; ++j) {
            if (j != best)
                second = std::max(second, e[j]);
            a.maxDifference = std::max(a.maxDifference, static_cast<double>(std::abs(e[j] - o[j])));
        }
        ++a.total;
        if (otherLabels[static_cast<std::size_t>(i)] == best)
            ++a.agree;
        else if (e[best] - second < 1e-4f * (1.0f + std::abs(e[best])))
            ++a.nearTies;
    }
    return a;
}

} // namespace

class TestExport : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void runWritesThreeModelFiles_data() { cases(); }
    void runWritesThreeModelFiles();
    void evalReproducesQuantizedAccuracy_data() { cases(); }
    void evalReproducesQuantizedAccuracy();
    void evalRefusesBadFiles();
    void cHeaderCompilesAndAgrees_data() { cases(); }
    void cHeaderCompilesAndAgrees();
    void onnxCheckerAndOpenCvAgree_data() { cases(); }
    void onnxCheckerAndOpenCvAgree();

private:
    void cases();
    QString runDir(const QString& name) const { return dir_.filePath(name); }
    // The engine's logits for the run's test images, and those images as raw float32 (N, C, H, W),
    // normalised with the model's stored statistics.
    sq::Tensor engineLogits(const RunCase& c, const QString& imagesPath);

    QTemporaryDir dir_;
    QString fixture_;
    std::vector<RunCase> runs_;
};

void TestExport::initTestCase()
{
    QVERIFY(dir_.isValid());
    fixture_ = dir_.filePath("fixture");
    QVERIFY(QDir().mkpath(fixture_));
    QVERIFY(sq::testing::writeIdxDataset(fixture_, 600, 200));

    const QStringList common{"--batch", "32", "--lr", "0.003", "--threads", "1", "--seed", "2", "--quiet"};
    runs_.push_back({"conv-bn-sq", fixture_,
                     QStringList{"--arch",
                                 "conv 4 3x3 pad 1, bn, relu, maxpool 2, conv 6 3x3 stride 2 pad 1, relu, flatten, "
                                 "dense 16, bn, relu, dense 10",
                                 "--mode", "sq", "--gamma", "0.01", "--epochs", "3"} + common,
                     200});
    runs_.push_back({"dense-binary-last-float", fixture_,
                     QStringList{"--arch", "dense 24, bn, relu, dense 10", "--mode", "binary", "--keep-float", "last",
                                 "--epochs", "2"} + common,
                     200});
    // UniQ at mixed bit-lengths and CPQ (3..4 bits, codes beyond ternary): every bit-length the
    // packing, the ONNX initializers and the C header's level tables have to carry.
    runs_.push_back({"conv-uniq-mixed", fixture_,
                     QStringList{"--arch", "conv 4 3x3 pad 1, bn, relu, maxpool 2, dense 16, relu, dense 10", "--mode",
                                 "uniq", "--layer-bits", "3,1,5", "--epochs", "2"} + common,
                     200});
    runs_.push_back({"dense-cpq", fixture_,
                     QStringList{"--arch", "dense 24, bn, relu, dense 10", "--mode", "cpq", "--max-bits", "4",
                                 "--epochs", "2"} + common,
                     200});
    if (QDir(kFashionDir).exists()) {
        runs_.push_back({"fashion-mlp-sq", kFashionDir,
                         {"--model", "mlp", "--train-limit", "4000", "--test-limit", "1000", "--epochs", "2",
                          "--threads", "1", "--quiet"},
                         1000});
        runs_.push_back({"fashion-lenet5-sq", kFashionDir,
                         {"--model", "lenet5", "--train-limit", "2000", "--test-limit", "500", "--epochs", "2",
                          "--threads", "1", "--quiet"},
                         500});
    } else {
        qWarning("Fashion-MNIST is not installed (%s): only the fixture runs are checked", kFashionDir);
    }
    for (const RunCase& c : runs_) {
        const Result r = runTrainer(QStringList{"--dataset", c.dataset, "--out", runDir(c.name)} + c.args);
        QVERIFY2(r.exitCode == 0, qPrintable(c.name + ": " + r.err));
    }
}

void TestExport::cases()
{
    QTest::addColumn<int>("index");
    for (std::size_t i = 0; i < runs_.size(); ++i)
        QTest::addRow("%s", qPrintable(runs_[i].name)) << static_cast<int>(i);
}

sq::Tensor TestExport::engineLogits(const RunCase& c, const QString& imagesPath)
{
    const std::string dir = runDir(c.name).toStdString();
    const sq::StoredModel stored = sq::readModelFile(dir + "/model.sqm");
    sq::Model model = sq::instantiateModel(stored);
    const sq::DatasetSplits data = sq::loadDataset(c.dataset.toStdString(), sq::DatasetKind::Auto, 1, c.testImages,
                                                   stored.inputMean, stored.inputStddev);
    if (!writeBytes(imagesPath, data.test.images.data(),
                    static_cast<qint64>(sizeof(float) * data.test.images.size())))
        return {};
    return sq::datasetLogits(model, data.test, 0, data.test.count, 100);
}

void TestExport::runWritesThreeModelFiles()
{
    QFETCH(int, index);
    const RunCase& c = runs_[static_cast<std::size_t>(index)];
    const QString out = runDir(c.name);
    const QStringList expected = {"history.csv", "model.h", "model.onnx", "model.sqm", "snapshots.jsonl", "summary.json"};
    for (const QString& file : expected)
        QVERIFY2(QFileInfo(out + "/" + file).size() > 0, qPrintable(file));
    // No temporaries are left behind by the atomic writes.
    QCOMPARE(QDir(out).entryList(QDir::Files, QDir::Name), expected);

    // The native file holds the model bits summary.json reports plus a few hundred bytes of
    // header and metadata (the exact formula is tests/core/test_model_file.cpp's).
    const QJsonObject final = readJson(out + "/summary.json")["final"].toObject();
    const qint64 modelBytes = (static_cast<qint64>(final["model_bits"].toDouble()) + 7) / 8;
    const qint64 size = QFileInfo(out + "/model.sqm").size();
    QVERIFY2(size > modelBytes && size < modelBytes + 1024, qPrintable(QString("%1 vs %2").arg(size).arg(modelBytes)));
    qInfo("%s: model.sqm %lld bytes for %lld bytes of model bits", qPrintable(c.name), size, modelBytes);
}

void TestExport::evalReproducesQuantizedAccuracy()
{
    QFETCH(int, index);
    const RunCase& c = runs_[static_cast<std::size_t>(index)];
    const QString out = runDir(c.name);
    const QJsonObject final = readJson(out + "/summary.json")["final"].toObject();
    const double reported = final["test_accuracy_quantized"].toDouble();

    const Result r = runTrainer({"--eval", out + "/model.sqm", "--dataset", c.dataset, "--test-limit",
                                 QString::number(c.testImages)});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QRegularExpressionMatch m =
        QRegularExpression("test accuracy [0-9.]+% \\((\\d+) of (\\d+) correct\\), loss ([0-9.]+)").match(r.out);
    QVERIFY2(m.hasMatch(), qPrintable(r.out));
    const long long total = m.captured(2).toLongLong();
    QCOMPARE(total, static_cast<long long>(c.testImages));
    QCOMPARE(m.captured(1).toLongLong(), std::llround(reported * static_cast<double>(total)));
    QVERIFY(std::abs(m.captured(3).toDouble() - final["test_loss_quantized"].toDouble()) < 2e-6);
    qInfo("%s: --eval %s of %lld, the run reported %.4f", qPrintable(c.name), qPrintable(m.captured(1)), total,
          reported);
}

void TestExport::evalRefusesBadFiles()
{
    const RunCase& c = runs_.front();
    const QString good = runDir(c.name) + "/model.sqm";
    const QString missing = dir_.filePath("missing.sqm");
    Result r = runTrainer({"--eval", missing, "--dataset", fixture_});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains(missing + ": model file does not exist"), qPrintable(r.err));

    QFile in(good);
    QVERIFY(in.open(QIODevice::ReadOnly));
    QByteArray bytes = in.readAll();
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
    const QString corrupt = dir_.filePath("corrupt.sqm");
    QVERIFY(writeBytes(corrupt, bytes.constData(), bytes.size()));
    r = runTrainer({"--eval", corrupt, "--dataset", fixture_});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains(corrupt + ": CRC-32 mismatch"), qPrintable(r.err));
    QVERIFY(r.out.isEmpty());

    r = runTrainer({"--eval", runDir(c.name) + "/model.onnx", "--dataset", fixture_});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("not an SQ Explorer model file"), qPrintable(r.err));
}

void TestExport::cHeaderCompilesAndAgrees()
{
    QFETCH(int, index);
    const RunCase& c = runs_[static_cast<std::size_t>(index)];
    const QString out = runDir(c.name);
    const QString work = dir_.filePath(c.name + "-c");
    QVERIFY(QDir().mkpath(work));
    const QString images = work + "/images.bin";
    const sq::Tensor engine = engineLogits(c, images);
    QCOMPARE(engine.dim(0), c.testImages);

    const QByteArray harness = R"(#include <stdio.h>
#include <stdlib.h>
#include "model.h"

/* images.bin (n inputs) -> out.bin: per input its logits, then the predicted class as a float. */
int main(int argc, char** argv)
{
    static float input[SQ_MODEL_INPUT_SIZE];
    static float scratch[SQ_MODEL_SCRATCH_FLOATS];
    FILE* in;
    FILE* out;
    int n, i;
    if (argc != 4)
        return 2;
    in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    n = atoi(argv[3]);
    if (!in || !out)
        return 3;
    for (i = 0; i < n; ++i) {
        float label;
        if (fread(input, sizeof(float), SQ_MODEL_INPUT_SIZE, in) != SQ_MODEL_INPUT_SIZE)
            return 4;
        fwrite(sq_model_logits(input, scratch), sizeof(float), SQ_MODEL_CLASSES, out);
        label = (float)sq_model_predict(input, scratch);
        fwrite(&label, sizeof(float), 1, out);
    }
    return fclose(out) == 0 ? 0 : 5;
}
)";
    QVERIFY(writeBytes(work + "/main.c", harness.constData(), harness.size()));
    const Result cc = run("gcc", {"-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-I", out, "-o",
                                  work + "/predict", work + "/main.c", "-lm"});
    QVERIFY2(cc.exitCode == 0, qPrintable(cc.err));
    const Result p = run(work + "/predict", {images, work + "/out.bin", QString::number(c.testImages)});
    QVERIFY2(p.exitCode == 0, qPrintable(QString("exit %1 %2").arg(p.exitCode).arg(p.err)));

    QFile f(work + "/out.bin");
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray raw = f.readAll();
    const int k = engine.dim(1);
    QCOMPARE(raw.size(), static_cast<qsizetype>(sizeof(float)) * c.testImages * (k + 1));
    std::vector<float> logits;
    std::vector<int> labels;
    const auto* v = reinterpret_cast<const float*>(raw.constData());
    for (int i = 0; i < c.testImages; ++i) {
        logits.insert(logits.end(), v + i * (k + 1), v + i * (k + 1) + k);
        labels.push_back(static_cast<int>(v[i * (k + 1) + k]));
    }
    const Agreement a = compareLogits(engine, logits, labels);
    qInfo("%s: C header agrees with the engine on %d of %d test images (%d near-ties), max logit difference %.3g",
          qPrintable(c.name), a.agree, a.total, a.nearTies, a.maxDifference);
    QCOMPARE(a.agree + a.nearTies, a.total);
    QVERIFY2(a.maxDifference < 1e-3, qPrintable(QString::number(a.maxDifference)));
}

void TestExport::onnxCheckerAndOpenCvAgree()
{
    QFETCH(int, index);
    const RunCase& c = runs_[static_cast<std::size_t>(index)];
    const QString out = runDir(c.name);
    const QString work = dir_.filePath(c.name + "-onnx");
    QVERIFY(QDir().mkpath(work));
    const QString images = work + "/images.bin";
    const sq::Tensor engine = engineLogits(c, images);
    QCOMPARE(engine.dim(0), c.testImages);
    const sq::StoredModel stored = sq::readModelFile((out + "/model.sqm").toStdString());

    const QByteArray script = R"(import sys
import numpy as np
import onnx
import cv2

model_path, images_path, out_path = sys.argv[1:4]
shape = [int(v) for v in sys.argv[4:]]
model = onnx.load(model_path)
onnx.checker.check_model(model, full_check=True)
net = cv2.dnn.readNetFromONNX(model_path)
x = np.fromfile(images_path, dtype="<f4").reshape(shape)
net.setInput(x)
y = net.forward()
np.ascontiguousarray(y, dtype="<f4").tofile(out_path)
print("onnx", onnx.__version__, "opencv", cv2.__version__, "opset", model.opset_import[0].version, "logits", y.shape)
)";
    QVERIFY(writeBytes(work + "/check.py", script.constData(), script.size()));
    QStringList args{work + "/check.py", out + "/model.onnx", images, work + "/logits.bin",
                     QString::number(c.testImages)};
    for (int d : stored.inputSample)
        args << QString::number(d);
    const Result p = run(kPython, args);
    QVERIFY2(p.exitCode == 0, qPrintable(p.out + p.err));
    qInfo("%s: %s", qPrintable(c.name), qPrintable(p.out.trimmed()));

    QFile f(work + "/logits.bin");
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray raw = f.readAll();
    QCOMPARE(raw.size(), static_cast<qsizetype>(sizeof(float) * engine.size()));
    std::vector<float> logits(engine.size());
    std::memcpy(logits.data(), raw.constData(), static_cast<std::size_t>(raw.size()));
    const int k = engine.dim(1);
    std::vector<int> labels;
    for (int i = 0; i < c.testImages; ++i) {
        int best = 0;
        for (int j = 1; j < k; ++j)
            best = logits[static_cast<std::size_t>(i * k + j)] > logits[static_cast<std::size_t>(i * k + best)] ? j
                                                                                                                 : best;
        labels.push_back(best);
    }
    const Agreement a = compareLogits(engine, logits, labels);
    qInfo("%s: OpenCV dnn agrees with the engine on %d of %d test images (%d near-ties), max logit difference %.3g",
          qPrintable(c.name), a.agree, a.total, a.nearTies, a.maxDifference);
    QCOMPARE(a.agree + a.nearTies, a.total);
    QVERIFY2(a.maxDifference < 1e-3, qPrintable(QString::number(a.maxDifference)));
}

QTEST_GUILESS_MAIN(TestExport)
#include "test_export.moc"
