// Run files read back: a short real run's history.csv, summary.json and snapshots.jsonl written by
// the writers and read by the readers give the same values; malformed files of every kind give an
// sq::Error naming the file and the line or field, never a crash.
#include "synthetic_data.h"

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/io/history_csv_reader.h"
#include "core/io/json_reader.h"
#include "core/io/run_files.h"
#include "core/io/run_loader.h"
#include "core/io/run_summary.h"
#include "core/io/snapshot_log.h"
#include "core/snapshot_recorder.h"
#include "core/trainer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <functional>
#include <filesystem>
#include <fstream>

using namespace sq;

namespace {

TrainConfig smallConfig(QuantMode mode)
{
    TrainConfig c;
    c.arch = "dense 24, bn, relu, dense 4";
    c.sq.mode = mode;
    c.epochs = 3;
    c.commitEpochs = 1;
    c.batchSize = 32;
    c.threads = 1;
    c.learningRate = 3e-3;
    c.recalibrationImages = 128;
    c.historyEveryBatches = 4;
    c.snapshotEveryBatches = 3;
    c.snapshotEveryMs = 1'000'000; // by batch count only: the same snapshots on every machine
    c.histogramBins = 16;
    c.uniq.bits = 2;
    c.cpq.maxBits = 4;
    return c;
}

struct WrittenRun {
    std::string dir;
    SnapshotList snapshots;
    RunHistory history;
    std::string summaryText;
};

WrittenRun writeShortRun(const QString& root, QuantMode mode)
{
    Trainer trainer(smallConfig(mode), testing::blobs(256, 96));
    SnapshotRecorder recorder;
    trainer.setSnapshotSink([&](std::shared_ptr<const Snapshot> s) { recorder.add(std::move(s)); });
    while (!trainer.finished())
        trainer.step();
    recorder.add(trainer.makeSnapshot());
    WrittenRun run;
    run.dir = (root + "/" + QString::fromStdString(toString(mode))).toStdString();
    run.snapshots = recorder.snapshots();
    writeRunFiles(run.dir, trainer, "blobs", &run.snapshots);
    run.history = trainer.history();
    run.summaryText = summaryJson(trainer, "blobs");
    return run;
}

// Doubles go through 9 (JSON) or 7 (CSV) significant digits; floats survive 9 exactly.
bool near(double a, double b, double relative)
{
    if (std::isnan(a) || std::isnan(b))
        return std::isnan(a) && std::isnan(b);
    return std::fabs(a - b) <= relative * std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
}

void compareLayer(const LayerQuantState& a, const LayerQuantState& b)
{
    QCOMPARE(a.name, b.name);
    QCOMPARE(a.description, b.description);
    QCOMPARE(a.method, b.method);
    QCOMPARE(a.weights, b.weights);
    QCOMPARE(a.decision, b.decision);
    QCOMPARE(a.bits, b.bits);
    QCOMPARE(a.keepFloat, b.keepFloat);
    QCOMPARE(a.committed, b.committed);
    QCOMPARE(a.alpha, b.alpha);
    QCOMPARE(a.beta, b.beta);
    QCOMPARE(a.delta, b.delta);
    QCOMPARE(a.step, b.step);
    QCOMPARE(a.levels, b.levels);
    QVERIFY(near(a.shareZero, b.shareZero, 1e-8));
    QVERIFY(near(a.quantError, b.quantError, 1e-8));
    QCOMPARE(a.levelShares.size(), b.levelShares.size());
    QCOMPARE(a.maxBits, b.maxBits);
    QCOMPARE(a.keepProbability, b.keepProbability);
    QCOMPARE(a.droppedLevels, b.droppedLevels);
}

void compareSnapshot(const Snapshot& a, const Snapshot& b)
{
    QCOMPARE(a.mode, b.mode);
    QCOMPARE(a.step, b.step);
    QCOMPARE(a.totalSteps, b.totalSteps);
    QCOMPARE(a.epoch, b.epoch);
    QCOMPARE(a.epochs, b.epochs);
    QCOMPARE(a.batchInEpoch, b.batchInEpoch);
    QCOMPARE(a.batchesPerEpoch, b.batchesPerEpoch);
    QVERIFY(near(a.epochsElapsed, b.epochsElapsed, 1e-8));
    QVERIFY(a.phase == b.phase);
    QCOMPARE(a.commitStartEpoch, b.commitStartEpoch);
    QCOMPARE(a.finished, b.finished);
    QCOMPARE(a.paused, b.paused);
    QVERIFY(near(a.crossEntropy, b.crossEntropy, 1e-8));
    QVERIFY(near(a.regularizer, b.regularizer, 1e-8));
    QVERIFY(near(a.trainAccuracy, b.trainAccuracy, 1e-8));
    QVERIFY(near(a.lambda, b.lambda, 1e-8));
    QVERIFY(near(a.gamma, b.gamma, 1e-8));
    QVERIFY(near(a.mu, b.mu, 1e-8));
    QVERIFY(near(a.learningRate, b.learningRate, 1e-8));
    QCOMPARE(a.lastEvaluation.has_value(), b.lastEvaluation.has_value());
    if (a.lastEvaluation) {
        QVERIFY(near(a.lastEvaluation->quantizedAccuracy, b.lastEvaluation->quantizedAccuracy, 1e-8));
        QVERIFY(near(a.lastEvaluation->floatLoss, b.lastEvaluation->floatLoss, 1e-8));
    }
    QCOMPARE(a.evaluatedEpochs, b.evaluatedEpochs);
    QCOMPARE(a.events.size(), b.events.size());
    QCOMPARE(a.memory.weightBits, b.memory.weightBits);
    QCOMPARE(a.memory.floatWeightBits, b.memory.floatWeightBits);
    QCOMPARE(a.memory.modelBits, b.memory.modelBits);
    QCOMPARE(a.memory.floatModelBits, b.memory.floatModelBits);
    QCOMPARE(a.layers.size(), b.layers.size());
    for (std::size_t i = 0; i < a.layers.size(); ++i) {
        compareLayer(a.layers[i].state, b.layers[i].state);
        QCOMPARE(a.layers[i].histogram.lo, b.layers[i].histogram.lo);
        QCOMPARE(a.layers[i].histogram.hi, b.layers[i].histogram.hi);
        QCOMPARE(a.layers[i].histogram.counts, b.layers[i].histogram.counts);
    }
}

// The error a call throws (empty if none): only sq::Error may escape a reader.
template <typename Call>
QString errorOf(Call&& call)
{
    try {
        call();
    } catch (const Error& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

const char* const kGoodSummary = R"({
  "format": "sq-explorer run summary", "version": 1, "finished": true, "method": "SQ",
  "config": { "mode": "sq", "model": "mlp", "lambda": 1, "gamma": 0.003 },
  "epochs_completed": 2,
  "final": { "test_accuracy_float": 0.9, "test_accuracy_quantized": 0.85, "weight_bits": 1000, "model_bits": 1500 },
  "layers": [ { "name": "dense1", "decision": "ternary", "bits": 2 } ],
  "events": []
})";

} // namespace

