// sq-speed-bench: the training engine's side of the speed comparison with PyTorch (bench/README.md).
//
// Serves timing requests, one per line on stdin, one answer line on stdout, so that a driver
// (bench/run_speed.py) can interleave it with the PyTorch worker rep by rep: both processes stay
// warm, and whichever one is not being timed sits idle in a blocking read.
//
//   train MODEL BATCH STEPS     seconds for STEPS float training steps (Trainer::step, SGD momentum)
//   sqtrain MODEL BATCH STEPS   the same with the SQ regularizer on (mode sq, search phase)
//   infer MODEL BATCH ITERS     seconds for ITERS inference forward passes of one batch
//   reg MODEL BATCH ITERS       seconds per SQ regularizer pass over every quantized layer
//                               (value and every gradient)
//   snapshot MODEL BATCH ITERS  seconds per snapshot (Trainer::makeSnapshot, statistics included)
//   gemm M N K ITERS            GFLOP/s of the engine's product (M x K) * (N x K)^T, row-major
//   peak                        GFLOP/s of independent FP32 FMAs on every thread (the machine's peak)
//   info                        build configuration
// MODEL is a preset (mlp, lenet5, vgg-small) or mlp-W, the mlp with hidden width W.
//   quit
//
// Models are built on first use and warmed up then (workspaces sized, pages touched), so every
// timed request measures the steady state. Data are synthetic: normal pixels, uniform labels.
#include "core/parallel.h"
#include "core/quant/sq_regularizer.h"
#include "core/rng.h"
#include "core/trainer.h"

#include <Eigen/Core>

#ifdef __x86_64__
#include <immintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int g_threads = 2;

std::shared_ptr<const sq::DatasetSplits> syntheticData(const std::string& model, int trainCount)
{
    const bool cifar = model == "vgg-small";
    auto splits = std::make_shared<sq::DatasetSplits>();
    sq::Rng rng(7);
    auto make = [&](int count) {
        sq::Dataset d;
        d.name = "synthetic";
        d.count = count;
        d.channels = cifar ? 3 : 1;
        d.height = cifar ? 32 : 28;
        d.width = cifar ? 32 : 28;
        d.classes = 10;
        d.images.resize(static_cast<std::size_t>(count) * d.sampleSize());
        for (float& v : d.images)
            v = rng.normal();
        d.labels.resize(static_cast<std::size_t>(count));
        for (auto& l : d.labels)
            l = static_cast<std::uint8_t>(rng.below(10));
        return d;
    };
    splits->train = make(trainCount);
    splits->test = make(16); // epoch ends evaluate on it: kept tiny so that they cost next to nothing
    const int channels = cifar ? 3 : 1;
    splits->mean.assign(static_cast<std::size_t>(channels), 0.0f);
    splits->stddev.assign(static_cast<std::size_t>(channels), 1.0f);
    return splits;
}

// One warmed-up trainer per (model, batch, mode).
struct Bench {
    std::unique_ptr<sq::Trainer> trainer;
    sq::Tensor batch;
};

std::map<std::tuple<std::string, int, bool>, Bench> g_benches;

Bench& bench(const std::string& model, int batch, bool sq)
{
    const auto key = std::make_tuple(model, batch, sq);
    auto it = g_benches.find(key);
    if (it != g_benches.end())
        return it->second;
    sq::TrainConfig config;
    // "mlp-W": mlp with hidden width W (the width scaling of bench/README.md).
    if (model.rfind("mlp-", 0) == 0) {
        const std::string w = model.substr(4);
        config.arch = "flatten, dense " + w + ", bn, relu, dense " + w + ", bn, relu, dense 10";
    } else {
        config.model = model;
    }
    config.sq.mode = sq ? sq::QuantMode::Sq : sq::QuantMode::Float;
    config.lambda = sq ? 1.0 : 0.0;
    config.optimizer.kind = sq::OptimizerKind::Sgd;
    config.optimizer.momentum = 0.9f;
    config.learningRate = 0.01;
    config.batchSize = batch;
    config.epochs = 1'000'000;
    config.commitEpochs = 0; // the search phase throughout: the regularizer's full cost
    config.threads = g_threads;
    config.recalibrationImages = 0;
    // Enough batches that epoch ends (a tiny evaluation each) are rare, within a modest footprint.
    const int batches = model == "vgg-small" ? 16 : 64;
    Bench b;
    b.trainer = std::make_unique<sq::Trainer>(config, syntheticData(model, batch * batches));
    sq::Trainer& t = *b.trainer;
    for (int i = 0; i < 3; ++i)
        t.step();
    // Inference input: one batch of the training data.
    const auto& train = syntheticData(model, batch);
    b.batch.resize({batch, train->train.channels, train->train.height, train->train.width});
    std::copy(train->train.images.begin(), train->train.images.end(), b.batch.data());
    for (int i = 0; i < 3; ++i)
        t.model().forward(b.batch, sq::Pass::Eval);
    return g_benches.emplace(key, std::move(b)).first->second;
}

