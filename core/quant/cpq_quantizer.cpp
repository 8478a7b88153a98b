#include "core/quant/cpq_quantizer.h"

#include "core/quant/uniq_quantizer.h"

#include <algorithm>
#include <cmath>

namespace sq {

namespace {

constexpr int kSlots = 2 * kCpqWindow + 1;
constexpr float kCellWidth = 3.0f; // s / sigma: each cell is 3 noise scales wide
// A cell between two boundaries: Sig(a) - Sig(b) = Sig(a) Sig(-b) (1 - e^-(a-b)), and a - b = 3.
const float kInterior = static_cast<float>(1.0 - std::exp(-3.0));
const float kBoundaryRatio = static_cast<float>(std::exp(-3.0)); // e^-u of the next boundary up

// Cumulative gate products: c_j = z_3 ... z_j, the factor on the mass of group j's levels.
std::array<float, kCpqMaxBits + 1> groupScales(const CpqGrid& grid)
{
    std::array<float, kCpqMaxBits + 1> c{};
    float product = 1.0f;
    for (int j = 1; j <= kCpqMaxBits; ++j) {
        if (j >= 3)
            product *= grid.gate[static_cast<std::size_t>(j)];
        c[static_cast<std::size_t>(j)] = product;
    }
    return c;
}

struct Prepared {
    CpqGrid grid;
    std::array<float, kCpqMaxBits + 1> scale{}; // c_j
    int activeBits = 2;
    float invTemperature = 1.0f;
    bool unitTemperature = true;
};

Prepared prepare(const CpqGrid& grid)
{
    Prepared p;
    p.grid = grid;
    p.scale = groupScales(grid);
    p.activeBits = grid.activeBits();
    p.invTemperature = 1.0f / grid.temperature;
    p.unitTemperature = grid.temperature == 1.0f;
    return p;
}

// The window of one weight: its levels lo..hi, their probabilities and the slopes.
struct Window {
    int lo = 0;
    int count = 1;
    float t = 0.0f;
    std::array<float, kSlots> p{};       // probabilities (softmax(log pi / tau))
    std::array<float, kSlots> logSlope{}; // d log m_k / dt, t = w / s
    int best = 0;                         // slot of the most probable level
};

// Everything about the masses of one weight's window. The cell masses depend on t = w/s only:
// the boundaries of level k's cell sit at u = 3 (k +- 1/2 - t) noise scales from w.
inline void window(float w, const Prepared& pr, int highestGroup, Window& out)
{
    const int bits = std::min(highestGroup, pr.activeBits);
    const int maxLevel = bits >= 2 ? cpqMaxLevel(bits) : 0;
    const float t = w / pr.grid.step;
    const float tc = std::clamp(t, -static_cast<float>(maxLevel), static_cast<float>(maxLevel));
    const int nearest = static_cast<int>(roundHalfEvenNonNegative(tc + static_cast<float>(maxLevel))) - maxLevel;
    const int lo = std::max(-maxLevel, nearest - kCpqWindow);
    const int hi = std::min(maxLevel, nearest + kCpqWindow);
    const int count = hi - lo + 1;
    out.lo = lo;
    out.count = count;
    out.t = t;

    // Sig(u_b) at the boundaries b between levels lo + b and lo + b + 1, from a single exp:
    // e^-u grows by e^-3 per boundary. The exponent is capped so that a weight far below the grid
    // cannot overflow (its sigmoids are 0 to float precision either way).
    std::array<float, kSlots> sig{};
    float e = std::exp(std::min(-kCellWidth * (static_cast<float>(lo) + 0.5f - t), 80.0f));
    for (int b = 0; b + 1 < count; ++b) {
        sig[static_cast<std::size_t>(b)] = 1.0f / (1.0f + e);
        e *= kBoundaryRatio;
    }

    float total = 0.0f;
    float bestMass = -1.0f;
    int best = 0;
    for (int i = 0; i < count; ++i) {
        const bool hasUpper = i + 1 < count; // else the open upper tail
        const bool hasLower = i > 0;         // else the open lower tail
        const float up = hasUpper ? sig[static_cast<std::size_t>(i)] : 1.0f;
        const float down = hasLower ? 1.0f - sig[static_cast<std::size_t>(i - 1)] : 1.0f;
        const float mass = up * down * (hasUpper && hasLower ? kInterior : 1.0f);
        out.logSlope[static_cast<std::size_t>(i)] =
            (hasUpper ? -kCellWidth * (1.0f - up) : 0.0f) + (hasLower ? kCellWidth * (1.0f - down) : 0.0f);
        const float scaled = pr.scale[static_cast<std::size_t>(cpqGroupOf(lo + i))] * mass;
        const float weight = pr.unitTemperature ? scaled : std::pow(scaled, pr.invTemperature);
        out.p[static_cast<std::size_t>(i)] = weight;
        total += weight;
        if (scaled > bestMass) {
            bestMass = scaled;
            best = i;
        }
    }
    out.best = best;
    const float inv = total > 0.0f ? 1.0f / total : 0.0f;
    for (int i = 0; i < count; ++i)
        out.p[static_cast<std::size_t>(i)] *= inv;
    if (!(total > 0.0f))
        out.p[static_cast<std::size_t>(best)] = 1.0f; // cannot happen with c_1 = c_2 = 1; kept finite anyway
}

// The slopes of y = s sum_k p_k k. With Cov = sum p k l' - (sum p k)(sum p l') (l' = d log m/dt):
// dy/dw = Cov / tau and dy/ds = E - t Cov / tau, E = sum p k.
template <bool Gates>
inline CpqPoint evaluate(float w, const Prepared& pr, int highestGroup)
{
    Window win;
    window(w, pr, highestGroup, win);
    CpqPoint r;
    r.level = win.lo + win.best;
    r.value = pr.grid.step * static_cast<float>(r.level);
    float mean = 0.0f;
    float meanSlope = 0.0f;
    float cross = 0.0f;
    for (int i = 0; i < win.count; ++i) {
        const float k = static_cast<float>(win.lo + i);
        const float p = win.p[static_cast<std::size_t>(i)];
        const float ls = win.logSlope[static_cast<std::size_t>(i)];
        mean += p * k;
        meanSlope += p * ls;
        cross += p * k * ls;
    }
    const float cov = (cross - mean * meanSlope) * pr.invTemperature;
    r.soft = pr.grid.step * mean;
    r.dw = cov;
    r.dStep = mean - win.t * cov;
    if constexpr (Gates) {
        // dy/dlog c_j = (s/tau) (sum_{k in j} p_k k - P_j E); c_j = z_3 ... z_j, so
        // dy/dz_i = (1/z_i) sum_{j >= i} dy/dlog c_j.
        std::array<float, kCpqMaxBits + 2> perGroup{};
        for (int i = 0; i < win.count; ++i) {
            const int k = win.lo + i;
            const float p = win.p[static_cast<std::size_t>(i)];
            perGroup[static_cast<std::size_t>(cpqGroupOf(k))] += p * (static_cast<float>(k) - mean);
        }
        const float factor = pr.grid.step * pr.invTemperature;
        float suffix = 0.0f;
        for (int j = pr.activeBits; j >= 3; --j) {
            suffix += perGroup[static_cast<std::size_t>(j)];
            const float z = pr.grid.gate[static_cast<std::size_t>(j)];
            r.dGate[static_cast<std::size_t>(j)] = z > 0.0f ? factor * suffix / z : 0.0f;
        }
    }
    return r;
}

int highestOf(const std::uint8_t* highestGroup, std::size_t i, int maxBits)
{
    return highestGroup ? static_cast<int>(highestGroup[i]) : maxBits;
}

constexpr std::size_t kBlock = 4096; // fixed blocks: partial sums do not depend on the thread count

} // namespace

int CpqGrid::activeBits() const
{
    int bits = std::min(2, maxBits);
    for (int j = 3; j <= maxBits && gate[static_cast<std::size_t>(j)] > 0.0f; ++j)
        bits = j;
    return bits;
}

CpqPoint cpqPoint(float w, const CpqGrid& grid, int highestGroup)
{
    return evaluate<true>(w, prepare(grid), highestGroup);
}

std::vector<std::pair<int, double>> cpqProbabilities(float w, const CpqGrid& grid, int highestGroup)
{
    Window win;
    window(w, prepare(grid), highestGroup, win);
    std::vector<std::pair<int, double>> out;
    for (int i = 0; i < win.count; ++i)
        out.emplace_back(win.lo + i, win.p[static_cast<std::size_t>(i)]);
    return out;
}

void cpqForwardLayer(const float* w, std::size_t n, const CpqGrid& grid, const std::uint8_t* highestGroup, float* q,
                     CpqLayerCache* cache)
{
    const Prepared pr = prepare(grid);
    std::vector<int> softGates;
    for (int j = 3; j <= pr.activeBits; ++j) {
        const float z = grid.gate[static_cast<std::size_t>(j)];
        if (z > 0.0f && z < 1.0f)
            softGates.push_back(j);
    }
    const std::size_t gates = softGates.size();
    if (cache) {
        cache->dw.resize(n);
        cache->dStep.resize(n);
        cache->softGates = softGates;
        cache->dGate.resize(n * gates);
    }
    const auto blocks = static_cast<std::ptrdiff_t>((n + kBlock - 1) / kBlock);
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t b = 0; b < blocks; ++b) {
        const std::size_t begin = static_cast<std::size_t>(b) * kBlock;
        const std::size_t end = std::min(n, begin + kBlock);
        for (std::size_t i = begin; i < end; ++i) {
            const int highest = highestOf(highestGroup, i, grid.maxBits);
            if (!cache) {
                q[i] = evaluate<false>(w[i], pr, highest).value;
                continue;
            }
            const CpqPoint r = gates ? evaluate<true>(w[i], pr, highest) : evaluate<false>(w[i], pr, highest);
            q[i] = r.value;
            cache->dw[i] = r.dw;
            cache->dStep[i] = r.dStep;
            for (std::size_t g = 0; g < gates; ++g)
                cache->dGate[i * gates + g] = r.dGate[static_cast<std::size_t>(softGates[g])];
        }
    }
}

