#include "ui/model_export.h"

#include "core/error.h"
#include "core/io/c_header_export.h"
#include "core/io/model_file.h"
#include "core/io/onnx_export.h"
#include "core/io/trained_model.h"

#include <filesystem>

namespace sq::ui {

std::string exportTrainedModel(Trainer& trainer, const DatasetSplits& data, const std::string& path)
{
    const std::string suffix = std::filesystem::path(path).extension().string();
    if (suffix != ".sqm" && suffix != ".onnx" && suffix != ".h")
        throw Error(path + ": unknown model format '" + suffix + "' (use .sqm, .onnx or .h)");
    const StoredModel stored = captureTrainedModel(trainer, data.mean, data.stddev);
    if (suffix == ".sqm")
        writeModelFile(path, stored);
    else if (suffix == ".onnx")
        writeOnnxModel(path, stored);
    else
        writeCHeader(path, stored);
    return path + ": " + stored.method + " model, " + std::to_string(storedModelBits(stored)) + " model bits, "
           + std::to_string(std::filesystem::file_size(path)) + " bytes";
}

} // namespace sq::ui
