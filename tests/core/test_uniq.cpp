// UniQ (SPEC §2.1): the Gaussian-optimal step table, the quantizer at known points, its
// straight-through and LSQ gradients, and the method's initialisation, bits and states.
#include "core/architecture.h"
#include "core/error.h"
#include "core/quant/gaussian_step.h"
#include "core/quant/uniq_method.h"
#include "core/rng.h"

#include <QtTest>

#include <cmath>

using namespace sq;

namespace {

Model smallModel(std::uint64_t seed)
{
    Model m = buildModel("dense 16, relu, dense 8, relu, dense 3", {1, 2, 5}, 3);
    Rng rng(seed);
    m.initialize(rng);
    return m;
}

double populationStd(const Tensor& w)
{
    double mean = 0.0;
    for (std::size_t i = 0; i < w.size(); ++i)
        mean += w[i];
    mean /= static_cast<double>(w.size());
    double var = 0.0;
    for (std::size_t i = 0; i < w.size(); ++i)
        var += (w[i] - mean) * (w[i] - mean);
    return std::sqrt(var / static_cast<double>(w.size()));
}

} // namespace

class TestUniq : public QObject {
    Q_OBJECT

private slots:
    void gaussianStepTable_data();
    void gaussianStepTable();
    void gaussianStepIsTheMinimum();
    void roundsHalfToEven();
    void quantizerKnownPoints_data();
    void quantizerKnownPoints();
    void slopesAgainstFiniteDifferences_data();
    void slopesAgainstFiniteDifferences();
    void methodInitialisesAndQuantizes();
    void methodGradients_data();
    void methodGradients();
    void layerBits();
    void statesAndCommit();
    void badSettings();
};

void TestUniq::gaussianStepTable_data()
{
    QTest::addColumn<int>("bits");
    QTest::addColumn<double>("expected");
    const double table[] = {1.5958, 0.9957, 0.5860, 0.3352, 0.1881, 0.1041, 0.0569, 0.0308}; // SPEC §2.1
    for (int b = 1; b <= 8; ++b)
        QTest::addRow("s_%d", b) << b << table[b - 1];
}

// The table in SPEC §2.1 to its 4 printed decimals (so within 5e-5 plus rounding of the last one).
void TestUniq::gaussianStepTable()
{
    QFETCH(int, bits);
    QFETCH(double, expected);
    const double s = gaussianOptimalStep(bits);
    QVERIFY2(std::abs(s - expected) <= 6e-5, qPrintable(QStringLiteral("s_%1 = %2").arg(bits).arg(s, 0, 'f', 6)));
}

void TestUniq::gaussianStepIsTheMinimum()
{
    for (int b = 1; b <= 8; ++b) {
        const double s = gaussianOptimalStep(b);
        const double at = gaussianQuantizerMse(b, s);
        QVERIFY(at < gaussianQuantizerMse(b, s * 0.99));
        QVERIFY(at < gaussianQuantizerMse(b, s * 1.01));
    }
    // b = 1: levels +-Delta/2; the optimum puts them at E|x| = sqrt(2/pi), with error 1 - 2/pi.
    QVERIFY(std::abs(gaussianOptimalStep(1) - 2.0 * std::sqrt(2.0 / M_PI)) < 1e-8);
    QVERIFY(std::abs(gaussianQuantizerMse(1, gaussianOptimalStep(1)) - (1.0 - 2.0 / M_PI)) < 1e-10);
    QVERIFY_EXCEPTION_THROWN(gaussianOptimalStep(0), Error);
    QVERIFY_EXCEPTION_THROWN(gaussianOptimalStep(9), Error);
}

void TestUniq::roundsHalfToEven()
{
    for (int i = 0; i <= 2 * 255; ++i) {
        const float x = 0.5f * static_cast<float>(i);
        QCOMPARE(roundHalfEvenNonNegative(x), std::nearbyint(x));
    }
    Rng rng(3);
    for (int i = 0; i < 10000; ++i) {
        const float x = rng.uniform(0.0f, 255.0f);
        QCOMPARE(roundHalfEvenNonNegative(x), std::nearbyint(x));
    }
    QCOMPARE(roundHalfEvenNonNegative(2.5f), 2.0f);
    QCOMPARE(roundHalfEvenNonNegative(3.5f), 4.0f);
}

