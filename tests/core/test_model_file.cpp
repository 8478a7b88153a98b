// The native model file: bit packing at every width, exact round trips (binary, ternary, mixed SQ
// decisions, float layers, conv + BatchNorm models, any grid of 1..8 bits), the stated size, and
// refusal of corrupt, truncated, foreign, newer and inconsistent files without a partial result.
#include "core/architecture.h"
#include "core/error.h"
#include "core/io/bit_pack.h"
#include "core/io/model_file.h"
#include "core/io/stored_model.h"
#include "core/model_eval.h"
#include "core/model_stats.h"
#include "core/quant/sq_method.h"
#include "core/trainer.h"
#include "synthetic_data.h"

#include <QTemporaryDir>
#include <QtTest>

#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

using namespace sq;

namespace {

// A model with random weights and BatchNorm state, its SQ method committed and the quantized
// forward on: the state the trainer exports from.
struct QuantizedFixture {
    std::unique_ptr<Model> model;
    std::unique_ptr<SqMethod> method;
};

QuantizedFixture makeQuantized(const std::string& arch, std::vector<int> input, int classes, QuantMode mode,
                               std::set<std::string> keepFloat, const std::vector<double>& betas, std::uint64_t seed)
{
    QuantizedFixture f;
    f.model = std::make_unique<Model>(buildModel(arch, input, classes));
    Rng rng(seed);
    f.model->initialize(rng);
    for (const auto& layer : f.model->layers()) {
        if (layer->kind() != "bn")
            continue;
        for (Param* p : layer->params())
            for (std::size_t i = 0; i < p->value.size(); ++i)
                p->value[i] = (p->name == "gamma" ? 1.0f : 0.0f) + 0.3f * rng.normal();
        const auto buffers = layer->buffers();
        for (std::size_t i = 0; i < buffers[0]->size(); ++i) {
            (*buffers[0])[i] = 0.2f * rng.normal();
            (*buffers[1])[i] = 0.5f + rng.uniform();
        }
    }
    SqSettings settings;
    settings.mode = mode;
    settings.keepFloat = std::move(keepFloat);
    f.method = std::make_unique<SqMethod>(*f.model, settings);
    std::size_t b = 0;
    for (const OptimParam& p : f.method->params())
        if (p.param->name.ends_with(".beta") && b < betas.size())
            p.param->value[0] = static_cast<float>(betas[b++]);
    if (mode != QuantMode::Float)
        f.method->commit();
    f.method->setQuantizedForward(mode != QuantMode::Float);
    return f;
}

Tensor randomInput(const std::vector<int>& sample, int n, std::uint64_t seed)
{
    std::vector<int> shape = sample;
    shape.insert(shape.begin(), n);
    Tensor x(shape);
    Rng rng(seed);
    for (std::size_t i = 0; i < x.size(); ++i)
        x[i] = rng.normal();
    return x;
}

bool bitwiseEqual(const Tensor& a, const Tensor& b)
{
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

// docs/model-file.md, "Size": every byte that is not a model bit (memoryReport's count, with one
// float32 scale per quantized layer) is header, metadata or padding of a layer's codes to a byte.
std::uint64_t overheadBytes(const StoredModel& m)
{
    std::uint64_t bytes = 52 + m.method.size() + m.architecture.size() + 4 * m.inputSample.size()
                          + 8 * static_cast<std::uint64_t>(m.inputSample.front()) + 8 * m.floats.size();
    for (const StoredWeight& w : m.weights)
        bytes += 32 + w.name.size() + w.decision.size() + (w.quantized() ? 4 * w.levels.size() : 0);
    return bytes;
}

std::uint64_t paddingBits(const StoredModel& m)
{
    std::uint64_t bits = 0;
    for (const StoredWeight& w : m.weights)
        if (w.quantized())
            bits += 8 * packedBytes(w.count(), w.bits) - static_cast<std::uint64_t>(w.bits) * w.count();
    return bits;
}

void fixCrc(std::string& bytes)
{
    const std::size_t body = bytes.size() - 4;
    const auto crc = static_cast<std::uint32_t>(
        ::crc32(::crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(body)));
    for (int i = 0; i < 4; ++i)
        bytes[body + static_cast<std::size_t>(i)] = static_cast<char>((crc >> (8 * i)) & 0xffu);
}

void putU32(std::string& bytes, std::size_t at, std::uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        bytes[at + static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xffu);
}

QString errorOf(const std::string& bytes, const std::string& name = "m.sqm")
{
    try {
        decodeModelFile(bytes, name);
    } catch (const Error& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

// One dense layer of 2x2 ternary weights (codes in one byte) and a bias: small enough to edit by hand.
StoredModel tinyModel()
{
    StoredModel m;
    m.method = "sq";
    m.architecture = "dense 2";
    m.inputSample = {1, 1, 2};
    m.classes = 2;
    m.inputMean = {0.5f};
    m.inputStddev = {0.25f};
    StoredWeight w;
    w.name = "dense1";
    w.decision = "ternary";
    w.bits = 2;
    w.alpha = 0.5f;
    w.beta = 0.785f;
    w.delta = 0.25f;
    w.levels = {-0.5f, 0.0f, 0.5f};
    w.codes = {0, 1, 2, 1};
    m.weights.push_back(w);
    m.floats = {{0.125f, -0.25f}};
    return m;
}

// Tiny file layout: codes byte, then u32 tensor count, u64 size, 2 floats, CRC.
constexpr std::size_t kTinyCodesFromEnd = 4 + 8 + 8 + 4 + 1;

void compareStored(const StoredModel& a, const StoredModel& b)
{
    QCOMPARE(a.method, b.method);
    QCOMPARE(a.architecture, b.architecture);
    QCOMPARE(a.inputSample, b.inputSample);
    QCOMPARE(a.classes, b.classes);
    QCOMPARE(a.inputMean, b.inputMean);
    QCOMPARE(a.inputStddev, b.inputStddev);
    QCOMPARE(a.weights.size(), b.weights.size());
    for (std::size_t i = 0; i < a.weights.size(); ++i) {
        const StoredWeight& x = a.weights[i];
        const StoredWeight& y = b.weights[i];
        QCOMPARE(x.name, y.name);
        QCOMPARE(x.decision, y.decision);
        QCOMPARE(x.bits, y.bits);
        QCOMPARE(x.alpha, y.alpha);
        QCOMPARE(x.beta, y.beta);
        QCOMPARE(x.delta, y.delta);
        QCOMPARE(x.levels, y.levels);
        QVERIFY(x.codes == y.codes);
        QCOMPARE(x.values, y.values);
    }
    QCOMPARE(a.floats, b.floats);
}

} // namespace

class TestModelFile : public QObject {
    Q_OBJECT

private slots:
    void bitPackingKnownBytes();
    void bitPackingRoundTrip_data();
    void bitPackingRoundTrip();
    void bitPackingRefusesWideCodes();
    void roundTrip_data();
    void roundTrip();
    void anyBitLength_data();
    void anyBitLength();
    void captureRefusesWeightsOffTheGrid();
    void trainerExportReproducesQuantizedAccuracy();
    void everyCorruptByteIsRefused();
    void corruptBodyIsACrcError();
    void everyTruncationIsRefused();
    void wrongMagic();
    void newerVersion();
    void codesOutsideTheTable();
    void absurdSizesBeforeAllocating();
    void architectureMismatch();
    void failedLoadLeavesTargetUnchanged();
    void missingFileAndFailedWrite();
};

void TestModelFile::bitPackingKnownBytes()
{
    // LSB first: 2-bit codes 0,1,2,3 -> 0b11'10'01'00.
    QCOMPARE(packCodes({0, 1, 2, 3}, 2), (std::vector<std::uint8_t>{0xe4}));
    // 3-bit codes straddle bytes: nine 1-bits, then zero padding.
    QCOMPARE(packCodes({7, 7, 7}, 3), (std::vector<std::uint8_t>{0xff, 0x01}));
    // 1-bit codes fill a byte from bit 0.
    QCOMPARE(packCodes({1, 0, 0, 0, 0, 0, 0, 1, 1}, 1), (std::vector<std::uint8_t>{0x81, 0x01}));
    QCOMPARE(packCodes({5, 200}, 8), (std::vector<std::uint8_t>{5, 200}));
}

void TestModelFile::bitPackingRoundTrip_data()
{
    QTest::addColumn<int>("bits");
    QTest::addColumn<int>("count");
    for (int bits = 1; bits <= 8; ++bits)
        for (int count : {0, 1, 7, 8, 9, 13, 1001})
            QTest::addRow("%d bits x %d", bits, count) << bits << count;
}

void TestModelFile::bitPackingRoundTrip()
{
    QFETCH(int, bits);
    QFETCH(int, count);
    Rng rng(static_cast<std::uint64_t>(bits * 1000 + count));
    std::vector<std::uint8_t> codes(static_cast<std::size_t>(count));
    for (auto& c : codes)
        c = static_cast<std::uint8_t>(rng.below(1u << bits));
    if (count > 0)
        codes.back() = static_cast<std::uint8_t>((1u << bits) - 1); // the widest code at the very end
    const auto packed = packCodes(codes, bits);
    QCOMPARE(packed.size(), static_cast<std::size_t>((count * bits + 7) / 8));
    QCOMPARE(packed.size(), packedBytes(codes.size(), bits));
    QVERIFY(unpackCodes(packed.data(), codes.size(), bits) == codes);
    const int used = (count * bits) % 8;
    if (used != 0)
        QCOMPARE(packed.back() >> used, 0); // padding bits are zero
}

void TestModelFile::bitPackingRefusesWideCodes()
{
    QVERIFY_THROWS_EXCEPTION(Error, packCodes({0, 4}, 2));
    QVERIFY_THROWS_EXCEPTION(Error, packCodes({0}, 9));
    QVERIFY_THROWS_EXCEPTION(Error, packCodes({0}, 0));
}

void TestModelFile::roundTrip_data()
{
    QTest::addColumn<QString>("arch");
    QTest::addColumn<QList<int>>("input");
    QTest::addColumn<int>("mode");
    QTest::addColumn<QStringList>("keepFloat");
    QTest::addColumn<QList<double>>("betas");
    QTest::addColumn<QString>("decisions");

    const QString mlp = "flatten, dense 32, bn, relu, dense 24, bn, relu, dense 10";
    const QString convBn = "conv 4 3x3 pad 1, bn, relu, maxpool 2, conv 6 3x3 stride 2 pad 1, bn, relu, flatten, "
                           "dense 10";
    const QList<int> small{1, 8, 8};
    const int sq = static_cast<int>(QuantMode::Sq);
    QTest::addRow("binary mlp") << mlp << small << static_cast<int>(QuantMode::Binary) << QStringList{}
                                << QList<double>{} << "BBB";
    QTest::addRow("ternary mlp") << mlp << small << static_cast<int>(QuantMode::Ternary) << QStringList{}
                                 << QList<double>{} << "TTT";
    QTest::addRow("sq mixed T/B/T") << mlp << small << sq << QStringList{} << QList<double>{0.8, 1.5, 0.9} << "TBT";
    QTest::addRow("sq keep first and last float")
        << mlp << small << sq << QStringList{"first", "last"} << QList<double>{1.5} << "FBF";
    QTest::addRow("float mode") << mlp << small << static_cast<int>(QuantMode::Float) << QStringList{}
                                << QList<double>{} << "FFF";
    QTest::addRow("conv with batchnorm, sq B/T/B")
        << convBn << QList<int>{2, 9, 9} << sq << QStringList{} << QList<double>{1.5, 0.8, 1.4} << "BTB";
    QTest::addRow("lenet5 preset, sq T/B/B/T/B")
        << presetArchitecture("lenet5").c_str() << QList<int>{1, 28, 28} << sq << QStringList{}
        << QList<double>{0.9, 1.3, 1.5, 0.79, 1.2} << "TBBTB";
}

void TestModelFile::roundTrip()
{
    QFETCH(QString, arch);
    QFETCH(QList<int>, input);
    QFETCH(int, mode);
    QFETCH(QStringList, keepFloat);
    QFETCH(QList<double>, betas);
    QFETCH(QString, decisions);

    std::set<std::string> keep;
    for (const auto& k : keepFloat)
        keep.insert(k.toStdString());
    const std::vector<int> sample(input.begin(), input.end());
    QuantizedFixture f = makeQuantized(arch.toStdString(), sample, 10, static_cast<QuantMode>(mode), keep,
                                       std::vector<double>(betas.begin(), betas.end()), 7);
    const auto states = f.method->layerStates();
    QString seen;
    for (const auto& s : states)
        seen += s.decision == "binary" ? 'B' : (s.decision == "ternary" ? 'T' : 'F');
    QCOMPARE(seen, decisions);

    const Tensor x = randomInput(sample, 5, 11);
    const Tensor expected = f.model->forward(x, Pass::Eval);

    const std::vector<float> mean(static_cast<std::size_t>(sample[0]), 0.25f);
    const std::vector<float> stddev(static_cast<std::size_t>(sample[0]), 0.5f);
    const StoredModel stored = captureModel(*f.model, states, f.method->name(), mean, stddev);
    QCOMPARE(storedModelBits(stored), memoryReport(*f.model, states).modelBits);

    QTemporaryDir dir;
    const std::string path = dir.filePath("model.sqm").toStdString();
    writeModelFile(path, stored);
    const auto size = std::filesystem::file_size(path);
    QCOMPARE(static_cast<std::uint64_t>(size) * 8,
             memoryReport(*f.model, states).modelBits + paddingBits(stored) + 8 * overheadBytes(stored));

    const StoredModel loaded = readModelFile(path);
    compareStored(loaded, stored);
    Model rebuilt = instantiateModel(loaded);
    QVERIFY(bitwiseEqual(rebuilt.forward(x, Pass::Eval), expected));
    // The file is a pure function of the model: writing the loaded one gives the same bytes.
    QCOMPARE(encodeModelFile(loaded), encodeModelFile(stored));
}

void TestModelFile::anyBitLength_data()
{
    QTest::addColumn<int>("bits");
    for (int bits = 1; bits <= 8; ++bits)
        QTest::addRow("%d bits", bits) << bits;
}

// A method with a 2^b-level grid (as UniQ's), written straight into the quantized weights.
void TestModelFile::anyBitLength()
{
    QFETCH(int, bits);
    const std::vector<int> sample{2, 5, 5};
    Model model = buildModel("conv 3 3x3 pad 1, bn, relu, flatten, dense 7", sample, 7);
    Rng rng(static_cast<std::uint64_t>(bits));
    model.initialize(rng);
    std::vector<LayerQuantState> states;
    std::vector<std::vector<std::uint8_t>> codes;
    for (const QuantTarget& t : model.quantTargets()) {
        LayerQuantState s;
        s.name = t.name;
        s.decision = "uniq";
        s.bits = bits;
        s.weights = t.weight->param.value.size();
        s.alpha = 0.1f;
        const int half = 1 << (bits - 1);
        for (int k = -half; k < half; ++k)
            s.levels.push_back(s.alpha * (static_cast<float>(k) + 0.5f));
        t.weight->quantized.resize(t.weight->param.value.shape());
        std::vector<std::uint8_t> c(s.weights);
        for (std::size_t i = 0; i < s.weights; ++i) {
            c[i] = static_cast<std::uint8_t>(rng.below(static_cast<std::uint32_t>(s.levels.size())));
            t.weight->quantized[i] = s.levels[c[i]];
        }
        t.weight->useQuantized = true;
        codes.push_back(std::move(c));
        states.push_back(std::move(s));
    }
    const Tensor x = randomInput(sample, 3, 5);
    const Tensor expected = model.forward(x, Pass::Eval);

    const StoredModel stored = captureModel(model, states, "uniq", {0.0f, 0.1f}, {1.0f, 2.0f});
    for (std::size_t i = 0; i < codes.size(); ++i)
        QVERIFY(stored.weights[i].codes == codes[i]);
    const std::string bytes = encodeModelFile(stored);
    QCOMPARE(static_cast<std::uint64_t>(bytes.size()) * 8,
             memoryReport(model, states).modelBits + paddingBits(stored) + 8 * overheadBytes(stored));
    const StoredModel loaded = decodeModelFile(bytes, "uniq.sqm");
    compareStored(loaded, stored);
    Model rebuilt = instantiateModel(loaded);
    QVERIFY(bitwiseEqual(rebuilt.forward(x, Pass::Eval), expected));
}

void TestModelFile::captureRefusesWeightsOffTheGrid()
{
    QuantizedFixture f = makeQuantized("dense 8, relu, dense 4", {1, 2, 3}, 4, QuantMode::Ternary, {}, {}, 3);
    f.model->quantTargets()[1].weight->quantized[5] = 0.123456f;
    try {
        captureModel(*f.model, f.method->layerStates(), "ternary", {0.0f}, {1.0f});
        QFAIL("an off-grid weight was accepted");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).startsWith("dense2: weight 5"), e.what());
    }
}

// The exported model is the evaluated one: its Eval accuracy on the test split equals the
// quantized accuracy the trainer reported, to the image.
void TestModelFile::trainerExportReproducesQuantizedAccuracy()
{
    TrainConfig c;
    c.arch = "conv 4 3x3 pad 1, bn, relu, maxpool 2, flatten, dense 16, bn, relu, dense 4";
    c.epochs = 2;
    c.commitEpochs = 1;
    c.batchSize = 32;
    c.threads = 1;
    c.recalibrationImages = 256;
    c.gamma = 0.02;
    auto data = testing::blobs(512, 301);
    Trainer trainer(c, data);
    while (!trainer.finished())
        trainer.step();
    const Evaluation reported = trainer.history().epochs.back().evaluation;
    std::vector<Tensor> before;
    for (const Tensor* t : trainer.model().buffers())
        before.push_back(*t);
    for (const Param* p : trainer.model().params())
        before.push_back(p->value);

    StoredModel stored;
    trainer.withQuantizedModel([&](const Model& m) {
        stored = captureModel(m, trainer.method().layerStates(), trainer.method().name(), data->mean, data->stddev);
    });
    const std::string bytes = encodeModelFile(stored);
    Model loaded = instantiateModel(decodeModelFile(bytes, "run.sqm"));
    const AccuracyResult acc = datasetAccuracy(loaded, data->test, c.evalBatchSize);
    QCOMPARE(acc.total, 301);
    QCOMPARE(acc.correct, static_cast<std::int64_t>(std::llround(reported.quantizedAccuracy * 301)));
    QCOMPARE(acc.loss, reported.quantizedLoss);

    // The trainer is as it was: the same statistics and weights, the same quantized accuracy.
    std::size_t i = 0;
    for (const Tensor* t : trainer.model().buffers())
        QVERIFY(bitwiseEqual(*t, before[i++]));
    for (const Param* p : trainer.model().params())
        QVERIFY(bitwiseEqual(p->value, before[i++]));
    QCOMPARE(trainer.evaluate().quantizedAccuracy, reported.quantizedAccuracy);
}

void TestModelFile::everyCorruptByteIsRefused()
{
    const std::string good = encodeModelFile(tinyModel());
    QVERIFY(errorOf(good).isEmpty());
    for (std::size_t i = 0; i < good.size(); ++i) {
        std::string bad = good;
        bad[i] = static_cast<char>(bad[i] ^ 0x10);
        const QString error = errorOf(bad);
        QVERIFY2(error.startsWith("m.sqm: "), qPrintable(QString("byte %1: '%2'").arg(i).arg(error)));
    }
}

void TestModelFile::corruptBodyIsACrcError()
{
    QuantizedFixture f = makeQuantized("dense 8, bn, relu, dense 4", {1, 2, 3}, 4, QuantMode::Sq, {}, {0.8, 1.5}, 4);
    const std::string good = encodeModelFile(captureModel(*f.model, f.method->layerStates(), "sq", {0.0f}, {1.0f}));
    for (std::size_t i : {std::size_t{24}, good.size() / 2, good.size() - 5}) {
        std::string bad = good;
        bad[i] = static_cast<char>(bad[i] ^ 0x01);
        const QString error = errorOf(bad, "/tmp/x/model.sqm");
        QVERIFY2(error.startsWith("/tmp/x/model.sqm: CRC-32 mismatch"), qPrintable(error));
        QVERIFY2(error.contains("corrupt"), qPrintable(error));
    }
}

void TestModelFile::everyTruncationIsRefused()
{
    QuantizedFixture f = makeQuantized("conv 2 3x3, bn, relu, dense 3", {1, 4, 4}, 3, QuantMode::Sq, {}, {0.8, 1.5}, 5);
    const std::string good = encodeModelFile(captureModel(*f.model, f.method->layerStates(), "sq", {0.0f}, {1.0f}));
    QVERIFY(errorOf(good).isEmpty());
    for (std::size_t n = 0; n < good.size(); ++n) {
        const QString error = errorOf(good.substr(0, n));
        QVERIFY2(error.startsWith("m.sqm: truncated model file ("),
                 qPrintable(QString("prefix of %1 bytes: '%2'").arg(n).arg(error)));
    }
    QVERIFY(errorOf(good + '\0').contains("unexpected bytes after the end"));
}

void TestModelFile::wrongMagic()
{
    std::string bytes = encodeModelFile(tinyModel());
    bytes[1] = 'P';
    QCOMPARE(errorOf(bytes), QString("m.sqm: not an SQ Explorer model file (wrong magic bytes)"));
    QCOMPARE(errorOf("PK\x03\x04 a zip file"), QString("m.sqm: not an SQ Explorer model file (wrong magic bytes)"));
    QCOMPARE(errorOf("SQM"), QString("m.sqm: not an SQ Explorer model file (wrong magic bytes)"));
}

void TestModelFile::newerVersion()
{
    std::string bytes = encodeModelFile(tinyModel());
    putU32(bytes, 8, kModelFileVersion + 1);
    // Refused as newer whatever follows: a newer layout is not this one, so its CRC is not checked.
    const QString expected = QString("m.sqm: model file format version %1 is newer than this program supports "
                                     "(version %2); update SQ Explorer to read it")
                                 .arg(kModelFileVersion + 1)
                                 .arg(kModelFileVersion);
    QCOMPARE(errorOf(bytes), expected);
    fixCrc(bytes);
    QCOMPARE(errorOf(bytes), expected);
}

void TestModelFile::codesOutsideTheTable()
{
    std::string bytes = encodeModelFile(tinyModel());
    const std::size_t at = bytes.size() - kTinyCodesFromEnd;
    QCOMPARE(static_cast<unsigned char>(bytes[at]), 0x64u); // codes 0,1,2,1
    bytes[at] = static_cast<char>(0x74);                     // codes 0,1,3,1: 3 is past the 3 levels
    fixCrc(bytes);
    const QString error = errorOf(bytes);
    QVERIFY2(error.startsWith("m.sqm: malformed model file: dense1: weight 2 has code 3, outside its table of 3 "
                              "levels"),
             qPrintable(error));
}

void TestModelFile::absurdSizesBeforeAllocating()
{
    const std::string good = encodeModelFile(tinyModel());
    // The weight count (u64 before the level count) claims 2^40 weights.
    std::string bytes = good;
    const std::size_t count = good.size() - kTinyCodesFromEnd - 12 - 4 - 8;
    QCOMPARE(static_cast<unsigned char>(bytes[count]), 4u);
    bytes[count + 5] = 1;
    fixCrc(bytes);
    QVERIFY2(errorOf(bytes).contains("do not fit in the"), qPrintable(errorOf(bytes)));

    // A body length of 2^40 bytes in the header.
    bytes = good;
    bytes[16 + 5] = 1;
    QVERIFY2(errorOf(bytes).contains("over 1 GiB"), qPrintable(errorOf(bytes)));

    // An architecture of gigabytes whose tensors are not in the file is refused before building it.
    StoredModel m = tinyModel();
    m.architecture = "dense 65536, dense 65536, dense 2";
    QVERIFY2(errorOf(encodeModelFile(m)).contains("does not match its architecture"),
             qPrintable(errorOf(encodeModelFile(m))));
}

void TestModelFile::architectureMismatch()
{
    StoredModel m = tinyModel();
    m.architecture = "dense 3, dense 2";
    QString error = errorOf(encodeModelFile(m));
    QVERIFY2(error.startsWith("m.sqm: the stored model does not match its architecture"), qPrintable(error));

    m = tinyModel();
    m.weights[0].name = "conv1";
    error = errorOf(encodeModelFile(m));
    QVERIFY2(error.contains("stored weight conv1"), qPrintable(error));

    m = tinyModel();
    m.classes = 3;
    QVERIFY(errorOf(encodeModelFile(m)).startsWith("m.sqm: the stored model does not match its architecture"));
}

void TestModelFile::failedLoadLeavesTargetUnchanged()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("model.sqm").toStdString();
    StoredModel target = tinyModel();
    target.method = "the model in memory";
    const StoredModel before = target;

