// Model presets (SPEC §5 shapes), the architecture text parser and its errors, forward/backward
// through a whole model.
#include "core/architecture.h"
#include "core/error.h"
#include "core/loss.h"

#include <QtTest>

using namespace sq;

class TestModel : public QObject {
    Q_OBJECT

private slots:
    void presets_data();
    void presets();
    void presetRefusesOtherInputs();
    void architectureText();
    void architectureErrors_data();
    void architectureErrors();
    void modelGradientMatchesFiniteDifferences();
};

void TestModel::presets_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QList<int>>("input");
    QTest::addColumn<int>("weights");
    QTest::addColumn<int>("parameters");
    QTest::addColumn<QStringList>("quantized");
    // mlp: 784*256 + 256*256 + 256*10 weights; biases and BatchNorm gamma/beta on top.
    QTest::addRow("mlp") << "mlp" << QList<int>{1, 28, 28} << 268800 << 270346
                         << QStringList{"dense1", "dense2", "dense3"};
    // lenet5: 6*25 + 16*6*25 + 400*120 + 120*84 + 84*10.
    QTest::addRow("lenet5") << "lenet5" << QList<int>{1, 28, 28} << 61470 << 61706
                            << QStringList{"conv1", "conv2", "dense1", "dense2", "dense3"};
    // vgg-small: 3*64*9 + 64*64*9 + 64*128*9 + 128*128*9 + 128*256*9 + 256*256*9 + 4096*10.
    QTest::addRow("vgg-small") << "vgg-small" << QList<int>{3, 32, 32} << 1185472
                               << 1185472 + (64 + 64 + 128 + 128 + 256 + 256) * 3 + 10
                               << QStringList{"conv1", "conv2", "conv3", "conv4", "conv5", "conv6", "dense1"};
}

void TestModel::presets()
{
    QFETCH(QString, name);
    QFETCH(QList<int>, input);
    QFETCH(int, weights);
    QFETCH(int, parameters);
    QFETCH(QStringList, quantized);
    const std::vector<int> shape(input.begin(), input.end());
    Model model = buildPreset(name.toStdString(), shape, 10);
    QCOMPARE(static_cast<int>(model.weightCount()), weights);
    QCOMPARE(static_cast<int>(model.parameterCount()), parameters);
    QStringList names;
    for (const auto& t : model.quantTargets())
        names << QString::fromStdString(t.name);
    QCOMPARE(names, quantized);
    QCOMPARE(model.outputs(), 10);

    Rng rng(1);
    model.initialize(rng);
    std::vector<int> batch = {2};
    batch.insert(batch.end(), shape.begin(), shape.end());
    Tensor x(batch);
    for (std::size_t i = 0; i < x.size(); ++i)
        x[i] = rng.normal();
    const Tensor& logits = model.forward(x, Pass::Train);
    QCOMPARE(logits.shape(), (std::vector<int>{2, 10}));
    QVERIFY(logits.vec().allFinite());
}

void TestModel::presetRefusesOtherInputs()
{
    try {
        buildPreset("vgg-small", {1, 28, 28}, 10);
        QFAIL("vgg-small accepted 1x28x28 inputs");
    } catch (const Error& e) {
        QVERIFY2(std::string(e.what()).find("(3, 32, 32)") != std::string::npos, e.what());
    }
    QVERIFY_EXCEPTION_THROWN(presetArchitecture("resnet"), Error);
}

void TestModel::architectureText()
{
    const auto specs = parseArchitecture("conv 32 3x3 pad 1, bn, relu, maxpool 2, dense 10");
    QCOMPARE(specs.size(), std::size_t(5));
    QCOMPARE(specs[0].kind, std::string("conv"));
    QCOMPARE(specs[0].size, 32);
    QCOMPARE(specs[0].kernel, 3);
    QCOMPARE(specs[0].padding, 1);
    QCOMPARE(specs[0].stride, 1);
    QCOMPARE(specs[3].kind, std::string("maxpool"));
    QCOMPARE(specs[3].stride, 2);
    // Case, extra spaces, new lines and a bare kernel size are all accepted.
    const auto other = parseArchitecture("  CONV 8 5 stride 2\n BatchNorm ;relu,  dense 10 ");
    QCOMPARE(other.size(), std::size_t(4));
    QCOMPARE(other[0].kernel, 5);
    QCOMPARE(other[0].stride, 2);
    QCOMPARE(other[1].kind, std::string("bn"));

    Model model = buildModel("conv 32 3x3 pad 1, bn, relu, maxpool 2, dense 10", {1, 28, 28}, 10);
    QCOMPARE(static_cast<int>(model.weightCount()), 32 * 9 + 32 * 14 * 14 * 10);
}

