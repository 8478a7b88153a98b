#include "core/architecture.h"

#include "core/error.h"
#include "core/layers/activation.h"
#include "core/layers/batchnorm.h"
#include "core/layers/conv2d.h"
#include "core/layers/dense.h"
#include "core/layers/flatten.h"
#include "core/layers/maxpool2d.h"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <functional>
#include <numeric>
#include <sstream>

namespace sq {

namespace {

// Bounds that keep a typo ("dense 2560000") from allocating gigabytes.
constexpr int kMaxUnits = 65536;
constexpr int kMaxChannels = 4096;
constexpr int kMaxKernel = 31;
constexpr int kMaxStride = 16;
constexpr int kMaxItems = 256;
// Bounds on what a text may ask to allocate, checked before each layer is built: 64 M parameters
// (with gradients and Adam's moments about 1 GiB) and 16 M activation values per sample.
constexpr std::int64_t kMaxParameters = 64'000'000;
constexpr std::int64_t kMaxActivationsPerSample = 16'000'000;

struct Preset {
    const char* name;
    const char* text;
    std::vector<int> input;
};

const std::vector<Preset>& presets()
{
    static const std::vector<Preset> list = {
        {"mlp", "flatten, dense 256, bn, relu, dense 256, bn, relu, dense 10", {1, 28, 28}},
        {"lenet5",
         "conv 6 5x5 pad 2, relu, maxpool 2, conv 16 5x5, relu, maxpool 2, flatten, "
         "dense 120, relu, dense 84, relu, dense 10",
         {1, 28, 28}},
        {"vgg-small",
         "conv 64 3x3 pad 1, bn, relu, conv 64 3x3 pad 1, bn, relu, maxpool 2, "
         "conv 128 3x3 pad 1, bn, relu, conv 128 3x3 pad 1, bn, relu, maxpool 2, "
         "conv 256 3x3 pad 1, bn, relu, conv 256 3x3 pad 1, bn, relu, maxpool 2, "
         "flatten, dense 10",
         {3, 32, 32}},
    };
    return list;
}

std::string trim(const std::string& s)
{
    std::size_t b = 0;
    std::size_t e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
        ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
        --e;
    return s.substr(b, e - b);
}

class ItemParser {
public:
    ItemParser(std::string text, int index) : text_(std::move(text)), index_(index)
    {
        std::istringstream in(text_);
        for (std::string word; in >> word;) {
            for (auto& c : word)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            words_.push_back(word);
        }
    }

    [[noreturn]] void fail(const std::string& problem) const
    {
        throw Error("--arch: item " + std::to_string(index_) + " '" + text_ + "': " + problem);
    }

    const std::vector<std::string>& words() const { return words_; }

    int number(const std::string& word, const char* what, int lo, int hi) const
    {
        int value = 0;
        const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
        if (ec != std::errc() || end != word.data() + word.size())
            fail(std::string(what) + " must be a whole number, got '" + word + "'");
        if (value < lo || value > hi)
            fail(std::string(what) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got "
                 + word);
        return value;
    }

    // "3x3" or "3"; only square kernels.
    int kernel(const std::string& word) const
    {
        const auto x = word.find('x');
        if (x == std::string::npos)
            return number(word, "kernel size", 1, kMaxKernel);
        const int h = number(word.substr(0, x), "kernel height", 1, kMaxKernel);
        const int w = number(word.substr(x + 1), "kernel width", 1, kMaxKernel);
        if (h != w)
            fail("only square kernels are supported, got " + word);
        return h;
    }