class TestRunFiles : public QObject {
    Q_OBJECT

private slots:
    void roundTrip_data();
    void roundTrip();
    void jsonAcceptsValidDocuments();
    void jsonRefusesMalformed_data();
    void jsonRefusesMalformed();
    void summaryErrorsNameTheField_data();
    void summaryErrorsNameTheField();
    void historyErrorsNameTheColumn_data();
    void historyErrorsNameTheColumn();
    void snapshotLogErrors_data();
    void snapshotLogErrors();
    void damagedFilesOnlyThrow();
    void loaderNamesTheFolderAndFile();
    void recorderStaysBoundedAndKeepsEvaluations();
};

void TestRunFiles::roundTrip_data()
{
    QTest::addColumn<int>("mode");
    QTest::newRow("sq") << static_cast<int>(QuantMode::Sq);
    QTest::newRow("float") << static_cast<int>(QuantMode::Float);
    QTest::newRow("uniq") << static_cast<int>(QuantMode::Uniq);
    QTest::newRow("cpq") << static_cast<int>(QuantMode::Cpq);
}

void TestRunFiles::roundTrip()
{
    QFETCH(int, mode);
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const WrittenRun written = writeShortRun(tmp.path(), static_cast<QuantMode>(mode));
    QVERIFY(written.snapshots.size() > 5);

    const LoadedRun run = loadRun(written.dir);
    QCOMPARE(run.name, std::string(toString(static_cast<QuantMode>(mode))));

    // summary.json
    const RunSummary& s = run.summary;
    QCOMPARE(s.version, 1);
    QVERIFY(s.finished);
    QVERIFY(s.config.sq.mode == static_cast<QuantMode>(mode));
    QCOMPARE(s.config.epochs, 3);
    QCOMPARE(s.config.batchSize, 32);
    QCOMPARE(s.epochsCompleted, 3);
    QVERIFY(s.final.has_value());
    const EpochRecord& last = written.history.epochs.back();
    QVERIFY(near(s.final->evaluation.quantizedAccuracy, last.evaluation.quantizedAccuracy, 1e-8));
    QVERIFY(near(s.final->evaluation.floatAccuracy, last.evaluation.floatAccuracy, 1e-8));
    QCOMPARE(s.final->memory.modelBits, last.memory.modelBits);
    QCOMPARE(s.final->memory.weightBits, last.memory.weightBits);
    QCOMPARE(s.layers.size(), last.layers.size());
    for (std::size_t i = 0; i < s.layers.size(); ++i) {
        QCOMPARE(s.layers[i].name, last.layers[i].name);
        QCOMPARE(s.layers[i].decision, last.layers[i].decision);
        QCOMPARE(s.layers[i].bits, last.layers[i].bits);
        QCOMPARE(s.layers[i].keepProbability, last.layers[i].keepProbability);
    }
    QVERIFY(!runLabel(s).empty());

    // history.csv (7 significant digits)
    QCOMPARE(run.history.epochs.size(), written.history.epochs.size());
    for (std::size_t e = 0; e < run.history.epochs.size(); ++e) {
        const EpochRecord& a = run.history.epochs[e];
        const EpochRecord& b = written.history.epochs[e];
        QCOMPARE(a.epoch, b.epoch);
        QCOMPARE(a.step, b.step);
        QVERIFY(a.phase == b.phase);
        QVERIFY(near(a.evaluation.quantizedAccuracy, b.evaluation.quantizedAccuracy, 1e-6));
        QVERIFY(near(a.evaluation.floatAccuracy, b.evaluation.floatAccuracy, 1e-6));
        QVERIFY(near(a.trainCrossEntropy, b.trainCrossEntropy, 1e-6));
        QCOMPARE(a.memory.modelBits, b.memory.modelBits);
        QCOMPARE(a.memory.weightBits, b.memory.weightBits);
        QVERIFY(near(a.memory.compression(), b.memory.compression(), 1e-6));
        QCOMPARE(a.layers.size(), b.layers.size());
        for (std::size_t i = 0; i < a.layers.size(); ++i) {
            QCOMPARE(a.layers[i].decision, b.layers[i].decision);
            QCOMPARE(a.layers[i].bits, b.layers[i].bits);
            QCOMPARE(a.layers[i].method, b.layers[i].method);
            QCOMPARE(a.layers[i].keepProbability.size(), b.layers[i].keepProbability.size());
        }
    }

    // snapshots.jsonl: every snapshot, field by field
    QCOMPARE(run.snapshots.size(), written.snapshots.size());
    for (std::size_t i = 0; i < run.snapshots.size(); ++i)
        compareSnapshot(*run.snapshots[i], *written.snapshots[i]);
    QVERIFY(run.snapshots.back()->finished);
}

