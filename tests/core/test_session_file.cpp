// Sessions: a run saved and resumed in a fresh trainer continues exactly as if it had never
// stopped (every history row and the final weights bit for bit, for SQ, UniQ and CPQ, across an
// epoch boundary and into the commit phase); the file round-trips; a truncated, corrupt, foreign
// or newer file is refused with an error naming it; a state that does not fit changes nothing.
#include "core/error.h"
#include "core/io/binary_io.h"
#include "core/io/session_file.h"
#include "core/trainer.h"
#include "synthetic_data.h"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

using namespace sq;

namespace {

TrainConfig smallConfig(QuantMode mode)
{
    TrainConfig c;
    c.arch = "dense 32, bn, relu, dense 16, relu, dense 4";
    c.sq.mode = mode;
    c.epochs = 3;
    c.commitEpochs = 1;
    c.batchSize = 32; // 1024 images: 32 batches per epoch, commit from step 64
    c.threads = 1;
    c.learningRate = 3e-3;
    c.recalibrationImages = 256;
    c.historyEveryBatches = 3; // rows straddle the save points and the epoch ends
    c.snapshotEveryBatches = 1000;
    c.histogramBins = 16;
    return c;
}

std::shared_ptr<const DatasetSplits> data()
{
    static const auto d = testing::blobs(1024, 256);
    return d;
}

bool sameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Every field of every row, except the wall-clock ones (seconds, images per second).
QString historyDifference(const RunHistory& a, const RunHistory& b)
{
    if (a.steps.size() != b.steps.size() || a.epochs.size() != b.epochs.size() || a.events.size() != b.events.size())
        return QStringLiteral("row counts differ: %1/%2/%3 against %4/%5/%6")
            .arg(a.steps.size()).arg(a.epochs.size()).arg(a.events.size())
            .arg(b.steps.size()).arg(b.epochs.size()).arg(b.events.size());
    for (std::size_t i = 0; i < a.steps.size(); ++i) {
        const StepRecord& x = a.steps[i];
        const StepRecord& y = b.steps[i];
        if (x.step != y.step || !sameBits(x.epochsElapsed, y.epochsElapsed) || x.phase != y.phase
            || !sameBits(x.crossEntropy, y.crossEntropy) || !sameBits(x.regularizer, y.regularizer)
            || !sameBits(x.trainAccuracy, y.trainAccuracy) || !sameBits(x.lambda, y.lambda)
            || !sameBits(x.gamma, y.gamma) || !sameBits(x.mu, y.mu) || !sameBits(x.learningRate, y.learningRate)
            || x.alpha != y.alpha || x.beta != y.beta)
            return QStringLiteral("step row %1 (step %2) differs: ce %3 vs %4")
                .arg(i).arg(x.step).arg(x.crossEntropy, 0, 'g', 17).arg(y.crossEntropy, 0, 'g', 17);
    }
    for (std::size_t i = 0; i < a.epochs.size(); ++i) {
        const EpochRecord& x = a.epochs[i];
        const EpochRecord& y = b.epochs[i];
        bool same = x.epoch == y.epoch && x.step == y.step && x.phase == y.phase
                    && sameBits(x.learningRate, y.learningRate) && sameBits(x.lambda, y.lambda)
                    && sameBits(x.trainCrossEntropy, y.trainCrossEntropy)
                    && sameBits(x.trainRegularizer, y.trainRegularizer) && sameBits(x.trainAccuracy, y.trainAccuracy)
                    && sameBits(x.evaluation.floatAccuracy, y.evaluation.floatAccuracy)
                    && sameBits(x.evaluation.quantizedAccuracy, y.evaluation.quantizedAccuracy)
                    && sameBits(x.evaluation.floatLoss, y.evaluation.floatLoss)
                    && sameBits(x.evaluation.quantizedLoss, y.evaluation.quantizedLoss)
                    && x.memory.modelBits == y.memory.modelBits && x.layers.size() == y.layers.size();
        for (std::size_t l = 0; same && l < x.layers.size(); ++l) {
            const LayerQuantState& p = x.layers[l];
            const LayerQuantState& q = y.layers[l];
            same = p.decision == q.decision && p.bits == q.bits && p.alpha == q.alpha && p.beta == q.beta
                   && p.step == q.step && p.levels == q.levels && sameBits(p.quantError, q.quantError)
                   && p.keepProbability == q.keepProbability && p.committed == q.committed;
        }
        if (!same)
            return QStringLiteral("epoch record %1 differs").arg(i + 1);
    }
    for (std::size_t i = 0; i < a.events.size(); ++i)
        if (a.events[i].step != b.events[i].step || a.events[i].parameter != b.events[i].parameter
            || !sameBits(a.events[i].to, b.events[i].to) || !sameBits(a.events[i].from, b.events[i].from))
            return QStringLiteral("live change %1 differs").arg(i);
    return {};
}

QString weightDifference(const Trainer& a, const Trainer& b)
{
    const auto pa = a.model().params();
    const auto pb = b.model().params();
    for (std::size_t i = 0; i < pa.size(); ++i)
        if (std::memcmp(pa[i]->value.data(), pb[i]->value.data(), 4 * pa[i]->value.size()) != 0)
            return QStringLiteral("parameter %1 differs").arg(i);
    const auto ba = a.model().buffers();
    const auto bb = b.model().buffers();
    for (std::size_t i = 0; i < ba.size(); ++i)
        if (std::memcmp(ba[i]->data(), bb[i]->data(), 4 * ba[i]->size()) != 0)
            return QStringLiteral("buffer %1 differs").arg(i);
    return {};
}

// Runs `steps` steps, changing lambda live after `changeAt` of them (when >= 0).
void advance(Trainer& t, std::int64_t steps, std::int64_t changeAt)
{
    while (t.stepCount() < steps && !t.finished()) {
        if (t.stepCount() == changeAt)
            t.controls().lambda.set(2.5);
        QVERIFY(t.step());
    }
}

// A state small enough to truncate at every length and flip every byte of.
std::string tinySessionBytes()
{
    TrainConfig c = smallConfig(QuantMode::Sq);
    c.arch = "dense 3";
    c.epochs = 2;
    c.historyEveryBatches = 1;
    Trainer t(c, testing::blobs(96, 32, 3, 2));
    for (int i = 0; i < 4; ++i)
        t.step();
    return encodeSessionFile(t.captureState());
}

void expectError(const std::string& bytes, const QString& expected)
{
    try {
        decodeSessionFile(bytes, "run.sqs");
    } catch (const Error& e) {
        const QString message = QString::fromUtf8(e.what());
        QVERIFY2(message.startsWith("run.sqs: ") && message.contains(expected), qPrintable(message));
        return;
    }
    QFAIL(qPrintable("no error, expected: " + expected));
}

void setU32(std::string& bytes, std::size_t at, std::uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        bytes[at + static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xffu);
}

void resealCrc(std::string& bytes)
{
    setU32(bytes, bytes.size() - 4, crc32Of(bytes.data(), bytes.size() - 4));
}

} // namespace

