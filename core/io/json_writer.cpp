#include "core/io/json_writer.h"

#include <cmath>
#include <cstdio>

namespace sq {

std::string jsonEscape(const std::string& s)
{
    std::string out = "\"";
    for (const char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\r':
            out += "\\r";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
                out += buf;
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

void JsonWriter::newline()
{
    if (compact_)
        return;
    out_ += '\n';
    out_.append(2 * first_.size(), ' ');
}

void JsonWriter::prefix(const char* key)
{
    if (!first_.empty()) {
        if (!first_.back())
            out_ += ",";
        first_.back() = false;
        newline();
    }
    if (key)
        out_ += jsonEscape(key) + (compact_ ? ":" : ": ");
}

void JsonWriter::raw(const char* key, const std::string& text)
{
    prefix(key);
    out_ += text;
}

JsonWriter& JsonWriter::beginObject(const char* key)
{
    raw(key, "{");
    first_.push_back(true);
    return *this;
}

JsonWriter& JsonWriter::endObject()
{
    const bool empty = first_.back();
    first_.pop_back();
    if (!empty)
        newline();
    out_ += '}';
    if (first_.empty() && !compact_)
        out_ += "\n";
    return *this;
}

JsonWriter& JsonWriter::beginArray(const char* key)
{
    raw(key, "[");
    first_.push_back(true);
    return *this;
}

JsonWriter& JsonWriter::endArray()
{
    const bool empty = first_.back();
    first_.pop_back();
    if (!empty)
        newline();
    out_ += ']';
    return *this;
}

JsonWriter& JsonWriter::value(const char* key, const std::string& v)
{
    raw(key, jsonEscape(v));
    return *this;
}

JsonWriter& JsonWriter::value(const char* key, double v)
{
    if (!std::isfinite(v)) {
        raw(key, "null");
        return *this;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    raw(key, buf);
    return *this;
}

JsonWriter& JsonWriter::value(const char* key, long long v)
{
    raw(key, std::to_string(v));
    return *this;
}

JsonWriter& JsonWriter::value(const char* key, unsigned long long v)
{
    raw(key, std::to_string(v));
    return *this;
}

JsonWriter& JsonWriter::null(const char* key)
{
    raw(key, "null");
    return *this;
}

JsonWriter& JsonWriter::value(const char* key, bool v)
{
    raw(key, v ? "true" : "false");
    return *this;
}

} // namespace sq