void TestRunFiles::jsonAcceptsValidDocuments()
{
    const JsonValue v = parseJson(R"( {"a": [1, -2.5e3, true, false, null], "s": "x\"\\\/\n\u00e9\ud83d\ude00",
        "o": {}, "e": [], "big": 9007199254740993, "tiny": 1e-400 } )",
                                  "test.json");
    QVERIFY(v.isObject());
    QCOMPARE(v.find("a")->items().size(), std::size_t(5));
    QCOMPARE(v.find("a")->items()[1].number(), -2500.0);
    QVERIFY(!v.find("a")->items()[1].isInteger());
    QVERIFY(v.find("a")->items()[0].isInteger());
    QCOMPARE(v.find("s")->string(), std::string("x\"\\/\n\xc3\xa9\xf0\x9f\x98\x80"));
    QCOMPARE(v.find("big")->integer(), 9007199254740993LL);
    QCOMPARE(v.find("tiny")->number(), 0.0);
    QCOMPARE(v.find("o")->members().size(), std::size_t(0));
    QVERIFY(v.find("missing") == nullptr);
}

void TestRunFiles::jsonRefusesMalformed_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("expected");
    QTest::newRow("empty") << QByteArray("") << "test.json line 1, column 1: unexpected end of input";
    QTest::newRow("truncated object") << QByteArray("{\"a\": [1, 2") << "unexpected end of input";
    QTest::newRow("truncated string") << QByteArray("{\"a\": \"abc") << "unterminated string";
    QTest::newRow("NaN") << QByteArray("{\"a\": NaN}") << "NaN and Infinity are not JSON numbers";
    QTest::newRow("Infinity") << QByteArray("[Infinity]") << "NaN and Infinity";
    QTest::newRow("huge") << QByteArray("[1e999]") << "number 1e999 is out of range";
    QTest::newRow("huge digits") << QByteArray("[" + QByteArray(400, '9') + "]") << "out of range";
    QTest::newRow("leading zero") << QByteArray("[01]") << "expected ',' or ']'";
    QTest::newRow("bare dot") << QByteArray("[1.]") << "expected a digit after '.'";
    QTest::newRow("trailing comma") << QByteArray("[1,]") << "expected a value";
    QTest::newRow("single quotes") << QByteArray("{'a': 1}") << "expected a quoted key";
    QTest::newRow("duplicate key") << QByteArray("{\"a\": 1, \"a\": 2}") << "duplicate key \"a\"";
    QTest::newRow("garbage after") << QByteArray("{} x") << "unexpected text after the JSON value";
    QTest::newRow("control char") << QByteArray("[\"a\nb\"]") << "control character";
    QTest::newRow("bad escape") << QByteArray("[\"\\q\"]") << "unknown escape";
    QTest::newRow("lone surrogate") << QByteArray("[\"\\ud800\"]") << "unpaired surrogate";
    QTest::newRow("deep nesting") << QByteArray(100000, '[') << "nesting deeper than 64 levels";
    QTest::newRow("second line") << QByteArray("{\n  \"a\": tru\n}") << "line 2, column 8";
}