class TestSessionFile : public QObject {
    Q_OBJECT

private slots:
    void resumeEqualsUninterrupted_data();
    void resumeEqualsUninterrupted();
    void roundTripIsExact();
    void fileIsWrittenAtomicallyAndReadBack();
    void everyTruncationIsRefused();
    void everyFlippedByteIsRefused();
    void foreignNewerAndFlaggedFilesAreRefused();
    void versionOneFilesStillLoad();
    void bodyValuesAreBoundedBeforeAllocating();
    void mismatchedStateChangesNothing();
    void epochsCanBeExtended();
};

void TestSessionFile::resumeEqualsUninterrupted_data()
{
    QTest::addColumn<int>("mode");
    QTest::addColumn<int>("optimizer");
    QTest::addColumn<int>("saveAt");
    QTest::addColumn<int>("changeAt");
    const int sq = static_cast<int>(QuantMode::Sq);
    const int adam = static_cast<int>(OptimizerKind::Adam);
    const int sgd = static_cast<int>(OptimizerKind::Sgd);
    QTest::addRow("sq mid first epoch") << sq << adam << 10 << -1;
    QTest::addRow("sq at an epoch's end") << sq << adam << 32 << -1;
    QTest::addRow("sq before an epoch boundary, live lambda") << sq << adam << 29 << 7;
    QTest::addRow("sq in the commit phase") << sq << adam << 70 << -1;
    QTest::addRow("sq at the commit boundary") << sq << adam << 64 << -1;
    QTest::addRow("sq sgd") << sq << sgd << 41 << 40;
    QTest::addRow("ternary") << static_cast<int>(QuantMode::Ternary) << adam << 50 << -1;
    QTest::addRow("uniq") << static_cast<int>(QuantMode::Uniq) << adam << 45 << -1;
    QTest::addRow("uniq commit") << static_cast<int>(QuantMode::Uniq) << adam << 80 << -1;
    QTest::addRow("cpq search") << static_cast<int>(QuantMode::Cpq) << adam << 20 << 3;
    QTest::addRow("cpq across the epoch boundary") << static_cast<int>(QuantMode::Cpq) << adam << 31 << -1;
    QTest::addRow("cpq commit") << static_cast<int>(QuantMode::Cpq) << adam << 75 << -1;
}

