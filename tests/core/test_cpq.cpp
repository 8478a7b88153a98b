// CPQ (DropBits), this project's specification in SPEC §2.2: level groups, probabilities against an
// independent full-grid computation, the forward value, the multi-class straight-through gradients
// (w, step, gates) against finite differences, hard-concrete gates, DropBits frequencies, the
// method's memory pressure, commit, and mu's effect on a small trained model.
#include "core/architecture.h"
#include "core/error.h"
#include "core/quant/cpq_method.h"
#include "core/quant/cpq_quantizer.h"
#include "core/quant/cpq_sampling.h"
#include "core/quant/gaussian_step.h"
#include "core/rng.h"
#include "core/trainer.h"
#include "synthetic_data.h"

#include <QtTest>

#include <cmath>
#include <map>

using namespace sq;

namespace {

Model smallModel(std::uint64_t seed)
{
    Model m = buildModel("dense 16, relu, dense 8, relu, dense 3", {1, 2, 5}, 3);
    Rng rng(seed);
    m.initialize(rng);
    return m;
}

double sig(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// SPEC §2.2 written out over the whole active grid in double precision, independently of the
// windowed float kernel: pi_k ∝ c_k (Sig((g_k + s/2 - w)/sigma) - Sig((g_k - s/2 - w)/sigma)),
// the outermost active levels taking the open tails; then softmax(log(pi)/tau).
std::map<int, double> referenceProbabilities(double w, const CpqGrid& grid, int highestGroup)
{
    const int bits = std::min(highestGroup, grid.activeBits());
    const int maxLevel = bits >= 2 ? cpqMaxLevel(bits) : 0;
    const double s = grid.step;
    const double sigma = s / 3.0;
    std::map<int, double> p;
    double total = 0.0;
    for (int k = -maxLevel; k <= maxLevel; ++k) {
        const double upper = k == maxLevel ? 1.0 : sig((k * s + s / 2 - w) / sigma);
        const double lower = k == -maxLevel ? 0.0 : sig((k * s - s / 2 - w) / sigma);
        double c = 1.0;
        for (int j = 3; j <= cpqGroupOf(k); ++j)
            c *= grid.gate[static_cast<std::size_t>(j)];
        const double v = std::pow(c * (upper - lower), 1.0 / grid.temperature);
        p[k] = v;
        total += v;
    }
    for (auto& [k, v] : p)
        v /= total;
    return p;
}

CpqGrid softGrid(int maxBits, float step, float temperature)
{
    CpqGrid g;
    g.maxBits = maxBits;
    g.step = step;
    g.temperature = temperature;
    for (int j = 3; j <= maxBits; ++j)
        g.gate[static_cast<std::size_t>(j)] = 0.85f - 0.1f * static_cast<float>(j - 3);
    return g;
}

} // namespace

class TestCpq : public QObject {
    Q_OBJECT

private slots:
    void groupsAndLevels();
    void probabilitiesMatchTheSpecification_data();
    void probabilitiesMatchTheSpecification();
    void forwardIsTheNearestActiveLevel();
    void forwardKnownPoints();
    void gradientsAgainstFiniteDifferences_data();
    void gradientsAgainstFiniteDifferences();
    void layerPassesMatchPoints();
    void hardConcreteGates();
    void dropBitsFrequencies_data();
    void dropBitsFrequencies();
    void methodDrawsDropBits();
    void methodGateGradientThroughRelaxedSample();
    void memoryPressure();
    void commitKeepsNestedGroups();
    void largerMuNeverMoreBits();
    void badSettings();
};

void TestCpq::groupsAndLevels()
{
    QCOMPARE(cpqMaxLevel(2), 1);
    QCOMPARE(cpqMaxLevel(4), 7);
    QCOMPARE(cpqMaxLevel(8), 127);
    QCOMPARE(cpqGroupOf(0), 1);
    QCOMPARE(cpqGroupOf(1), 2);
    QCOMPARE(cpqGroupOf(-1), 2);
    QCOMPARE(cpqGroupOf(2), 3);
    QCOMPARE(cpqGroupOf(-3), 3);
    QCOMPARE(cpqGroupOf(4), 4);
    QCOMPARE(cpqGroupOf(7), 4);
    QCOMPARE(cpqGroupOf(8), 5);
    QCOMPARE(cpqGroupOf(127), 8);
    // Groups 1..j are exactly the j-bit grid with zero.
    for (int j = 2; j <= 8; ++j)
        for (int k = -cpqMaxLevel(j) - 1; k <= cpqMaxLevel(j) + 1; ++k)
            QCOMPARE(cpqGroupOf(k) <= j, std::abs(k) <= cpqMaxLevel(j));
    CpqGrid g;
    g.maxBits = 5;
    QCOMPARE(g.activeBits(), 5);
    g.gate[4] = 0.0f;
    QCOMPARE(g.activeBits(), 3); // nested: group 5 goes with group 4
    g.gate[3] = 0.0f;
    QCOMPARE(g.activeBits(), 2);
}

void TestCpq::probabilitiesMatchTheSpecification_data()
{
    QTest::addColumn<int>("maxBits");
    QTest::addColumn<float>("temperature");
    QTest::addColumn<int>("highestGroup");
    QTest::addColumn<bool>("soft");
    QTest::addRow("B2") << 2 << 1.0f << 2 << false;
    QTest::addRow("B3 soft gate") << 3 << 1.0f << 3 << true;
    QTest::addRow("B4") << 4 << 1.0f << 4 << false;
    QTest::addRow("B4 soft gates") << 4 << 1.0f << 4 << true;
    QTest::addRow("B4 DropBits to 3") << 4 << 1.0f << 3 << true;
    QTest::addRow("B4 DropBits to zero only") << 4 << 1.0f << 1 << true;
    QTest::addRow("B6 tau 0.5") << 6 << 0.5f << 6 << true;
    QTest::addRow("B8") << 8 << 1.0f << 8 << false;
    QTest::addRow("B8 tau 0.7") << 8 << 0.7f << 8 << false;
}

// The window kernel against the full grid: the probabilities sum to 1; every level inside the
// window has the full-grid probability, and each edge level of the window the full-grid
// probability of itself and every level beyond it (the open tail it takes), up to the change of
// normalisation by gates and temperature on that lumped tail (< 1.2e-4 a side).
void TestCpq::probabilitiesMatchTheSpecification()
{
    QFETCH(int, maxBits);
    QFETCH(float, temperature);
    QFETCH(int, highestGroup);
    QFETCH(bool, soft);
    CpqGrid grid = soft ? softGrid(maxBits, 0.1f, temperature) : CpqGrid{};
    grid.maxBits = maxBits;
    grid.step = 0.1f;
    grid.temperature = temperature;
    const bool exactTails = !soft && temperature == 1.0f; // lumping the tail is then exact
    const double tol = exactTails ? 1e-5 : 2.5e-4; // float kernel against double reference
    Rng rng(21);
    const float reach = 0.1f * static_cast<float>(cpqMaxLevel(maxBits) + 3);
    for (int trial = 0; trial < 300; ++trial) {
        const float w = rng.uniform(-reach, reach);
        const auto window = cpqProbabilities(w, grid, highestGroup);
        const auto reference = referenceProbabilities(w, grid, highestGroup);
        QVERIFY(window.size() <= 2 * kCpqWindow + 1); // bounded cost per weight
        double sum = 0.0;
        for (std::size_t i = 0; i < window.size(); ++i) {
            const auto [k, p] = window[i];
            sum += p;
            QVERIFY(reference.count(k));
            double expected = reference.at(k);
            for (const auto& [level, q] : reference)
                if ((i == 0 && level < k) || (i + 1 == window.size() && level > k))
                    expected += q;
            QVERIFY2(std::abs(p - expected) < tol,
                     qPrintable(QStringLiteral("w %1 level %2: %3 vs %4").arg(w).arg(k).arg(p).arg(expected)));
        }
        QVERIFY(std::abs(sum - 1.0) < 1e-5);
    }
}

// With every active gate at 1 the most probable level is the nearest active one, except within a
// hair of the cell boundaries (and the open tail cell wins up to 0.032 steps inside its boundary).
void TestCpq::forwardIsTheNearestActiveLevel()
{
    Rng rng(8);
    for (int bits : {2, 3, 4, 6}) {
        CpqGrid grid;
        grid.maxBits = bits;
        grid.step = 0.05f;
        const int maxLevel = cpqMaxLevel(bits);
        for (int trial = 0; trial < 2000; ++trial) {
            const float w = rng.uniform(-1.5f, 1.5f) * grid.step * static_cast<float>(maxLevel + 1);
            const float t = w / grid.step;
            const float frac = t - std::floor(t);
            if (std::abs(frac - 0.5f) < 0.05f)
                continue;
            const int nearest = std::clamp(static_cast<int>(std::lround(t)), -maxLevel, maxLevel);
            const CpqPoint r = cpqPoint(w, grid);
            QCOMPARE(r.level, nearest);
            QCOMPARE(r.value, grid.step * static_cast<float>(nearest));
            double best = 0.0;
            for (const auto& [k, p] : cpqProbabilities(w, grid))
                best = std::max(best, p);
            for (const auto& [k, p] : cpqProbabilities(w, grid))
                if (k == nearest)
                    QCOMPARE(p, best);
        }
    }
}

void TestCpq::forwardKnownPoints()
{
    CpqGrid grid;
    grid.maxBits = 4;
    grid.step = 1.0f;
    QCOMPARE(cpqPoint(0.2f, grid).value, 0.0f);
    QCOMPARE(cpqPoint(-0.4f, grid).value, 0.0f);
    QCOMPARE(cpqPoint(1.4f, grid).value, 1.0f);
    QCOMPARE(cpqPoint(-2.6f, grid).value, -3.0f);
    QCOMPARE(cpqPoint(100.0f, grid).value, 7.0f);
    QCOMPARE(cpqPoint(-1e6f, grid).value, -7.0f);
    // DropBits kept groups 1 and 2 only: the grid is ternary {-1, 0, 1}.
    QCOMPARE(cpqPoint(5.0f, grid, 2).value, 1.0f);
    QCOMPARE(cpqPoint(-0.2f, grid, 2).value, 0.0f);
    // Only group 1 kept: everything is zero, and nothing flows back.
    const CpqPoint zero = cpqPoint(3.0f, grid, 1);
    QCOMPARE(zero.value, 0.0f);
    QCOMPARE(zero.dw, 0.0f);
    QCOMPARE(zero.dStep, 0.0f);
    // A closed gate on group 3 closes group 4 too.
    grid.gate[3] = 0.0f;
    QCOMPARE(cpqPoint(6.0f, grid).value, 1.0f);
    // A half-open gate on group 4 lowers its levels' probability; 5.9 is still nearest to 6.
    grid.gate[3] = 1.0f;
    grid.gate[4] = 0.5f;
    QCOMPARE(cpqPoint(5.9f, grid).value, 6.0f);
}

void TestCpq::gradientsAgainstFiniteDifferences_data()
{
    QTest::addColumn<int>("maxBits");
    QTest::addColumn<float>("temperature");
    QTest::addColumn<int>("highestGroup");
    QTest::addRow("B3 tau 1") << 3 << 1.0f << 3;
    QTest::addRow("B4 tau 1") << 4 << 1.0f << 4;
    QTest::addRow("B4 tau 1 DropBits 3") << 4 << 1.0f << 3;
    QTest::addRow("B5 tau 0.5") << 5 << 0.5f << 5;
    QTest::addRow("B4 tau 0.7") << 4 << 0.7f << 4;
}

// The backward pass differentiates y = s sum_k p_k k (the multi-class straight-through estimator).
// Its slopes in w, s and the gate values z_j against central differences of y, away from the
// points where the window moves (t = w/s at half-integers), where y jumps by the lumped tail.
void TestCpq::gradientsAgainstFiniteDifferences()
{
    QFETCH(int, maxBits);
    QFETCH(float, temperature);
    QFETCH(int, highestGroup);
    const CpqGrid grid = softGrid(maxBits, 0.1f, temperature);
    Rng rng(31);
    const float reach = grid.step * static_cast<float>(cpqMaxLevel(maxBits) + 2);
    int checked = 0;
    auto expectClose = [](double analytic, double numeric, const QString& what) {
        const double allowed = 2e-3 + 1e-2 * std::max(std::abs(analytic), std::abs(numeric));
        QVERIFY2(std::abs(analytic - numeric) <= allowed,
                 qPrintable(what + QStringLiteral(": analytic %1, numeric %2").arg(analytic).arg(numeric)));
    };
    while (checked < 150) {
        const float w = rng.uniform(-reach, reach);
        const float t = w / grid.step;
        if (std::abs(t - std::floor(t) - 0.5f) < 0.05f)
            continue;
        ++checked;
        const CpqPoint r = cpqPoint(w, grid, highestGroup);
        const QString at = QStringLiteral("w %1").arg(w);
        // Four-point central differences (error O(h^4)): s enters through t = w/s, which moves
        // t by t h/s, so a two-point quotient would carry a visible curvature error.
        auto slope = [](auto&& y, double h) {
            return (8.0 * (y(h) - y(-h)) - (y(2.0 * h) - y(-2.0 * h))) / (12.0 * h);
        };
        expectClose(r.dw,
                    slope([&](double h) { return static_cast<double>(cpqPoint(w + static_cast<float>(h), grid, highestGroup).soft); },
                          1e-4),
                    at + " dy/dw");
        expectClose(r.dStep,
                    slope(
                        [&](double h) {
                            CpqGrid g = grid;
                            g.step += static_cast<float>(h);
                            return static_cast<double>(cpqPoint(w, g, highestGroup).soft);
                        },
                        1e-4),
                    at + " dy/ds");
        for (int j = 3; j <= std::min(highestGroup, maxBits); ++j)
            expectClose(r.dGate[static_cast<std::size_t>(j)],
                        slope(
                            [&](double h) {
                                CpqGrid g = grid;
                                g.gate[static_cast<std::size_t>(j)] += static_cast<float>(h);
                                return static_cast<double>(cpqPoint(w, g, highestGroup).soft);
                            },
                            1e-3),
                        at + QStringLiteral(" dy/dz_%1").arg(j));
    }
}

void TestCpq::layerPassesMatchPoints()
{
    const CpqGrid grid = softGrid(4, 0.07f, 1.0f);
    Rng rng(4);
    const std::size_t n = 10000; // more than one block
    std::vector<float> w(n);
    std::vector<std::uint8_t> highest(n);
    std::vector<float> upstream(n);
    DropBits drop(4, 0.3);
    for (std::size_t i = 0; i < n; ++i) {
        w[i] = 0.2f * rng.normal();
        highest[i] = static_cast<std::uint8_t>(drop.highestGroup(rng.uniform()));
        upstream[i] = rng.uniform(-1.0f, 1.0f);
    }
    std::vector<float> q(n);
    CpqLayerCache cache;
    cpqForwardLayer(w.data(), n, grid, highest.data(), q.data(), &cache);
    QCOMPARE(cache.softGates, (std::vector<int>{3, 4}));
    std::vector<float> grad = upstream;
    const CpqLayerGrad g = cpqBackwardLayer(grad.data(), n, cache);
    double step = 0.0;
    double gate3 = 0.0;
    double gate4 = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const CpqPoint r = cpqPoint(w[i], grid, highest[i]);
        QCOMPARE(q[i], r.value);
        QVERIFY(std::abs(grad[i] - upstream[i] * r.dw) <= 1e-6f);
        step += upstream[i] * r.dStep;
        gate3 += upstream[i] * r.dGate[3];
        gate4 += upstream[i] * r.dGate[4];
    }
    QVERIFY(std::abs(g.step - step) < 1e-3 * std::max(1.0, std::abs(step)));
    QVERIFY(std::abs(g.gate[3] - gate3) < 1e-3 * std::max(1.0, std::abs(gate3)));
    QVERIFY(std::abs(g.gate[4] - gate4) < 1e-3 * std::max(1.0, std::abs(gate4)));
    QCOMPARE(g.gate[5], 0.0);
}