void TestModel::architectureErrors_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected"); // a fragment the message must contain
    QTest::addRow("unknown layer") << "dense 64, softmax, dense 10" << "item 2 'softmax': unknown layer";
    QTest::addRow("missing units") << "dense" << "expected 'dense N'";
    QTest::addRow("not a number") << "dense ten" << "whole number";
    QTest::addRow("zero units") << "dense 0" << "must be in [1, 65536]";
    QTest::addRow("absurd units") << "dense 2000000000" << "must be in [1, 65536]";
    QTest::addRow("pad without value") << "conv 32 3x3 pad, dense 10" << "'pad' needs a number";
    QTest::addRow("non-square kernel") << "conv 8 3x5, dense 10" << "only square kernels";
    QTest::addRow("unknown option") << "conv 8 3x3 dilation 2, dense 10" << "unexpected 'dilation'";
    QTest::addRow("empty item") << "dense 64,, dense 10" << "empty item";
    QTest::addRow("relu with argument") << "relu 3, dense 10" << "takes no arguments";
    QTest::addRow("conv after flatten") << "flatten, conv 8 3x3, dense 10" << "needs an image input";
    QTest::addRow("kernel larger than input") << "conv 8 31x31, dense 10" << "item 1";
    QTest::addRow("wrong class count") << "dense 64, relu, dense 7" << "10 classes";
    QTest::addRow("empty text") << "" << "empty item";
    // Refused before anything is allocated: ~4.3 G parameters, and 33 M activations per sample.
    QTest::addRow("too many parameters") << "dense 65536, dense 65536, dense 10" << "item 2 'dense 65536': the model would have more than 64 million parameters";
    QTest::addRow("huge activations") << "conv 4096 1x1 pad 31, conv 4096 1x1 pad 31, dense 10"
                                      << "item 1 'conv 4096 1x1 pad 31': outputs (4096, 90, 90)";
}

void TestModel::architectureErrors()
{
    QFETCH(QString, text);
    QFETCH(QString, expected);
    try {
        buildModel(text.toStdString(), {1, 28, 28}, 10);
        QFAIL("no error");
    } catch (const Error& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(expected), e.what());
        QVERIFY2(QString::fromUtf8(e.what()).startsWith("--arch"), e.what());
    }
}

// The whole chain (conv, pool, dense, BN, ReLU, softmax cross-entropy) against central
// differences of the loss, on a few sampled weights.
void TestModel::modelGradientMatchesFiniteDifferences()
{
    Model model = buildModel("conv 3 3x3 pad 1, relu, maxpool 2, bn, dense 5, relu, dense 4", {2, 6, 6}, 4);
    Rng rng(11);
    model.initialize(rng);
    Tensor x({5, 2, 6, 6});
    for (std::size_t i = 0; i < x.size(); ++i)
        x[i] = rng.normal();
    const std::vector<int> labels = {0, 1, 2, 3, 1};
    Tensor grad;
    auto lossAt = [&]() {
        Tensor g;
        return softmaxCrossEntropy(model.forward(x, Pass::Train), labels, g).loss;
    };
    softmaxCrossEntropy(model.forward(x, Pass::Train), labels, grad);
    model.backward(x, grad);
    int checked = 0;
    for (Param* p : model.params()) {
        const Tensor analytic = p->grad;
        for (std::size_t i = 0; i < p->value.size(); i += 7) {
            const float saved = p->value[i];
            const float h = 3e-3f;
            auto lossWith = [&](float v) {
                p->value[i] = v;
                const double l = lossAt();
                p->value[i] = saved;
                return l;
            };
            const double up = lossWith(saved + h);
            const double down = lossWith(saved - h);
            const double mid = lossAt();
            const double numeric = (up - down) / (2.0 * h);
            // Skip coordinates whose step crosses a ReLU or max-pool kink: there the slopes on
            // the two sides disagree.
            const double right = (up - mid) / h;
            const double left = (mid - down) / h;
            if (std::abs(right - left) > 0.02 * std::max(0.01, std::abs(numeric)))
                continue;
            QVERIFY2(std::abs(numeric - analytic[i]) <= 2e-2 * std::max(0.05, std::abs(numeric)),
                     qPrintable(QStringLiteral("%1[%2]: analytic %3, numeric %4")
                                    .arg(QString::fromStdString(p->name)).arg(i).arg(analytic[i]).arg(numeric)));
            ++checked;
        }
    }
    QVERIFY2(checked > 20, "too few coordinates were away from kinks");
}

QTEST_GUILESS_MAIN(TestModel)
#include "test_model.moc"
