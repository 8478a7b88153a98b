// Loss, optimizers and schedules: hand-worked steps and known closed forms.
#include "core/error.h"
#include "core/loss.h"
#include "core/optimizer.h"
#include "core/schedule.h"

#include <QtTest>

#include <cmath>
#include <numbers>

using namespace sq;

namespace {

Param scalar(float value, bool decay = true)
{
    Param p;
    p.name = "x";
    p.decay = decay;
    p.value.resize({1});
    p.grad.resize({1});
    p.value[0] = value;
    p.grad[0] = 0.0f;
    return p;
}

} // namespace

class TestOptim : public QObject {
    Q_OBJECT

private slots:
    void crossEntropyKnownValues();
    void crossEntropyIsStableForHugeLogits();
    void sgdMomentumByHand();
    void sgdWeightDecay();
    void adamFirstStepsByHand();
    void adamMinimisesQuadratic();
    void lrMultiplier();
    void lrSchedules_data();
    void lrSchedules();
    void lambdaSchedules_data();
    void lambdaSchedules();
    void badNames();
};

void TestOptim::crossEntropyKnownValues()
{
    Tensor logits({2, 3});
    // Row 0: uniform logits -> loss ln 3; row 1: label has the largest logit.
    const float z[] = {0, 0, 0, 1, 2, 3};
    std::copy(std::begin(z), std::end(z), logits.data());
    Tensor grad;
    const LossResult r = softmaxCrossEntropy(logits, {1, 2}, grad);
    const double l1 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
    QVERIFY(std::abs(r.loss - (std::log(3.0) + l1) / 2.0) < 1e-6);
    QCOMPARE(r.correct, 1); // row 0 ties: argmax is the first index, not the label
    // d/dz = (softmax - onehot) / N
    QVERIFY(std::abs(grad[0] - 1.0f / 6.0f) < 1e-6f);
    QVERIFY(std::abs(grad[1] - (1.0f / 3.0f - 1.0f) / 2.0f) < 1e-6f);
    double rowSum = 0.0;
    for (int j = 3; j < 6; ++j)
        rowSum += grad[static_cast<std::size_t>(j)];
    QVERIFY(std::abs(rowSum) < 1e-7);
}

void TestOptim::crossEntropyIsStableForHugeLogits()
{
    Tensor logits({1, 2});
    logits[0] = 1000.0f;
    logits[1] = -1000.0f;
    Tensor grad;
    const LossResult r = softmaxCrossEntropy(logits, {1}, grad);
    QVERIFY(std::isfinite(r.loss));
    QVERIFY(std::abs(r.loss - 2000.0) < 1e-3);
    QVERIFY(grad.vec().allFinite());
}

void TestOptim::sgdMomentumByHand()
{
    Param p = scalar(1.0f);
    Sgd sgd({{&p, 1.0f}}, 0.5f, 0.0f);
    p.grad[0] = 2.0f;
    sgd.step(0.1f); // v = 2, w = 1 - 0.2 = 0.8
    QVERIFY(std::abs(p.value[0] - 0.8f) < 1e-7f);
    p.grad[0] = 2.0f;
    sgd.step(0.1f); // v = 0.5*2 + 2 = 3, w = 0.8 - 0.3 = 0.5
    QVERIFY(std::abs(p.value[0] - 0.5f) < 1e-7f);
}

void TestOptim::sgdWeightDecay()
{
    Param decayed = scalar(2.0f, true);
    Param exempt = scalar(2.0f, false);
    Sgd sgd({{&decayed, 1.0f}, {&exempt, 1.0f}}, 0.0f, 0.1f);
    sgd.step(0.5f); // zero gradient: only the decay term 0.1 * 2 acts on the first
    QVERIFY(std::abs(decayed.value[0] - (2.0f - 0.5f * 0.2f)) < 1e-7f);
    QCOMPARE(exempt.value[0], 2.0f);
}

void TestOptim::adamFirstStepsByHand()
{
    // With bias correction, Adam's first step is lr * g / (|g| + eps) = lr * sign(g).
    Param p = scalar(0.0f);
    Adam adam({{&p, 1.0f}}, 0.9f, 0.999f, 1e-8f, 0.0f);
    p.grad[0] = 3.0f;
    adam.step(0.01f);
    QVERIFY(std::abs(p.value[0] + 0.01f) < 1e-6f);
    // Second step with gradient 1: m = 0.9*0.3 + 0.1 = 0.37, v = 0.999*0.009 + 0.001 = 0.009991
    // mhat = 0.37/0.19, vhat = 0.009991/0.001999.
    p.grad[0] = 1.0f;
    adam.step(0.01f);
    const double mhat = 0.37 / (1.0 - 0.81);
    const double vhat = 0.009991 / (1.0 - 0.998001);
    const double expected = -0.01 - 0.01 * mhat / (std::sqrt(vhat) + 1e-8);
    QVERIFY2(std::abs(p.value[0] - expected) < 1e-6, qPrintable(QString::number(p.value[0])));
    QCOMPARE(adam.steps(), std::int64_t(2));
}

