// Tests of the layers: gradient checks, hand-worked forward cases, BatchNorm statistics, quantized weights.
#include "core/grad_check.h"

#include "core/error.h"
#include "core/gemm.h"
#include "core/layers/activation.h"
#include "core/layers/batchnorm.h"
#include "core/layers/conv2d.h"
#include "core/layers/dense.h"
#include "core/layers/flatten.h"
#include "core/layers/maxpool2d.h"

#include <QtTest>

#include "core/parallel.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>

using namespace sq;
using sq::testing::checkLayerGradients;
using sq::testing::GradCheckOptions;

namespace {

Tensor makeTensor(std::vector<int> shape, const std::vector<float>& values)
{
    Tensor t(std::move(shape));
    if (t.size() != values.size())
        qFatal("makeTensor: %zu values for %zu elements", values.size(), t.size());
    std::copy(values.begin(), values.end(), t.data());
    return t;
}

Tensor randomTensor(std::vector<int> shape, Rng& rng, float lo = -1.0f, float hi = 1.0f)
{
    Tensor t(std::move(shape));
    for (std::size_t i = 0; i < t.size(); ++i)
        t[i] = rng.uniform(lo, hi);
    return t;
}

// Whether |a - b| <= tol everywhere; if not, the message names the worst place.
bool near(const Tensor& a, const Tensor& b, double tol, QByteArray* message)
{
    if (a.shape() != b.shape()) {
        *message = QByteArray::fromStdString("shapes differ: " + a.shapeString() + " vs " + b.shapeString());
        return false;
    }
    double worst = 0.0;
    std::size_t at = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double d = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
        if (!(d <= worst)) { // also catches NaN
            worst = d;
            at = i;
        }
    }
    if (worst <= tol)
        return true;
    *message = QByteArray("max |diff| ") + QByteArray::number(worst) + " at flat index " + QByteArray::number(at)
               + ": " + QByteArray::number(a[at]) + " vs " + QByteArray::number(b[at]);
    return false;
}

#define VERIFY_NEAR(a, b, tol)                                                                                    \
    do {                                                                                                          \
        QByteArray nearMessage;                                                                                   \
        QVERIFY2(near((a), (b), (tol), &nearMessage), nearMessage.constData());                                  \
    } while (false)

#define VERIFY_GRADIENTS(result)                                                                                  \
    do {                                                                                                          \
        const auto gradResult = (result);                                                                         \
        QVERIFY2(gradResult.ok, gradResult.summary().c_str());                                                    \
    } while (false)

// Direct convolution in double, the reference for Conv2D's im2col + GEMM.
Tensor directConv(const Tensor& x, const Tensor& w, const Tensor& b, int stride, int pad)
{
    const int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
    const int o = w.dim(0), k = w.dim(2);
    const int oh = (h + 2 * pad - k) / stride + 1, ow = (wd + 2 * pad - k) / stride + 1;
    Tensor y({n, o, oh, ow});
    for (int s = 0; s < n; ++s)
        for (int oc = 0; oc < o; ++oc)
            for (int i = 0; i < oh; ++i)
                for (int j = 0; j < ow; ++j) {
                    double sum = b[static_cast<std::size_t>(oc)];
                    for (int ic = 0; ic < c; ++ic)
                        for (int a = 0; a < k; ++a)
                            for (int e = 0; e < k; ++e) {
                                const int yy = i * stride - pad + a, xx = j * stride - pad + e;
                                if (yy < 0 || yy >= h || xx < 0 || xx >= wd)
                                    continue;
                                sum += static_cast<double>(x[static_cast<std::size_t>(((s * c + ic) * h + yy) * wd + xx)])
                                       * w[static_cast<std::size_t>(((oc * c + ic) * k + a) * k + e)];
                            }
                    y[static_cast<std::size_t>(((s * o + oc) * oh + i) * ow + j)] = static_cast<float>(sum);
                }
    return y;
}

// Per-channel batch mean and variance (biased or not) in double, the reference for BatchNorm.
void channelStats(const Tensor& x, int channel, bool unbiased, double* mean, double* var)
{
    const int n = x.dim(0), c = x.dim(1);
    const int s = static_cast<int>(x.sampleSize()) / c;
    double sum = 0.0;
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < s; ++j)
            sum += x[static_cast<std::size_t>((i * c + channel) * s + j)];
    const double m = static_cast<double>(n) * s;
    *mean = sum / m;
    double sq = 0.0;
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < s; ++j) {
            const double d = x[static_cast<std::size_t>((i * c + channel) * s + j)] - *mean;
            sq += d * d;
        }
    *var = sq / (unbiased ? m - 1.0 : m);
}

// Wraps a layer and damages its backward() in one way, to prove the checker notices.
class BrokenLayer final : public Layer {
public:
    enum class Damage { ParamGradTwoPercentOff, InputGradTwoPercentOff, GradNotWritten, GradAccumulated };

    BrokenLayer(Layer& inner, Damage damage) : inner_(inner), damage_(damage) {}

    std::string kind() const override { return inner_.kind(); }
    std::string describe() const override { return "broken " + inner_.describe(); }
    std::vector<int> outputShape(const std::vector<int>& s) const override { return inner_.outputShape(s); }
    void forward(const Tensor& in, Tensor& out, Pass pass) override { inner_.forward(in, out, pass); }
    void backward(const Tensor& in, const Tensor& out, const Tensor& gradOut, Tensor* gradIn) override
    {
        Param* first = inner_.params()[0];
        Param* second = inner_.params()[1];
        const Tensor before = second->grad;
        inner_.backward(in, out, gradOut, gradIn);
        switch (damage_) {
        case Damage::ParamGradTwoPercentOff:
            // A single coordinate 2% off: smaller than most real bugs.
            first->grad[3] *= 1.02f;
            break;
        case Damage::InputGradTwoPercentOff:
            (*gradIn)[gradIn->size() / 2] *= 1.02f;
            break;
        case Damage::GradNotWritten:
            second->grad = before;
            break;
        case Damage::GradAccumulated:
            second->grad.vec() += before.vec();
            break;
        }
    }
    std::vector<Param*> params() override { return inner_.params(); }
    QuantizableWeight* quantizableWeight() override { return inner_.quantizableWeight(); }

private:
    Layer& inner_;
    Damage damage_;
};

// Tolerances of the checks below, each about ten times the largest error observed, yet tight
// enough that a gradient 2% off at a single coordinate fails (checkerCatchesWrongGradients).
// Dense, Conv2D and Flatten are linear in every single coordinate, so the central difference has
// no truncation error and a large step only shrinks the float roundoff (observed |diff| <= 1.5e-5).
GradCheckOptions linearOptions()
{
    GradCheckOptions o;
    o.step = 1.0f / 16;
    o.relTolerance = 5e-4;
    o.absTolerance = 5e-5;
    return o;
}

// ReLU and MaxPool2D are linear too, but only between their kinks: a small step keeps the number
// of coordinates skipped near a kink or a near-tie low.
GradCheckOptions kinkedOptions()
{
    GradCheckOptions o = linearOptions();
    o.step = 1.0f / 64;
    return o;
}

// BatchNorm is nonlinear in its input and gamma (it divides by the batch's standard deviation):
// the 4-point stencil. Each input moves every output of its channel, so roundoff dominates below
// h = 1/32 and truncation above it (h = 1/16 fails on a batch of 2); observed |diff| <= 3e-5.
GradCheckOptions batchNormOptions()
{
    GradCheckOptions o;
    o.step = 1.0f / 32;
    o.fourPoint = true;
    o.relTolerance = 2e-3;
    o.absTolerance = 2e-4;
    return o;
}