    std::string bytes = encodeModelFile(tinyModel());
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x40);
    {
        std::ofstream out(path, std::ios::binary);
        out << bytes;
    }
    try {
        target = readModelFile(path);
        QFAIL("a corrupt file loaded");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).startsWith(QString::fromStdString(path) + ": CRC-32 mismatch"), e.what());
    }
    compareStored(target, before);
}

void TestModelFile::missingFileAndFailedWrite()
{
    QTemporaryDir dir;
    const std::string missing = dir.filePath("nothing.sqm").toStdString();
    try {
        readModelFile(missing);
        QFAIL("a missing file loaded");
    } catch (const Error& e) {
        QCOMPARE(QString(e.what()), QString::fromStdString(missing + ": model file does not exist"));
    }
    // A write that cannot happen leaves the old file as it was.
    const std::string path = dir.filePath("model.sqm").toStdString();
    writeModelFile(path, tinyModel());
    const StoredModel old = readModelFile(path);
    StoredModel bad = tinyModel();
    bad.weights[0].codes[0] = 7; // outside its table: refused while encoding, before any write
    QVERIFY_THROWS_EXCEPTION(Error, writeModelFile(path, bad));
    compareStored(readModelFile(path), old);
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{"model.sqm"});
}

QTEST_GUILESS_MAIN(TestModelFile)
#include "test_model_file.moc"
