#include "core/gemm.h"

#include <Eigen/Core>

#include <cassert>

namespace sq {

namespace {

using Stride = Eigen::OuterStride<>;
using ConstView = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Stride>;
using View = Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Stride>;

#ifndef EIGEN_USE_BLAS
ConstView view(const MatrixRef& m) { return ConstView(m.data, m.rows, m.cols, Stride(m.stride)); }
#endif

} // namespace

void gemm(const MatrixRef& a, Op opA, const MatrixRef& b, Op opB, float* c, int ldc, Accumulate accumulate)
{
    const int m = opA == Op::None ? a.rows : a.cols;
    [[maybe_unused]] const int k = opA == Op::None ? a.cols : a.rows; // only the BLAS call and the assert read it
    const int n = opB == Op::None ? b.cols : b.rows;
    assert(k == (opB == Op::None ? b.rows : b.cols));
    if (m == 0 || n == 0)
        return;
#ifdef EIGEN_USE_BLAS
    // Column-major BLAS sees a row-major matrix as its transpose: C^T = op(B)^T * op(A)^T.
    const char transB = opB == Op::None ? 'N' : 'T';
    const char transA = opA == Op::None ? 'N' : 'T';
    const float one = 1.0f;
    const float beta = accumulate == Accumulate::Yes ? 1.0f : 0.0f;
    if (k == 0) {
        if (accumulate == Accumulate::No)
            View(c, m, n, Stride(ldc)).setZero();
        return;
    }
    sgemm_(&transB, &transA, &n, &m, &k, &one, b.data, &b.stride, a.data, &a.stride, &beta, c, &ldc);
#else
    View out(c, m, n, Stride(ldc));
    const auto run = [&](const auto& lhs, const auto& rhs) {
        if (accumulate == Accumulate::Yes)
            out.noalias() += lhs * rhs;
        else
            out.noalias() = lhs * rhs;
    };
    const ConstView av = view(a);
    const ConstView bv = view(b);
    if (opA == Op::None && opB == Op::None)
        run(av, bv);
    else if (opA == Op::None)
        run(av, bv.transpose());
    else if (opB == Op::None)
        run(av.transpose(), bv);
    else
        run(av.transpose(), bv.transpose());
#endif
}

} // namespace sq
