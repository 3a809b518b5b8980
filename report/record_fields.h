// Reading the fields of one events record with their types checked, for the FromJson functions
// of the record model (report/event.h, report/record.h). A field of the wrong type, a required
// field that is missing or a value out of range is an error that names the field
// ("field \"decision.action\" must be a string, not number"); the first error is kept and later
// reads do nothing. Nothing here throws, whatever the record holds.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace report {

// The member `key` of `j` when it is a string, else "" (missing, or of another type): for
// readers that take whatever a file holds without failing on it.
inline std::string StringMember(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A non-negative integer however it is held: a parsed file holds one as unsigned, a record built
// in memory ({"seq", 1}) as signed.
inline bool IsNonNegativeInteger(const nlohmann::json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0);
}

enum class Presence : std::uint8_t { kOptional, kRequired };

class FieldReader {
 public:
  // `where` prefixes field names in errors ("decision."). `obj` must outlive the reader.
  FieldReader(const nlohmann::json& obj, std::string where);

  // Each returns true when the field is present with its type and stores it in `out`; false
  // when it is absent (`out` untouched; an error if required) or wrong (an error).
  bool String(std::string_view key, std::string& out, Presence p = Presence::kOptional);
  bool Unsigned(std::string_view key, std::uint64_t& out, Presence p = Presence::kOptional);
  bool Int(std::string_view key, int& out, Presence p = Presence::kOptional);  // range-checked
  bool Long(std::string_view key, long& out, Presence p = Presence::kOptional);
  bool Number(std::string_view key, double& out, Presence p = Presence::kOptional);
  bool Bool(std::string_view key, bool& out, Presence p = Presence::kOptional);
  // An object (or, with `or_null`, null too), copied.
  bool Object(std::string_view key, nlohmann::json& out, Presence p = Presence::kOptional,
              bool or_null = false);
  // The object at `key` itself, for a nested reader; nullptr when absent or wrong.
  const nlohmann::json* Nested(std::string_view key, Presence p = Presence::kOptional);

  // Sets the error (the first one wins), for checks of values: "field \"x\" <what>".
  void Fail(std::string_view key, std::string_view what);
  void Adopt(const FieldReader& nested);  // a nested reader's error, if this one has none

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string Name(std::string_view key) const;  // where + key

 private:
  // The field when present with `test` true; records the error otherwise.
  const nlohmann::json* Find(std::string_view key, Presence p, bool (*test)(const nlohmann::json&),
                             std::string_view expected);
  const nlohmann::json& obj_;
  std::string where_;
  std::string error_;
};

}  // namespace report