void TestOptim::adamMinimisesQuadratic()
{
    // f(x, y) = (x - 1.2)^2 + 3 (y + 3.4)^2
    Param p;
    p.value.resize({2});
    p.grad.resize({2});
    p.value.setZero();
    Adam adam({{&p, 1.0f}}, 0.9f, 0.999f, 1e-8f, 0.0f);
    for (int i = 0; i < 3000; ++i) {
        p.grad[0] = 2.0f * (p.value[0] - 1.2f);
        p.grad[1] = 6.0f * (p.value[1] + 3.4f);
        adam.step(0.01f);
    }
    QVERIFY(std::abs(p.value[0] - 1.2f) < 1e-2f);
    QVERIFY(std::abs(p.value[1] + 3.4f) < 1e-2f);
}

void TestOptim::lrMultiplier()
{
    Param a = scalar(0.0f);
    Param b = scalar(0.0f);
    Sgd sgd({{&a, 1.0f}, {&b, 0.1f}}, 0.0f, 0.0f);
    a.grad[0] = 1.0f;
    b.grad[0] = 1.0f;
    sgd.step(1.0f);
    QCOMPARE(a.value[0], -1.0f);
    QVERIFY(std::abs(b.value[0] + 0.1f) < 1e-7f);
}

void TestOptim::lrSchedules_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<double>("epochs");
    QTest::addColumn<double>("expected");
    QTest::addRow("constant late") << "constant" << 9.5 << 0.1;
    QTest::addRow("step before first drop") << "step" << 2.9 << 0.1;
    QTest::addRow("step after first drop") << "step" << 3.0 << 0.01;
    QTest::addRow("step after second drop") << "step" << 6.5 << 0.001;
    QTest::addRow("cosine start") << "cosine" << 0.0 << 0.1;
    QTest::addRow("cosine middle") << "cosine" << 5.0 << 0.05;
    QTest::addRow("cosine end") << "cosine" << 10.0 << 0.0;
}

void TestOptim::lrSchedules()
{
    QFETCH(QString, kind);
    QFETCH(double, epochs);
    QFETCH(double, expected);
    LrSchedule s;
    s.kind = parseLrScheduleKind(kind.toStdString());
    s.stepEpochs = 3;
    s.stepFactor = 0.1f;
    QVERIFY(std::abs(s.at(0.1f, epochs, 10) - expected) < 1e-7);
}

void TestOptim::lambdaSchedules_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<double>("epochs");
    QTest::addColumn<double>("expected");
    QTest::addRow("constant") << "constant" << 0.0 << 1.0;
    QTest::addRow("linear start") << "linear" << 0.0 << 0.01;
    QTest::addRow("linear half") << "linear" << 1.0 << 0.505;
    QTest::addRow("linear after ramp") << "linear" << 7.0 << 1.0;
    QTest::addRow("exp half") << "exp" << 1.0 << 0.1; // geometric mean of 0.01 and 1
    QTest::addRow("exp end") << "exp" << 2.0 << 1.0;
}

void TestOptim::lambdaSchedules()
{
    QFETCH(QString, kind);
    QFETCH(double, epochs);
    QFETCH(double, expected);
    LambdaSchedule s;
    s.kind = parseLambdaScheduleKind(kind.toStdString());
    s.start = 0.01f;
    s.rampEpochs = 2.0;
    QVERIFY2(std::abs(s.at(1.0f, epochs) - expected) < 1e-6, qPrintable(QString::number(s.at(1.0f, epochs))));
}

void TestOptim::badNames()
{
    QVERIFY_EXCEPTION_THROWN(parseOptimizerKind("rmsprop"), Error);
    QVERIFY_EXCEPTION_THROWN(parseLrScheduleKind("warmup"), Error);
    QVERIFY_EXCEPTION_THROWN(parseLambdaScheduleKind("sine"), Error);
}

QTEST_GUILESS_MAIN(TestOptim)
#include "test_optim.moc"