void randomizeBatchNorm(BatchNorm& bn, Rng& rng)
{
    auto params = bn.params();
    for (std::size_t i = 0; i < params[0]->value.size(); ++i)
        params[0]->value[i] = rng.uniform(0.5f, 1.5f);
    for (std::size_t i = 0; i < params[1]->value.size(); ++i)
        params[1]->value[i] = rng.uniform(-0.5f, 0.5f);
}

} // namespace

Q_DECLARE_METATYPE(std::vector<int>)
Q_DECLARE_METATYPE(std::vector<float>)

class TestLayers : public QObject {
    Q_OBJECT

private slots:
    // ---- the checker itself ------------------------------------------------------------------
    void checkerCatchesWrongGradients_data();
    void checkerCatchesWrongGradients();

    // ---- gradient checks ---------------------------------------------------------------------
    void gradDense_data();
    void gradDense();
    void gradConv_data();
    void gradConv();
    void gradMaxPool_data();
    void gradMaxPool();
    void gradBatchNorm_data();
    void gradBatchNorm();
    void gradRelu();
    void gradFlatten();
    void gradQuantized_data();
    void gradQuantized();

    // ---- the matrix product under every layer ------------------------------------------------
    void gemmMatchesNaiveProduct_data();
    void gemmMatchesNaiveProduct();

    // ---- forward values ----------------------------------------------------------------------
    void denseKnownForward();
    void reluAndFlattenKnown();
    void convKnownForward_data();
    void convKnownForward();
    void convMultiChannelKnownForward();
    void convMatchesDirectConvolution_data();
    void convMatchesDirectConvolution();
    void convThreadCountInvariant();
    void maxPoolKnownForwardAndBackward();
    void maxPoolEvalKeepsTrainArgmax();
    void maxPoolPropagatesNaN();
    void maxPoolThreadCountInvariant();
    void batchNormKnownBatch();
    void batchNormSpatialKnownBatch();
    void batchNormEvalUsesRunningStats();
    void batchNormRecalibrateAverages();
    void batchNormRefusesSingleValue();
    void quantizedWeights_data();
    void quantizedWeights();

    // ---- construction, shapes and errors -----------------------------------------------------
    void describeAndKind();
    void parametersAndInit();
    void outputShapes();
    void outputShapeErrors_data();
    void outputShapeErrors();
    void constructorErrors();
};

// ---- the checker itself ------------------------------------------------------------------------

void TestLayers::checkerCatchesWrongGradients_data()
{
    QTest::addColumn<int>("damage");
    QTest::addColumn<QString>("layer");
    using D = BrokenLayer::Damage;
    for (const char* layer : {"dense", "conv", "bn"}) {
        QTest::addRow("%s: first parameter's grad 2%% off at one entry", layer)
            << int(D::ParamGradTwoPercentOff) << QString(layer);
        QTest::addRow("%s: input grad 2%% off at one entry", layer) << int(D::InputGradTwoPercentOff)
                                                                   << QString(layer);
        QTest::addRow("%s: second parameter's grad not written", layer) << int(D::GradNotWritten) << QString(layer);
        QTest::addRow("%s: second parameter's grad accumulated", layer) << int(D::GradAccumulated) << QString(layer);
    }
}

void TestLayers::checkerCatchesWrongGradients()
{
    QFETCH(int, damage);
    QFETCH(QString, layer);
    Rng rng(7);
    std::unique_ptr<Layer> inner;
    Tensor input;
    GradCheckOptions options = linearOptions();
    if (layer == "conv") {
        inner = std::make_unique<Conv2D>(2, 3, 3, 1, 1);
        inner->initialize(rng);
        input = randomTensor({2, 2, 5, 5}, rng);
    } else if (layer == "dense") {
        inner = std::make_unique<Dense>(6, 4);
        inner->initialize(rng);
        input = randomTensor({3, 6}, rng);
    } else {
        auto bn = std::make_unique<BatchNorm>(5);
        randomizeBatchNorm(*bn, rng);
        inner = std::move(bn);
        input = randomTensor({2, 5, 2, 3}, rng);
        options = batchNormOptions();
    }
    // Sanity: the intact layer passes with the same options.
    VERIFY_GRADIENTS(checkLayerGradients(*inner, input, options));
    BrokenLayer broken(*inner, static_cast<BrokenLayer::Damage>(damage));
    const auto result = checkLayerGradients(broken, input, options);
    QVERIFY2(!result.ok, ("the checker missed the damage: " + result.summary()).c_str());
}

// ---- gradient checks ---------------------------------------------------------------------------

void TestLayers::gradDense_data()
{
    QTest::addColumn<std::vector<int>>("inputShape");
    QTest::addColumn<int>("outFeatures");
    QTest::addRow("2x3 -> 4") << std::vector<int>{2, 3} << 4;
    QTest::addRow("5x7 -> 3") << std::vector<int>{5, 7} << 3;
    QTest::addRow("1x1 -> 1") << std::vector<int>{1, 1} << 1;
    QTest::addRow("image input 2x(2,2,3) -> 5") << std::vector<int>{2, 2, 2, 3} << 5;
}

void TestLayers::gradDense()
{
    QFETCH(std::vector<int>, inputShape);
    QFETCH(int, outFeatures);
    Rng rng(11);
    int features = 1;
    for (std::size_t i = 1; i < inputShape.size(); ++i)
        features *= inputShape[i];
    Dense dense(features, outFeatures);
    dense.initialize(rng);
    VERIFY_GRADIENTS(checkLayerGradients(dense, randomTensor(inputShape, rng), linearOptions()));
}

void TestLayers::gradConv_data()
{
    QTest::addColumn<std::vector<int>>("inputShape"); // N, C, H, W
    QTest::addColumn<int>("outChannels");
    QTest::addColumn<int>("kernel");
    QTest::addColumn<int>("stride");
    QTest::addColumn<int>("padding");
    QTest::addColumn<int>("maxCoordinates");
    QTest::addRow("1ch k3 s1 p0 5x6") << std::vector<int>{2, 1, 5, 6} << 2 << 3 << 1 << 0 << 0;
    QTest::addRow("3ch k3 s1 p1 6x5") << std::vector<int>{2, 3, 6, 5} << 4 << 3 << 1 << 1 << 0;
    QTest::addRow("3ch k3 s2 p1 7x6") << std::vector<int>{2, 3, 7, 6} << 3 << 3 << 2 << 1 << 0;
    QTest::addRow("1ch k5 s1 p2 6x7") << std::vector<int>{2, 1, 6, 7} << 3 << 5 << 1 << 2 << 0;
    QTest::addRow("3ch k2 s2 p0 6x8") << std::vector<int>{3, 3, 6, 8} << 2 << 2 << 2 << 0 << 0;
    QTest::addRow("3ch k3 s2 p2 5x5") << std::vector<int>{2, 3, 5, 5} << 2 << 3 << 2 << 2 << 0;
    QTest::addRow("3ch k4 s3 p1 8x7") << std::vector<int>{2, 3, 8, 7} << 2 << 4 << 3 << 1 << 0;
    QTest::addRow("1ch k1 s1 p0 4x3") << std::vector<int>{2, 1, 4, 3} << 3 << 1 << 1 << 0 << 0;
    QTest::addRow("kernel larger than input, 1x1 out") << std::vector<int>{1, 2, 3, 3} << 2 << 5 << 1 << 1 << 0;
    // 45 samples of 10x10 outputs span three GEMM chunks (about 2048 columns each) with a remainder.
    QTest::addRow("3 chunks, sampled") << std::vector<int>{45, 2, 10, 10} << 3 << 3 << 1 << 1 << 150;
}

