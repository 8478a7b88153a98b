#include "core/io/history_csv_reader.h"

#include "core/error.h"
#include "core/io/read_file.h"

#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>

namespace sq {

namespace {

constexpr std::size_t kMaxHistoryBytes = 64u * 1024 * 1024;
constexpr std::size_t kMaxColumns = 100'000;
constexpr std::size_t kMaxRows = 1'000'000;
constexpr std::size_t kAbsent = static_cast<std::size_t>(-1);

const char* const kBaseColumns[] = {
    "epoch", "step", "phase", "seconds", "lr", "lambda", "gamma", "train_cross_entropy", "train_regularizer",
    "train_accuracy", "test_accuracy_float", "test_accuracy_quantized", "test_loss_float", "test_loss_quantized",
    "weight_bits", "model_bits", "compression", "images_per_second"};

std::vector<std::string_view> splitFields(std::string_view line)
{
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (true) {
        const std::size_t comma = line.find(',', pos);
        if (comma == std::string_view::npos) {
            out.push_back(line.substr(pos));
            return out;
        }
        out.push_back(line.substr(pos, comma - pos));
        pos = comma + 1;
    }
}

struct LayerColumns {
    std::string name;
    std::size_t decision = 0, bits = 0, alpha = 0, beta = 0, delta = 0, shareZero = 0, quantError = 0;
    std::size_t step = kAbsent;
    std::vector<std::size_t> keepGroups; // groups 3..B in order
};

class Row {
public:
    Row(const std::vector<std::string_view>& fields, const std::vector<std::string>& header, const std::string& source,
        int line)
        : fields_(fields), header_(header), source_(source), line_(line)
    {
    }

    [[noreturn]] void fail(std::size_t column, const std::string& problem) const
    {
        throw Error(source_ + " line " + std::to_string(line_) + ", column '" + header_[column] + "': " + problem);
    }

    std::string text(std::size_t column) const { return std::string(fields_[column]); }

    double real(std::size_t column, bool allowNaN = true) const
    {
        const std::string t = text(column);
        if (t.empty())
            fail(column, "empty field, expected a number");
        errno = 0;
        char* end = nullptr;
        const double v = std::strtod(t.c_str(), &end);
        if (end != t.c_str() + t.size())
            fail(column, "expected a number, got '" + t.substr(0, 32) + "'");
        if (std::isnan(v) && !allowNaN)
            fail(column, "expected a number, got nan");
        if (std::isinf(v) || (errno == ERANGE && std::fabs(v) > 1.0))
            fail(column, "number " + t.substr(0, 32) + " is out of range");
        return v;
    }

    std::optional<double> optionalReal(std::size_t column) const
    {
        if (fields_[column].empty())
            return std::nullopt;
        return real(column);
    }

    long long whole(std::size_t column, long long min, long long max) const
    {
        const std::string_view t = fields_[column];
        long long v = 0;
        const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (t.empty() || ec == std::errc::invalid_argument || end != t.data() + t.size())
            fail(column, "expected a whole number, got '" + std::string(t.substr(0, 32)) + "'");
        if (ec == std::errc::result_out_of_range || v < min || v > max)
            fail(column, std::string(t.substr(0, 32)) + " is outside [" + std::to_string(min) + ", " + std::to_string(max)
                             + "]");
        return v;
    }

private:
    const std::vector<std::string_view>& fields_;
    const std::vector<std::string>& header_;
    const std::string& source_;
    int line_;
};

} // namespace

RunHistory parseHistoryCsv(std::string_view text, const std::string& source)
{
    std::vector<std::string_view> lines;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        lines.push_back(line);
        pos = end + 1;
        if (lines.size() > kMaxRows + 1)
            throw Error(source + ": more than " + std::to_string(kMaxRows) + " rows");
    }
    if (lines.empty() || lines.front().empty())
        throw Error(source + ": empty file (expected a header line of column names)");

    std::vector<std::string> header;
    std::map<std::string, std::size_t, std::less<>> index;
    for (const std::string_view name : splitFields(lines.front())) {
        if (header.size() == kMaxColumns)
            throw Error(source + " line 1: more than " + std::to_string(kMaxColumns) + " columns");
        if (name.empty())
            throw Error(source + " line 1: empty column name in the header");
        if (!index.emplace(std::string(name), header.size()).second)
            throw Error(source + " line 1: column '" + std::string(name.substr(0, 64)) + "' appears twice");
        header.emplace_back(name);
    }
    const auto column = [&](const std::string& name) {
        const auto it = index.find(name);
        if (it == index.end())
            throw Error(source + " line 1: missing column '" + name + "'");
        return it->second;
    };
    std::map<std::string, std::size_t> base;
    for (const char* name : kBaseColumns)
        base[name] = column(name);
    // kAbsent for the optional columns a file lacks (plain indices: GCC's flow analysis trips over
    // std::optional<std::size_t> here).
    const std::size_t mu = index.count("mu") ? index.find("mu")->second : kAbsent;