void TestUniq::quantizerKnownPoints_data()
{
    QTest::addColumn<int>("bits");
    QTest::addColumn<float>("step");
    QTest::addColumn<float>("w");
    QTest::addColumn<float>("q");
    // b = 2, Delta = 0.5: levels -0.75, -0.25, 0.25, 0.75; c = 1.5.
    QTest::addRow("b2 small positive") << 2 << 0.5f << 0.1f << 0.25f;
    QTest::addRow("b2 small negative") << 2 << 0.5f << -0.1f << -0.25f;
    QTest::addRow("b2 zero (x = 1.5, to even 2)") << 2 << 0.5f << 0.0f << 0.25f;
    QTest::addRow("b2 boundary (x = 2.5, to even 2)") << 2 << 0.5f << 0.5f << 0.25f;
    QTest::addRow("b2 boundary (x = 0.5, to even 0)") << 2 << 0.5f << -0.5f << -0.75f;
    QTest::addRow("b2 past boundary") << 2 << 0.5f << 0.6f << 0.75f;
    QTest::addRow("b2 clamped high") << 2 << 0.5f << 5.0f << 0.75f;
    QTest::addRow("b2 clamped low") << 2 << 0.5f << -5.0f << -0.75f;
    // b = 1 is binary {-Delta/2, +Delta/2}; w = 0 gives x = 0.5, which rounds to even 0: -Delta/2.
    QTest::addRow("b1 positive") << 1 << 1.0f << 0.3f << 0.5f;
    QTest::addRow("b1 negative") << 1 << 1.0f << -0.3f << -0.5f;
    QTest::addRow("b1 zero") << 1 << 1.0f << 0.0f << -0.5f;
    // b = 3, Delta = 0.25: levels (k + 1/2) / 4 for k = -4..3, the largest 0.875.
    QTest::addRow("b3 interior") << 3 << 0.25f << 0.3f << 0.375f;
    QTest::addRow("b3 top") << 3 << 0.25f << 0.99f << 0.875f;
    QTest::addRow("b3 bottom") << 3 << 0.25f << -0.99f << -0.875f;
}

void TestUniq::quantizerKnownPoints()
{
    QFETCH(int, bits);
    QFETCH(float, step);
    QFETCH(float, w);
    QFETCH(float, q);
    QCOMPARE(uniqQuantize(w, UniqGrid{step, bits}), q);
}

void TestUniq::slopesAgainstFiniteDifferences_data()
{
    QTest::addColumn<int>("bits");
    for (int b : {1, 2, 3, 4, 8})
        QTest::addRow("b%d", b) << b;
}

// Away from rounding boundaries q is piecewise linear in Delta: dq/dDelta = round(x) - c inside the
// range and +-c outside it. LSQ's slope adds the straight-through term d(x Delta)/dDelta, treating
// round() as the identity: round(x) - c - w/Delta = round(x) - x. Outside the range q does not
// depend on w (slope 0), inside the straight-through slope is 1.
void TestUniq::slopesAgainstFiniteDifferences()
{
    QFETCH(int, bits);
    const UniqGrid g{0.2f, bits};
    Rng rng(11);
    const double h = 1e-4;
    int inside = 0;
    int outside = 0;
    for (int i = 0; i < 400; ++i) {
        const float w = rng.uniform(-1.2f, 1.2f) * g.step * g.centre();
        const double x = w / g.step + g.centre();
        // Skip weights whose rounding could change within the finite-difference step, which moves
        // x by |w| h / Delta^2.
        const double frac = x - std::floor(x);
        const double margin = 0.01 + 2.0 * std::abs(w) * h / (g.step * g.step);
        if (std::abs(frac - 0.5) < margin || std::abs(x) < margin || std::abs(x - g.top()) < margin)
            continue;
        auto qAt = [&](double step) { return static_cast<double>(uniqQuantize(w, UniqGrid{static_cast<float>(step), bits})); };
        const double fd = (qAt(g.step + h) - qAt(g.step - h)) / (2.0 * h);
        const UniqSlopes s = uniqSlopes(w, g);
        const bool in = x >= 0.0 && x <= g.top();
        const double ste = in ? -static_cast<double>(w) / g.step : 0.0;
        // Float q at |q| ~ 1 carries ~1e-7 of rounding, i.e. ~1e-3 in a difference quotient over 2e-4.
        QVERIFY2(std::abs(s.dStep - (fd + ste)) < 2e-3 * std::max({1.0, std::abs(fd), std::abs(ste)}),
                 qPrintable(QStringLiteral("w %1: analytic %2, numeric %3 + %4").arg(w).arg(s.dStep).arg(fd).arg(ste)));
        QCOMPARE(s.dw, in ? 1.0f : 0.0f);
        (in ? inside : outside)++;
    }
    QVERIFY(inside > 100);
    QVERIFY(outside > 20);
}

void TestUniq::methodInitialisesAndQuantizes()
{
    Model model = smallModel(1);
    UniqSettings settings;
    settings.bits = 3;
    UniqMethod method(model, settings, {});
    QCOMPARE(method.params().size(), std::size_t(3));
    const auto states = method.layerStates();
    for (std::size_t l = 0; l < 3; ++l) {
        const Tensor& w = model.quantTargets()[l].weight->param.value;
        QVERIFY(std::abs(states[l].step - populationStd(w) * gaussianOptimalStep(3)) < 1e-6);
        QCOMPARE(states[l].bits, 3);
        QCOMPARE(states[l].decision, std::string("3-bit"));
        QCOMPARE(states[l].method, std::string("uniq"));
        QCOMPARE(states[l].levels.size(), std::size_t(8));
        QCOMPARE(states[l].alpha, states[l].levels.back());
    }
    // No search phase: the first training step already runs on q(w).
    method.beginStep();
    for (std::size_t l = 0; l < 3; ++l) {
        const QuantizableWeight& w = *model.quantTargets()[l].weight;
        QVERIFY(w.useQuantized);
        const UniqGrid g{states[l].step, 3};
        for (std::size_t i = 0; i < w.param.value.size(); ++i)
            QCOMPARE(w.quantized[i], uniqQuantize(w.param.value[i], g));
    }
    method.setQuantizedForward(false);
    QVERIFY(!model.quantTargets()[0].weight->useQuantized);
}

