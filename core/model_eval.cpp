#include "core/model_eval.h"

#include "core/data/batch_iterator.h"
#include "core/error.h"
#include "core/io/model_file.h"
#include "core/parallel.h"
#include "core/loss.h"

#include <algorithm>
#include <cstring>

namespace sq {

AccuracyResult datasetAccuracy(Model& model, const Dataset& data, int batchSize)
{
    if (data.sampleShape() != model.inputSample())
        throw Error(data.name + ": samples are " + shapeString(data.sampleShape()) + " but the model takes "
                    + shapeString(model.inputSample()));
    BatchIterator batches(data, batchSize, 0, false);
    batches.startEpoch(0);
    Tensor images;
    std::vector<int> labels;
    Tensor grad;
    AccuracyResult r;
    double lossSum = 0.0;
    while (batches.next(images, labels)) {
        for (int label : labels)
            if (label >= model.outputs())
                throw Error(data.name + ": label " + std::to_string(label) + " is beyond the model's "
                            + std::to_string(model.outputs()) + " classes");
        const LossResult l = softmaxCrossEntropy(model.forward(images, Pass::Eval), labels, grad);
        r.correct += l.correct;
        lossSum += l.loss * images.dim(0);
        r.total += images.dim(0);
    }
    r.loss = r.total ? lossSum / static_cast<double>(r.total) : 0.0;
    return r;
}

Tensor datasetLogits(Model& model, const Dataset& data, int first, int count, int batchSize)
{
    if (first < 0 || count < 0 || first + count > data.count)
        throw Error(data.name + ": samples [" + std::to_string(first) + ", " + std::to_string(first + count)
                    + ") are outside its " + std::to_string(data.count));
    const std::size_t sample = data.sampleSize();
    const int classes = model.outputs();
    Tensor logits({count, classes});
    Tensor images;
    for (int begin = 0; begin < count; begin += batchSize) {
        const int n = std::min(batchSize, count - begin);
        std::vector<int> shape = data.sampleShape();
        shape.insert(shape.begin(), n);
        images.resize(shape);
        std::memcpy(images.data(), data.images.data() + static_cast<std::size_t>(first + begin) * sample,
                    sizeof(float) * sample * static_cast<std::size_t>(n));
        const Tensor& out = model.forward(images, Pass::Eval);
        std::memcpy(logits.data() + static_cast<std::size_t>(begin) * static_cast<std::size_t>(classes), out.data(),
                    sizeof(float) * out.size());
    }
    return logits;
}

ModelFileEvaluation evaluateModelFile(const std::string& path, const std::string& datasetDir, DatasetKind kind,
                                      int testLimit, int batchSize, int threads)
{
    ModelFileEvaluation out;
    out.stored = readModelFile(path);
    Model model = instantiateModel(out.stored);
    // One training image is enough: only the test split is evaluated.
    const DatasetSplits data =
        loadDataset(datasetDir, kind, 1, testLimit, out.stored.inputMean, out.stored.inputStddev);
    if (data.test.sampleShape() != out.stored.inputSample)
        throw Error(path + ": the model takes " + shapeString(out.stored.inputSample) + " inputs, but " + datasetDir
                    + " holds " + shapeString(data.test.sampleShape()) + " images");
    if (data.test.classes > out.stored.classes)
        throw Error(path + ": the model has " + std::to_string(out.stored.classes) + " classes, but " + datasetDir
                    + " has " + std::to_string(data.test.classes));
    if (threads > 0) {
        setThreadCount(threads);
        Eigen::setNbThreads(threads);
    }
    out.result = datasetAccuracy(model, data.test, batchSize);
    return out;
}

} // namespace sq
