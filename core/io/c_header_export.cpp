#include "core/io/c_header_export.h"

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/io/bit_pack.h"
#include "core/layers/batchnorm.h"
#include "core/layers/conv2d.h"
#include "core/layers/dense.h"
#include "core/layers/maxpool2d.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

namespace sq {

namespace {

// Shortest text that reads back as the same float, always with a '.' or an exponent so that the
// 'f' suffix makes a valid C float constant.
std::string floatLiteral(float v)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
    std::string s = buf;
    if (s.find_first_of(".e") == std::string::npos)
        s += ".0";
    return s + "f";
}

std::string floatArray(const std::string& name, const float* v, std::size_t n)
{
    std::string out = "static const float " + name + "[" + std::to_string(n) + "] = {";
    for (std::size_t i = 0; i < n; ++i)
        out += (i % 8 == 0 ? "\n    " : " ") + floatLiteral(v[i]) + ",";
    return out + "\n};\n";
}

std::string byteArray(const std::string& name, const std::vector<std::uint8_t>& v)
{
    std::string out = "static const uint8_t " + name + "[" + std::to_string(v.size()) + "] = {";
    char buf[8];
    for (std::size_t i = 0; i < v.size(); ++i) {
        std::snprintf(buf, sizeof buf, "0x%02x,", v[i]);
        out += (i % 16 == 0 ? "\n    " : " ") + std::string(buf);
    }
    return out + "\n};\n";
}

// Comments in the header must not be closed early by text from the architecture.
std::string commentSafe(std::string s)
{
    for (std::size_t at; (at = s.find("*/")) != std::string::npos;)
        s.replace(at, 2, "* /");
    for (auto& c : s)
        if (c == '\n')
            c = ' ';
    return s;
}

const char* const kWeightsHelpers = R"(/* A weight tensor: codes of `bits` bits (least significant bit first, so a code may straddle
 * two bytes) indexing `levels`, or plain float32 `values` for a layer kept in float. */
typedef struct {
    const uint8_t* codes;
    const float* levels;
    const float* values;
    unsigned bits;
} sq_weights;

static float sq_weight(const sq_weights* w, size_t i)
{
    size_t bit;
    unsigned shift, window;
    if (w->values)
        return w->values[i];
    bit = i * w->bits;
    shift = (unsigned)(bit & 7u);
    window = w->codes[bit >> 3];
    if (shift + w->bits > 8u)
        window |= (unsigned)w->codes[(bit >> 3) + 1u] << 8;
    return w->levels[(window >> shift) & ((1u << w->bits) - 1u)];
}
)";

const char* const kDense = R"(
/* y = W x + b with W of shape (outputs, inputs), row-major. */
static void sq_dense(const float* x, float* y, int inputs, int outputs, const sq_weights* w, const float* bias)
{
    int o, i;
    for (o = 0; o < outputs; ++o) {
        float acc = 0.0f;
        for (i = 0; i < inputs; ++i)
            acc += sq_weight(w, (size_t)o * (size_t)inputs + (size_t)i) * x[i];
        y[o] = acc + bias[o];
    }
}
)";

const char* const kConv = R"(
/* Square kernels, weights of shape (out, in, k, k), zero padding on every side. */
static void sq_conv2d(const float* x, float* y, int in, int h, int w, int out, int k, int stride, int pad,
                      const sq_weights* wt, const float* bias)
{
    const int oh = (h + 2 * pad - k) / stride + 1;
    const int ow = (w + 2 * pad - k) / stride + 1;
    int o, oy, ox, c, ky, kx;
    for (o = 0; o < out; ++o)
        for (oy = 0; oy < oh; ++oy)
            for (ox = 0; ox < ow; ++ox) {
                float acc = 0.0f;
                for (c = 0; c < in; ++c)
                    for (ky = 0; ky < k; ++ky) {
                        const int iy = oy * stride - pad + ky;
                        if (iy < 0 || iy >= h)
                            continue;
                        for (kx = 0; kx < k; ++kx) {
                            const int ix = ox * stride - pad + kx;
                            size_t widx;
                            if (ix < 0 || ix >= w)
                                continue;
                            widx = (((size_t)o * (size_t)in + (size_t)c) * (size_t)k + (size_t)ky) * (size_t)k + (size_t)kx;
                            acc += sq_weight(wt, widx) * x[((size_t)c * (size_t)h + (size_t)iy) * (size_t)w + (size_t)ix];
                        }
                    }
                y[((size_t)o * (size_t)oh + (size_t)oy) * (size_t)ow + (size_t)ox] = acc + bias[o];
            }
}
)";