void TestRunFiles::jsonRefusesMalformed()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, expected);
    const QString error = errorOf([&] { parseJson(std::string_view(text.constData(), static_cast<std::size_t>(text.size())), "test.json"); });
    QVERIFY2(error.contains(expected), qPrintable(error));
    QVERIFY2(error.startsWith("test.json line "), qPrintable(error));
}

void TestRunFiles::summaryErrorsNameTheField_data()
{
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("expected");
    QTest::newRow("foreign") << "sq-explorer run summary" << "something else" << "format: not an SQ Explorer run summary";
    QTest::newRow("newer") << "\"version\": 1" << "\"version\": 7" << "version: version 7 was written by a newer";
    QTest::newRow("missing finished") << "\"finished\": true," << "" << "line 1: finished: missing";
    QTest::newRow("wrong type") << "\"model_bits\": 1500" << "\"model_bits\": \"1500\""
                                << "line 5: final.model_bits: expected a whole number, got a string";
    QTest::newRow("fraction bits") << "\"model_bits\": 1500" << "\"model_bits\": 1500.5" << "final.model_bits: expected a whole number";
    QTest::newRow("negative bits") << "\"model_bits\": 1500" << "\"model_bits\": -3" << "final.model_bits: -3 is outside";
    QTest::newRow("huge bits") << "\"model_bits\": 1500" << "\"model_bits\": 123456789012345678901234567890"
                               << "final.model_bits: expected a whole number";
    QTest::newRow("NaN accuracy") << "\"test_accuracy_quantized\": 0.85" << "\"test_accuracy_quantized\": NaN"
                                  << "line 5, column";
    QTest::newRow("missing final") << "\"final\"" << "\"later\"" << "final: missing";
    QTest::newRow("unknown mode") << "\"mode\": \"sq\"" << "\"mode\": \"magic\"" << "config.mode: unknown value \"magic\"";
    QTest::newRow("layer type") << "\"bits\": 2 }" << "\"bits\": [2] }" << "layers[0].bits: expected a whole number, got an array";
    QTest::newRow("layer missing") << "\"name\": \"dense1\", " << "" << "layers[0].name: missing";
    QTest::newRow("not an object") << "\"config\": {" << "\"config\": 3, \"x\": {" << "config: expected an object, got a number";
    QTest::newRow("truncated") << "\"events\": []\n}" << "\"events\": [" << "unexpected end of input";
}

