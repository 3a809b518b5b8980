#include "report/record_fields.h"

#include <limits>

#include <fmt/format.h>

namespace report {

FieldReader::FieldReader(const nlohmann::json& obj, std::string where)
    : obj_(obj), where_(std::move(where)) {
  if (!obj_.is_object())
    error_ = where_.empty() ? "not a JSON object"
                            : fmt::format("field \"{}\" must be an object, not {}",
                                          where_.substr(0, where_.size() - 1), obj_.type_name());
}

std::string FieldReader::Name(std::string_view key) const { return where_ + std::string(key); }

void FieldReader::Fail(std::string_view key, std::string_view what) {
  if (error_.empty()) error_ = fmt::format("field \"{}\" {}", Name(key), what);
}

void FieldReader::Adopt(const FieldReader& nested) {
  if (error_.empty()) error_ = nested.error();
}

const nlohmann::json* FieldReader::Find(std::string_view key, Presence p,
                                        bool (*test)(const nlohmann::json&),
                                        std::string_view expected) {
  if (!ok()) return nullptr;
  auto it = obj_.find(key);
  if (it == obj_.end()) {
    if (p == Presence::kRequired) Fail(key, "is missing");
    return nullptr;
  }
  if (!test(*it)) {
    Fail(key, fmt::format("must be {}, not {}", expected, it->type_name()));
    return nullptr;
  }
  return &*it;
}

bool FieldReader::String(std::string_view key, std::string& out, Presence p) {
  const auto* v = Find(
      key, p, [](const nlohmann::json& j) { return j.is_string(); }, "a string");
  if (v == nullptr) return false;
  out = v->get_ref<const std::string&>();
  return true;
}

bool FieldReader::Unsigned(std::string_view key, std::uint64_t& out, Presence p) {
  const auto* v = Find(
      key, p, [](const nlohmann::json& j) { return IsNonNegativeInteger(j); },
      "a non-negative integer");
  if (v == nullptr) return false;
  out = v->get<std::uint64_t>();
  return true;
}

bool FieldReader::Long(std::string_view key, long& out, Presence p) {
  const auto* v = Find(
      key, p, [](const nlohmann::json& j) { return j.is_number_integer(); }, "an integer");
  if (v == nullptr) return false;
  if (v->is_number_unsigned() &&
      v->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<long>::max())) {
    Fail(key, "is out of range");
    return false;
  }
  out = v->get<long>();
  return true;
}

bool FieldReader::Int(std::string_view key, int& out, Presence p) {
  long wide = 0;
  if (!Long(key, wide, p)) return false;
  if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max()) {
    Fail(key, "is out of range");
    return false;
  }
  out = static_cast<int>(wide);
  return true;
}

bool FieldReader::Number(std::string_view key, double& out, Presence p) {
  const auto* v = Find(
      key, p, [](const nlohmann::json& j) { return j.is_number(); }, "a number");
  if (v == nullptr) return false;
  out = v->get<double>();
  return true;
}

bool FieldReader::Bool(std::string_view key, bool& out, Presence p) {
  const auto* v = Find(
      key, p, [](const nlohmann::json& j) { return j.is_boolean(); }, "true or false");
  if (v == nullptr) return false;
  out = v->get<bool>();
  return true;
}

bool FieldReader::Object(std::string_view key, nlohmann::json& out, Presence p, bool or_null) {
  const auto* v =
      or_null ? Find(
                    key, p, [](const nlohmann::json& j) { return j.is_object() || j.is_null(); },
                    "an object or null")
              : Find(
                    key, p, [](const nlohmann::json& j) { return j.is_object(); }, "an object");
  if (v == nullptr) return false;
  out = *v;
  return true;
}

const nlohmann::json* FieldReader::Nested(std::string_view key, Presence p) {
  return Find(
      key, p, [](const nlohmann::json& j) { return j.is_object(); }, "an object");
}

}  // namespace report
