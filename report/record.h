// Every kind of record an events file or a stream carries, typed (docs/events.md): the event
// (report/event.h), the closing log_end, and the stream's own notices. One schema version for
// all of them, defined here; each kind has ToJson (what the writer writes, byte for byte) and
// FromJson (strict: a field of the wrong type, a missing required field, an unknown type or an
// unknown major version is an error naming it, never an exception or a half-filled record).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "report/event.h"

namespace report {

// The major version of tracejail's JSON (docs/events.md, "Schema version"; the $id of each
// docs/schema/*.json), one number for all of it. An events record may carry it as "schema"; a
// record without one is version 1, which is what this writer writes. A reader refuses any other
// major version. Every other JSON document tracejail writes (the result, exec's output, report
// --format json, stats --json, selftest --json) carries it as "schema_version".
inline constexpr std::uint64_t kSchemaVersion = 1;

// The capabilities the command held: the caller's ("inherit"), or a list of names.
struct Capabilities {
  bool inherit = false;
  std::vector<std::string> names;  // when not inherit; may be empty
};

// The closing record: {"type": "log_end", "records": N, "events": M, "chain": ..., ...}.
struct LogEnd {
  std::uint64_t records = 0;            // the records of events before it
  std::optional<std::uint64_t> events;  // the events they stand for (older files lack it)
  std::optional<std::string> chain;     // "sha256" or "hmac-sha256" (older files lack it)
  std::optional<std::string> run_status;
  std::optional<std::string> internal_error;
  std::optional<std::string> interrupted_by;  // "SIGTERM"
  std::optional<Capabilities> capabilities;
  std::optional<std::string> policy;  // the policy's name (older files lack it)
  std::string prev_hash;
};

// Stream notices, never in the file: {"type":"events_dropped","count":N} to a slow subscriber,
// {"type":"refused","reason":...} before a subscriber is closed.
struct EventsDropped {
  std::uint64_t count = 0;
};
struct Refused {
  std::optional<std::string> reason;  // the server always gives one
};

using Record = std::variant<Event, LogEnd, EventsDropped, Refused>;

nlohmann::json ToJson(const LogEnd& r);
nlohmann::json ToJson(const EventsDropped& r);
nlohmann::json ToJson(const Refused& r);
nlohmann::json ToJson(const Record& r);

// Each: "" on success, or what is wrong with `j` as that kind of record.
std::string FromJson(const nlohmann::json& j, LogEnd& out);
std::string FromJson(const nlohmann::json& j, EventsDropped& out);
std::string FromJson(const nlohmann::json& j, Refused& out);
// Any record: its schema version checked first, then its "type" picks the kind.
std::string FromJson(const nlohmann::json& j, Record& out);

// "" when `j` has no "schema" or names kSchemaVersion; otherwise why it cannot be read.
std::string CheckSchemaVersion(const nlohmann::json& j);

// The record's "type" as written: an event's type name, "log_end", "events_dropped", "refused".
std::string_view TypeName(const Record& r);

// The event of a record, or nullptr for the other kinds.
inline const Event* AsEvent(const Record& r) { return std::get_if<Event>(&r); }

}  // namespace report