void TestLayers::gradConv()
{
    QFETCH(std::vector<int>, inputShape);
    QFETCH(int, outChannels);
    QFETCH(int, kernel);
    QFETCH(int, stride);
    QFETCH(int, padding);
    QFETCH(int, maxCoordinates);
    Rng rng(13);
    Conv2D conv(inputShape[1], outChannels, kernel, stride, padding);
    conv.initialize(rng);
    GradCheckOptions options = linearOptions();
    options.maxCoordinates = maxCoordinates;
    VERIFY_GRADIENTS(checkLayerGradients(conv, randomTensor(inputShape, rng), options));
}

void TestLayers::gradMaxPool_data()
{
    QTest::addColumn<std::vector<int>>("inputShape");
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("stride");
    QTest::addColumn<bool>("ties"); // inputs drawn from {0, 1}: many ties, checked where there are none
    QTest::addRow("2 s2 on 4x4") << std::vector<int>{2, 3, 4, 4} << 2 << 2 << false;
    QTest::addRow("2 s2 on 5x7 (floor)") << std::vector<int>{2, 2, 5, 7} << 2 << 2 << false;
    QTest::addRow("3 s2 overlapping on 7x7") << std::vector<int>{2, 2, 7, 7} << 3 << 2 << false;
    QTest::addRow("3 s1 overlapping on 5x6") << std::vector<int>{1, 2, 5, 6} << 3 << 1 << false;
    QTest::addRow("1 s1 (identity)") << std::vector<int>{1, 2, 3, 3} << 1 << 1 << false;
    QTest::addRow("2 s2 with ties") << std::vector<int>{2, 3, 6, 6} << 2 << 2 << true;
}

void TestLayers::gradMaxPool()
{
    QFETCH(std::vector<int>, inputShape);
    QFETCH(int, size);
    QFETCH(int, stride);
    QFETCH(bool, ties);
    Rng rng(17);
    Tensor input(inputShape);
    if (ties) {
        for (std::size_t i = 0; i < input.size(); ++i)
            input[i] = static_cast<float>(rng.below(2));
    } else {
        // Distinct values at least 0.05 apart, so no perturbation changes a window's winner.
        std::vector<int> order(input.size());
        std::iota(order.begin(), order.end(), 0);
        rng.shuffle(order);
        for (std::size_t i = 0; i < input.size(); ++i)
            input[i] = 0.05f * static_cast<float>(order[i]) - 1.0f;
    }
    MaxPool2D pool(size, stride);
    GradCheckOptions options = kinkedOptions();
    options.skip = sq::testing::skipMaxPoolTies(input, size, stride, 2 * options.step);
    const auto result = checkLayerGradients(pool, input, options);
    VERIFY_GRADIENTS(result);
    if (!ties)
        QCOMPARE(result.skipped, 0);
    else
        QVERIFY2(result.skipped > 0 && result.checked > 0, result.summary().c_str());
}

void TestLayers::gradBatchNorm_data()
{
    QTest::addColumn<std::vector<int>>("inputShape");
    QTest::addColumn<float>("offset"); // added to the input: a large mean must not hurt
    QTest::addRow("dense 8x5") << std::vector<int>{8, 5} << 0.0f;
    QTest::addRow("dense 2x3 (smallest batch)") << std::vector<int>{2, 3} << 0.0f;
    QTest::addRow("spatial 3x4x3x5") << std::vector<int>{3, 4, 3, 5} << 0.0f;
    QTest::addRow("spatial single sample 1x2x3x3") << std::vector<int>{1, 2, 3, 3} << 0.0f;
    QTest::addRow("spatial 1x1 images 4x2x1x1") << std::vector<int>{4, 2, 1, 1} << 0.0f;
    QTest::addRow("spatial mean 20 2x3x2x3") << std::vector<int>{2, 3, 2, 3} << 20.0f;
}

void TestLayers::gradBatchNorm()
{
    QFETCH(std::vector<int>, inputShape);
    QFETCH(float, offset);
    Rng rng(19);
    BatchNorm bn(inputShape[1]);
    randomizeBatchNorm(bn, rng);
    Tensor input = randomTensor(inputShape, rng);
    for (std::size_t i = 0; i < input.size(); ++i)
        input[i] += offset;
    VERIFY_GRADIENTS(checkLayerGradients(bn, input, batchNormOptions()));
}

void TestLayers::gradRelu()
{
    Rng rng(23);
    const Tensor input = randomTensor({3, 2, 4, 5}, rng);
    ReLU relu;
    GradCheckOptions options = kinkedOptions();
    options.skip = sq::testing::skipReluKinks(input, 2 * options.step);
    const auto result = checkLayerGradients(relu, input, options);
    VERIFY_GRADIENTS(result);
    QVERIFY2(result.checked > 100, result.summary().c_str());
}

void TestLayers::gradFlatten()
{
    Rng rng(29);
    Flatten flatten;
    VERIFY_GRADIENTS(checkLayerGradients(flatten, randomTensor({2, 3, 2, 4}, rng), linearOptions()));
}

void TestLayers::gradQuantized_data()
{
    QTest::addColumn<bool>("conv");
    QTest::addRow("dense") << false;
    QTest::addRow("conv") << true;
}

// With quantized weights in use, param.grad must be dL/dq(w) (the straight-through estimator):
// the checker then perturbs the quantized tensor.
void TestLayers::gradQuantized()
{
    QFETCH(bool, conv);
    Rng rng(31);
    std::unique_ptr<Layer> layer;
    Tensor input;
    if (conv) {
        layer = std::make_unique<Conv2D>(2, 3, 3, 2, 1);
        input = randomTensor({2, 2, 5, 6}, rng);
    } else {
        layer = std::make_unique<Dense>(5, 4);
        input = randomTensor({3, 5}, rng);
    }
    layer->initialize(rng);
    QuantizableWeight& w = *layer->quantizableWeight();
    w.quantized = w.param.value;
    for (std::size_t i = 0; i < w.quantized.size(); ++i)
        w.quantized[i] = w.quantized[i] >= 0.0f ? 0.25f : -0.25f;
    w.useQuantized = true;
    VERIFY_GRADIENTS(checkLayerGradients(*layer, input, linearOptions()));
}

// ---- the matrix product under every layer -------------------------------------------------------

void TestLayers::gemmMatchesNaiveProduct_data()
{
    QTest::addColumn<bool>("transA");
    QTest::addColumn<bool>("transB");
    QTest::addColumn<bool>("accumulate");
    for (int mask = 0; mask < 8; ++mask)
        QTest::addRow("A%s B%s %s", mask & 1 ? "T" : "", mask & 2 ? "T" : "", mask & 4 ? "+=" : "=")
            << bool(mask & 1) << bool(mask & 2) << bool(mask & 4);
}