void TestCpq::hardConcreteGates()
{
    // dz/da against central differences at fixed noise, where z is not clamped.
    Rng rng(6);
    int interior = 0;
    for (int i = 0; i < 500; ++i) {
        const float a = rng.uniform(-3.0f, 3.0f);
        const double u = 0.001 + 0.998 * rng.uniform();
        const GateSample g = sampleHardConcrete(a, u);
        QVERIFY(g.z >= 0.0f && g.z <= 1.0f);
        const float h = 1e-3f;
        const GateSample up = sampleHardConcrete(a + h, u);
        const GateSample down = sampleHardConcrete(a - h, u);
        if (up.z <= 0.0f || up.z >= 1.0f || down.z <= 0.0f || down.z >= 1.0f) {
            if (g.z == 0.0f || g.z == 1.0f)
                QCOMPARE(g.dzDlogit, 0.0f);
            continue;
        }
        ++interior;
        const double fd = (static_cast<double>(up.z) - down.z) / (2.0 * h);
        QVERIFY2(std::abs(g.dzDlogit - fd) < 2e-3 + 1e-2 * std::abs(fd), qPrintable(QString::number(fd)));
    }
    QVERIFY(interior > 100);
    // P(z > 1/2) = Sig(a), and z is exactly 0 or 1 with positive probability (hard concrete).
    for (float a : {-1.0f, 0.0f, 2.0f}) {
        const int draws = 40000;
        int kept = 0;
        int exact = 0;
        for (int i = 0; i < draws; ++i) {
            const GateSample g = sampleHardConcrete(a, (static_cast<double>(rng.next() >> 11) + 0.5) * 0x1.0p-53);
            kept += g.z > 0.5f;
            exact += g.z == 0.0f || g.z == 1.0f;
        }
        const double p = keepProbability(a);
        const double sigma = std::sqrt(p * (1.0 - p) / draws);
        QVERIFY2(std::abs(static_cast<double>(kept) / draws - p) < 5.0 * sigma,
                 qPrintable(QStringLiteral("a %1: %2 kept, expected %3").arg(a).arg(kept).arg(p * draws)));
        QVERIFY(exact > draws / 10);
    }
}