void TestUniq::methodGradients_data()
{
    QTest::addColumn<int>("bits");
    QTest::addRow("b1") << 1;
    QTest::addRow("b2") << 2;
    QTest::addRow("b4") << 4;
}

// endStep() turns dL/dq into dL/dw (masked to the range) and dL/dDelta = g sum_i dL/dq_i dq_i/dDelta
// with g = 1/sqrt(n max(2^(b-1) - 1, 1)).
void TestUniq::methodGradients()
{
    QFETCH(int, bits);
    Model model = smallModel(2);
    UniqSettings settings;
    settings.bits = bits;
    UniqMethod method(model, settings, {});
    // A smaller step than the initial one pushes some weights past the outermost levels.
    auto params = method.params();
    for (auto& p : params)
        p.param->value[0] *= 0.6f;
    method.beginStep();
    Rng rng(5);
    std::vector<std::vector<float>> upstream;
    for (const auto& t : model.quantTargets()) {
        upstream.emplace_back();
        for (std::size_t i = 0; i < t.weight->param.grad.size(); ++i) {
            t.weight->param.grad[i] = rng.uniform(-1.0f, 1.0f);
            upstream.back().push_back(t.weight->param.grad[i]);
        }
    }
    QCOMPARE(method.endStep({}), 0.0);
    for (std::size_t l = 0; l < 3; ++l) {
        const QuantizableWeight& w = *model.quantTargets()[l].weight;
        const UniqGrid g{params[l].param->value[0], bits};
        const std::size_t n = w.param.value.size();
        double expected = 0.0;
        int clipped = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const UniqSlopes s = uniqSlopes(w.param.value[i], g);
            expected += upstream[l][i] * s.dStep;
            QCOMPARE(w.param.grad[i], upstream[l][i] * s.dw);
            clipped += s.dw == 0.0f;
        }
        QVERIFY(clipped > 0);
        const double scale = 1.0 / std::sqrt(static_cast<double>(n) * std::max((1 << (bits - 1)) - 1, 1));
        expected *= scale;
        QVERIFY2(std::abs(params[l].param->grad[0] - expected) <= 1e-4 * std::max(1.0, std::abs(expected)),
                 qPrintable(QStringLiteral("layer %1: %2 vs %3").arg(l).arg(params[l].param->grad[0]).arg(expected)));
    }
}

void TestUniq::layerBits()
{
    Model model = smallModel(3);
    UniqSettings settings;
    settings.layerBits = {1, 2};
    UniqMethod method(model, settings, {"last"});
    const auto states = method.layerStates();
    QCOMPARE(states[0].bits, 1);
    QCOMPARE(states[0].decision, std::string("binary"));
    QCOMPARE(states[1].bits, 2);
    QCOMPARE(states[2].bits, 32);
    QVERIFY(states[2].keepFloat);
    QCOMPARE(method.params().size(), std::size_t(2));
    method.beginStep();
    QVERIFY(!model.quantTargets()[2].weight->useQuantized);
}

void TestUniq::statesAndCommit()
{
    Model model = smallModel(4);
    UniqMethod method(model, UniqSettings{}, {});
    const auto states = method.layerStates();
    for (const auto& s : states) {
        QCOMPARE(s.levelShares.size(), s.levels.size());
        double sum = 0.0;
        for (double v : s.levelShares)
            sum += v;
        QVERIFY(std::abs(sum - 1.0) < 1e-12);
        QCOMPARE(s.shareZero, 0.0); // no zero level
        QVERIFY(std::abs(s.shareNegative + s.sharePositive - 1.0) < 1e-12);
        QVERIFY(s.quantError > 0.0 && s.quantError < 1.0);
        QVERIFY(!s.committed);
    }
    method.commit();
    QVERIFY(method.committed());
    QVERIFY(method.layerStates()[0].committed);
}

void TestUniq::badSettings()
{
    Model model = smallModel(5);
    auto expectError = [&](UniqSettings s, std::set<std::string> keep, const char* flag) {
        try {
            UniqMethod method(model, s, keep);
            QFAIL(qPrintable(QStringLiteral("no error for ") + flag));
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).starts_with(flag), e.what());
        }
    };
    UniqSettings s;
    s.bits = 0;
    expectError(s, {}, "--bits");
    s.bits = 9;
    expectError(s, {}, "--bits");
    s = {};
    s.layerBits = {2, 2};
    expectError(s, {}, "--layer-bits"); // three quantized layers
    s.layerBits = {2, 9, 2};
    expectError(s, {}, "--layer-bits");
    s = {};
    expectError(s, {"conv7"}, "--keep-float");
}

QTEST_GUILESS_MAIN(TestUniq)
#include "test_uniq.moc"