// Every transpose combination, on sub-blocks of larger buffers (row strides beyond the width) and
// shapes that are not multiples of any SIMD width, against a plain triple loop in double.
void TestLayers::gemmMatchesNaiveProduct()
{
    QFETCH(bool, transA);
    QFETCH(bool, transB);
    QFETCH(bool, accumulate);
    const int m = 37, k = 53, n = 29, pad = 7;
    Rng rng(11);
    // Stored shapes: A is m x k (or k x m), B is k x n (or n x k); each row padded by `pad`.
    const int aRows = transA ? k : m, aCols = transA ? m : k;
    const int bRows = transB ? n : k, bCols = transB ? k : n;
    const Tensor a = randomTensor({aRows, aCols + pad}, rng);
    const Tensor b = randomTensor({bRows, bCols + pad}, rng);
    Tensor c = randomTensor({m, n + pad}, rng);
    const Tensor before = c;
    const auto stored = [](const Tensor& t, int cols, int r, int col) { return t[std::size_t(r) * cols + col]; };
    const auto opA = [&](int i, int p) { return transA ? stored(a, aCols + pad, p, i) : stored(a, aCols + pad, i, p); };
    const auto opB = [&](int p, int j) { return transB ? stored(b, bCols + pad, j, p) : stored(b, bCols + pad, p, j); };

    gemm({a.data(), aRows, aCols, aCols + pad}, transA ? Op::Transpose : Op::None,
         {b.data(), bRows, bCols, bCols + pad}, transB ? Op::Transpose : Op::None, c.data(), n + pad,
         accumulate ? Accumulate::Yes : Accumulate::No);

    for (int i = 0; i < m; ++i) {
        for (int j = 0; j < n + pad; ++j) {
            const std::size_t idx = std::size_t(i) * (n + pad) + j;
            if (j >= n) { // the padding of C is never written
                QCOMPARE(c[idx], before[idx]);
                continue;
            }
            double expected = accumulate ? before[idx] : 0.0;
            for (int p = 0; p < k; ++p)
                expected += double(opA(i, p)) * double(opB(p, j));
            if (std::abs(c[idx] - expected) > 1e-4 * (1.0 + std::abs(expected)))
                QFAIL(qPrintable(QString("C(%1,%2) = %3, expected %4").arg(i).arg(j).arg(c[idx]).arg(expected)));
        }
    }
}

// ---- forward values ----------------------------------------------------------------------------

void TestLayers::denseKnownForward()
{
    Dense dense(3, 2);
    auto params = dense.params();
    params[0]->value = makeTensor({2, 3}, {1, 2, 3, -1, 0, 1});
    params[1]->value = makeTensor({2}, {0.5f, -1});
    Tensor out;
    dense.forward(makeTensor({2, 3}, {1, 1, 1, 2, 0, -1}), out, Pass::Eval);
    // Row 1: 1+2+3+0.5 = 6.5 and -1+0+1-1 = -1; row 2: 2+0-3+0.5 = -0.5 and -2+0-1-1 = -4.
    VERIFY_NEAR(out, makeTensor({2, 2}, {6.5f, -1, -0.5f, -4}), 0.0);
}

void TestLayers::reluAndFlattenKnown()
{
    ReLU relu;
    const Tensor input = makeTensor({1, 2, 1, 3}, {-1.5f, 0.0f, 2.0f, 3.0f, -0.25f, 0.5f});
    Tensor out, gradIn;
    relu.forward(input, out, Pass::Train);
    VERIFY_NEAR(out, makeTensor({1, 2, 1, 3}, {0, 0, 2, 3, 0, 0.5f}), 0.0);
    // The derivative at exactly 0 is taken as 0, as in PyTorch.
    relu.backward(input, out, makeTensor({1, 2, 1, 3}, {1, 2, 3, 4, 5, 6}), &gradIn);
    VERIFY_NEAR(gradIn, makeTensor({1, 2, 1, 3}, {0, 0, 3, 4, 0, 6}), 0.0);

    Flatten flatten;
    QCOMPARE(flatten.outputShape({2, 1, 3}), std::vector<int>{6});
    flatten.forward(input, out, Pass::Train);
    VERIFY_NEAR(out, makeTensor({1, 6}, {-1.5f, 0.0f, 2.0f, 3.0f, -0.25f, 0.5f}), 0.0);
    flatten.backward(input, out, makeTensor({1, 6}, {1, 2, 3, 4, 5, 6}), &gradIn);
    VERIFY_NEAR(gradIn, makeTensor({1, 2, 1, 3}, {1, 2, 3, 4, 5, 6}), 0.0);
}

void TestLayers::convKnownForward_data()
{
    // All-ones 1-channel kernels, zero bias, on the 4x4 input 1..16 (row-major): each output is
    // the sum of its window (zeros in the padding).
    QTest::addColumn<int>("kernel");
    QTest::addColumn<int>("stride");
    QTest::addColumn<int>("padding");
    QTest::addColumn<std::vector<int>>("outputHW");
    QTest::addColumn<std::vector<float>>("expected");
    QTest::addRow("3x3 s1 p0") << 3 << 1 << 0 << std::vector<int>{2, 2}
                               << std::vector<float>{54, 63, 90, 99};
    QTest::addRow("3x3 s1 p1") << 3 << 1 << 1 << std::vector<int>{4, 4}
                               << std::vector<float>{14, 24, 30, 22, 33, 54, 63, 45, 57, 90, 99, 69, 46, 72, 78, 54};
    QTest::addRow("3x3 s2 p1") << 3 << 2 << 1 << std::vector<int>{2, 2} << std::vector<float>{14, 30, 57, 99};
    QTest::addRow("2x2 s2 p0") << 2 << 2 << 0 << std::vector<int>{2, 2} << std::vector<float>{14, 22, 46, 54};
    QTest::addRow("3x3 s3 p0 (floor)") << 3 << 3 << 0 << std::vector<int>{1, 1} << std::vector<float>{54};
}

void TestLayers::convKnownForward()
{
    QFETCH(int, kernel);
    QFETCH(int, stride);
    QFETCH(int, padding);
    QFETCH(std::vector<int>, outputHW);
    QFETCH(std::vector<float>, expected);
    Conv2D conv(1, 1, kernel, stride, padding);
    conv.params()[0]->value.fill(1.0f);
    Tensor input({1, 1, 4, 4});
    for (std::size_t i = 0; i < input.size(); ++i)
        input[i] = static_cast<float>(i + 1);
    Tensor out;
    conv.forward(input, out, Pass::Eval);
    VERIFY_NEAR(out, makeTensor({1, 1, outputHW[0], outputHW[1]}, expected), 0.0);
}

void TestLayers::convMultiChannelKnownForward()
{
    // Two input channels (1..16, and all 1), two output channels: output 0 sums channel 0's 2x2
    // windows and adds bias 0.5; output 1 weighs channel 1 by 2 and channel 0 by -1, bias -1.
    Conv2D conv(2, 2, 2, 2, 0);
    Tensor& w = conv.params()[0]->value; // (out, in, 2, 2)
    for (int i = 0; i < 4; ++i) {
        w[static_cast<std::size_t>(0 * 8 + 0 * 4 + i)] = 1.0f;
        w[static_cast<std::size_t>(0 * 8 + 1 * 4 + i)] = 0.0f;
        w[static_cast<std::size_t>(1 * 8 + 0 * 4 + i)] = -1.0f;
        w[static_cast<std::size_t>(1 * 8 + 1 * 4 + i)] = 2.0f;
    }
    conv.params()[1]->value = makeTensor({2}, {0.5f, -1.0f});
    Tensor input({2, 2, 4, 4});
    for (int s = 0; s < 2; ++s)
        for (int i = 0; i < 16; ++i) {
            input[static_cast<std::size_t>(s * 32 + i)] = static_cast<float>(i + 1) * (s == 0 ? 1.0f : -1.0f);
            input[static_cast<std::size_t>(s * 32 + 16 + i)] = 1.0f;
        }
    Tensor out;
    conv.forward(input, out, Pass::Eval);
    // Window sums of channel 0 are 14, 22, 46, 54 (negated for sample 1); channel 1 sums to 4.
    VERIFY_NEAR(out, makeTensor({2, 2, 2, 2}, {14.5f, 22.5f, 46.5f, 54.5f,    //
                                               -7.0f, -15.0f, -39.0f, -47.0f, //
                                               -13.5f, -21.5f, -45.5f, -53.5f, //
                                               21.0f, 29.0f, 53.0f, 61.0f}),
                0.0);
}