void TestCpq::dropBitsFrequencies_data()
{
    QTest::addColumn<int>("maxBits");
    QTest::addColumn<double>("p");
    QTest::addRow("B4 p0.3") << 4 << 0.3;
    QTest::addRow("B3 p0.5") << 3 << 0.5;
    QTest::addRow("B6 p0.7") << 6 << 0.7;
    QTest::addRow("B2 p0.2") << 2 << 0.2;
}

// Group j >= 2 is dropped with probability p^(B-j+1), nested: within 5 binomial standard
// deviations over 200,000 draws, and never a higher group kept above a dropped one.
void TestCpq::dropBitsFrequencies()
{
    QFETCH(int, maxBits);
    QFETCH(double, p);
    DropBits drop(maxBits, p);
    Rng rng(12);
    const int draws = 200000;
    std::vector<int> dropped(static_cast<std::size_t>(maxBits + 1), 0);
    for (int i = 0; i < draws; ++i) {
        const int highest = drop.highestGroup(rng.uniform());
        QVERIFY(highest >= 1 && highest <= maxBits);
        for (int j = highest + 1; j <= maxBits; ++j) // nested by construction of "highest"
            ++dropped[static_cast<std::size_t>(j)];
    }
    for (int j = 2; j <= maxBits; ++j) {
        const double expected = std::pow(p, maxBits - j + 1);
        QCOMPARE(drop.dropProbability(j), expected);
        const double sigma = std::sqrt(expected * (1.0 - expected) / draws);
        const double seen = static_cast<double>(dropped[static_cast<std::size_t>(j)]) / draws;
        QVERIFY2(std::abs(seen - expected) <= 5.0 * sigma + 1e-7,
                 qPrintable(QStringLiteral("group %1: %2, expected %3").arg(j).arg(seen).arg(expected)));
    }
    DropBits none(maxBits, 0.0);
    QCOMPARE(none.highestGroup(0.0f), maxBits);
}