double timeTrain(const std::string& model, int batch, bool sq, int steps)
{
    sq::Trainer& t = *bench(model, batch, sq).trainer;
    const auto start = Clock::now();
    for (int i = 0; i < steps; ++i)
        t.step();
    return secondsSince(start);
}

double timeInfer(const std::string& model, int batch, int iters)
{
    Bench& b = bench(model, batch, false);
    const auto start = Clock::now();
    float sink = 0.0f;
    for (int i = 0; i < iters; ++i)
        sink += b.trainer->model().forward(b.batch, sq::Pass::Eval)[0];
    const double s = secondsSince(start);
    if (sink == 12345.678f) // keeps the passes from being optimised away
        std::fputs("", stderr);
    return s;
}

// The regularizer's pass as the SQ method runs it at the end of each search-phase step: one fused
// pass per quantized layer giving R_l, dR_l/dalpha, dR_l/dbeta and adding lambda * dR_l/dw to the
// weight gradient.
double timeRegularizer(const std::string& model, int batch, int iters)
{
    sq::Trainer& t = *bench(model, batch, true).trainer;
    const auto& targets = t.model().quantTargets();
    std::vector<sq::SqShape> shapes;
    for (const auto& target : targets) {
        sq::SqShape shape;
        shape.alpha = static_cast<float>(target.weight->param.value.vec().cwiseAbs().mean());
        shapes.push_back(shape);
    }
    double sink = 0.0;
    auto pass = [&] {
        for (std::size_t l = 0; l < targets.size(); ++l) {
            sq::Param& w = targets[l].weight->param;
            sink += sq::sqLayerTerm(w.value.data(), w.value.size(), shapes[l], 3e-3, w.grad.data(), 1.0f).value;
        }
    };
    for (int i = 0; i < 3; ++i)
        pass();
    const auto start = Clock::now();
    for (int i = 0; i < iters; ++i)
        pass();
    const double s = secondsSince(start) / iters;
    if (sink == 0.5)
        std::fputs("", stderr);
    return s;
}

double timeSnapshot(const std::string& model, int batch, int iters)
{
    sq::Trainer& t = *bench(model, batch, true).trainer;
    for (int i = 0; i < 3; ++i)
        t.makeSnapshot();
    const auto start = Clock::now();
    for (int i = 0; i < iters; ++i)
        t.makeSnapshot();
    return secondsSince(start) / iters;
}

// The product Dense uses (activations times the transposed weight), as the engine builds it.
double gemmGflops(int m, int n, int k, int iters)
{
    sq::Tensor a({m, k}), b({n, k}), c({m, n});
    sq::Rng rng(1);
    for (std::size_t i = 0; i < a.size(); ++i)
        a[i] = rng.normal();
    for (std::size_t i = 0; i < b.size(); ++i)
        b[i] = rng.normal();
    c.setZero();
    for (int i = 0; i < 2; ++i)
        c.matrix().noalias() = a.matrix() * b.matrix().transpose();
    const auto start = Clock::now();
    for (int i = 0; i < iters; ++i)
        c.matrix().noalias() = a.matrix() * b.matrix().transpose();
    const double s = secondsSince(start);
    return 2.0 * m * n * k * iters / s / 1e9;
}

#ifdef __x86_64__
// Sixteen independent FMA chains hide the FMA latency; compiled for AVX-512 or AVX2 whatever the
// build's -march, and picked at run time by what the CPU supports.
__attribute__((target("avx512f"))) double fmaLoop512(long iters)
{
    __m512 acc[16];
    for (int i = 0; i < 16; ++i)
        acc[i] = _mm512_set1_ps(static_cast<float>(i) * 1e-3f);
    const __m512 x = _mm512_set1_ps(0.999999f);
    const __m512 y = _mm512_set1_ps(1e-7f);
    for (long it = 0; it < iters; ++it)
        for (int i = 0; i < 16; ++i)
            acc[i] = _mm512_fmadd_ps(acc[i], x, y);
    __m512 s = acc[0];
    for (int i = 1; i < 16; ++i)
        s = _mm512_add_ps(s, acc[i]);
    // Stored and summed by hand: GCC 12's _mm512_reduce_add_ps trips -Wuninitialized.
    alignas(64) float out[16];
    _mm512_store_ps(out, s);
    double sum = 0.0;
    for (float v : out)
        sum += v;
    return sum;
}