void TestLayers::convMatchesDirectConvolution_data()
{
    QTest::addColumn<std::vector<int>>("inputShape");
    QTest::addColumn<int>("outChannels");
    QTest::addColumn<int>("kernel");
    QTest::addColumn<int>("stride");
    QTest::addColumn<int>("padding");
    QTest::addRow("lenet conv1 28x28") << std::vector<int>{5, 1, 28, 28} << 6 << 5 << 1 << 2;
    QTest::addRow("8->16 3x3 pad 1 8x8") << std::vector<int>{6, 8, 8, 8} << 16 << 3 << 1 << 1;
    QTest::addRow("3 chunks 10x10 out") << std::vector<int>{45, 2, 10, 10} << 3 << 3 << 1 << 1;
    QTest::addRow("stride 2 pad 2 non-square") << std::vector<int>{7, 3, 9, 6} << 4 << 3 << 2 << 2;
    QTest::addRow("tiny images 2x2, 600 samples") << std::vector<int>{600, 4, 2, 2} << 5 << 3 << 1 << 1;
}

void TestLayers::convMatchesDirectConvolution()
{
    QFETCH(std::vector<int>, inputShape);
    QFETCH(int, outChannels);
    QFETCH(int, kernel);
    QFETCH(int, stride);
    QFETCH(int, padding);
    Rng rng(37);
    Conv2D conv(inputShape[1], outChannels, kernel, stride, padding);
    conv.initialize(rng);
    const Tensor input = randomTensor(inputShape, rng);
    const Tensor expected = directConv(input, conv.params()[0]->value, conv.params()[1]->value, stride, padding);
    // A smaller batch in between: the reused workspaces must not leak values across batch sizes.
    std::vector<int> smallShape = inputShape;
    smallShape[0] = 1;
    const Tensor small = randomTensor(smallShape, rng);
    Tensor out;
    for (int round = 0; round < 2; ++round) {
        conv.forward(input, out, Pass::Train);
        VERIFY_NEAR(out, expected, 1e-5);
        conv.forward(small, out, Pass::Train);
        VERIFY_NEAR(out, directConv(small, conv.params()[0]->value, conv.params()[1]->value, stride, padding), 1e-5);
    }
}

// A batch big enough for Conv2D to share its chunks out between threads: the results must match
// the direct convolution, a gradient check, and be bit-identical to a single-threaded run.
void TestLayers::convThreadCountInvariant()
{
    Rng rng(39);
    Conv2D conv(16, 16, 3, 1, 1);
    conv.initialize(rng);
    const Tensor input = randomTensor({32, 16, 12, 12}, rng);
    const Tensor gradOut = randomTensor({32, 16, 12, 12}, rng);
    const int savedThreads = sq::maxThreadCount();
    Tensor out[2], gradIn[2], gradW[2], gradB[2];
    for (int run = 0; run < 2; ++run) {
        sq::setThreadCount(run == 0 ? 1 : 2);
        conv.forward(input, out[run], Pass::Train);
        conv.backward(input, out[run], gradOut, &gradIn[run]);
        gradW[run] = conv.params()[0]->grad;
        gradB[run] = conv.params()[1]->grad;
    }
    GradCheckOptions options = linearOptions();
    options.maxCoordinates = 40;
    const auto check = checkLayerGradients(conv, input, options); // with 2 threads
    sq::setThreadCount(savedThreads);
    VERIFY_GRADIENTS(check);
    VERIFY_NEAR(out[0], directConv(input, conv.params()[0]->value, conv.params()[1]->value, 1, 1), 1e-5);
    VERIFY_NEAR(out[1], out[0], 0.0);
    VERIFY_NEAR(gradIn[1], gradIn[0], 0.0);
    VERIFY_NEAR(gradW[1], gradW[0], 0.0);
    VERIFY_NEAR(gradB[1], gradB[0], 0.0);
}

void TestLayers::maxPoolKnownForwardAndBackward()
{
    MaxPool2D pool(2);
    const Tensor input = makeTensor({1, 1, 4, 4}, {1, 3, 2, 0, //
                                                   4, 2, 1, 5, //
                                                   0, 7, 3, 3, //
                                                   6, 1, 3, 2});
    Tensor out;
    pool.forward(input, out, Pass::Train);
    VERIFY_NEAR(out, makeTensor({1, 1, 2, 2}, {4, 5, 7, 3}), 0.0);
    // The bottom-right window ties three 3s: the gradient goes to the first, (2, 2).
    Tensor gradIn;
    pool.backward(input, out, makeTensor({1, 1, 2, 2}, {10, 20, 30, 40}), &gradIn);
    VERIFY_NEAR(gradIn, makeTensor({1, 1, 4, 4}, {0, 0, 0, 0,   //
                                                  10, 0, 0, 20, //
                                                  0, 30, 40, 0, //
                                                  0, 0, 0, 0}),
                0.0);

    // Overlapping 3x3 windows with stride 1 that share their maximum: the gradients add up.
    MaxPool2D overlap(3, 1);
    const Tensor peak = makeTensor({1, 1, 4, 4}, {0, 0, 0, 0, //
                                                  0, 0, 9, 0, //
                                                  0, 0, 0, 0, //
                                                  0, 0, 0, 0});
    overlap.forward(peak, out, Pass::Train);
    VERIFY_NEAR(out, makeTensor({1, 1, 2, 2}, {9, 9, 9, 9}), 0.0);
    overlap.backward(peak, out, makeTensor({1, 1, 2, 2}, {1, 2, 3, 4}), &gradIn);
    QCOMPARE(gradIn[6], 10.0f);
    QCOMPARE(gradIn.vec().sum(), 10.0f);
}

void TestLayers::maxPoolEvalKeepsTrainArgmax()
{
    Rng rng(41);
    MaxPool2D pool(2);
    const Tensor trained = randomTensor({2, 2, 4, 4}, rng);
    Tensor out;
    pool.forward(trained, out, Pass::Train);
    Tensor expected;
    pool.backward(trained, out, out, &expected);
    Tensor other;
    pool.forward(randomTensor({3, 2, 6, 6}, rng), other, Pass::Eval); // must not disturb the Train state
    Tensor gradIn;
    pool.backward(trained, out, out, &gradIn);
    VERIFY_NEAR(gradIn, expected, 0.0);
}

