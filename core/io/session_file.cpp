#include "core/io/session_file.h"

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/io/binary_io.h"
#include "core/trainer.h"

#include <limits>

namespace sq {

namespace {

// PNG-style like the model file: a non-ASCII first byte, then CR LF / ^Z / LF.
constexpr char kMagic[8] = {'\x89', 'S', 'Q', 'S', '\r', '\n', '\x1a', '\n'};
constexpr FileFormat kFormat{kMagic, kSessionFileVersion, "session file", 1ull << 32};

constexpr std::uint32_t kMaxName = 255;
constexpr std::uint32_t kMaxPath = 4096;
constexpr std::uint32_t kMaxArchitecture = 1u << 16;
constexpr std::uint32_t kMaxList = 4096;       // keep-float names, layer bits, layers per record
constexpr std::uint32_t kMaxTensors = 1u << 16;
constexpr std::uint32_t kMaxRank = 8;
constexpr std::uint32_t kMaxRows = 1u << 28;   // history rows and events
constexpr std::uint32_t kMaxMethodState = 1u << 30;

// Every field of these structs is saved: one added without a line here and below would silently
// be lost by a resumed run. The sizes are those of the x86-64 libstdc++ ABI this project builds
// with; on a change, add the field to the encoder, the decoder and docs/session-file.md, then
// update the size.
#if defined(__x86_64__) && defined(__GLIBCXX__)
static_assert(sizeof(TrainConfig) == 424, "TrainConfig changed: save the new field in session files");
static_assert(sizeof(StepRecord) == 144, "StepRecord changed: save the new field in session files");
static_assert(sizeof(EpochRecord) == 184, "EpochRecord changed: save the new field in session files");
static_assert(sizeof(LayerQuantState) == 296, "LayerQuantState changed: save the new field in session files");
static_assert(sizeof(ControlEvent) == 64, "ControlEvent changed: save the new field in session files");
static_assert(sizeof(TrainerState) == 848, "TrainerState changed: save the new field in session files");
#endif

template <typename Enum>
Enum readEnum(BinaryReader& r, Enum last, const char* what)
{
    const std::uint32_t v = r.u32(what);
    if (v > static_cast<std::uint32_t>(last))
        r.fail(std::string(what) + " " + std::to_string(v) + " is not one this program knows");
    return static_cast<Enum>(v);
}

template <typename Enum>
void writeEnum(BinaryWriter& w, Enum v)
{
    w.u32(static_cast<std::uint32_t>(v));
}

// --- settings ---

void writeConfig(BinaryWriter& w, const TrainConfig& c)
{
    w.str(c.datasetDir, kMaxPath, "dataset folder");
    writeEnum(w, c.datasetKind);
    w.i32(c.trainLimit);
    w.i32(c.testLimit);
    w.str(c.model, kMaxName, "model");
    w.str(c.arch, kMaxArchitecture, "architecture");

    writeEnum(w, c.sq.mode);
    w.i32(c.sq.p);
    w.f64(c.sq.betaInit);
    w.f64(c.sq.betaSwitch);
    w.f32(c.sq.alphaLrMultiplier);
    w.f32(c.sq.betaLrMultiplier);
    w.u32(static_cast<std::uint32_t>(c.sq.keepFloat.size()));
    for (const std::string& name : c.sq.keepFloat)
        w.str(name, kMaxName, "keep-float layer");
    w.f64(c.lambda);
    w.f64(c.gamma);
    writeEnum(w, c.lambdaSchedule.kind);
    w.f32(c.lambdaSchedule.start);
    w.f64(c.lambdaSchedule.rampEpochs);
    w.i32(c.uniq.bits);
    w.u32(static_cast<std::uint32_t>(c.uniq.layerBits.size()));
    for (int b : c.uniq.layerBits)
        w.i32(b);
    w.f32(c.uniq.stepLrMultiplier);
    w.i32(c.cpq.maxBits);
    w.f64(c.cpq.dropP);
    w.f64(c.cpq.temperature);
    w.f64(c.cpq.gateLogitInit);
    w.f32(c.cpq.stepLrMultiplier);
    w.f32(c.cpq.gateLrMultiplier);
    w.u64(c.cpq.seed);
    w.f64(c.mu);

    writeEnum(w, c.optimizer.kind);
    w.f32(c.optimizer.momentum);
    w.f32(c.optimizer.weightDecay);
    w.f32(c.optimizer.beta1);
    w.f32(c.optimizer.beta2);
    w.f32(c.optimizer.epsilon);
    w.f64(c.learningRate);
    writeEnum(w, c.lrSchedule.kind);
    w.i32(c.lrSchedule.stepEpochs);
    w.f32(c.lrSchedule.stepFactor);
    w.i32(c.batchSize);
    w.i32(c.epochs);
    w.i32(c.commitEpochs);
    w.u64(c.seed);
    w.i32(c.threads);

    w.i32(c.recalibrationImages);
    w.i32(c.evalBatchSize);
    w.i32(c.historyEveryBatches);
    w.i32(c.snapshotEveryBatches);
    w.i32(c.snapshotEveryMs);
    w.i32(c.histogramBins);
    w.i32(c.goodStateEveryBatches);
    w.i32(c.blowUpWindow);
    w.i32(c.collapseWindow);
}

TrainConfig readConfig(BinaryReader& r, std::uint32_t version)
{
    TrainConfig c;
    c.datasetDir = r.str(kMaxPath, "dataset folder");
    c.datasetKind = readEnum(r, DatasetKind::Cifar10, "dataset kind");
    c.trainLimit = r.i32("train limit");
    c.testLimit = r.i32("test limit");
    c.model = r.str(kMaxName, "model");
    c.arch = r.str(kMaxArchitecture, "architecture");

    c.sq.mode = readEnum(r, QuantMode::Cpq, "mode");
    c.sq.p = r.i32("p");
    c.sq.betaInit = r.f64("beta init");
    c.sq.betaSwitch = r.f64("beta switch");
    c.sq.alphaLrMultiplier = r.f32("alpha lr multiplier");
    c.sq.betaLrMultiplier = r.f32("beta lr multiplier");
    const std::uint32_t keep = r.count(kMaxList, 4, "keep-float layer count");
    for (std::uint32_t i = 0; i < keep; ++i)
        c.sq.keepFloat.insert(r.str(kMaxName, "keep-float layer"));
    c.lambda = r.f64("lambda");
    c.gamma = r.f64("gamma");
    c.lambdaSchedule.kind = readEnum(r, LambdaScheduleKind::Exponential, "lambda schedule");
    c.lambdaSchedule.start = r.f32("lambda start");
    c.lambdaSchedule.rampEpochs = r.f64("lambda ramp epochs");
    c.uniq.bits = r.i32("bits");
    const std::uint32_t layerBits = r.count(kMaxList, 4, "layer bits count");
    for (std::uint32_t i = 0; i < layerBits; ++i)
        c.uniq.layerBits.push_back(r.i32("layer bits"));
    c.uniq.stepLrMultiplier = r.f32("step lr multiplier");
    c.cpq.maxBits = r.i32("max bits");
    c.cpq.dropP = r.f64("drop p");
    c.cpq.temperature = r.f64("cpq temperature");
    c.cpq.gateLogitInit = r.f64("gate logit init");
    c.cpq.stepLrMultiplier = r.f32("cpq step lr multiplier");
    c.cpq.gateLrMultiplier = r.f32("gate lr multiplier");
    c.cpq.seed = r.u64("cpq seed");
    c.mu = r.f64("mu");

    c.optimizer.kind = readEnum(r, OptimizerKind::Adam, "optimizer");
    c.optimizer.momentum = r.f32("momentum");
    c.optimizer.weightDecay = r.f32("weight decay");
    c.optimizer.beta1 = r.f32("beta1");
    c.optimizer.beta2 = r.f32("beta2");
    c.optimizer.epsilon = r.f32("epsilon");
    c.learningRate = r.f64("learning rate");
    c.lrSchedule.kind = readEnum(r, LrScheduleKind::Cosine, "lr schedule");
    c.lrSchedule.stepEpochs = r.i32("lr step epochs");
    c.lrSchedule.stepFactor = r.f32("lr step factor");
    c.batchSize = r.i32("batch size");
    c.epochs = r.i32("epochs");
    c.commitEpochs = r.i32("commit epochs");
    c.seed = r.u64("seed");
    c.threads = r.i32("threads");

    c.recalibrationImages = r.i32("recalibration images");
    c.evalBatchSize = r.i32("evaluation batch size");
    c.historyEveryBatches = r.i32("history interval");
    c.snapshotEveryBatches = r.i32("snapshot interval");
    c.snapshotEveryMs = r.i32("snapshot milliseconds");
    c.histogramBins = r.i32("histogram bins");
    c.goodStateEveryBatches = r.i32("good-state interval");
    if (version >= 2) {
        c.blowUpWindow = r.i32("blow-up window");
        c.collapseWindow = r.i32("collapse window");
    }
    try {
        c.validate();
    } catch (const Error& e) {
        r.fail(std::string("the saved settings are invalid: ") + e.what());
    }
    return c;
}

// --- tensors ---

void writeTensors(BinaryWriter& w, const std::vector<Tensor>& tensors)
{
    w.u32(static_cast<std::uint32_t>(tensors.size()));
    for (const Tensor& t : tensors) {
        w.u32(static_cast<std::uint32_t>(t.rank()));
        for (int d : t.shape())
            w.u32(static_cast<std::uint32_t>(d));
        w.floats(t.data(), t.size());
    }
}

std::vector<Tensor> readTensors(BinaryReader& r, const char* what)
{
    const std::uint32_t count = r.count(kMaxTensors, 4, what);
    std::vector<Tensor> out;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint32_t rank = r.u32("tensor rank");
        if (rank == 0 || rank > kMaxRank)
            r.fail(std::string(what) + ": tensor " + std::to_string(i + 1) + " of rank " + std::to_string(rank));
        std::vector<int> shape;
        std::uint64_t size = 1;
        for (std::uint32_t k = 0; k < rank; ++k) {
            const std::uint32_t d = r.u32("tensor dimension");
            if (d == 0 || d > static_cast<std::uint32_t>(std::numeric_limits<int>::max()))
                r.fail(std::string(what) + ": tensor " + std::to_string(i + 1) + " has dimension " + std::to_string(d));
            shape.push_back(static_cast<int>(d));
            // Checked against the bytes left at each factor, so the product cannot overflow.
            size *= d;
            if (size > r.left() / 4)
                r.fail(std::string(what) + ": tensor " + std::to_string(i + 1) + " of shape " + shapeString(shape)
                       + "... does not fit in the " + std::to_string(r.left()) + " bytes left");
        }
        Tensor t(shape);
        r.floatsInto(t.data(), t.size(), what);
        out.push_back(std::move(t));
    }
    return out;
}

// --- progress ---

void writeWindow(BinaryWriter& w, const TrainingWindow& x)
{
    w.f64(x.crossEntropy);
    w.f64(x.regularizer);
    w.i64(x.correct);
    w.i64(x.images);
    w.i32(x.batches);
    w.f64(x.seconds);
}

TrainingWindow readWindow(BinaryReader& r)
{
    TrainingWindow x;
    x.crossEntropy = r.f64("window cross-entropy");
    x.regularizer = r.f64("window regularizer");
    x.correct = r.i64("window correct");
    x.images = r.i64("window images");
    x.batches = r.i32("window batches");
    x.seconds = r.f64("window seconds");
    if (x.correct < 0 || x.images < x.correct || x.batches < 0)
        r.fail("a window of batches has negative or inconsistent counts");
    return x;
}

void writeLive(BinaryWriter& w, const LiveValue& v)
{
    w.f64(v.value);
    w.boolean(v.overridden);
}

LiveValue readLive(BinaryReader& r, const char* what)
{
    LiveValue v;
    v.value = r.f64(what);
    v.overridden = r.boolean(what);
    return v;
}

// --- history ---

void writeLayerState(BinaryWriter& w, const LayerQuantState& s)
{
    w.str(s.name, kMaxName, "layer name");
    w.str(s.description, kMaxName, "layer description");
    w.str(s.method, kMaxName, "method");
    w.str(s.decision, kMaxName, "decision");
    w.u64(s.weights);
    w.i32(s.bits);
    w.boolean(s.keepFloat);
    w.boolean(s.committed);
    w.f32(s.alpha);
    w.f32(s.beta);
    w.f32(s.delta);
    w.f32(s.step);
    w.floatList(s.levels);
    w.f64(s.shareNegative);
    w.f64(s.shareZero);
    w.f64(s.sharePositive);
    w.doubleList(s.levelShares);
    w.f64(s.quantError);
    w.i32(s.maxBits);
    w.floatList(s.keepProbability);
    w.floatList(s.droppedLevels);
}

LayerQuantState readLayerState(BinaryReader& r)
{
    LayerQuantState s;
    s.name = r.str(kMaxName, "layer name");
    s.description = r.str(kMaxName, "layer description");
    s.method = r.str(kMaxName, "method");
    s.decision = r.str(kMaxName, "decision");
    s.weights = r.u64("layer weights");
    s.bits = r.i32("layer bits");
    s.keepFloat = r.boolean("keep float");
    s.committed = r.boolean("committed");
    s.alpha = r.f32("alpha");
    s.beta = r.f32("beta");
    s.delta = r.f32("delta");
    s.step = r.f32("step");
    s.levels = r.floatList("levels");
    s.shareNegative = r.f64("negative share");
    s.shareZero = r.f64("zero share");
    s.sharePositive = r.f64("positive share");
    s.levelShares = r.doubleList("level shares");
    s.quantError = r.f64("quantization error");
    s.maxBits = r.i32("max bits");
    s.keepProbability = r.floatList("keep probabilities");
    s.droppedLevels = r.floatList("dropped levels");
    return s;
}

void writeHistory(BinaryWriter& w, const RunHistory& h)
{
    w.u32(static_cast<std::uint32_t>(h.steps.size()));
    for (const StepRecord& s : h.steps) {
        w.i64(s.step);
        w.f64(s.epochsElapsed);
        w.f64(s.seconds);
        writeEnum(w, s.phase);
        w.f64(s.crossEntropy);
        w.f64(s.regularizer);
        w.f64(s.trainAccuracy);
        w.f64(s.lambda);
        w.f64(s.gamma);
        w.f64(s.mu);
        w.f64(s.learningRate);
        w.f64(s.imagesPerSecond);
        w.floatList(s.alpha);
        w.floatList(s.beta);
    }
    w.u32(static_cast<std::uint32_t>(h.epochs.size()));
    for (const EpochRecord& e : h.epochs) {
        w.i32(e.epoch);
        w.i64(e.step);
        writeEnum(w, e.phase);
        w.f64(e.seconds);
        w.f64(e.learningRate);
        w.f64(e.lambda);
        w.f64(e.gamma);
        w.f64(e.mu);
        w.f64(e.trainCrossEntropy);
        w.f64(e.trainRegularizer);
        w.f64(e.trainAccuracy);
        w.f64(e.imagesPerSecond);
        w.f64(e.evaluation.floatAccuracy);
        w.f64(e.evaluation.quantizedAccuracy);
        w.f64(e.evaluation.floatLoss);
        w.f64(e.evaluation.quantizedLoss);
        w.u64(e.memory.weightBits);
        w.u64(e.memory.floatWeightBits);
        w.u64(e.memory.modelBits);
        w.u64(e.memory.floatModelBits);
        w.u32(static_cast<std::uint32_t>(e.layers.size()));
        for (const LayerQuantState& l : e.layers)
            writeLayerState(w, l);
    }
    w.u32(static_cast<std::uint32_t>(h.events.size()));
    for (const ControlEvent& e : h.events) {
        w.i64(e.step);
        w.f64(e.epochsElapsed);
        w.str(e.parameter, kMaxName, "event parameter");
        w.f64(e.from);
        w.f64(e.to);
    }
}

RunHistory readHistory(BinaryReader& r)
{
    RunHistory h;
    // The smallest encodings of a row, so that a claimed count is refused before allocating.
    constexpr std::size_t kMinStepRow = 8 + 8 * 10 + 4 + 16;
    constexpr std::size_t kMinEpochRow = 4 + 8 + 4 + 8 * 13 + 8 * 4 + 4;
    constexpr std::size_t kMinEvent = 8 + 8 + 4 + 16;
    const std::uint32_t steps = r.count(kMaxRows, kMinStepRow, "history row count");
    h.steps.reserve(steps);
    for (std::uint32_t i = 0; i < steps; ++i) {
        StepRecord s;
        s.step = r.i64("row step");
        s.epochsElapsed = r.f64("row epochs elapsed");
        s.seconds = r.f64("row seconds");
        s.phase = readEnum(r, Phase::Commit, "row phase");
        s.crossEntropy = r.f64("row cross-entropy");
        s.regularizer = r.f64("row regularizer");
        s.trainAccuracy = r.f64("row train accuracy");
        s.lambda = r.f64("row lambda");
        s.gamma = r.f64("row gamma");
        s.mu = r.f64("row mu");
        s.learningRate = r.f64("row learning rate");
        s.imagesPerSecond = r.f64("row images per second");
        s.alpha = r.floatList("row alpha");
        s.beta = r.floatList("row beta");
        h.steps.push_back(std::move(s));
    }
    const std::uint32_t epochs = r.count(kMaxRows, kMinEpochRow, "epoch record count");
    h.epochs.reserve(epochs);
    for (std::uint32_t i = 0; i < epochs; ++i) {
        EpochRecord e;
        e.epoch = r.i32("epoch");
        e.step = r.i64("epoch step");
        e.phase = readEnum(r, Phase::Commit, "epoch phase");
        e.seconds = r.f64("epoch seconds");
        e.learningRate = r.f64("epoch learning rate");
        e.lambda = r.f64("epoch lambda");
        e.gamma = r.f64("epoch gamma");
        e.mu = r.f64("epoch mu");
        e.trainCrossEntropy = r.f64("epoch cross-entropy");
        e.trainRegularizer = r.f64("epoch regularizer");
        e.trainAccuracy = r.f64("epoch train accuracy");
        e.imagesPerSecond = r.f64("epoch images per second");
        e.evaluation.floatAccuracy = r.f64("float accuracy");
        e.evaluation.quantizedAccuracy = r.f64("quantized accuracy");
        e.evaluation.floatLoss = r.f64("float loss");
        e.evaluation.quantizedLoss = r.f64("quantized loss");
        e.memory.weightBits = r.u64("weight bits");
        e.memory.floatWeightBits = r.u64("float weight bits");
        e.memory.modelBits = r.u64("model bits");
        e.memory.floatModelBits = r.u64("float model bits");
        const std::uint32_t layers = r.count(kMaxList, 16, "epoch layer count");
        for (std::uint32_t k = 0; k < layers; ++k)
            e.layers.push_back(readLayerState(r));
        h.epochs.push_back(std::move(e));
    }
    const std::uint32_t events = r.count(kMaxRows, kMinEvent, "live change count");
    h.events.reserve(events);
    for (std::uint32_t i = 0; i < events; ++i) {
        ControlEvent e;
        e.step = r.i64("change step");
        e.epochsElapsed = r.f64("change epochs elapsed");
        e.parameter = r.str(kMaxName, "changed parameter");
        e.from = r.f64("change from");
        e.to = r.f64("change to");
        h.events.push_back(std::move(e));
    }
    return h;
}

} // namespace