const char* const kMaxPool = R"(
/* Windows of size x size every `stride`, no padding; rows and columns that do not fill a window are dropped. */
static void sq_maxpool(const float* x, float* y, int channels, int h, int w, int size, int stride)
{
    const int oh = (h - size) / stride + 1;
    const int ow = (w - size) / stride + 1;
    int c, oy, ox, i, j;
    for (c = 0; c < channels; ++c)
        for (oy = 0; oy < oh; ++oy)
            for (ox = 0; ox < ow; ++ox) {
                const float* p = x + ((size_t)c * (size_t)h + (size_t)(oy * stride)) * (size_t)w + (size_t)(ox * stride);
                float m = p[0];
                for (i = 0; i < size; ++i)
                    for (j = 0; j < size; ++j)
                        if (p[(size_t)i * (size_t)w + (size_t)j] > m)
                            m = p[(size_t)i * (size_t)w + (size_t)j];
                y[((size_t)c * (size_t)oh + (size_t)oy) * (size_t)ow + (size_t)ox] = m;
            }
}
)";

const char* const kBatchNorm = R"(
/* Inference BatchNorm per channel (spatial values per channel): y = (x - mean) * gamma / sqrt(var + eps) + beta. */
static void sq_batchnorm(const float* x, float* y, int channels, int spatial, const float* gamma, const float* beta,
                         const float* mean, const float* var, float eps)
{
    int c, i;
    for (c = 0; c < channels; ++c) {
        const float scale = gamma[c] / sqrtf(var[c] + eps);
        for (i = 0; i < spatial; ++i) {
            const size_t at = (size_t)c * (size_t)spatial + (size_t)i;
            y[at] = (x[at] - mean[c]) * scale + beta[c];
        }
    }
}
)";

const char* const kRelu = R"(
static void sq_relu(const float* x, float* y, int n)
{
    int i;
    for (i = 0; i < n; ++i)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
)";

int product(const std::vector<int>& s)
{
    int p = 1;
    for (int d : s)
        p *= d;
    return p;
}

} // namespace

