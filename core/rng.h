// A small, portable, seedable random generator: identical streams on every platform and library,
// which std::uniform_*_distribution does not promise. Its state is plain data so sessions can save it.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace sq {

// xoshiro256** (Blackman & Vigna, 2018), seeded through splitmix64.
class Rng {
public:
    explicit Rng(std::uint64_t seed = 0) { reseed(seed); }

    void reseed(std::uint64_t seed);
    std::uint64_t next();

    // Uniform in [0, 1) with 24 random bits, so every value is exactly representable as float.
    float uniform() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }
    float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
    // Uniform integer in [0, n), without modulo bias (Lemire's method).
    std::uint32_t below(std::uint32_t n);
    float normal();

    template <typename T>
    void shuffle(std::vector<T>& v)
    {
        for (std::size_t i = v.size(); i > 1; --i) {
            const std::size_t j = below(static_cast<std::uint32_t>(i));
            std::swap(v[i - 1], v[j]);
        }
    }

    std::array<std::uint64_t, 4> state() const { return s_; }
    void setState(const std::array<std::uint64_t, 4>& s) { s_ = s; }

private:
    std::array<std::uint64_t, 4> s_{};
};

} // namespace sq