void TestSessionFile::resumeEqualsUninterrupted()
{
    QFETCH(int, mode);
    QFETCH(int, optimizer);
    QFETCH(int, saveAt);
    QFETCH(int, changeAt);
    TrainConfig c = smallConfig(static_cast<QuantMode>(mode));
    c.optimizer.kind = static_cast<OptimizerKind>(optimizer);
    if (c.optimizer.kind == OptimizerKind::Sgd)
        c.learningRate = 0.05;
    if (c.sq.mode == QuantMode::Cpq)
        c.mu = 0.5; // the gates move within this short run

    Trainer uninterrupted(c, data());
    advance(uninterrupted, 1'000'000, changeAt);
    QVERIFY(uninterrupted.finished());

    std::string bytes;
    {
        Trainer first(c, data());
        advance(first, saveAt, changeAt);
        QCOMPARE(first.stepCount(), std::int64_t(saveAt));
        bytes = encodeSessionFile(first.captureState());
    } // the first trainer is gone: nothing but the bytes carries over

    const TrainerState state = decodeSessionFile(bytes, "run.sqs");
    Trainer resumed(state.config, data());
    restoreSession(resumed, state, "run.sqs");
    QCOMPARE(resumed.stepCount(), std::int64_t(saveAt));
    advance(resumed, 1'000'000, changeAt);
    QVERIFY(resumed.finished());

    const QString history = historyDifference(uninterrupted.history(), resumed.history());
    QVERIFY2(history.isEmpty(), qPrintable(history));
    const QString weights = weightDifference(uninterrupted, resumed);
    QVERIFY2(weights.isEmpty(), qPrintable(weights));
    // The method's own state too (alpha, beta, steps, gates).
    BinaryWriter a("a");
    BinaryWriter b("b");
    uninterrupted.method().saveState(a);
    resumed.method().saveState(b);
    QVERIFY(a.out() == b.out());
    QVERIFY(!uninterrupted.history().epochs.empty());
}

void TestSessionFile::roundTripIsExact()
{
    TrainConfig c = smallConfig(QuantMode::Cpq);
    c.sq.keepFloat = {"first"};
    c.lrSchedule.kind = LrScheduleKind::Cosine;
    Trainer t(c, data());
    advance(t, 40, 5);
    const TrainerState s = t.captureState();
    const std::string bytes = encodeSessionFile(s);
    const TrainerState back = decodeSessionFile(bytes, "x.sqs");
    QVERIFY(encodeSessionFile(back) == bytes);
    QCOMPARE(back.step, std::int64_t(40));
    QCOMPARE(back.epoch, 1);
    QCOMPARE(back.batchInEpoch, 8);
    QVERIFY(back.lambda.overridden);
    QCOMPARE(back.lambda.value, 2.5);
    QCOMPARE(back.config.sq.keepFloat, c.sq.keepFloat);
    QCOMPARE(back.history.steps.size(), t.history().steps.size());
    QCOMPARE(back.history.events.size(), std::size_t(1));
    // Adam's m and v for the model's params and CPQ's step and gate logits of the two quantized layers.
    QCOMPARE(back.optimizer.size(), 2 * (back.params.size() + 4));
}