std::string encodeSessionFile(const TrainerState& s)
{
    BinaryWriter w("session file");
    writeConfig(w, s.config);

    w.i32(s.data.trainCount);
    w.i32(s.data.testCount);
    w.u32(static_cast<std::uint32_t>(s.data.sampleShape.size()));
    for (int d : s.data.sampleShape)
        w.i32(d);
    w.i32(s.data.classes);
    w.u32(s.data.labelsCrc);

    w.i64(s.step);
    w.i32(s.epoch);
    w.boolean(s.epochStarted);
    w.i32(s.batchInEpoch);
    w.boolean(s.finished);
    writeLive(w, s.lambda);
    writeLive(w, s.gamma);
    writeLive(w, s.mu);
    writeLive(w, s.learningRate);
    writeWindow(w, s.sinceRecord);
    writeWindow(w, s.thisEpoch);
    w.f64(s.trainSeconds);
    w.f64(s.evalSeconds);

    writeTensors(w, s.params);
    writeTensors(w, s.buffers);
    writeTensors(w, s.optimizer);
    w.i64(s.optimizerSteps);
    if (s.method.size() > kMaxMethodState)
        throw Error("session file: the method's state is larger than 1 GiB");
    w.u32(static_cast<std::uint32_t>(s.method.size()));
    w.bytes(s.method);

    writeHistory(w, s.history);
    return frameFile(kFormat, w.out());
}

