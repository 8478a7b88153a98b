// Tests on real data: the Fashion-MNIST folder, which scripts/install-deps.sh installs. Missing,
// a test fails in CI (an install step is broken) and is skipped on a developer's machine.
#pragma once

#include "core/data/dataset.h"

#include <QtTest>

#include <filesystem>
#include <string>

namespace sq::testing {

inline bool fashionMnistInstalled(const std::string& dir)
{
    return std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz");
}

} // namespace sq::testing

// Declares `const std::string var` = the folder, or ends the test (QFAIL in CI, else QSKIP).
#define SQ_REQUIRE_FASHION_MNIST(var)                                                                          \
    const std::string var = sq::defaultDatasetDir();                                                          \
    if (!sq::testing::fashionMnistInstalled(var)) {                                                           \
        if (qEnvironmentVariableIsSet("CI"))                                                                  \
            QFAIL("Fashion-MNIST is missing: scripts/install-deps.sh installs dataset-fashion-mnist");       \
        QSKIP("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)");                        \
    }                                                                                                         \
    static_assert(true, "a semicolon follows")