void TestSessionFile::fileIsWrittenAtomicallyAndReadBack()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("run.sqs").toStdString();
    Trainer t(smallConfig(QuantMode::Sq), data());
    advance(t, 5, -1);
    writeSessionFile(path, t.captureState());
    QCOMPARE(std::filesystem::directory_iterator(dir.path().toStdString())->path().filename().string(),
             std::string("run.sqs")); // no temporary left behind
    const TrainerState s = readSessionFile(path);
    QCOMPARE(s.step, std::int64_t(5));
    try {
        readSessionFile(dir.filePath("missing.sqs").toStdString());
        QFAIL("a missing file was read");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("missing.sqs: session file does not exist"), e.what());
    }
}

void TestSessionFile::everyTruncationIsRefused()
{
    const std::string bytes = tinySessionBytes();
    QVERIFY(bytes.size() > 100);
    for (std::size_t n = 0; n < bytes.size(); ++n)
        expectError(bytes.substr(0, n), "truncated session file");
}

void TestSessionFile::everyFlippedByteIsRefused()
{
    const std::string bytes = tinySessionBytes();
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        std::string bad = bytes;
        bad[i] = static_cast<char>(bad[i] ^ 0x10);
        try {
            decodeSessionFile(bad, "run.sqs");
            QFAIL(qPrintable(QStringLiteral("byte %1 flipped went unnoticed").arg(i)));
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).startsWith("run.sqs: "), e.what());
        }
    }
}

void TestSessionFile::foreignNewerAndFlaggedFilesAreRefused()
{
    const std::string bytes = tinySessionBytes();
    std::string model = bytes;
    model[3] = 'M'; // a model file's magic
    expectError(model, "not an SQ Explorer session file (wrong magic bytes)");
    expectError("PK\x03\x04 not a session at all", "wrong magic bytes");

    std::string newer = bytes;
    setU32(newer, 8, kSessionFileVersion + 1);
    resealCrc(newer);
    expectError(newer, QStringLiteral("format version %1 is newer than this program supports").arg(kSessionFileVersion + 1));
    std::string flagged = bytes;
    setU32(flagged, 12, 4);
    resealCrc(flagged);
    expectError(flagged, "uses flags 0x00000004");
    expectError(bytes + "x", "1 unexpected bytes after the end");
}

// Version 1 had no blow-up and collapse windows: the same file without them, marked version 1,
// loads with their defaults and everything else as saved.
void TestSessionFile::versionOneFilesStillLoad()
{
    TrainConfig c = smallConfig(QuantMode::Sq);
    c.arch = "dense 3";
    c.blowUpWindow = 777'777; // distinctive bytes to find in the body
    c.collapseWindow = 654'321;
    Trainer t(c, testing::blobs(96, 32, 3, 2));
    t.step();
    const TrainerState saved = t.captureState();
    std::string bytes = encodeSessionFile(saved);

    std::string windows(8, '\0');
    setU32(windows, 0, 777'777);
    setU32(windows, 4, 654'321);
    const std::size_t at = bytes.find(windows);
    QVERIFY(at != std::string::npos && bytes.find(windows, at + 1) == std::string::npos);
    bytes.erase(at, windows.size());
    setU32(bytes, 8, 1);
    setU32(bytes, 16, static_cast<std::uint32_t>(bytes.size() - kFileHeaderBytes - kFileTrailerBytes));
    resealCrc(bytes);

    const TrainerState loaded = decodeSessionFile(bytes, "old.sqs");
    const TrainConfig defaults;
    QCOMPARE(loaded.config.blowUpWindow, defaults.blowUpWindow);
    QCOMPARE(loaded.config.collapseWindow, defaults.collapseWindow);
    QCOMPARE(loaded.config.arch, c.arch);
    QCOMPARE(loaded.step, saved.step);
    QCOMPARE(loaded.params.size(), saved.params.size());
    QVERIFY(std::equal(loaded.params.back().data(), loaded.params.back().data() + loaded.params.back().size(),
                       saved.params.back().data()));
}

void TestSessionFile::bodyValuesAreBoundedBeforeAllocating()
{
    // With the CRC re-sealed, every value of the body reaches the parser: each one set to 0xff
    // (huge counts, unknown enums, impossible sizes) must give an sq::Error or a valid state,
    // never a crash or an allocation of what a count claims.
    const std::string bytes = tinySessionBytes();
    int refused = 0;
    for (std::size_t i = kFileHeaderBytes; i + kFileTrailerBytes < bytes.size(); ++i) {
        std::string bad = bytes;
        bad[i] = '\xff';
        resealCrc(bad);
        try {
            decodeSessionFile(bad, "run.sqs");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).startsWith("run.sqs: malformed session file: "), e.what());
            ++refused;
        }
    }
    QVERIFY(refused > 100);

    std::string huge = bytes;
    setU32(huge, kFileHeaderBytes, 0xfffffff0u); // the dataset folder's length
    resealCrc(huge);
    expectError(huge, "dataset folder of 4294967280 bytes (at most 4096)");
}

