// The engine's CPU threads (OpenMP), with a serial fallback for builds without OpenMP: the TSan
// build leaves it out because libgomp is not instrumented and its internals would read as races.
#pragma once

#ifdef _OPENMP
#include <omp.h>
#endif

namespace sq {

inline void setThreadCount(int threads)
{
#ifdef _OPENMP
    omp_set_num_threads(threads);
#else
    (void)threads;
#endif
}

inline int maxThreadCount()
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

inline int threadIndex()
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

} // namespace sq