// The method draws DropBits per weight and step (fresh draws every step, reproducible by seed).
void TestCpq::methodDrawsDropBits()
{
    Model model = buildModel("dense 64, relu, dense 3", {1, 8, 8}, 3);
    Rng init(1);
    model.initialize(init);
    CpqSettings settings;
    settings.seed = 9;
    CpqMethod method(model, settings, {});
    std::vector<int> dropped(5, 0);
    std::size_t draws = 0;
    std::vector<std::uint8_t> first;
    for (int step = 0; step < 20; ++step) {
        method.beginStep();
        const auto& highest = method.lastHighestGroups(0);
        QCOMPARE(highest.size(), model.quantTargets()[0].weight->param.value.size());
        if (step == 0)
            first = highest;
        else if (step == 1)
            QVERIFY(highest != first);
        for (std::uint8_t h : highest)
            for (int j = h + 1; j <= 4; ++j)
                ++dropped[static_cast<std::size_t>(j)];
        draws += highest.size();
    }
    for (int j = 2; j <= 4; ++j) {
        const double expected = std::pow(0.3, 4 - j + 1);
        const double sigma = std::sqrt(expected * (1.0 - expected) / static_cast<double>(draws));
        QVERIFY(std::abs(static_cast<double>(dropped[static_cast<std::size_t>(j)]) / draws - expected) < 5.0 * sigma);
    }
    // The same seed and counter give the same draws.
    CpqMethod again(model, settings, {});
    again.beginStep();
    QCOMPARE(again.lastHighestGroups(0), first);
}

