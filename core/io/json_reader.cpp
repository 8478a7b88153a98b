#include "core/io/json_reader.h"

#include "core/error.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace sq {

const char* JsonValue::typeName(Type type)
{
    switch (type) {
    case Type::Null:
        return "null";
    case Type::Bool:
        return "a boolean";
    case Type::Number:
        return "a number";
    case Type::String:
        return "a string";
    case Type::Array:
        return "an array";
    case Type::Object:
        return "an object";
    }
    return "a value";
}

const JsonValue* JsonValue::find(std::string_view key) const
{
    if (!isObject())
        return nullptr;
    for (const auto& [name, value] : members())
        if (name == key)
            return &value;
    return nullptr;
}

// Recursive descent over the text with an explicit depth bound (the recursion depth is the
// nesting depth) and a count of values made (the memory a document can take).
class JsonParser {
public:
    JsonParser(std::string_view text, const std::string& source, int firstLine, const JsonLimits& limits)
        : text_(text), source_(source), line_(firstLine), limits_(limits)
    {
    }

    JsonValue document()
    {
        skipSpace();
        JsonValue v = value(0);
        skipSpace();
        if (pos_ < text_.size())
            fail("unexpected text after the JSON value");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& problem) const
    {
        throw Error(source_ + " line " + std::to_string(line_) + ", column " + std::to_string(pos_ - lineStart_ + 1)
                    + ": " + problem);
    }

    bool atEnd() const { return pos_ >= text_.size(); }
    char peek() const { return atEnd() ? '\0' : text_[pos_]; }

    void skipSpace()
    {
        while (!atEnd()) {
            const char c = text_[pos_];
            if (c == '\n') {
                ++line_;
                lineStart_ = pos_ + 1;
            } else if (c != ' ' && c != '\t' && c != '\r') {
                return;
            }
            ++pos_;
        }
    }

    void expect(char c, const char* what)
    {
        if (peek() != c)
            fail(atEnd() ? std::string("unexpected end of input, expected ") + what
                         : std::string("expected ") + what + ", got '" + printable(peek()) + "'");
        ++pos_;
    }