void TestSessionFile::mismatchedStateChangesNothing()
{
    Trainer source(smallConfig(QuantMode::Sq), data());
    advance(source, 12, -1);
    const TrainerState state = source.captureState();

    // Another architecture: the parameter shapes differ.
    TrainConfig other = smallConfig(QuantMode::Sq);
    other.arch = "dense 8, relu, dense 4";
    {
        Trainer t(other, data());
        advance(t, 3, -1);
        const TrainerState before = t.captureState();
        QVERIFY_THROWS_EXCEPTION(Error, t.restoreState(state));
        QVERIFY(encodeSessionFile(t.captureState()) == encodeSessionFile(before));
    }
    // Same settings, other data.
    {
        Trainer t(state.config, testing::blobs(1024, 256, 4, 6, 99));
        const TrainerState before = t.captureState();
        try {
            restoreSession(t, state, "run.sqs");
            QFAIL("restored onto other data");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("run.sqs: cannot continue this session") && QString(e.what()).contains("labels"),
                     e.what());
        }
        QVERIFY(encodeSessionFile(t.captureState()) == encodeSessionFile(before));
    }
    // Another method's state.
    {
        TrainerState wrong = state;
        TrainConfig uniq = smallConfig(QuantMode::Uniq);
        Trainer t(uniq, data());
        wrong.config = uniq;
        const TrainerState before = t.captureState();
        try {
            t.restoreState(wrong);
            QFAIL("an SQ state went into UniQ");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("optimizer tensors"), e.what());
        }
        // Same optimizer layout, other method: the method's own state refuses it.
        wrong.optimizer = before.optimizer;
        try {
            t.restoreState(wrong);
            QFAIL("an SQ state went into UniQ");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("method 'sq'"), e.what());
        }
        QVERIFY(encodeSessionFile(t.captureState()) == encodeSessionFile(before));
    }
}

void TestSessionFile::epochsCanBeExtended()
{
    TrainConfig c = smallConfig(QuantMode::Sq);
    Trainer t(c, data());
    advance(t, 1'000'000, -1);
    TrainerState s = t.captureState();
    QVERIFY(s.finished);
    QVERIFY_THROWS_EXCEPTION(Error, extendEpochs(s, 2));
    extendEpochs(s, 5);
    QCOMPARE(s.config.epochs, 5);
    QCOMPARE(s.config.epochs - s.config.resolvedCommitEpochs(), 2); // the commit phase began at epoch 3
    Trainer more(s.config, data());
    more.restoreState(s);
    QVERIFY(!more.finished());
    advance(more, 1'000'000, -1);
    QCOMPARE(more.history().epochs.size(), std::size_t(5));
    QCOMPARE(more.history().epochs.back().phase, Phase::Commit);

    // A commit phase still ahead keeps its length and moves to the new end.
    Trainer early(c, data());
    advance(early, 10, -1);
    TrainerState e = early.captureState();
    extendEpochs(e, 6);
    QCOMPARE(e.config.resolvedCommitEpochs(), 1);
}

QTEST_GUILESS_MAIN(TestSessionFile)
#include "test_session_file.moc"