std::string cHeaderSource(const StoredModel& stored)
{
    Model model = instantiateModel(stored);
    if (stored.inputSample.size() != 3)
        throw Error("C header export: needs an image input (C, H, W), the model takes "
                    + shapeString(stored.inputSample));

    std::string data;  // arrays
    std::string calls; // the body of sq_model_logits
    std::set<std::string> used;
    std::map<std::string, int> ordinal;
    std::vector<int> shape = stored.inputSample;
    int largest = 1;
    // Activations live in two scratch halves; "in" is the caller's input until the first layer writes.
    std::string current = "input";
    bool usesB = false;
    const auto target = [&](bool inPlace) {
        if (inPlace && current != "input")
            return current;
        const std::string next = current == "a" ? "b" : "a";
        usesB = usesB || next == "b";
        return next;
    };
    std::size_t weightIndex = 0;
    for (const auto& layerPtr : model.layers()) {
        Layer& layer = *layerPtr;
        const std::string kind = layer.kind();
        const std::string name = kind + std::to_string(++ordinal[kind]);
        const std::vector<int> out = layer.outputShape(shape);
        const std::string prefix = "sq_" + name + "_";
        std::string dst;
        std::string comment = "    /* " + commentSafe(layer.describe()) + " -> " + shapeString(out) + " */\n";
        if (kind == "dense" || kind == "conv") {
            const StoredWeight& w = stored.weights.at(weightIndex++);
            data += "\n/* " + w.name + ": " + commentSafe(w.decision) + ", "
                    + (w.quantized() ? std::to_string(w.bits) + " bits" : std::string("float32")) + " per weight, "
                    + std::to_string(w.count()) + " weights (" + commentSafe(layer.describe()) + ") */\n";
            std::string codes = "NULL";
            std::string levels = "NULL";
            std::string values = "NULL";
            if (w.quantized()) {
                data += floatArray(prefix + "levels", w.levels.data(), w.levels.size());
                data += byteArray(prefix + "codes", packCodes(w.codes, w.bits));
                codes = prefix + "codes";
                levels = prefix + "levels";
            } else {
                data += floatArray(prefix + "values", w.values.data(), w.values.size());
                values = prefix + "values";
            }
            const Tensor& bias = layer.params().at(1)->value;
            data += floatArray(prefix + "bias", bias.data(), bias.size());
            data += "static const sq_weights " + prefix + "weights = {" + codes + ", " + levels + ", " + values + ", "
                    + std::to_string(w.quantized() ? w.bits : 32) + "u};\n";
            dst = target(false);
            if (kind == "dense") {
                const auto& d = dynamic_cast<const Dense&>(layer);
                used.insert("dense");
                calls += comment + "    sq_dense(" + current + ", " + dst + ", " + std::to_string(d.inFeatures())
                         + ", " + std::to_string(d.outFeatures()) + ", &" + prefix + "weights, " + prefix + "bias);\n";
            } else {
                const auto& c = dynamic_cast<const Conv2D&>(layer);
                used.insert("conv");
                calls += comment + "    sq_conv2d(" + current + ", " + dst + ", " + std::to_string(c.inChannels())
                         + ", " + std::to_string(shape[1]) + ", " + std::to_string(shape[2]) + ", "
                         + std::to_string(c.outChannels()) + ", " + std::to_string(c.kernel()) + ", "
                         + std::to_string(c.stride()) + ", " + std::to_string(c.padding()) + ", &" + prefix
                         + "weights, " + prefix + "bias);\n";
            }
        } else if (kind == "maxpool") {
            const auto& p = dynamic_cast<const MaxPool2D&>(layer);
            used.insert("maxpool");
            dst = target(false);
            calls += comment + "    sq_maxpool(" + current + ", " + dst + ", " + std::to_string(shape[0]) + ", "
                     + std::to_string(shape[1]) + ", " + std::to_string(shape[2]) + ", " + std::to_string(p.size())
                     + ", " + std::to_string(p.stride()) + ");\n";
        } else if (kind == "bn") {
            auto& bn = dynamic_cast<BatchNorm&>(layer);
            used.insert("bn");
            const auto params = bn.params();
            data += "\n/* " + name + ": " + commentSafe(bn.describe()) + " (inference statistics) */\n";
            data += floatArray(prefix + "gamma", params[0]->value.data(), params[0]->value.size());
            data += floatArray(prefix + "beta", params[1]->value.data(), params[1]->value.size());
            data += floatArray(prefix + "mean", bn.runningMean().data(), bn.runningMean().size());
            data += floatArray(prefix + "var", bn.runningVar().data(), bn.runningVar().size());
            dst = target(true);
            const int spatial = product(shape) / bn.channels();
            calls += comment + "    sq_batchnorm(" + current + ", " + dst + ", " + std::to_string(bn.channels()) + ", "
                     + std::to_string(spatial) + ", " + prefix + "gamma, " + prefix + "beta, " + prefix + "mean, "
                     + prefix + "var, " + floatLiteral(bn.eps()) + ");\n";
        } else if (kind == "relu") {
            used.insert("relu");
            dst = target(true);
            calls += comment + "    sq_relu(" + current + ", " + dst + ", " + std::to_string(product(shape)) + ");\n";
        } else if (kind == "flatten") {
            calls += comment; // the layout is already flat
            dst = current;
        } else {
            throw Error("C header export: no C implementation for layer '" + layer.describe() + "'");
        }
        current = dst;
        shape = out;
        largest = std::max(largest, product(shape));
    }
    if (current == "input")
        throw Error("C header export: the model computes nothing");

    const int classes = stored.classes;
    std::ostringstream h;
    h << "/* model.h: a quantized network exported by SQ Explorer " << SQ_VERSION << " (method "
      << commentSafe(stored.method) << ").\n"
      << " * Architecture: " << commentSafe(stored.architecture) << "\n"
      << " *\n"
      << " * Self-contained C99: <stdint.h>, <stddef.h> and <math.h> (sqrtf), no dynamic memory. The data\n"
      << " * are static: include this header in one .c file.\n"
      << " *\n"
      << " *   static float scratch[SQ_MODEL_SCRATCH_FLOATS];\n"
      << " *   sq_model_normalize(pixels);            optional: pixels in [0, 1] -> network input, in place\n"
      << " *   int label = sq_model_predict(pixels, scratch);\n"
      << " *\n"
      << " * Input: SQ_MODEL_INPUT_SIZE floats, channel by channel, row-major (C, H, W), each\n"
      << " * (x - sq_model_input_mean[c]) / sq_model_input_stddev[c] for a pixel x in [0, 1].\n"
      << " * sq_model_predict returns the class with the largest logit (the first on ties);\n"
      << " * sq_model_logits returns the SQ_MODEL_CLASSES logits, inside scratch.\n"
      << " * Quantized layers keep their weights as codes of 1 to 8 bits (least significant bit first)\n"
      << " * into a table of levels, decoded while computing.\n"
      << " */\n"
      << "#ifndef SQ_MODEL_H\n#define SQ_MODEL_H\n\n"
      << "#include <math.h>\n#include <stddef.h>\n#include <stdint.h>\n\n"
      << "#define SQ_MODEL_INPUT_CHANNELS " << stored.inputSample[0] << "\n"
      << "#define SQ_MODEL_INPUT_HEIGHT " << stored.inputSample[1] << "\n"
      << "#define SQ_MODEL_INPUT_WIDTH " << stored.inputSample[2] << "\n"
      << "#define SQ_MODEL_INPUT_SIZE " << product(stored.inputSample) << "\n"
      << "#define SQ_MODEL_CLASSES " << classes << "\n"
      << "/* Floats of the largest activation; sq_model_predict needs two of them as scratch. */\n"
      << "#define SQ_MODEL_ACTIVATION_FLOATS " << largest << "\n"
      << "#define SQ_MODEL_SCRATCH_FLOATS (2 * SQ_MODEL_ACTIVATION_FLOATS)\n\n";
    h << floatArray("sq_model_input_mean", stored.inputMean.data(), stored.inputMean.size());
    h << floatArray("sq_model_input_stddev", stored.inputStddev.data(), stored.inputStddev.size()) << "\n";
    h << kWeightsHelpers;
    if (used.count("dense"))
        h << kDense;
    if (used.count("conv"))
        h << kConv;
    if (used.count("maxpool"))
        h << kMaxPool;
    if (used.count("bn"))
        h << kBatchNorm;
    if (used.count("relu"))
        h << kRelu;
    h << data;
    h << "\n/* Pixels in [0, 1] -> network input, in place. */\n"
      << "static inline void sq_model_normalize(float* x)\n{\n"
      << "    int c, i;\n"
      << "    for (c = 0; c < SQ_MODEL_INPUT_CHANNELS; ++c)\n"
      << "        for (i = 0; i < SQ_MODEL_INPUT_HEIGHT * SQ_MODEL_INPUT_WIDTH; ++i) {\n"
      << "            float* p = x + (size_t)c * (SQ_MODEL_INPUT_HEIGHT * SQ_MODEL_INPUT_WIDTH) + (size_t)i;\n"
      << "            *p = (*p - sq_model_input_mean[c]) / sq_model_input_stddev[c];\n"
      << "        }\n}\n\n"
      << "/* The logits of one input; they live in scratch (SQ_MODEL_SCRATCH_FLOATS floats). */\n"
      << "static inline const float* sq_model_logits(const float* input, float* scratch)\n{\n"
      << "    float* a = scratch;\n";
    if (usesB)
        h << "    float* b = scratch + SQ_MODEL_ACTIVATION_FLOATS;\n";
    h << calls << "    return " << current << ";\n}\n\n"
      << "/* The predicted class of one input (the first of equal largest logits). */\n"
      << "static inline int sq_model_predict(const float* input, float* scratch)\n{\n"
      << "    const float* logits = sq_model_logits(input, scratch);\n"
      << "    int best = 0, k;\n"
      << "    for (k = 1; k < SQ_MODEL_CLASSES; ++k)\n"
      << "        if (logits[k] > logits[best])\n"
      << "            best = k;\n"
      << "    return best;\n}\n\n"
      << "#endif /* SQ_MODEL_H */\n";
    return h.str();
}

void writeCHeader(const std::string& path, const StoredModel& model)
{
    writeFileAtomically(path, cHeaderSource(model));
}

} // namespace sq