void TestRunFiles::summaryErrorsNameTheField()
{
    QFETCH(QString, from);
    QFETCH(QString, to);
    QFETCH(QString, expected);
    // The unmodified document reads.
    const RunSummary good = parseRunSummary(kGoodSummary, "run/summary.json");
    QCOMPARE(good.final->memory.modelBits, std::uint64_t(1500));
    QCOMPARE(runLabel(good), std::string("SQ λ 1 γ 0.003"));

    QString text = QString::fromUtf8(kGoodSummary);
    QVERIFY(text.contains(from));
    text.replace(from, to);
    const std::string bytes = text.toStdString();
    const QString error = errorOf([&] { parseRunSummary(bytes, "run/summary.json"); });
    QVERIFY2(error.startsWith("run/summary.json"), qPrintable(error));
    QVERIFY2(error.contains(expected), qPrintable(error));
}

void TestRunFiles::historyErrorsNameTheColumn_data()
{
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("expected");
    QTest::newRow("missing column") << "model_bits," << "modelbits," << "line 1: missing column 'model_bits'";
    QTest::newRow("truncated row") << ",3.5,13.5\n" << "" << "line 3: 16 fields, the header names 18";
    QTest::newRow("bad number") << "0.91,0.88" << "0.91,abc" << "line 2, column 'test_accuracy_quantized': expected a number, got 'abc'";
    QTest::newRow("huge number") << "0.91,0.88" << "0.91,1e999" << "column 'test_accuracy_quantized': number 1e999 is out of range";
    QTest::newRow("nan bits") << ",1500," << ",nan," << "line 2, column 'model_bits': expected a whole number, got 'nan'";
    QTest::newRow("huge bits") << ",1500," << ",99999999999999999999999," << "column 'model_bits': 99999999999999999999999 is outside";
    QTest::newRow("bad phase") << "1,10,search" << "1,10,later" << "column 'phase': expected search or commit";
    QTest::newRow("epoch zero") << "1,10,search" << "0,10,search" << "column 'epoch': 0 is outside";
    QTest::newRow("duplicate column") << "lambda,gamma" << "lambda,lambda" << "column 'lambda' appears twice";
    QTest::newRow("empty") << "<all>" << "" << "empty file";
}

