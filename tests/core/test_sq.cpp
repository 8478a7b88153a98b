// SQ regularizer and quantizer: reference values, finite differences, known points, and the
// SqMethod's phases (search, commit, modes, keep-float).
#include "core/architecture.h"
#include "core/error.h"
#include "core/quant/sq_method.h"
#include "core/quant/sq_regularizer.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <cmath>
#include <numbers>

using namespace sq;

namespace {

std::vector<float> toFloats(const QJsonArray& a)
{
    std::vector<float> out;
    for (const auto& v : a)
        out.push_back(static_cast<float>(v.toDouble()));
    return out;
}

bool close(double actual, double expected, double tol)
{
    return std::abs(actual - expected) <= tol * std::max(1.0, std::abs(expected));
}

#define QVERIFY_CLOSE(actual, expected, tol)                                                                       \
    QVERIFY2(close((actual), (expected), (tol)),                                                                   \
             qPrintable(QStringLiteral("%1 = %2, expected %3").arg(#actual).arg((actual), 0, 'g', 10).arg((expected), 0, 'g', 10)))

double termValue(const std::vector<float>& w, const SqShape& shape, double gamma)
{
    return sqLayerTerm(w.data(), w.size(), shape, gamma, nullptr, 1.0f).value;
}

// The kink positions of r: w = 0, |w| = Delta and |w| = alpha.
bool nearKink(float w, const SqShape& s, float margin)
{
    const float a = std::abs(w);
    const float delta = s.closedZeroBasin ? 0.0f : static_cast<float>(zeroBasinHalfWidth(s.alpha, s.beta, s.p));
    return a < margin || std::abs(a - delta) < margin || std::abs(a - s.alpha) < margin;
}

} // namespace

class TestSq : public QObject {
    Q_OBJECT

private slots:
    void referenceValues();
    void finiteDifferences_data();
    void finiteDifferences();
    void ternaryKnownPoints();
    void binaryLimit();
    void closedBasinIsBinary();
    void quantizers();
    void methodModes_data();
    void methodModes();
    void commitFreezesDepthAndUsesSte();
    void steAlphaGradient();
    void keepFloat();
    void badSettings();
};

// Values from an independent float64 implementation (../shared/reference/sq_points.json, copied
// into tests/data): they catch a misread formula, which finite differences cannot.
void TestSq::referenceValues()
{
    QFile file(QStringLiteral(SQ_TEST_DATA_DIR "/sq_points.json"));
    QVERIFY2(file.open(QIODevice::ReadOnly), "tests/data/sq_points.json is missing");
    const QJsonArray cases = QJsonDocument::fromJson(file.readAll()).object().value("cases").toArray();
    QCOMPARE(cases.size(), 60);
    constexpr double tol = 2e-5; // float32 arithmetic against float64 reference
    for (const auto& item : cases) {
        const QJsonObject c = item.toObject();
        const std::vector<float> w = toFloats(c["w"].toArray());
        SqShape shape;
        shape.alpha = static_cast<float>(c["alpha"].toDouble());
        shape.beta = static_cast<float>(c["beta"].toDouble());
        shape.p = c["p"].toInt();
        const double gamma = c["gamma"].toDouble();
        std::vector<float> grad(w.size(), 0.0f);
        const SqLayerTerm t = sqLayerTerm(w.data(), w.size(), shape, gamma, grad.data(), 1.0f);
        const QString where = QStringLiteral("p=%1 alpha=%2 beta=%3 gamma=%4")
                                  .arg(shape.p).arg(shape.alpha).arg(shape.beta).arg(gamma);
        QVERIFY2(close(t.value, c["R"].toDouble(), tol), qPrintable(where + " R"));
        QVERIFY2(close(t.dAlpha, c["dR_dalpha"].toDouble(), tol), qPrintable(where + " dR/dalpha"));
        QVERIFY2(close(t.dBeta, c["dR_dbeta"].toDouble(), tol), qPrintable(where + " dR/dbeta"));
        const QJsonArray dw = c["dR_dw"].toArray();
        for (std::size_t i = 0; i < w.size(); ++i)
            QVERIFY2(close(grad[i], dw[static_cast<int>(i)].toDouble(), tol),
                     qPrintable(where + QStringLiteral(" dR/dw[%1]").arg(i)));
        const double delta = zeroBasinHalfWidth(shape.alpha, shape.beta, shape.p);
        QVERIFY2(close(delta, c["delta"].toDouble(), 1e-6), qPrintable(where + " delta"));
        QVERIFY2(close(static_cast<double>(t.inZeroBasin) / static_cast<double>(w.size()),
                       c["zero_basin_share"].toDouble(), 1e-12),
                 qPrintable(where + " zero-basin share"));
        const QJsonArray qb = c["q_binary"].toArray();
        const QJsonArray qt = c["q_ternary"].toArray();
        for (std::size_t i = 0; i < w.size(); ++i) {
            QCOMPARE(quantizeBinary(w[i], shape.alpha), static_cast<float>(qb[static_cast<int>(i)].toDouble()));
            QCOMPARE(quantizeTernary(w[i], shape.alpha, static_cast<float>(delta)),
                     static_cast<float>(qt[static_cast<int>(i)].toDouble()));
        }
    }
}

void TestSq::finiteDifferences_data()
{
    QTest::addColumn<int>("p");
    QTest::addColumn<double>("alpha");
    QTest::addColumn<double>("beta");
    QTest::addColumn<bool>("closed");
    QTest::addRow("p2 ternary") << 2 << 0.3 << std::numbers::pi / 4 << false;
    QTest::addRow("p2 middle") << 2 << 0.3 << 1.1 << false;
    QTest::addRow("p2 near binary") << 2 << 0.3 << 1.45 << false;
    QTest::addRow("p1 ternary") << 1 << 0.3 << std::numbers::pi / 4 << false;
    QTest::addRow("p1 middle") << 1 << 0.3 << 1.2 << false;
    QTest::addRow("p2 closed basin") << 2 << 0.3 << 1.5 << true;
    QTest::addRow("p1 closed basin") << 1 << 0.3 << 1.5 << true;
}

// Gradients in w, alpha and beta against central differences, in double steps on float code.
// alpha's derivative holds the divisor alpha^p fixed (stop-gradient), so the difference quotient
// must too: R(alpha+h) * (alpha+h)^p / alpha^p (with the gamma term, which has no alpha, left out).
void TestSq::finiteDifferences()
{
    QFETCH(int, p);
    QFETCH(double, alpha);
    QFETCH(double, beta);
    QFETCH(bool, closed);
    SqShape s;
    s.alpha = static_cast<float>(alpha);
    s.beta = static_cast<float>(beta);
    s.p = p;
    s.closedZeroBasin = closed;
    const double gamma = 0.02;
    std::vector<float> w;
    Rng rng(7);
    while (w.size() < 40) {
        const float x = rng.uniform(-0.7f, 0.7f);
        if (!nearKink(x, s, 0.02f))
            w.push_back(x);
    }
    std::vector<float> grad(w.size(), 0.0f);
    const SqLayerTerm t = sqLayerTerm(w.data(), w.size(), s, gamma, grad.data(), 1.0f);

    const float h = 1e-3f;
    for (std::size_t i = 0; i < w.size(); ++i) {
        auto plus = w;
        auto minus = w;
        plus[i] += h;
        minus[i] -= h;
        const double fd = (termValue(plus, s, gamma) - termValue(minus, s, gamma)) / (2.0 * h);
        QVERIFY2(std::abs(fd - grad[i]) <= 2e-3 * std::max(1.0, std::abs(fd)),
                 qPrintable(QStringLiteral("dR/dw[%1]: analytic %2, numeric %3").arg(i).arg(grad[i]).arg(fd)));
    }

    auto withAlpha = [&](float a) {
        SqShape shifted = s;
        shifted.alpha = a;
        return termValue(w, shifted, 0.0) * std::pow(static_cast<double>(a), p) / std::pow(alpha, p);
    };
    const double fdAlpha = (withAlpha(s.alpha + h) - withAlpha(s.alpha - h)) / (2.0 * h);
    QVERIFY2(std::abs(fdAlpha - t.dAlpha) <= 2e-3 * std::max(1.0, std::abs(fdAlpha)),
             qPrintable(QStringLiteral("dR/dalpha: analytic %1, numeric %2").arg(t.dAlpha).arg(fdAlpha)));

    if (!closed) {
        auto withBeta = [&](float b) {
            SqShape shifted = s;
            shifted.beta = b;
            return termValue(w, shifted, gamma);
        };
        const float hb = 1e-4f;
        const double fdBeta = (withBeta(s.beta + hb) - withBeta(s.beta - hb)) / (2.0 * hb);
        QVERIFY2(std::abs(fdBeta - t.dBeta) <= 5e-3 * std::max(1.0, std::abs(fdBeta)),
                 qPrintable(QStringLiteral("dR/dbeta: analytic %1, numeric %2").arg(t.dBeta).arg(fdBeta)));
    } else {
        QCOMPARE(t.dBeta, 0.0);
    }
}

void TestSq::ternaryKnownPoints()
{
    // At beta = pi/4 the three minima -alpha, 0, +alpha cost nothing; the zero basin is alpha/2.
    SqShape s;
    s.alpha = 0.5f;
    s.beta = static_cast<float>(std::numbers::pi / 4);
    for (int p : {1, 2}) {
        s.p = p;
        QVERIFY(std::abs(zeroBasinHalfWidth(0.5, std::numbers::pi / 4, p) - 0.25) < 1e-12);
        for (float w : {-0.5f, 0.0f, 0.5f})
            QVERIFY(std::abs(termValue({w}, s, 0.0)) < 1e-7);
        // Halfway to the grid point: r = (alpha/2)^p, divided by alpha^p.
        QVERIFY(std::abs(termValue({0.25f}, s, 0.0) - std::pow(0.5, p)) < 1e-6);
        // Beyond alpha only the outer branch applies: |1.0 - 0.5|^p / 0.5^p = 1.
        QVERIFY(std::abs(termValue({1.0f}, s, 0.0) - 1.0) < 1e-6);
    }
    // gamma * cot(pi/4) = gamma.
    s.p = 2;
    QVERIFY(std::abs(termValue({0.5f}, s, 0.1) - 0.1) < 1e-6);
}

void TestSq::binaryLimit()
{
    // As beta -> pi/2 the zero basin shrinks to nothing: Delta = alpha / (1 + tan(beta)^(1/p)).
    const double beta = kBetaMax;
    const double t = std::tan(beta);
    QVERIFY(std::abs(zeroBasinHalfWidth(1.0, beta, 2) - 1.0 / (1.0 + std::sqrt(t))) < 1e-12);
    QVERIFY(zeroBasinHalfWidth(1.0, beta, 1) < 1e-3);
    QVERIFY(zeroBasinHalfWidth(1.0, beta, 2) < 0.031);
    // A weight a third of the way to alpha sits in the outer (binary) basin there.
    SqShape s;
    s.alpha = 0.3f;
    s.beta = static_cast<float>(beta);
    const float w = 0.1f;
    const SqLayerTerm term = sqLayerTerm(&w, 1, s, 0.0, nullptr, 1.0f);
    QCOMPARE(term.inZeroBasin, std::size_t(0));
    QVERIFY(std::abs(term.value - (0.2 * 0.2) / (0.3 * 0.3)) < 1e-5);
}

void TestSq::closedBasinIsBinary()
{
    SqShape s;
    s.alpha = 0.4f;
    s.p = 2;
    s.closedZeroBasin = true;
    // w = 0 is a maximum of the binary regularizer: cost alpha^p / alpha^p = 1, gamma ignored.
    QVERIFY(std::abs(termValue({0.0f}, s, 0.5) - 1.0) < 1e-6);
    QVERIFY(std::abs(termValue({-0.4f, 0.4f}, s, 0.5)) < 1e-7);
}

void TestSq::quantizers()
{
    QCOMPARE(quantizeBinary(0.0f, 0.3f), 0.3f); // sign(0) = +1
    QCOMPARE(quantizeBinary(-0.0f, 0.3f), 0.3f);
    QCOMPARE(quantizeBinary(-1e-9f, 0.3f), -0.3f);
    QCOMPARE(quantizeBinary(5.0f, 0.3f), 0.3f);
    QCOMPARE(quantizeTernary(0.149f, 0.3f, 0.15f), 0.0f);
    QCOMPARE(quantizeTernary(-0.149f, 0.3f, 0.15f), 0.0f);
    QCOMPARE(quantizeTernary(0.15f, 0.3f, 0.15f), 0.3f); // |w| < Delta is zero; the boundary is not
    QCOMPARE(quantizeTernary(-0.2f, 0.3f, 0.15f), -0.3f);
}

namespace {

Model smallModel(std::uint64_t seed)
{
    Model m = buildModel("dense 16, relu, dense 8, relu, dense 3", {1, 2, 5}, 3);
    Rng rng(seed);
    m.initialize(rng);
    return m;
}

} // namespace

void TestSq::methodModes_data()
{
    QTest::addColumn<QString>("mode");
    QTest::addColumn<int>("params");
    QTest::addColumn<QString>("decision");
    QTest::addRow("float") << "float" << 0 << "float";
    QTest::addRow("binary") << "binary" << 3 << "binary";
    QTest::addRow("ternary") << "ternary" << 3 << "ternary";
    QTest::addRow("sq") << "sq" << 6 << "binary"; // beta starts just above the switch
}

void TestSq::methodModes()
{
    QFETCH(QString, mode);
    QFETCH(int, params);
    QFETCH(QString, decision);
    Model model = smallModel(1);
    SqSettings settings;
    settings.mode = parseQuantMode(mode.toStdString());
    SqMethod method(model, settings);
    QCOMPARE(static_cast<int>(method.params().size()), params);
    const auto states = method.layerStates();
    QCOMPARE(states.size(), std::size_t(3));
    for (const auto& s : states) {
        QCOMPARE(QString::fromStdString(s.decision), decision);
        // alpha starts at mean |w|.
        const auto& w = model.quantTargets()[static_cast<std::size_t>(&s - states.data())].weight->param.value;
        QVERIFY(std::abs(s.alpha - w.vec().cwiseAbs().mean()) < 1e-6f);
        QVERIFY(std::abs(s.shareNegative + s.shareZero + s.sharePositive - 1.0) < 1e-12);
    }
    for (auto& t : model.quantTargets())
        t.weight->param.grad.setZero();
    const double reg = method.endStep({2.0, 0.01});
    if (mode == "float") {
        QCOMPARE(reg, 0.0);
    } else {
        QVERIFY(reg > 0.0);
        // Fixed-depth modes train alpha but never beta.
        for (const OptimParam& p : method.params())
            if (p.param->name.ends_with(".beta"))
                QVERIFY(mode == "sq" && p.param->grad[0] != 0.0f);
    }
}

void TestSq::commitFreezesDepthAndUsesSte()
{
    Model model = smallModel(2);
    SqSettings settings;
    settings.mode = QuantMode::Sq;
    SqMethod method(model, settings);
    auto params = method.params();
    // Steer layer 1 ternary, layers 2 and 3 binary.
    params[1].param->value[0] = 1.0f;
    params[3].param->value[0] = 1.3f;
    params[5].param->value[0] = 1.5f;
    method.beginStep();
    for (const auto& t : model.quantTargets())
        QVERIFY(!t.weight->useQuantized); // search: float forward
    method.commit();
    const auto states = method.layerStates();
    QCOMPARE(states[0].decision, std::string("ternary"));
    QCOMPARE(states[0].beta, static_cast<float>(kBetaMin));
    QCOMPARE(states[0].delta, states[0].alpha / 2.0f);
    QCOMPARE(states[1].decision, std::string("binary"));
    QCOMPARE(states[1].delta, 0.0f);
    QCOMPARE(states[2].bits, 1);
    method.beginStep();
    for (std::size_t l = 0; l < 3; ++l) {
        const QuantizableWeight& w = *model.quantTargets()[l].weight;
        QVERIFY(w.useQuantized);
        for (std::size_t i = 0; i < w.param.value.size(); ++i) {
            const float expected = l == 0 ? quantizeTernary(w.param.value[i], states[l].alpha, states[l].delta)
                                          : quantizeBinary(w.param.value[i], states[l].alpha);
            QCOMPARE(w.quantized[i], expected);
        }
    }
    // A large beta step after commit is undone: the depth stays frozen.
    params[1].param->value[0] = 1.5f;
    method.afterOptimizerStep();
    QCOMPARE(method.layerStates()[0].decision, std::string("ternary"));
    method.setQuantizedForward(false);
    QVERIFY(!model.quantTargets()[0].weight->useQuantized);
}

// Under the straight-through estimator alpha also learns from the task loss: dL/dalpha = sum_i
// dL/dq_i * q_i / alpha. With lambda = 0 that is all endStep() may report.
void TestSq::steAlphaGradient()
{
    Model model = smallModel(3);
    SqSettings settings;
    settings.mode = QuantMode::Ternary;
    SqMethod method(model, settings);
    method.commit();
    method.beginStep();
    QuantizableWeight& w = *model.quantTargets()[0].weight;
    Rng rng(5);
    double expected = 0.0;
    const float alpha = method.layerStates()[0].alpha;
    for (std::size_t i = 0; i < w.param.grad.size(); ++i) {
        w.param.grad[i] = rng.uniform(-1.0f, 1.0f);
        expected += static_cast<double>(w.param.grad[i]) * w.quantized[i] / alpha;
    }
    const auto before = w.param.grad.vec().eval();
    method.endStep({0.0, 0.0});
    QVERIFY(std::abs(method.params()[0].param->grad[0] - expected) < 1e-4 * std::max(1.0, std::abs(expected)));
    QVERIFY(w.param.grad.vec().isApprox(before)); // the weights' gradient passes straight through
}

void TestSq::keepFloat()
{
    Model model = smallModel(4);
    SqSettings settings;
    settings.keepFloat = {"first", "dense3"};
    SqMethod method(model, settings);
    const auto states = method.layerStates();
    QVERIFY(states[0].keepFloat);
    QCOMPARE(states[0].bits, 32);
    QVERIFY(!states[1].keepFloat);
    QVERIFY(states[2].keepFloat);
    QCOMPARE(method.params().size(), std::size_t(2)); // alpha and beta of dense2 only
    method.setQuantizedForward(true);
    QVERIFY(!model.quantTargets()[0].weight->useQuantized);
    QVERIFY(model.quantTargets()[1].weight->useQuantized);
}

void TestSq::badSettings()
{
    Model model = smallModel(5);
    auto expectError = [&](SqSettings s, const char* flag) {
        try {
            SqMethod method(model, s);
            QFAIL(qPrintable(QStringLiteral("no error for ") + flag));
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find(flag) != std::string::npos, e.what());
        }
    };
    SqSettings s;
    s.keepFloat = {"conv9"};
    expectError(s, "--keep-float");
    s = {};
    s.p = 3;
    expectError(s, "--p");
    s = {};
    s.betaInit = 0.5;
    expectError(s, "--beta-init");
    s = {};
    s.betaSwitch = 2.0;
    expectError(s, "--beta-switch");
    QVERIFY_EXCEPTION_THROWN(parseQuantMode("octal"), Error);
}

QTEST_GUILESS_MAIN(TestSq)
#include "test_sq.moc"