// dL/da_j of the task through the relaxed gate: sum_i dL/dq_i dy_i/dz_j dz_j/da_j, checked by
// recomputing y at a_j +- h with the same gate noise (recovered from the sampled z) and DropBits.
void TestCpq::methodGateGradientThroughRelaxedSample()
{
    Model model = smallModel(7);
    CpqSettings settings;
    settings.seed = 3;
    settings.gateLogitInit = 0.0; // gates often strictly between 0 and 1
    CpqMethod method(model, settings, {});
    int checked = 0;
    for (int step = 0; step < 40 && checked < 4; ++step) {
        method.beginStep();
        Rng rng(100 + static_cast<std::uint64_t>(step));
        std::vector<std::vector<float>> upstream;
        for (const auto& t : model.quantTargets()) {
            upstream.emplace_back();
            for (std::size_t i = 0; i < t.weight->param.grad.size(); ++i)
                upstream.back().push_back(t.weight->param.grad[i] = rng.uniform(-1.0f, 1.0f));
        }
        std::vector<CpqGrid> grids;
        std::vector<std::vector<std::uint8_t>> highest;
        for (std::size_t l = 0; l < 3; ++l) {
            grids.push_back(method.lastGrid(l));
            highest.push_back(method.lastHighestGroups(l));
        }
        method.endStep({}); // mu = 0: the task term only
        auto params = method.params();
        for (std::size_t l = 0; l < 3; ++l) {
            const Param& logits = *params[2 * l + 1].param;
            const Tensor& w = model.quantTargets()[l].weight->param.value;
            for (int j = 3; j <= 4; ++j) {
                const float z = grids[l].gate[static_cast<std::size_t>(j)];
                const float a = logits.value[static_cast<std::size_t>(j - 3)];
                if (!(z > 0.02f && z < 0.98f) || grids[l].activeBits() < j)
                    continue;
                // z = s (zeta - gamma) + gamma with s = Sig((L + a) / beta): recover the noise L.
                const double s = (z - kHardConcreteGamma) / (kHardConcreteZeta - kHardConcreteGamma);
                const double noise = kHardConcreteBeta * std::log(s / (1.0 - s)) - a;
                auto loss = [&](double logit) {
                    const double sx = 1.0 / (1.0 + std::exp(-(noise + logit) / kHardConcreteBeta));
                    CpqGrid g = grids[l];
                    g.gate[static_cast<std::size_t>(j)] =
                        static_cast<float>(sx * (kHardConcreteZeta - kHardConcreteGamma) + kHardConcreteGamma);
                    double sum = 0.0;
                    for (std::size_t i = 0; i < w.size(); ++i)
                        sum += upstream[l][i] * cpqPoint(w[i], g, highest[l][i]).soft;
                    return sum;
                };
                const double h = 1e-3;
                const double fd = (loss(a + h) - loss(a - h)) / (2.0 * h);
                const double analytic = logits.grad[static_cast<std::size_t>(j - 3)];
                QVERIFY2(std::abs(analytic - fd) <= 2e-3 + 2e-2 * std::abs(fd),
                         qPrintable(QStringLiteral("layer %1 group %2: analytic %3, numeric %4").arg(l).arg(j).arg(analytic).arg(fd)));
                ++checked;
            }
        }
    }
    QVERIFY(checked >= 4);
}

