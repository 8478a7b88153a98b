// The engine's one matrix product, on raw row-major buffers: C = op(A) * op(B) (+ C).
//
// Why not Eigen's `c.noalias() = a * b`: for a product it hands to the BLAS, Eigen first zeroes
// the destination and then asks for C += A * B. On mlp's weight gradient (256 x 784) and a VGG
// layer's unfolded input gradient (576 x 2048) that zeroing is a whole extra pass over memory on
// one thread (3.5% of mlp training's profile). Here the BLAS overwrites C itself (beta = 0).
//
// Threads: called outside a parallel region, the BLAS uses the engine's OpenMP threads; inside
// one (a chunk of a convolution), it runs on the calling thread.
#pragma once

namespace sq {

enum class Op { None, Transpose };
enum class Accumulate { No, Yes };

struct MatrixRef {
    const float* data;
    int rows; // of the stored matrix, before op
    int cols;
    int stride; // floats between the starts of two rows
};

// C (rows x cols, row stride ldc) = op(A) * op(B), or += with Accumulate::Yes. Shapes must agree
// (checked in debug builds): op(A) is rows x k, op(B) is k x cols.
void gemm(const MatrixRef& a, Op opA, const MatrixRef& b, Op opB, float* c, int ldc, Accumulate accumulate);

inline MatrixRef ref(const float* data, int rows, int cols) { return {data, rows, cols, cols}; }

} // namespace sq