    static std::string printable(char c)
    {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            return buf;
        }
        return std::string(1, c);
    }

    JsonValue make(int line)
    {
        if (++values_ > limits_.maxValues)
            fail("more than " + std::to_string(limits_.maxValues) + " values in one document");
        JsonValue v;
        v.line_ = line;
        return v;
    }

    JsonValue value(int depth)
    {
        if (atEnd())
            fail("unexpected end of input, expected a value");
        const char c = peek();
        switch (c) {
        case '{':
            return object(depth + 1);
        case '[':
            return array(depth + 1);
        case '"': {
            JsonValue v = make(line_);
            v.data_ = string();
            return v;
        }
        case 't':
            return keyword("true", true);
        case 'f':
            return keyword("false", false);
        case 'n': {
            JsonValue v = keyword("null", false);
            v.data_ = nullptr;
            return v;
        }
        default:
            if (c == '-' || (c >= '0' && c <= '9'))
                return number();
            if (c == 'N' || c == 'I')
                fail("NaN and Infinity are not JSON numbers");
            fail(std::string("expected a value, got '") + printable(c) + "'");
        }
    }

    JsonValue keyword(std::string_view word, bool truth)
    {
        if (text_.substr(pos_, word.size()) != word)
            fail("expected a value (true, false or null)");
        JsonValue v = make(line_);
        v.data_ = truth;
        pos_ += word.size();
        return v;
    }

    JsonValue number()
    {
        const std::size_t start = pos_;
        bool integral = true;
        if (peek() == '-')
            ++pos_;
        if (peek() == '0') {
            ++pos_;
        } else if (peek() >= '1' && peek() <= '9') {
            while (peek() >= '0' && peek() <= '9')
                ++pos_;
        } else {
            fail("malformed number: expected a digit");
        }
        if (peek() == '.') {
            integral = false;
            ++pos_;
            if (!(peek() >= '0' && peek() <= '9'))
                fail("malformed number: expected a digit after '.'");
            while (peek() >= '0' && peek() <= '9')
                ++pos_;
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            ++pos_;
            if (peek() == '+' || peek() == '-')
                ++pos_;
            if (!(peek() >= '0' && peek() <= '9'))
                fail("malformed number: expected a digit in the exponent");
            while (peek() >= '0' && peek() <= '9')
                ++pos_;
        }
        const char* first = text_.data() + start;
        const char* last = text_.data() + pos_;
        JsonValue::Number n;
        const auto [end, ec] = std::from_chars(first, last, n.value);
        const std::string_view literal(first, static_cast<std::size_t>(last - first));
        if (ec == std::errc::result_out_of_range) {
            // A tiny number (negative exponent) reads as 0; anything beyond double range is refused.
            const bool tiny = literal.find("e-") != std::string_view::npos || literal.find("E-") != std::string_view::npos;
            if (!tiny)
                fail("number " + std::string(literal.substr(0, 40)) + (literal.size() > 40 ? "..." : "")
                     + " is out of range");
            n.value = 0.0;
        } else if (ec != std::errc() || end != last || !std::isfinite(n.value)) {
            fail("malformed number");
        }
        if (integral) {
            const auto [iend, iec] = std::from_chars(first, last, n.integer);
            n.exact = iec == std::errc() && iend == last;
        }
        JsonValue v = make(line_);
        v.data_ = n;
        return v;
    }

    static void appendUtf8(std::string& out, unsigned code)
    {
        if (code < 0x80) {
            out += static_cast<char>(code);
        } else if (code < 0x800) {
            out += static_cast<char>(0xc0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3f));
        } else if (code < 0x10000) {
            out += static_cast<char>(0xe0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (code & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | (code >> 18));
            out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (code & 0x3f));
        }
    }

    unsigned hex4()
    {
        if (text_.size() - pos_ < 4)
            fail("truncated \\u escape");
        unsigned code = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = text_[pos_++];
            code <<= 4;
            if (c >= '0' && c <= '9')
                code |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f')
                code |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                code |= static_cast<unsigned>(c - 'A' + 10);
            else
                fail("malformed \\u escape");
        }
        return code;
    }

    std::string string()
    {
        expect('"', "'\"'");
        std::string out;
        while (true) {
            if (atEnd())
                fail("unterminated string");
            const char c = text_[pos_++];
            if (c == '"')
                return out;
            if (static_cast<unsigned char>(c) < 0x20)
                fail("control character in a string (a string must end on its line)");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (atEnd())
                fail("unterminated string");
            const char e = text_[pos_++];
            switch (e) {
            case '"':
            case '\\':
            case '/':
                out += e;
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'u': {
                unsigned code = hex4();
                if (code >= 0xd800 && code < 0xdc00) {
                    if (text_.substr(pos_, 2) != "\\u")
                        fail("unpaired surrogate in a \\u escape");
                    pos_ += 2;
                    const unsigned low = hex4();
                    if (low < 0xdc00 || low >= 0xe000)
                        fail("unpaired surrogate in a \\u escape");
                    code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                } else if (code >= 0xdc00 && code < 0xe000) {
                    fail("unpaired surrogate in a \\u escape");
                }
                appendUtf8(out, code);
                break;
            }
            default:
                fail(std::string("unknown escape '\\") + printable(e) + "'");
            }
        }
    }

    void enter(int depth) const
    {
        if (depth > limits_.maxDepth)
            fail("nesting deeper than " + std::to_string(limits_.maxDepth) + " levels");
    }

    JsonValue array(int depth)
    {
        enter(depth);
        JsonValue v = make(line_);
        ++pos_; // '['
        JsonValue::Array items;
        skipSpace();
        if (peek() == ']') {
            ++pos_;
            v.data_ = std::move(items);
            return v;
        }
        while (true) {
            skipSpace();
            items.push_back(value(depth));
            skipSpace();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            expect(']', "',' or ']'");
            break;
        }
        v.data_ = std::move(items);
        return v;
    }

    JsonValue object(int depth)
    {
        enter(depth);
        JsonValue v = make(line_);
        ++pos_; // '{'
        JsonValue::Object members;
        skipSpace();
        if (peek() == '}') {
            ++pos_;
            v.data_ = std::move(members);
            return v;
        }
        while (true) {
            skipSpace();
            if (peek() != '"')
                fail(atEnd() ? "unexpected end of input, expected a key" : "expected a quoted key");
            std::string key = string();
            skipSpace();
            expect(':', "':'");
            skipSpace();
            JsonValue member = value(depth);
            members.emplace_back(std::move(key), std::move(member));
            skipSpace();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            expect('}', "',' or '}'");
            break;
        }
        checkUniqueKeys(members);
        v.data_ = std::move(members);
        return v;
    }

    // A duplicate key would make "which one counts" ambiguous: refuse it (sorting keeps this
    // O(n log n) for objects with many members).
    void checkUniqueKeys(const JsonValue::Object& members) const
    {
        if (members.size() < 2)
            return;
        std::vector<const std::string*> keys;
        keys.reserve(members.size());
        for (const auto& m : members)
            keys.push_back(&m.first);
        std::sort(keys.begin(), keys.end(), [](const auto* a, const auto* b) { return *a < *b; });
        for (std::size_t i = 1; i < keys.size(); ++i)
            if (*keys[i] == *keys[i - 1])
                fail("duplicate key \"" + keys[i]->substr(0, 64) + "\" in an object");
    }

    std::string_view text_;
    const std::string& source_;
    std::size_t pos_ = 0;
    int line_;
    std::size_t lineStart_ = 0;
    JsonLimits limits_;
    std::size_t values_ = 0;
};

JsonValue parseJson(std::string_view text, const std::string& source, int firstLine, const JsonLimits& limits)
{
    return JsonParser(text, source, firstLine, limits).document();
}