// mu * sum_l sum_j P(keep_j) n_l / N and its gradient mu n_l/N P(1 - P) on each logit.
void TestCpq::memoryPressure()
{
    Model model = smallModel(8);
    CpqSettings settings;
    settings.maxBits = 5;
    CpqMethod method(model, settings, {"first"});
    auto params = method.params();
    QCOMPARE(params.size(), std::size_t(4)); // step and logits of dense2 and dense3
    params[1].param->value[0] = 1.0f;
    params[1].param->value[1] = -0.5f;
    params[1].param->value[2] = 0.0f;
    method.beginStep();
    for (auto& t : model.quantTargets())
        t.weight->param.grad.setZero();
    const double mu = 0.7;
    const double reg = method.endStep({0.0, 0.0, mu});
    const double total = static_cast<double>(model.weightCount());
    double expected = 0.0;
    for (std::size_t l = 1; l < 3; ++l) {
        const Param& logits = *params[2 * (l - 1) + 1].param;
        const double share = static_cast<double>(model.quantTargets()[l].weight->param.value.size()) / total;
        for (std::size_t j = 0; j < 3; ++j) {
            const double p = keepProbability(logits.value[j]);
            expected += p * share;
            QVERIFY(std::abs(logits.grad[j] - mu * share * p * (1.0 - p)) < 1e-6);
        }
    }
    QVERIFY(std::abs(reg - mu * expected) < 1e-6);
}

