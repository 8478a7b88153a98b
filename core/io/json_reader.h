// A small strict JSON reader for the project's own files (summary.json, snapshots.jsonl): a
// recursive-descent parser with depth and size limits, and typed field access whose errors name
// the file, the line and the field. Input is untrusted: nothing here may crash or allocate
// without bound, whatever the bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sq {

class JsonValue {
public:
    enum class Type { Null, Bool, Number, String, Array, Object };
    using Array = std::vector<JsonValue>;
    using Object = std::vector<std::pair<std::string, JsonValue>>; // in file order, keys unique

    JsonValue() = default;

    Type type() const { return static_cast<Type>(data_.index()); }
    int line() const { return line_; } // where the value starts in its source
    bool isNull() const { return type() == Type::Null; }
    bool isNumber() const { return type() == Type::Number; }
    bool isString() const { return type() == Type::String; }
    bool isArray() const { return type() == Type::Array; }
    bool isObject() const { return type() == Type::Object; }

    // Precondition: the matching type (check it first; JsonObjectReader does).
    bool boolean() const { return std::get<bool>(data_); }
    double number() const { return std::get<Number>(data_).value; }
    // True when the literal was a whole number (no fraction, no exponent) that fits in 64 bits.
    bool isInteger() const { return isNumber() && std::get<Number>(data_).exact; }
    long long integer() const { return std::get<Number>(data_).integer; }
    const std::string& string() const { return std::get<std::string>(data_); }
    const Array& items() const { return std::get<Array>(data_); }
    const Object& members() const { return std::get<Object>(data_); }
    // The member named key, or nullptr (also when this is not an object).
    const JsonValue* find(std::string_view key) const;

    static const char* typeName(Type type);

private:
    friend class JsonParser;
    struct Number {
        double value = 0.0;
        long long integer = 0;
        bool exact = false;
    };
    std::variant<std::nullptr_t, bool, Number, std::string, Array, Object> data_ = nullptr;
    int line_ = 0;
};

struct JsonLimits {
    int maxDepth = 64;                  // nested arrays/objects
    std::size_t maxValues = 2'000'000;  // values in one document (bounds the memory a document takes)
};

// Parses one JSON document. `source` names the text in errors ("run/summary.json"); firstLine is
// the line the text starts on in that source (JSON Lines). Throws sq::Error
// "<source> line L, column C: <problem>" for any syntax error, a number out of double range,
// NaN/Infinity literals, duplicate keys, nesting deeper than the limit or too many values.
JsonValue parseJson(std::string_view text, const std::string& source, int firstLine = 1, const JsonLimits& limits = {});

// Typed access to one JSON object, for readers of documented formats. Every failure is an
// sq::Error "<source> line L: <field path>: <problem>", e.g.
// "run/summary.json line 14: final.model_bits: expected a whole number, got a string".
class JsonObjectReader {
public:
    // Throws unless `value` is an object. path: the field path of `value` ("" at the top).
    JsonObjectReader(const JsonValue& value, std::string source, std::string path = {});

    bool has(std::string_view key) const { return value_->find(key) != nullptr; }
    const JsonValue& required(const std::string& key) const;
    const JsonValue* optional(const std::string& key) const { return value_->find(key); }

    double number(const std::string& key) const;
    // As number(), but null (how the writers store a NaN or infinite value) reads as NaN.
    double numberOrNaN(const std::string& key) const;
    double numberOr(const std::string& key, double fallback) const;
    long long integer(const std::string& key, long long min, long long max) const;
    long long integerOr(const std::string& key, long long min, long long max, long long fallback) const;
    std::string string(const std::string& key) const;
    std::string stringOr(const std::string& key, const std::string& fallback) const;
    bool boolean(const std::string& key) const;
    bool booleanOr(const std::string& key, bool fallback) const;
    JsonObjectReader object(const std::string& key) const;
    // Throws when the array holds more than maxItems elements.
    const JsonValue::Array& array(const std::string& key, std::size_t maxItems) const;
    // Null or a missing key: an empty array.
    const JsonValue::Array& arrayOrEmpty(const std::string& key, std::size_t maxItems) const;

    // Elements of arrays, with the element's index in the path ("layers[2]").
    std::vector<double> numbers(const std::string& key, std::size_t maxItems) const;
    JsonObjectReader element(const std::string& key, const JsonValue& item, std::size_t index) const;

    std::string fieldPath(const std::string& key) const;
    [[noreturn]] void fail(const JsonValue& at, const std::string& key, const std::string& problem) const;
    const std::string& source() const { return source_; }
    const JsonValue& value() const { return *value_; }

private:
    const JsonValue* value_;
    std::string source_;
    std::string path_;
};

} // namespace sq