// A NaN must not be hidden by a larger neighbour: a diverging network should show NaN.
void TestLayers::maxPoolPropagatesNaN()
{
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (int size : {2, 3}) { // 2 (stride 2) takes the 2x2 fast path, 3 the general one
        MaxPool2D pool(size);
        for (int at : {0, 1, 4}) { // inside the first window either way
            Tensor input = makeTensor({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
            input[static_cast<std::size_t>(at)] = nan;
            Tensor out;
            pool.forward(input, out, Pass::Train);
            QVERIFY2(std::isnan(out[0]), qPrintable(QString("size %1, NaN at %2").arg(size).arg(at)));
        }
    }
    MaxPool2D pool(2);
    Tensor out;
    pool.forward(makeTensor({1, 1, 2, 2}, {1, nan, 3, 2}), out, Pass::Eval);
    QVERIFY(std::isnan(out[0]));
}

// Large batches are pooled on several threads, plane by plane.
void TestLayers::maxPoolThreadCountInvariant()
{
    Rng rng(44);
    const Tensor input = randomTensor({8, 16, 48, 48}, rng); // above the one-thread limit
    const int savedThreads = sq::maxThreadCount();
    for (int size : {2, 3}) {
        MaxPool2D pool(size);
        Tensor out[2], gradIn[2];
        for (int run = 0; run < 2; ++run) {
            sq::setThreadCount(run == 0 ? 1 : 2);
            pool.forward(input, out[run], Pass::Train);
            pool.backward(input, out[run], out[run], &gradIn[run]);
        }
        sq::setThreadCount(savedThreads);
        VERIFY_NEAR(out[1], out[0], 0.0);
        VERIFY_NEAR(gradIn[1], gradIn[0], 0.0);
        // Each window's maximum routed back to itself: gradIn holds exactly the pooled values.
        QCOMPARE(gradIn[0].vec().cwiseAbs().sum(), out[0].vec().cwiseAbs().sum());
    }
}

void TestLayers::batchNormKnownBatch()
{
    BatchNorm bn(2);
    // Channel 0: 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3).
    // Channel 1: 10, 10, 14, 18 (mean 13, biased var 11, unbiased 44/3).
    const Tensor input = makeTensor({4, 2}, {1, 10, 2, 10, 3, 14, 4, 18});
    Tensor out;
    bn.forward(input, out, Pass::Train);
    const double s0 = std::sqrt(1.25 + 1e-5), s1 = std::sqrt(11.0 + 1e-5);
    VERIFY_NEAR(out,
                makeTensor({4, 2}, {float(-1.5 / s0), float(-3 / s1), float(-0.5 / s0), float(-3 / s1),
                                    float(0.5 / s0), float(1 / s1), float(1.5 / s0), float(5 / s1)}),
                1e-6);
    for (int c = 0; c < 2; ++c) {
        double mean = 0.0, var = 0.0;
        channelStats(out, c, false, &mean, &var);
        QVERIFY(std::fabs(mean) < 1e-6);
        QVERIFY(std::fabs(var - 1.0) < 1e-4); // 1 - eps / var
    }
    // Running statistics after one step with momentum 0.1, from (0, 1).
    VERIFY_NEAR(bn.runningMean(), makeTensor({2}, {0.25f, 1.3f}), 1e-6);
    VERIFY_NEAR(bn.runningVar(), makeTensor({2}, {float(0.9 + 0.1 * 5.0 / 3.0), float(0.9 + 0.1 * 44.0 / 3.0)}),
                1e-6);

    // gamma and beta scale and shift the normalised values.
    bn.params()[0]->value = makeTensor({2}, {2.0f, 0.5f});
    bn.params()[1]->value = makeTensor({2}, {1.0f, -3.0f});
    bn.forward(input, out, Pass::Train);
    double mean = 0.0, var = 0.0;
    channelStats(out, 0, false, &mean, &var);
    QVERIFY(std::fabs(mean - 1.0) < 1e-6 && std::fabs(var - 4.0) < 1e-4);
    channelStats(out, 1, false, &mean, &var);
    QVERIFY(std::fabs(mean + 3.0) < 1e-6 && std::fabs(var - 0.25) < 1e-4);
}

void TestLayers::batchNormSpatialKnownBatch()
{
    BatchNorm bn(1);
    // One channel, two samples of 2x2: 1..8, mean 4.5, biased var 5.25, unbiased 6.
    const Tensor input = makeTensor({2, 1, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
    Tensor out;
    bn.forward(input, out, Pass::Train);
    Tensor expected(input.shape());
    for (std::size_t i = 0; i < input.size(); ++i)
        expected[i] = static_cast<float>((input[i] - 4.5) / std::sqrt(5.25 + 1e-5));
    VERIFY_NEAR(out, expected, 1e-6);
    VERIFY_NEAR(bn.runningMean(), makeTensor({1}, {0.45f}), 1e-6);
    VERIFY_NEAR(bn.runningVar(), makeTensor({1}, {1.5f}), 1e-6);

    // Statistics are per channel over N, H, W: channel 1 here is channel 0 scaled by 10.
    BatchNorm two(2);
    Tensor pair({2, 2, 2, 2});
    for (int s = 0; s < 2; ++s)
        for (int i = 0; i < 4; ++i) {
            pair[static_cast<std::size_t>(s * 8 + i)] = input[static_cast<std::size_t>(s * 4 + i)];
            pair[static_cast<std::size_t>(s * 8 + 4 + i)] = 10.0f * input[static_cast<std::size_t>(s * 4 + i)];
        }
    two.forward(pair, out, Pass::Train);
    VERIFY_NEAR(two.runningMean(), makeTensor({2}, {0.45f, 4.5f}), 1e-5);
    VERIFY_NEAR(two.runningVar(), makeTensor({2}, {1.5f, 0.9f + 60.0f}), 1e-4);
    for (int s = 0; s < 2; ++s)
        for (int i = 0; i < 4; ++i) {
            const auto at = static_cast<std::size_t>(s * 8 + i);
            QVERIFY(std::fabs(out[at] - expected[static_cast<std::size_t>(s * 4 + i)]) < 1e-5);
            QVERIFY(std::fabs(out[at + 4] - expected[static_cast<std::size_t>(s * 4 + i)]) < 1e-5);
        }
}

void TestLayers::batchNormEvalUsesRunningStats()
{
    BatchNorm bn(2);
    bn.buffers()[0]->vec() << 1.0f, -2.0f; // running mean
    bn.buffers()[1]->vec() << 4.0f, 0.25f; // running var
    bn.params()[0]->value.vec() << 2.0f, 1.0f;
    bn.params()[1]->value.vec() << 0.5f, 0.0f;
    // A batch of one sample is fine in Eval.
    const Tensor input = makeTensor({1, 2, 1, 2}, {3, 5, -1, -3});
    Tensor out;
    bn.forward(input, out, Pass::Eval);
    const double e = 1e-5;
    VERIFY_NEAR(out,
                makeTensor({1, 2, 1, 2}, {float(2 * 2 / std::sqrt(4 + e) + 0.5), float(2 * 4 / std::sqrt(4 + e) + 0.5),
                                          float(1 / std::sqrt(0.25 + e)), float(-1 / std::sqrt(0.25 + e))}),
                1e-6);
    // Eval leaves the running statistics alone.
    VERIFY_NEAR(bn.runningMean(), makeTensor({2}, {1.0f, -2.0f}), 0.0);
    VERIFY_NEAR(bn.runningVar(), makeTensor({2}, {4.0f, 0.25f}), 0.0);
}

void TestLayers::batchNormRecalibrateAverages()
{
    Rng rng(43);
    BatchNorm bn(3);
    randomizeBatchNorm(bn, rng);
    Tensor out;
    for (int i = 0; i < 5; ++i) // some training history to be discarded
        bn.forward(randomTensor({4, 3, 2, 2}, rng, -2.0f, 3.0f), out, Pass::Train);
    bn.resetRunningStats();
    QCOMPARE(bn.recalibrationBatches(), 0);
    VERIFY_NEAR(bn.runningMean(), makeTensor({3}, {0, 0, 0}), 0.0);
    VERIFY_NEAR(bn.runningVar(), makeTensor({3}, {0, 0, 0}), 0.0);

    // Three batches of different sizes and distributions: the result is the plain average of the
    // per-batch means and unbiased variances, not an exponential average.
    const std::vector<Tensor> batches = {randomTensor({4, 3, 2, 2}, rng, -1.0f, 1.0f),
                                         randomTensor({6, 3, 2, 2}, rng, 0.0f, 4.0f),
                                         randomTensor({2, 3, 2, 2}, rng, -3.0f, 0.0f)};
    std::vector<double> meanSum(3, 0.0), varSum(3, 0.0);
    for (const Tensor& batch : batches) {
        bn.forward(batch, out, Pass::Recalibrate);
        // Recalibrate normalises with the batch statistics, like Train.
        BatchNorm reference(3);
        for (int p = 0; p < 2; ++p)
            reference.params()[static_cast<std::size_t>(p)]->value = bn.params()[static_cast<std::size_t>(p)]->value;
        Tensor trainOut;
        reference.forward(batch, trainOut, Pass::Train);
        VERIFY_NEAR(out, trainOut, 0.0);
        for (int c = 0; c < 3; ++c) {
            double mean = 0.0, var = 0.0;
            channelStats(batch, c, true, &mean, &var);
            meanSum[static_cast<std::size_t>(c)] += mean;
            varSum[static_cast<std::size_t>(c)] += var;
        }
    }
    QCOMPARE(bn.recalibrationBatches(), 3);
    Tensor expectedMean({3}), expectedVar({3});
    for (std::size_t c = 0; c < 3; ++c) {
        expectedMean[c] = static_cast<float>(meanSum[c] / 3.0);
        expectedVar[c] = static_cast<float>(varSum[c] / 3.0);
    }
    VERIFY_NEAR(bn.runningMean(), expectedMean, 1e-5);
    VERIFY_NEAR(bn.runningVar(), expectedVar, 1e-5);

    // Without a reset, the first recalibration batch of a fresh layer, or after a Train pass,
    // replaces the running statistics.
    BatchNorm fresh(3);
    for (int round = 0; round < 2; ++round) {
        if (round == 1) {
            fresh.forward(batches[0], out, Pass::Train);
            QCOMPARE(fresh.recalibrationBatches(), 0);
        }
        fresh.forward(batches[1], out, Pass::Recalibrate);
        QCOMPARE(fresh.recalibrationBatches(), 1);
        for (int c = 0; c < 3; ++c) {
            double mean = 0.0, var = 0.0;
            channelStats(batches[1], c, true, &mean, &var);
            QVERIFY(std::fabs(fresh.runningMean()[static_cast<std::size_t>(c)] - mean) < 1e-5);
            QVERIFY(std::fabs(fresh.runningVar()[static_cast<std::size_t>(c)] - var) < 1e-5);
        }
    }
}

void TestLayers::batchNormRefusesSingleValue()
{
    BatchNorm dense(4);
    Tensor out;
    QVERIFY_THROWS_EXCEPTION(Error, dense.forward(Tensor({1, 4}), out, Pass::Train));
    QVERIFY_THROWS_EXCEPTION(Error, dense.forward(Tensor({1, 4}), out, Pass::Recalibrate));
    Tensor one({1, 4});
    one.fill(1.0f);
    dense.forward(one, out, Pass::Eval); // fine: no batch statistics involved
    BatchNorm spatial(3);
    QVERIFY_THROWS_EXCEPTION(Error, spatial.forward(Tensor({1, 3, 1, 1}), out, Pass::Train));
    Tensor two({1, 3, 2, 1});
    two.setZero();
    two[0] = 1.0f;
    spatial.forward(two, out, Pass::Train); // one sample of two pixels is enough
    try {
        dense.forward(Tensor({1, 4}), out, Pass::Train);
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("bn 4"), e.what());
    }
    // backward() without a Train pass of that batch is refused, not garbage.
    BatchNorm untrained(2);
    Tensor gradIn;
    QVERIFY_THROWS_EXCEPTION(Error, untrained.backward(Tensor({3, 2}), Tensor({3, 2}), Tensor({3, 2}), &gradIn));
}

void TestLayers::quantizedWeights_data()
{
    QTest::addColumn<bool>("conv");
    QTest::addRow("dense") << false;
    QTest::addRow("conv") << true;
}

// useQuantized makes the layer compute with `quantized`, and the gradients it writes to param.grad
// are those of the quantized layer (straight-through estimator); the latent weights are untouched.
void TestLayers::quantizedWeights()
{
    QFETCH(bool, conv);
    Rng rng(47);
    auto make = [&]() -> std::unique_ptr<Layer> {
        if (conv)
            return std::make_unique<Conv2D>(3, 4, 3, 1, 1);
        return std::make_unique<Dense>(12, 4);
    };
    const Tensor input = conv ? randomTensor({2, 3, 5, 4}, rng) : randomTensor({5, 12}, rng);
    auto layer = make();
    auto reference = make();
    layer->initialize(rng);
    QuantizableWeight& w = *layer->quantizableWeight();
    const Tensor latent = w.param.value;
    w.quantized = latent;
    for (std::size_t i = 0; i < w.quantized.size(); ++i)
        w.quantized[i] = std::round(latent[i] * 4.0f) / 4.0f; // 2-bit-ish grid of step 0.25
    // The reference computes with the quantized values as its ordinary weights.
    reference->params()[0]->value = w.quantized;
    reference->params()[1]->value = layer->params()[1]->value;

    Tensor out, floatOut, refOut;
    layer->forward(input, floatOut, Pass::Train);
    w.useQuantized = true;
    layer->forward(input, out, Pass::Train);
    reference->forward(input, refOut, Pass::Train);
    VERIFY_NEAR(out, refOut, 0.0);
    QByteArray message;
    QVERIFY2(!near(out, floatOut, 1e-3, &message), "quantized weights did not change the output");

    const Tensor gradOut = randomTensor(out.shape(), rng);
    Tensor gradIn, refGradIn;
    layer->backward(input, out, gradOut, &gradIn);
    reference->backward(input, refOut, gradOut, &refGradIn);
    VERIFY_NEAR(gradIn, refGradIn, 0.0);
    VERIFY_NEAR(w.param.grad, reference->params()[0]->grad, 0.0);
    VERIFY_NEAR(layer->params()[1]->grad, reference->params()[1]->grad, 0.0);
    VERIFY_NEAR(w.param.value, latent, 0.0);

    w.useQuantized = false;
    layer->forward(input, out, Pass::Train);
    VERIFY_NEAR(out, floatOut, 0.0);
}

// ---- construction, shapes and errors -----------------------------------------------------------

void TestLayers::describeAndKind()
{
    QCOMPARE(Conv2D(1, 6, 5, 1, 2).describe(), std::string("conv 1->6 5x5 pad 2"));
    QCOMPARE(Conv2D(3, 8, 3).describe(), std::string("conv 3->8 3x3"));
    QCOMPARE(Conv2D(3, 8, 3, 2, 1).describe(), std::string("conv 3->8 3x3 pad 1 stride 2"));
    QCOMPARE(Conv2D(3, 8, 3).kind(), std::string("conv"));
    QCOMPARE(MaxPool2D(2).describe(), std::string("maxpool 2"));
    QCOMPARE(MaxPool2D(3, 2).describe(), std::string("maxpool 3 stride 2"));
    QCOMPARE(MaxPool2D(2, 2).describe(), std::string("maxpool 2"));
    QCOMPARE(MaxPool2D(2).kind(), std::string("maxpool"));
    QCOMPARE(BatchNorm(256).describe(), std::string("bn 256"));
    QCOMPARE(BatchNorm(256).kind(), std::string("bn"));
}

void TestLayers::parametersAndInit()
{
    Conv2D conv(3, 6, 5, 1, 2);
    auto params = conv.params();
    QCOMPARE(params.size(), std::size_t{2});
    QCOMPARE(params[0]->name, std::string("weight"));
    QCOMPARE(params[0]->value.shape(), (std::vector<int>{6, 3, 5, 5}));
    QCOMPARE(params[0]->grad.shape(), (std::vector<int>{6, 3, 5, 5}));
    QVERIFY(params[0]->decay);
    QCOMPARE(params[1]->name, std::string("bias"));
    QCOMPARE(params[1]->value.shape(), (std::vector<int>{6}));
    QVERIFY(!params[1]->decay);
    QVERIFY(conv.quantizableWeight() != nullptr && &conv.quantizableWeight()->param == params[0]);
    QCOMPARE(conv.quantizableWeight()->fanIn, 75);
    QVERIFY(conv.buffers().empty());

    // PyTorch's default: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for weight and bias, spread over the range
    // (64 biases, so that both ends of the range are certainly reached).
    Conv2D wide(3, 64, 5, 1, 2);
    Rng rng(53);
    wide.initialize(rng);
    const float bound = 1.0f / std::sqrt(75.0f);
    for (const Param* p : wide.params()) {
        const auto v = p->value.vec();
        QVERIFY(v.maxCoeff() <= bound && v.minCoeff() >= -bound);
        QVERIFY(v.maxCoeff() > 0.5f * bound && v.minCoeff() < -0.5f * bound);
    }

    BatchNorm bn(4);
    auto bnParams = bn.params();
    QCOMPARE(bnParams.size(), std::size_t{2});
    QCOMPARE(bnParams[0]->name, std::string("gamma"));
    QCOMPARE(bnParams[1]->name, std::string("beta"));
    QVERIFY(!bnParams[0]->decay && !bnParams[1]->decay);
    VERIFY_NEAR(bnParams[0]->value, makeTensor({4}, {1, 1, 1, 1}), 0.0);
    VERIFY_NEAR(bnParams[1]->value, makeTensor({4}, {0, 0, 0, 0}), 0.0);
    QCOMPARE(bn.buffers().size(), std::size_t{2});
    QVERIFY(bn.buffers()[0] == &bn.runningMean() && bn.buffers()[1] == &bn.runningVar());
    VERIFY_NEAR(bn.runningMean(), makeTensor({4}, {0, 0, 0, 0}), 0.0);
    VERIFY_NEAR(bn.runningVar(), makeTensor({4}, {1, 1, 1, 1}), 0.0);
    QVERIFY(bn.quantizableWeight() == nullptr);

    MaxPool2D pool(2);
    QVERIFY(pool.params().empty() && pool.buffers().empty() && pool.quantizableWeight() == nullptr);
}

void TestLayers::outputShapes()
{
    QCOMPARE(Conv2D(1, 6, 5, 1, 2).outputShape({1, 28, 28}), (std::vector<int>{6, 28, 28}));
    QCOMPARE(Conv2D(6, 16, 5).outputShape({6, 14, 14}), (std::vector<int>{16, 10, 10}));
    QCOMPARE(Conv2D(3, 8, 3, 2, 1).outputShape({3, 7, 8}), (std::vector<int>{8, 4, 4}));
    QCOMPARE(Conv2D(3, 8, 3, 2, 0).outputShape({3, 3, 4}), (std::vector<int>{8, 1, 1}));
    QCOMPARE(MaxPool2D(2).outputShape({6, 28, 28}), (std::vector<int>{6, 14, 14}));
    QCOMPARE(MaxPool2D(2).outputShape({6, 5, 7}), (std::vector<int>{6, 2, 3}));
    QCOMPARE(MaxPool2D(3, 2).outputShape({2, 7, 8}), (std::vector<int>{2, 3, 3}));
    QCOMPARE(BatchNorm(8).outputShape({8}), (std::vector<int>{8}));
    QCOMPARE(BatchNorm(8).outputShape({8, 4, 5}), (std::vector<int>{8, 4, 5}));
}

void TestLayers::outputShapeErrors_data()
{
    QTest::addColumn<int>("layer"); // 0 conv 3->8 3x3, 1 conv 3->8 5x5 stride 2, 2 maxpool 2, 3 bn 8
    QTest::addColumn<std::vector<int>>("inputSample");
    QTest::addColumn<QString>("name");
    QTest::addRow("conv: wrong channel count") << 0 << std::vector<int>{4, 8, 8} << "conv 3->8 3x3";
    QTest::addRow("conv: flat input") << 0 << std::vector<int>{192} << "conv 3->8 3x3";
    QTest::addRow("conv: image smaller than kernel") << 0 << std::vector<int>{3, 2, 8} << "conv 3->8 3x3";
    QTest::addRow("conv: padded image smaller than kernel") << 1 << std::vector<int>{3, 8, 2} << "conv 3->8 5x5";
    QTest::addRow("maxpool: image smaller than window") << 2 << std::vector<int>{3, 1, 8} << "maxpool 2";
    QTest::addRow("maxpool: flat input") << 2 << std::vector<int>{16} << "maxpool 2";
    QTest::addRow("bn: wrong feature count") << 3 << std::vector<int>{7} << "bn 8";
    QTest::addRow("bn: wrong channel count") << 3 << std::vector<int>{4, 2, 2} << "bn 8";
    QTest::addRow("bn: rank 2 sample") << 3 << std::vector<int>{8, 2} << "bn 8";
}

void TestLayers::outputShapeErrors()
{
    QFETCH(int, layer);
    QFETCH(std::vector<int>, inputSample);
    QFETCH(QString, name);
    std::unique_ptr<Layer> l;
    switch (layer) {
    case 0: l = std::make_unique<Conv2D>(3, 8, 3); break;
    case 1: l = std::make_unique<Conv2D>(3, 8, 5, 2, 1); break;
    case 2: l = std::make_unique<MaxPool2D>(2); break;
    default: l = std::make_unique<BatchNorm>(8); break;
    }
    try {
        l->outputShape(inputSample);
        QFAIL("no sq::Error thrown");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).startsWith(name), e.what());
    }
    // forward() refuses the same shape instead of reading out of bounds (a batch of 2 samples).
    std::vector<int> batchShape = inputSample;
    batchShape.insert(batchShape.begin(), 2);
    Tensor out;
    QVERIFY_THROWS_EXCEPTION(Error, l->forward(Tensor(batchShape), out, Pass::Train));
}

void TestLayers::constructorErrors()
{
    QVERIFY_THROWS_EXCEPTION(Error, Conv2D(0, 4, 3));
    QVERIFY_THROWS_EXCEPTION(Error, Conv2D(3, 0, 3));
    QVERIFY_THROWS_EXCEPTION(Error, Conv2D(3, 4, 0));
    QVERIFY_THROWS_EXCEPTION(Error, Conv2D(3, 4, 3, 0));
    QVERIFY_THROWS_EXCEPTION(Error, Conv2D(3, 4, 3, 1, -1));
    QVERIFY_THROWS_EXCEPTION(Error, MaxPool2D(0));
    QVERIFY_THROWS_EXCEPTION(Error, MaxPool2D(2, -1));
    QVERIFY_THROWS_EXCEPTION(Error, BatchNorm(0));
    QVERIFY_THROWS_EXCEPTION(Error, BatchNorm(4, 1.5f));
    QVERIFY_THROWS_EXCEPTION(Error, BatchNorm(4, 0.1f, 0.0f));
    // A quantized tensor of the wrong size is refused by Conv2D rather than read out of bounds.
    Conv2D conv(2, 3, 3);
    conv.quantizableWeight()->quantized.resize({3, 2, 2, 2});
    conv.quantizableWeight()->useQuantized = true;
    Tensor out;
    QVERIFY_THROWS_EXCEPTION(Error, conv.forward(Tensor({1, 2, 4, 4}), out, Pass::Train));
}

QTEST_GUILESS_MAIN(TestLayers)
#include "test_layers.moc"