CpqLayerGrad cpqBackwardLayer(float* grad, std::size_t n, const CpqLayerCache& cache)
{
    const std::size_t gates = cache.softGates.size();
    const auto blocks = static_cast<std::ptrdiff_t>((n + kBlock - 1) / kBlock);
    // Per-block partial sums, added in block order afterwards: the same result on any thread count.
    std::vector<double> partial(static_cast<std::size_t>(blocks) * (1 + gates), 0.0);
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t b = 0; b < blocks; ++b) {
        const std::size_t begin = static_cast<std::size_t>(b) * kBlock;
        const std::size_t end = std::min(n, begin + kBlock);
        double* sums = partial.data() + static_cast<std::size_t>(b) * (1 + gates);
        float stepSum = 0.0f;
        std::array<float, kCpqMaxBits + 1> gateSum{};
        for (std::size_t i = begin; i < end; ++i) {
            const float g = grad[i]; // dL/dq
            stepSum += g * cache.dStep[i];
            for (std::size_t k = 0; k < gates; ++k)
                gateSum[k] += g * cache.dGate[i * gates + k];
            grad[i] = g * cache.dw[i];
        }
        sums[0] = stepSum;
        for (std::size_t k = 0; k < gates; ++k)
            sums[1 + k] = gateSum[k];
    }
    CpqLayerGrad out;
    for (std::ptrdiff_t b = 0; b < blocks; ++b) {
        const double* sums = partial.data() + static_cast<std::size_t>(b) * (1 + gates);
        out.step += sums[0];
        for (std::size_t k = 0; k < gates; ++k)
            out.gate[static_cast<std::size_t>(cache.softGates[k])] += sums[1 + k];
    }
    return out;
}

} // namespace sq