void TestRunFiles::historyErrorsNameTheColumn()
{
    QFETCH(QString, from);
    QFETCH(QString, to);
    QFETCH(QString, expected);
    const QString good = QStringLiteral(
        "epoch,step,phase,seconds,lr,lambda,gamma,train_cross_entropy,train_regularizer,train_accuracy,"
        "test_accuracy_float,test_accuracy_quantized,test_loss_float,test_loss_quantized,weight_bits,model_bits,"
        "compression,images_per_second\n"
        "1,10,search,0.5,0.001,1,0.003,0.7,0.1,0.8,0.91,0.88,0.3,0.35,1000,1500,3.5,12.5\n"
        "2,20,commit,1.0,0.001,1,0.003,0.5,0.1,0.85,0.92,0.9,0.25,0.3,1000,1500,3.5,13.5\n");
    const RunHistory parsed = parseHistoryCsv(good.toStdString(), "run/history.csv");
    QCOMPARE(parsed.epochs.size(), std::size_t(2));
    QVERIFY(parsed.epochs[1].phase == Phase::Commit);
    QCOMPARE(parsed.epochs[1].memory.floatModelBits, std::uint64_t(5250));

    QString text = good;
    if (from == "<all>")
        text.clear();
    else
        text.replace(text.indexOf(from), from.size(), to);
    const std::string bytes = text.toStdString();
    const QString error = errorOf([&] { parseHistoryCsv(bytes, "run/history.csv"); });
    QVERIFY2(error.startsWith("run/history.csv"), qPrintable(error));
    QVERIFY2(error.contains(expected), qPrintable(error));
}

void TestRunFiles::snapshotLogErrors_data()
{
    QTest::addColumn<int>("edit");
    QTest::addColumn<QString>("expected");
    QTest::newRow("truncated file") << 0 << "truncated: the header announces";
    QTest::newRow("truncated line") << 1 << "line 3, column";
    QTest::newRow("wrong type") << 2 << "line 2: layers[0].bits: expected a whole number, got a string";
    QTest::newRow("missing key") << 3 << "line 3: memory: missing";
    QTest::newRow("newer version") << 4 << "snapshot log version 2 was written by a newer SQ Explorer";
    QTest::newRow("foreign") << 5 << "line 1: not an SQ Explorer snapshot log";
    QTest::newRow("empty") << 6 << "empty file";
    QTest::newRow("extra line") << 7 << "more snapshots than the";
    QTest::newRow("bad phase") << 8 << "line 2: phase: expected \"search\" or \"commit\"";
    QTest::newRow("NaN literal") << 9 << "line 2, column";
}

void TestRunFiles::snapshotLogErrors()
{
    QFETCH(int, edit);
    QFETCH(QString, expected);
    Snapshot s;
    s.mode = "sq";
    s.phase = Phase::Search;
    LayerSnapshot layer;
    layer.state.name = "dense1";
    layer.state.bits = 2;
    layer.histogram.counts = {1, 2, 3};
    s.layers.push_back(layer);
    const SnapshotList list{std::make_shared<Snapshot>(s), std::make_shared<Snapshot>(s)};
    std::string text = snapshotLog(list);
    QCOMPARE(parseSnapshotLog(text, "run/snapshots.jsonl").size(), std::size_t(2));

    const auto replace = [&](const std::string& from, const std::string& to, std::size_t from_pos = 0) {
        const std::size_t at = text.find(from, from_pos);
        QVERIFY(at != std::string::npos);
        text.replace(at, from.size(), to);
    };
    const std::size_t line2 = text.find('\n') + 1;
    const std::size_t line3 = text.find('\n', line2) + 1;
    switch (edit) {
    case 0:
        text.resize(line3);
        break;
    case 1:
        text.resize(line3 + 40);
        break;
    case 2:
        replace("\"bits\":2", "\"bits\":\"2\"", line2);
        break;
    case 3:
        replace("\"memory\"", "\"memoir\"", line3);
        break;
    case 4:
        replace("\"version\":1", "\"version\":2");
        break;
    case 5:
        replace("sq-explorer snapshot log", "sq-explorer run summary");
        break;
    case 6:
        text = "\n\n";
        break;
    case 7:
        text += text.substr(line2, line3 - line2);
        break;
    case 8:
        replace("\"phase\":\"search\"", "\"phase\":\"later\"", line2);
        break;
    case 9:
        replace("\"lambda\":0", "\"lambda\":NaN", line2);
        break;
    }
    const QString error = errorOf([&] { parseSnapshotLog(text, "run/snapshots.jsonl"); });
    QVERIFY2(error.startsWith("run/snapshots.jsonl"), qPrintable(error));
    QVERIFY2(error.contains(expected), qPrintable(error));
}