    // Parses "key value" pairs from words_[first] on.
    void options(std::size_t first, LayerSpec& spec, bool allowPad) const
    {
        for (std::size_t i = first; i < words_.size(); i += 2) {
            const std::string& key = words_[i];
            if (key != "stride" && !(allowPad && key == "pad"))
                fail("unexpected '" + key + "'" + (allowPad ? " (options: pad P, stride S)" : " (option: stride S)"));
            if (i + 1 >= words_.size())
                fail("'" + key + "' needs a number");
            if (key == "pad")
                spec.padding = number(words_[i + 1], "pad", 0, kMaxKernel);
            else
                spec.stride = number(words_[i + 1], "stride", 1, kMaxStride);
        }
    }

private:
    std::string text_;
    int index_;
    std::vector<std::string> words_;
};

LayerSpec parseItem(const std::string& text, int index)
{
    const ItemParser p(text, index);
    const auto& w = p.words();
    LayerSpec spec;
    spec.text = text;
    if (w.empty())
        p.fail("empty item (two commas in a row?)");
    spec.kind = w[0];
    if (spec.kind == "batchnorm")
        spec.kind = "bn";
    if (spec.kind == "bn" || spec.kind == "relu" || spec.kind == "flatten") {
        if (w.size() > 1)
            p.fail("'" + spec.kind + "' takes no arguments");
    } else if (spec.kind == "dense") {
        if (w.size() != 2)
            p.fail("expected 'dense N' (N = output units)");
        spec.size = p.number(w[1], "units", 1, kMaxUnits);
    } else if (spec.kind == "conv") {
        if (w.size() < 3)
            p.fail("expected 'conv N KxK [pad P] [stride S]'");
        spec.size = p.number(w[1], "channels", 1, kMaxChannels);
        spec.kernel = p.kernel(w[2]);
        p.options(3, spec, true);
    } else if (spec.kind == "maxpool") {
        if (w.size() < 2)
            p.fail("expected 'maxpool K [stride S]'");
        spec.size = p.number(w[1], "window", 1, kMaxStride);
        spec.stride = spec.size;
        p.options(2, spec, false);
    } else {
        p.fail("unknown layer '" + w[0] + "' (known: dense, conv, maxpool, bn, relu, flatten)");
    }
    return spec;
}

int product(const std::vector<int>& shape)
{
    int n = 1;
    for (int d : shape)
        n *= d;
    return n;
}

} // namespace

std::vector<LayerSpec> parseArchitecture(const std::string& text)
{
    std::vector<LayerSpec> specs;
    std::string item;
    int index = 0;
    auto flush = [&] {
        ++index;
        if (index > kMaxItems)
            throw Error("--arch: more than " + std::to_string(kMaxItems) + " items");
        specs.push_back(parseItem(trim(item), index));
        item.clear();
    };
    for (char c : text) {
        if (c == ',' || c == '\n' || c == ';')
            flush();
        else
            item += c;
    }
    if (!trim(item).empty() || specs.empty())
        flush();
    return specs;
}

std::vector<std::string> presetNames()
{
    std::vector<std::string> names;
    for (const auto& p : presets())
        names.emplace_back(p.name);
    return names;
}

namespace {

const Preset& findPreset(const std::string& name)
{
    for (const auto& p : presets())
        if (name == p.name)
            return p;
    std::string known;
    for (const auto& n : presetNames())
        known += (known.empty() ? "" : ", ") + n;
    throw Error("--model: unknown model '" + name + "' (presets: " + known + "; or give --arch TEXT)");
}

} // namespace

std::string presetArchitecture(const std::string& name) { return findPreset(name).text; }

std::vector<int> presetInputShape(const std::string& name) { return findPreset(name).input; }

Model buildModel(const std::string& architectureText, const std::vector<int>& inputSample, int classes)
{
    const auto specs = parseArchitecture(architectureText);
    std::vector<std::unique_ptr<Layer>> layers;
    std::vector<int> shape = inputSample;
    int index = 0;
    std::int64_t parameters = 0;
    for (const auto& spec : specs) {
        ++index;
        const std::string where = "--arch: item " + std::to_string(index) + " '" + spec.text + "': ";
        const std::int64_t inputs = std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
        if (spec.kind == "dense")
            parameters += (inputs + 1) * spec.size;
        else if (spec.kind == "conv" && !shape.empty())
            parameters += (std::int64_t{shape[0]} * spec.kernel * spec.kernel + 1) * spec.size;
        if (parameters > kMaxParameters)
            throw Error(where + "the model would have more than " + std::to_string(kMaxParameters / 1'000'000)
                        + " million parameters");
        std::unique_ptr<Layer> layer;
        if (spec.kind == "dense") {
            layer = std::make_unique<Dense>(product(shape), spec.size);
        } else if (spec.kind == "conv" || spec.kind == "maxpool") {
            if (shape.size() != 3)
                throw Error(where + spec.kind + " needs an image input (C, H, W), got " + shapeString(shape));
            if (spec.kind == "conv")
                layer = std::make_unique<Conv2D>(shape[0], spec.size, spec.kernel, spec.stride, spec.padding);
            else
                layer = std::make_unique<MaxPool2D>(spec.size, spec.stride);
        } else if (spec.kind == "bn") {
            layer = std::make_unique<BatchNorm>(shape[0]);
        } else if (spec.kind == "relu") {
            layer = std::make_unique<ReLU>();
        } else {
            layer = std::make_unique<Flatten>();
        }
        try {
            shape = layer->outputShape(shape);
        } catch (const Error& e) {
            throw Error(where + e.what());
        }
        const std::int64_t outputs = std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
        if (outputs > kMaxActivationsPerSample)
            throw Error(where + "outputs " + shapeString(shape) + " = " + std::to_string(outputs)
                        + " values per sample; at most " + std::to_string(kMaxActivationsPerSample / 1'000'000)
                        + " million");
        layers.push_back(std::move(layer));
    }
    if (shape.size() != 1 || shape[0] != classes)
        throw Error("--arch: the last layer outputs " + shapeString(shape) + " per sample but the dataset has "
                    + std::to_string(classes) + " classes; end with 'dense " + std::to_string(classes) + "'");
    return Model(std::move(layers), inputSample, architectureText);
}

Model buildPreset(const std::string& name, const std::vector<int>& inputSample, int classes)
{
    const Preset& preset = findPreset(name);
    if (inputSample != preset.input)
        throw Error("--model: '" + name + "' is defined for " + shapeString(preset.input)
                    + " inputs, but the dataset's samples are " + shapeString(inputSample)
                    + "; choose another model or describe one with --arch");
    return buildModel(preset.text, inputSample, classes);
}

} // namespace sq
