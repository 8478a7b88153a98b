// Run-time choice of SIMD width for the engine's element-wise hot loops (portable builds).
#pragma once

// A portable build (without SQ_NATIVE's -march=native) compiles for SSE2 only. The few loops that
// stream over every weight or activation each step are compiled again for AVX2 and AVX-512 with
// this attribute, and the loader picks the widest one the CPU supports (GCC's target_clones,
// an ifunc). Plain loops only: Eigen picks its packet size at compile time, so Eigen expressions
// inside such a function stay SSE2.
// Not under the sanitizers: an ifunc resolver runs while the loader relocates, before the
// sanitizer runtime is initialised, and its instrumented code crashes there.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__AVX512F__) \
    && !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
#define SQ_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SQ_SIMD_CLONES
#endif
