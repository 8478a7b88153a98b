// A minimal streaming JSON writer for run summaries (objects, arrays, strings, numbers, bools).
#pragma once

#include <string>
#include <vector>

namespace sq {

class JsonWriter {
public:
    // compact: everything on one line (JSON Lines, e.g. snapshots.jsonl); otherwise indented.
    explicit JsonWriter(bool compact = false) : compact_(compact) {}

    JsonWriter& beginObject(const char* key = nullptr);
    JsonWriter& endObject();
    JsonWriter& beginArray(const char* key = nullptr);
    JsonWriter& endArray();
    JsonWriter& value(const char* key, const std::string& v);
    JsonWriter& value(const char* key, const char* v) { return value(key, std::string(v)); }
    JsonWriter& value(const char* key, double v); // non-finite numbers are written as null
    JsonWriter& value(const char* key, long long v);
    JsonWriter& value(const char* key, int v) { return value(key, static_cast<long long>(v)); }
    JsonWriter& value(const char* key, unsigned long long v);
    JsonWriter& value(const char* key, bool v);
    JsonWriter& element(double v) { return value(nullptr, v); }
    JsonWriter& element(const std::string& v) { return value(nullptr, v); }
    JsonWriter& element(long long v) { return value(nullptr, v); }
    JsonWriter& element(int v) { return value(nullptr, static_cast<long long>(v)); }
    JsonWriter& null(const char* key = nullptr);

    const std::string& str() const { return out_; }

private:
    void prefix(const char* key);
    void newline();
    void raw(const char* key, const std::string& text);

    std::string out_;
    std::vector<bool> first_; // per open container: no element written yet
    bool compact_ = false;
};

std::string jsonEscape(const std::string& s);

} // namespace sq