void TestRunFiles::damagedFilesOnlyThrow()
{
    // Every truncation and a sweep of byte flips of real files: a reader returns or throws
    // sq::Error, nothing else (the sanitizer builds watch for the rest).
    QTemporaryDir tmp;
    const WrittenRun written = writeShortRun(tmp.path(), QuantMode::Cpq);
    const std::string log = snapshotLog({written.snapshots.front(), written.snapshots.back()});
    const std::string csv = historyCsv(written.history);
    const std::vector<std::pair<std::string, std::function<void(const std::string&)>>> files = {
        {written.summaryText, [](const std::string& t) { parseRunSummary(t, "s"); }},
        {csv, [](const std::string& t) { parseHistoryCsv(t, "h"); }},
        {log, [](const std::string& t) { parseSnapshotLog(t, "l"); }},
    };
    int errors = 0;
    for (const auto& [text, read] : files) {
        const std::size_t step = std::max<std::size_t>(1, text.size() / 400);
        for (std::size_t cut = 0; cut < text.size(); cut += step) {
            if (!errorOf([&] { read(text.substr(0, cut)); }).isEmpty())
                ++errors;
            std::string flipped = text;
            flipped[cut] = static_cast<char>(flipped[cut] ^ 0x5a);
            errorOf([&] { read(flipped); });
            flipped[cut] = '\0';
            errorOf([&] { read(flipped); });
        }
    }
    QVERIFY(errors > 100);
}

void TestRunFiles::loaderNamesTheFolderAndFile()
{
    QTemporaryDir tmp;
    const std::string root = tmp.path().toStdString();
    QVERIFY(errorOf([&] { loadRun(root + "/absent"); }).contains("/absent: not a folder"));
    QVERIFY(errorOf([&] { loadRun(root); }).contains(": not a run folder (it has no summary.json)"));
    QVERIFY(!isRunFolder(root));

    const WrittenRun written = writeShortRun(tmp.path(), QuantMode::Sq);
    QVERIFY(isRunFolder(written.dir));
    std::filesystem::remove(written.dir + "/history.csv");
    QVERIFY(errorOf([&] { loadRun(written.dir); }).contains("/sq/history.csv: no such file"));
    writeFileAtomically(written.dir + "/history.csv", "epoch\n");
    QVERIFY(errorOf([&] { loadRun(written.dir); }).contains("/sq/history.csv line 1: missing column 'step'"));
    writeFileAtomically(written.dir + "/history.csv", historyCsv(written.history));
    // Runs from before the snapshot log load without one.
    std::filesystem::remove(written.dir + "/snapshots.jsonl");
    QVERIFY(loadRun(written.dir).snapshots.empty());
}

void TestRunFiles::recorderStaysBoundedAndKeepsEvaluations()
{
    SnapshotRecorder recorder(64);
    int evaluated = 0;
    for (int i = 0; i < 5000; ++i) {
        auto s = std::make_shared<Snapshot>();
        s->step = i;
        if (i % 500 == 499)
            ++evaluated;
        s->evaluatedEpochs = evaluated;
        recorder.add(s);
        QVERIFY(recorder.size() <= 65);
    }
    const SnapshotList kept = recorder.snapshots();
    QCOMPARE(kept.front()->step, std::int64_t(0));
    QCOMPARE(kept.back()->step, std::int64_t(4999));
    // Every evaluation survives: its first snapshot is kept.
    for (int e = 1; e <= 10; ++e) {
        bool found = false;
        for (const auto& s : kept)
            found = found || s->step == 500 * e - 1;
        QVERIFY2(found, qPrintable(QString::number(e)));
    }
    for (std::size_t i = 1; i < kept.size(); ++i)
        QVERIFY(kept[i]->step > kept[i - 1]->step);
}

QTEST_GUILESS_MAIN(TestRunFiles)
#include "test_run_files.moc"