__attribute__((target("avx2,fma"))) double fmaLoop256(long iters)
{
    __m256 acc[16];
    for (int i = 0; i < 16; ++i)
        acc[i] = _mm256_set1_ps(static_cast<float>(i) * 1e-3f);
    const __m256 x = _mm256_set1_ps(0.999999f);
    const __m256 y = _mm256_set1_ps(1e-7f);
    for (long it = 0; it < iters; ++it)
        for (int i = 0; i < 16; ++i)
            acc[i] = _mm256_fmadd_ps(acc[i], x, y);
    alignas(32) float out[8];
    __m256 s = acc[0];
    for (int i = 1; i < 16; ++i)
        s = _mm256_add_ps(s, acc[i]);
    _mm256_store_ps(out, s);
    double sum = 0.0;
    for (float v : out)
        sum += v;
    return sum;
}
#endif

std::string peak()
{
#ifdef __x86_64__
    const bool wide = __builtin_cpu_supports("avx512f");
    if (!wide && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
        return "0 none";
    const int lanes = wide ? 16 : 8;
    const long iters = 50'000'000;
    double best = 0.0;
    for (int rep = 0; rep < 3; ++rep) {
        double sink = 0.0;
        const auto start = Clock::now();
#pragma omp parallel num_threads(g_threads) reduction(+ : sink)
        sink += wide ? fmaLoop512(iters) : fmaLoop256(iters);
        const double s = secondsSince(start);
        if (sink == 0.5)
            std::fputs("", stderr);
        best = std::max(best, 2.0 * lanes * 16.0 * static_cast<double>(iters) * g_threads / s / 1e9);
    }
    std::ostringstream out;
    out << best << (wide ? " avx512" : " avx2");
    return out.str();
#else
    return "0 unknown";
#endif
}

std::string info()
{
    std::ostringstream out;
    out << "threads=" << sq::maxThreadCount() << " eigen-simd=" << Eigen::SimdInstructionSetsInUse();
#ifdef EIGEN_USE_BLAS
    out << " gemm=blas";
#else
    out << " gemm=eigen";
#endif
#ifdef _OPENMP
    out << " openmp=yes";
#else
    out << " openmp=no";
#endif
    return out.str();
}

std::string handle(const std::string& line)
{
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    std::ostringstream out;
    if (cmd == "train" || cmd == "sqtrain" || cmd == "infer" || cmd == "reg" || cmd == "snapshot") {
        std::string model;
        int batch = 0, count = 0;
        if (!(in >> model >> batch >> count) || batch <= 0 || count <= 0)
            return "error: expected '" + cmd + " MODEL BATCH COUNT'";
        double s = 0.0;
        if (cmd == "train" || cmd == "sqtrain")
            s = timeTrain(model, batch, cmd == "sqtrain", count);
        else if (cmd == "infer")
            s = timeInfer(model, batch, count);
        else if (cmd == "reg")
            s = timeRegularizer(model, batch, count);
        else
            s = timeSnapshot(model, batch, count);
        out.precision(9);
        out << s;
    } else if (cmd == "gemm") {
        int m = 0, n = 0, k = 0, iters = 0;
        if (!(in >> m >> n >> k >> iters) || m <= 0 || n <= 0 || k <= 0 || iters <= 0)
            return "error: expected 'gemm M N K ITERS'";
        out << gemmGflops(m, n, k, iters);
    } else if (cmd == "peak") {
        out << peak();
    } else if (cmd == "info") {
        out << info();
    } else {
        return "error: unknown request '" + cmd + "'";
    }
    return out.str();
}

} // namespace

int main(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--threads" && i + 1 < argc) {
            g_threads = std::max(1, std::atoi(argv[++i]));
        } else {
            std::cerr << "usage: sq-speed-bench [--threads N]   (requests on stdin, see bench/README.md)\n";
            return 2;
        }
    }
    sq::setThreadCount(g_threads);
    Eigen::setNbThreads(g_threads);
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line.empty())
            continue;
        if (line == "quit")
            break;
        std::string answer;
        try {
            answer = handle(line);
        } catch (const std::exception& e) {
            answer = std::string("error: ") + e.what();
        }
        std::cout << answer << std::endl;
    }
    return 0;
}