// ---------------------------------------------------------------------------------------------

JsonObjectReader::JsonObjectReader(const JsonValue& value, std::string source, std::string path)
    : value_(&value), source_(std::move(source)), path_(std::move(path))
{
    if (!value.isObject())
        throw Error(source_ + " line " + std::to_string(value.line()) + ": "
                    + (path_.empty() ? std::string("the document") : path_) + ": expected an object, got "
                    + JsonValue::typeName(value.type()));
}

std::string JsonObjectReader::fieldPath(const std::string& key) const
{
    if (key.empty())
        return path_;
    return path_.empty() ? key : path_ + "." + key;
}

void JsonObjectReader::fail(const JsonValue& at, const std::string& key, const std::string& problem) const
{
    throw Error(source_ + " line " + std::to_string(at.line()) + ": " + fieldPath(key) + ": " + problem);
}

const JsonValue& JsonObjectReader::required(const std::string& key) const
{
    const JsonValue* v = value_->find(key);
    if (!v)
        fail(*value_, key, "missing");
    return *v;
}

double JsonObjectReader::number(const std::string& key) const
{
    const JsonValue& v = required(key);
    if (!v.isNumber())
        fail(v, key, std::string("expected a number, got ") + JsonValue::typeName(v.type()));
    return v.number();
}

double JsonObjectReader::numberOrNaN(const std::string& key) const
{
    const JsonValue& v = required(key);
    return v.isNull() ? std::nan("") : number(key);
}

double JsonObjectReader::numberOr(const std::string& key, double fallback) const
{
    const JsonValue* v = optional(key);
    if (!v)
        return fallback;
    if (v->isNull())
        return std::nan("");
    return number(key);
}

long long JsonObjectReader::integer(const std::string& key, long long min, long long max) const
{
    const JsonValue& v = required(key);
    if (!v.isNumber())
        fail(v, key, std::string("expected a whole number, got ") + JsonValue::typeName(v.type()));
    if (!v.isInteger())
        fail(v, key, "expected a whole number in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    if (v.integer() < min || v.integer() > max)
        fail(v, key, std::to_string(v.integer()) + " is outside [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return v.integer();
}

long long JsonObjectReader::integerOr(const std::string& key, long long min, long long max, long long fallback) const
{
    return has(key) ? integer(key, min, max) : fallback;
}

std::string JsonObjectReader::string(const std::string& key) const
{
    const JsonValue& v = required(key);
    if (!v.isString())
        fail(v, key, std::string("expected a string, got ") + JsonValue::typeName(v.type()));
    return v.string();
}

std::string JsonObjectReader::stringOr(const std::string& key, const std::string& fallback) const
{
    return has(key) ? string(key) : fallback;
}

bool JsonObjectReader::boolean(const std::string& key) const
{
    const JsonValue& v = required(key);
    if (v.type() != JsonValue::Type::Bool)
        fail(v, key, std::string("expected true or false, got ") + JsonValue::typeName(v.type()));
    return v.boolean();
}

bool JsonObjectReader::booleanOr(const std::string& key, bool fallback) const
{
    return has(key) ? boolean(key) : fallback;
}

JsonObjectReader JsonObjectReader::object(const std::string& key) const
{
    const JsonValue& v = required(key);
    if (!v.isObject())
        fail(v, key, std::string("expected an object, got ") + JsonValue::typeName(v.type()));
    return JsonObjectReader(v, source_, fieldPath(key));
}

const JsonValue::Array& JsonObjectReader::array(const std::string& key, std::size_t maxItems) const
{
    const JsonValue& v = required(key);
    if (!v.isArray())
        fail(v, key, std::string("expected an array, got ") + JsonValue::typeName(v.type()));
    if (v.items().size() > maxItems)
        fail(v, key, std::to_string(v.items().size()) + " elements, at most " + std::to_string(maxItems) + " allowed");
    return v.items();
}

const JsonValue::Array& JsonObjectReader::arrayOrEmpty(const std::string& key, std::size_t maxItems) const
{
    static const JsonValue::Array empty;
    const JsonValue* v = optional(key);
    if (!v || v->isNull())
        return empty;
    return array(key, maxItems);
}

std::vector<double> JsonObjectReader::numbers(const std::string& key, std::size_t maxItems) const
{
    const JsonValue::Array& items = arrayOrEmpty(key, maxItems);
    std::vector<double> out;
    out.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        const JsonValue& item = items[i];
        if (item.isNull())
            out.push_back(std::nan(""));
        else if (item.isNumber())
            out.push_back(item.number());
        else
            fail(item, key + "[" + std::to_string(i) + "]",
                 std::string("expected a number, got ") + JsonValue::typeName(item.type()));
    }
    return out;
}

JsonObjectReader JsonObjectReader::element(const std::string& key, const JsonValue& item, std::size_t index) const
{
    return JsonObjectReader(item, source_, fieldPath(key) + "[" + std::to_string(index) + "]");
}

} // namespace sq