    // Layers in file order: each "<layer>_decision" column opens one.
    std::vector<LayerColumns> layers;
    const std::string suffix = "_decision";
    for (const std::string& name : header) {
        if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        LayerColumns l;
        l.name = name.substr(0, name.size() - suffix.size());
        l.decision = column(l.name + "_decision");
        l.bits = column(l.name + "_bits");
        l.alpha = column(l.name + "_alpha");
        l.beta = column(l.name + "_beta");
        l.delta = column(l.name + "_delta");
        l.shareZero = column(l.name + "_share_zero");
        l.quantError = column(l.name + "_quant_error");
        if (const auto it = index.find(l.name + "_step"); it != index.end())
            l.step = it->second;
        for (int j = 3; j <= 64; ++j) {
            const auto it = index.find(l.name + "_keep_group" + std::to_string(j));
            if (it == index.end())
                break;
            l.keepGroups.push_back(it->second);
        }
        layers.push_back(std::move(l));
    }

    RunHistory history;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const int lineNumber = static_cast<int>(i + 1);
        if (lines[i].empty()) {
            if (i + 1 == lines.size())
                break; // the final newline
            throw Error(source + " line " + std::to_string(lineNumber) + ": empty row");
        }
        const std::vector<std::string_view> fields = splitFields(lines[i]);
        if (fields.size() != header.size())
            throw Error(source + " line " + std::to_string(lineNumber) + ": " + std::to_string(fields.size())
                        + " fields, the header names " + std::to_string(header.size()) + " (a truncated or edited file?)");
        const Row row(fields, header, source, lineNumber);
        EpochRecord r;
        r.epoch = static_cast<int>(row.whole(base["epoch"], 1, INT_MAX));
        r.step = row.whole(base["step"], 0, LLONG_MAX);
        const std::string phase = row.text(base["phase"]);
        if (phase != "search" && phase != "commit")
            row.fail(base["phase"], "expected search or commit, got '" + phase.substr(0, 32) + "'");
        r.phase = phase == "search" ? Phase::Search : Phase::Commit;
        r.seconds = row.real(base["seconds"]);
        r.learningRate = row.real(base["lr"]);
        r.lambda = row.real(base["lambda"]);
        r.gamma = row.real(base["gamma"]);
        r.trainCrossEntropy = row.real(base["train_cross_entropy"]);
        r.trainRegularizer = row.real(base["train_regularizer"]);
        r.trainAccuracy = row.real(base["train_accuracy"]);
        r.evaluation.floatAccuracy = row.real(base["test_accuracy_float"]);
        r.evaluation.quantizedAccuracy = row.real(base["test_accuracy_quantized"]);
        r.evaluation.floatLoss = row.real(base["test_loss_float"]);
        r.evaluation.quantizedLoss = row.real(base["test_loss_quantized"]);
        r.memory.weightBits = static_cast<std::uint64_t>(row.whole(base["weight_bits"], 0, LLONG_MAX));
        r.memory.modelBits = static_cast<std::uint64_t>(row.whole(base["model_bits"], 0, LLONG_MAX));
        // The file keeps the ratio, not the float32 size: recover the size from it.
        const double compression = row.real(base["compression"], false);
        if (compression < 0.0 || compression > 1e6)
            row.fail(base["compression"], "expected a ratio in [0, 1e6]");
        r.memory.floatModelBits = static_cast<std::uint64_t>(std::llround(compression * static_cast<double>(r.memory.modelBits)));
        r.imagesPerSecond = row.real(base["images_per_second"]);
        if (mu != kAbsent)
            r.mu = row.real(mu);
        for (const LayerColumns& c : layers) {
            LayerQuantState l;
            l.name = c.name;
            l.method = !c.keepGroups.empty() ? "cpq" : c.step != kAbsent ? "uniq" : "sq";
            l.decision = row.text(c.decision);
            l.bits = static_cast<int>(row.whole(c.bits, 0, 64));
            l.alpha = static_cast<float>(row.real(c.alpha));
            l.beta = static_cast<float>(row.real(c.beta));
            l.delta = static_cast<float>(row.real(c.delta));
            l.shareZero = row.real(c.shareZero);
            l.quantError = row.real(c.quantError);
            if (c.step != kAbsent)
                l.step = static_cast<float>(row.real(c.step));
            if (!c.keepGroups.empty())
                l.maxBits = static_cast<int>(c.keepGroups.size()) + 2;
            for (const std::size_t g : c.keepGroups)
                if (const auto p = row.optionalReal(g))
                    l.keepProbability.push_back(static_cast<float>(*p));
            r.layers.push_back(std::move(l));
        }
        history.epochs.push_back(std::move(r));
    }
    return history;
}

RunHistory readHistoryCsv(const std::string& path)
{
    return parseHistoryCsv(readFileBounded(path, kMaxHistoryBytes), path);
}

} // namespace sq