TrainerState decodeSessionFile(const std::string& bytes, const std::string& name)
{
    const std::size_t begin = checkFrame(kFormat, bytes, name);
    BinaryReader r(bytes, begin, bytes.size() - kFileTrailerBytes, name + ": malformed session file");
    TrainerState s;
    s.config = readConfig(r, frameVersion(bytes));

    s.data.trainCount = r.i32("training images");
    s.data.testCount = r.i32("test images");
    const std::uint32_t rank = r.count(kMaxRank, 4, "sample rank");
    for (std::uint32_t i = 0; i < rank; ++i)
        s.data.sampleShape.push_back(r.i32("sample dimension"));
    s.data.classes = r.i32("classes");
    s.data.labelsCrc = r.u32("labels CRC-32");
    if (s.data.trainCount <= 0 || s.data.testCount <= 0 || s.data.classes <= 0)
        r.fail("the dataset description has no images or classes");

    s.step = r.i64("step");
    s.epoch = r.i32("epoch");
    s.epochStarted = r.boolean("epoch started");
    s.batchInEpoch = r.i32("batch in epoch");
    s.finished = r.boolean("finished");
    if (s.step < 0 || s.epoch < 0 || s.epoch > s.config.epochs || s.batchInEpoch < 0)
        r.fail("progress out of range (step " + std::to_string(s.step) + ", epoch " + std::to_string(s.epoch)
               + " of " + std::to_string(s.config.epochs) + ", batch " + std::to_string(s.batchInEpoch) + ")");
    s.lambda = readLive(r, "lambda");
    s.gamma = readLive(r, "gamma");
    s.mu = readLive(r, "mu");
    s.learningRate = readLive(r, "learning rate");
    s.sinceRecord = readWindow(r);
    s.thisEpoch = readWindow(r);
    s.trainSeconds = r.f64("training seconds");
    s.evalSeconds = r.f64("evaluation seconds");

    s.params = readTensors(r, "parameter tensors");
    s.buffers = readTensors(r, "buffers");
    s.optimizer = readTensors(r, "optimizer tensors");
    s.optimizerSteps = r.i64("optimizer steps");
    if (s.optimizerSteps < 0)
        r.fail("a negative optimizer step count");
    const std::uint32_t method = r.u32("method state length");
    const std::uint8_t* p = r.bytes(method, "method state");
    s.method.assign(reinterpret_cast<const char*>(p), method);

    s.history = readHistory(r);
    if (!r.atEnd())
        r.fail(std::to_string(r.left()) + " bytes left over after the history");
    return s;
}

void writeSessionFile(const std::string& path, const TrainerState& state)
{
    writeFileAtomically(path, encodeSessionFile(state));
}

TrainerState readSessionFile(const std::string& path)
{
    return decodeSessionFile(readBinaryFile(path, kFormat), path);
}

void restoreSession(Trainer& trainer, const TrainerState& state, const std::string& name)
{
    try {
        trainer.restoreState(state);
    } catch (const Error& e) {
        throw Error(name + ": cannot continue this session: " + e.what());
    }
}

} // namespace sq
