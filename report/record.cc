#include "report/record.h"

#include <fmt/format.h>

#include "report/record_fields.h"

namespace report {
namespace {

using nlohmann::json;

// Reads `key` into an optional string.
void OptionalString(FieldReader& r, std::string_view key, std::optional<std::string>& out) {
  std::string s;
  if (r.String(key, s)) out = std::move(s);
}

void ReadCapabilities(const json& j, FieldReader& r, LogEnd& end) {
  auto it = j.find("capabilities");
  if (it == j.end() || !r.ok()) return;
  Capabilities caps;
  if (it->is_string() && it->get_ref<const std::string&>() == "inherit") {
    caps.inherit = true;
  } else if (it->is_array()) {
    for (const auto& name : *it) {
      if (!name.is_string()) {
        r.Fail("capabilities", "must hold names (strings) only");
        return;
      }
      caps.names.push_back(name.get<std::string>());
    }
  } else {
    r.Fail("capabilities", "must be \"inherit\" or an array of capability names");
    return;
  }
  end.capabilities = std::move(caps);
}

// The type of `j` when it is `expected`, else the error.
std::string CheckType(const json& j, std::string_view expected) {
  FieldReader r(j, "");
  std::string type;
  r.String("type", type, Presence::kRequired);
  if (r.ok() && type != expected) {
    r.Fail("type", fmt::format("is not \"{}\"", expected));
  }
  return r.error();
}

template <typename T>
std::string ReadAs(const json& j, Record& out) {
  T record;
  std::string why = FromJson(j, record);
  if (why.empty()) out = std::move(record);
  return why;
}

// The kinds by their "type"; every other type is an event's (or unknown).
struct Kind {
  std::string_view type;
  std::string (*read)(const json&, Record&);
};
constexpr Kind kKinds[] = {
    {"log_end", ReadAs<LogEnd>},
    {"events_dropped", ReadAs<EventsDropped>},
    {"refused", ReadAs<Refused>},
};

}  // namespace

json ToJson(const LogEnd& r) {
  json j;
  j["type"] = "log_end";
  j["records"] = r.records;
  if (r.events) j["events"] = *r.events;
  if (r.chain) j["chain"] = *r.chain;
  if (r.run_status) j["run_status"] = *r.run_status;
  if (r.internal_error) j["internal_error"] = *r.internal_error;
  if (r.interrupted_by) j["interrupted_by"] = *r.interrupted_by;
  if (r.capabilities) {
    j["capabilities"] = r.capabilities->inherit ? json("inherit") : json(r.capabilities->names);
  }
  if (r.policy) j["policy"] = *r.policy;
  if (!r.prev_hash.empty()) j["prev_hash"] = r.prev_hash;
  return j;
}

json ToJson(const EventsDropped& r) { return {{"type", "events_dropped"}, {"count", r.count}}; }

json ToJson(const Refused& r) {
  json j = {{"type", "refused"}};
  if (r.reason) j["reason"] = *r.reason;
  return j;
}

json ToJson(const Record& r) {
  return std::visit([](const auto& record) { return ToJson(record); }, r);
}

std::string_view TypeName(const Record& r) {
  struct Names {
    std::string_view operator()(const Event& e) const { return policy::Name(e.type); }
    std::string_view operator()(const LogEnd&) const { return "log_end"; }
    std::string_view operator()(const EventsDropped&) const { return "events_dropped"; }
    std::string_view operator()(const Refused&) const { return "refused"; }
  };
  return std::visit(Names{}, r);
}

std::string FromJson(const json& j, LogEnd& out) {
  if (std::string why = CheckType(j, "log_end"); !why.empty()) return why;
  LogEnd end;
  FieldReader r(j, "");
  r.Unsigned("records", end.records, Presence::kRequired);
  std::uint64_t events = 0;
  if (r.Unsigned("events", events)) end.events = events;
  OptionalString(r, "chain", end.chain);
  OptionalString(r, "run_status", end.run_status);
  OptionalString(r, "internal_error", end.internal_error);
  OptionalString(r, "interrupted_by", end.interrupted_by);
  ReadCapabilities(j, r, end);
  OptionalString(r, "policy", end.policy);
  r.String("prev_hash", end.prev_hash);
  if (!r.ok()) return r.error();
  out = std::move(end);
  return {};
}

std::string FromJson(const json& j, EventsDropped& out) {
  if (std::string why = CheckType(j, "events_dropped"); !why.empty()) return why;
  FieldReader r(j, "");
  EventsDropped notice;
  r.Unsigned("count", notice.count, Presence::kRequired);
  if (!r.ok()) return r.error();
  out = notice;
  return {};
}

std::string FromJson(const json& j, Refused& out) {
  if (std::string why = CheckType(j, "refused"); !why.empty()) return why;
  FieldReader r(j, "");
  Refused notice;
  OptionalString(r, "reason", notice.reason);
  if (!r.ok()) return r.error();
  out = std::move(notice);
  return {};
}

std::string CheckSchemaVersion(const json& j) {
  if (!j.is_object()) return "not a JSON object";
  auto it = j.find("schema");
  if (it == j.end()) return {};
  if (!IsNonNegativeInteger(*it)) {
    return fmt::format("field \"schema\" must be a non-negative integer, not {}", it->type_name());
  }
  if (it->get<std::uint64_t>() != kSchemaVersion) {
    return fmt::format(
        "events schema version {} is not one this tracejail reads (version {}): read the file "
        "with the tracejail that wrote it, or a newer one",
        it->get<std::uint64_t>(), kSchemaVersion);
  }
  return {};
}

std::string FromJson(const json& j, Record& out) {
  if (std::string why = CheckSchemaVersion(j); !why.empty()) return why;
  auto type = j.find("type");
  if (type != j.end() && type->is_string()) {
    for (const Kind& k : kKinds) {
      if (k.type == type->get_ref<const std::string&>()) return k.read(j, out);
    }
  }
  return ReadAs<Event>(j, out);
}

}  // namespace report