void TestCpq::commitKeepsNestedGroups()
{
    Model model = smallModel(9);
    CpqMethod method(model, CpqSettings{}, {});
    auto params = method.params();
    Param& l0 = *params[1].param;
    Param& l1 = *params[3].param;
    Param& l2 = *params[5].param;
    l0.value[0] = -1.0f; // group 3 dropped, so group 4 too though its P(keep) is high
    l0.value[1] = 3.0f;
    l1.value[0] = 1.0f;
    l1.value[1] = -1.0f;
    l2.value[0] = 2.0f;
    l2.value[1] = 2.0f;
    QCOMPARE(method.decidedBits(0), 2);
    QCOMPARE(method.decidedBits(1), 3);
    QCOMPARE(method.decidedBits(2), 4);
    method.commit();
    auto states = method.layerStates();
    QCOMPARE(states[0].decision, std::string("ternary"));
    QCOMPARE(states[0].levels.size(), std::size_t(3));
    QCOMPARE(states[0].droppedLevels.size(), std::size_t(12));
    QCOMPARE(states[1].decision, std::string("3-bit"));
    QCOMPARE(states[1].bits, 3);
    QCOMPARE(states[2].bits, 4);
    QCOMPARE(states[2].maxBits, 4);
    QCOMPARE(states[0].keepProbability.size(), std::size_t(2));
    QVERIFY(std::abs(states[0].keepProbability[1] - keepProbability(3.0f)) < 1e-7);
    QVERIFY(states[0].committed);
    double sum = 0.0;
    for (double v : states[1].levelShares)
        sum += v;
    QVERIFY(std::abs(sum - 1.0) < 1e-12);
    // After commit: no DropBits, frozen grids, and the logits stay where they were.
    method.beginStep();
    QVERIFY(method.lastHighestGroups(0).empty());
    QCOMPARE(method.lastGrid(0).activeBits(), 2);
    QCOMPARE(method.lastGrid(1).activeBits(), 3);
    const QuantizableWeight& w = *model.quantTargets()[0].weight;
    for (std::size_t i = 0; i < w.param.value.size(); ++i)
        QVERIFY(std::abs(w.quantized[i]) <= states[0].step * 1.0001f);
    l1.value[1] = 5.0f;
    method.afterOptimizerStep();
    QCOMPARE(l1.value[1], -1.0f);
    QCOMPARE(method.layerStates()[1].bits, 3);
}

// On a small fixed-seed run, raising mu never raises the model's bits, and a large mu does lower them.
void TestCpq::largerMuNeverMoreBits()
{
    auto data = testing::blobs(768, 128);
    std::vector<std::uint64_t> bits;
    for (double mu : {0.0, 0.03, 0.3, 3.0}) {
        TrainConfig c;
        c.arch = "dense 32, bn, relu, dense 16, relu, dense 4";
        c.sq.mode = QuantMode::Cpq;
        c.mu = mu;
        c.cpq.gateLogitInit = 0.5;
        c.cpq.gateLrMultiplier = 30.0f; // a short run: let the gates move within it
        c.epochs = 3;
        c.commitEpochs = 1;
        c.batchSize = 32;
        c.threads = 1;
        c.learningRate = 3e-3;
        c.recalibrationImages = 256;
        c.seed = 2;
        Trainer t(c, data);
        t.run();
        const auto& last = t.history().epochs.back();
        bits.push_back(last.memory.modelBits);
        QVERIFY2(last.evaluation.quantizedAccuracy > 0.5, qPrintable(QString::number(last.evaluation.quantizedAccuracy)));
    }
    for (std::size_t i = 1; i < bits.size(); ++i)
        QVERIFY2(bits[i] <= bits[i - 1], qPrintable(QStringLiteral("mu step %1: %2 > %3").arg(i).arg(bits[i]).arg(bits[i - 1])));
    QVERIFY2(bits.back() < bits.front(), qPrintable(QStringLiteral("%1 vs %2").arg(bits.back()).arg(bits.front())));
}

void TestCpq::badSettings()
{
    Model model = smallModel(10);
    auto expectError = [&](CpqSettings s, const char* flag) {
        try {
            CpqMethod method(model, s, {});
            QFAIL(qPrintable(QStringLiteral("no error for ") + flag));
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).starts_with(flag), e.what());
        }
    };
    CpqSettings s;
    s.maxBits = 1;
    expectError(s, "--max-bits");
    s.maxBits = 9;
    expectError(s, "--max-bits");
    s = {};
    s.dropP = 1.0;
    expectError(s, "--drop-p");
    s.dropP = -0.1;
    expectError(s, "--drop-p");

    auto expectConfigError = [](TrainConfig c, const char* flag) {
        try {
            c.validate();
            QFAIL(qPrintable(QStringLiteral("no error for ") + flag));
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).starts_with(flag), e.what());
        }
    };
    TrainConfig c;
    c.mu = -1.0;
    expectConfigError(c, "--mu");
    c.mu = std::numeric_limits<double>::infinity();
    expectConfigError(c, "--mu");
    c = {};
    c.cpq.maxBits = 1;
    expectConfigError(c, "--max-bits");
    c = {};
    c.cpq.dropP = 1.0;
    expectConfigError(c, "--drop-p");
    c = {};
    c.uniq.bits = 9;
    expectConfigError(c, "--bits");
    c = {};
    c.uniq.layerBits = {2, 0};
    expectConfigError(c, "--layer-bits");
}

QTEST_GUILESS_MAIN(TestCpq)
#include "test_cpq.moc"
