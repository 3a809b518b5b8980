#include "report/event_reader.h"

#include <algorithm>
#include <span>

#include <fmt/format.h>

#include "base/escape.h"
#include "report/record_fields.h"

namespace report {
namespace {

using nlohmann::json;

enum class Type : std::uint8_t {
  kString,
  kNumber,
  kUnsigned,  // a count or seq: a non-negative integer
  kInteger,
  kBool,
  kObject,
  kArray,
  kObjectOrNull,
  kStrings,        // an array of strings
  kStringOrArray,  // log_end's capabilities: "inherit" or a list of names
};

struct Field {
  std::string_view key;
  Type type;
  bool required = false;
};

constexpr Field kRecord[] = {
    {"type", Type::kString, true},
    {"schema", Type::kUnsigned},
    {"prev_hash", Type::kString},
    {"seq", Type::kUnsigned},
    {"time", Type::kNumber},
    {"pid", Type::kInteger},
    {"tid", Type::kInteger},
    {"exe", Type::kString},
    {"severity", Type::kString},
    {"syscall", Type::kObject},
    {"raw_args", Type::kArray},
    {"args", Type::kObject},
    {"decision", Type::kObject},
    {"tip", Type::kObjectOrNull},
    {"race_free", Type::kBool},
    {"race", Type::kObject},
    {"message", Type::kString},
    {"attack", Type::kArray},
    {"repeat", Type::kObject},
    // log_end
    {"records", Type::kUnsigned},
    {"events", Type::kUnsigned},
    {"run_status", Type::kString},
    {"internal_error", Type::kString},
    {"interrupted_by", Type::kString},
    {"capabilities", Type::kStringOrArray},
    {"policy", Type::kString},
    // stream notices
    {"count", Type::kUnsigned},
};
constexpr Field kSyscall[] = {
    {"name", Type::kString}, {"nr", Type::kInteger}, {"arch", Type::kString}};
constexpr Field kDecision[] = {{"action", Type::kString},    {"rule", Type::kString},
                               {"errno", Type::kString},     {"would", Type::kString},
                               {"primitive", Type::kString}, {"capability", Type::kString}};
constexpr Field kRepeat[] = {{"count", Type::kUnsigned, true},
                             {"first_time", Type::kNumber},
                             {"first_seq", Type::kUnsigned}};
constexpr Field kRace[] = {{"arguments", Type::kString}, {"filesystem", Type::kString}};
// The arguments of lifecycle and limit events, by type (docs/events.md). A decision event's
// arguments are the call's, by their man-page names (clone's "parent_tid" is a pointer, shown
// as "0x0"): only the keys of decoded path and address objects are checked there.
constexpr Field kStartArgs[] = {{"parent_pid", Type::kInteger},
                                {"parent_tid", Type::kInteger},
                                {"thread", Type::kBool},
                                {"via", Type::kString}};
constexpr Field kExecArgs[] = {{"exe", Type::kString},
                               {"argv", Type::kStrings},
                               {"image", Type::kObject},
                               {"script", Type::kObject}};
// report/artifacts.h: a file_dropped's args, and the "image" and "script" of a process_exec.
constexpr Field kArtifactArgs[] = {{"path", Type::kString},      {"kind", Type::kString},
                                   {"sha256", Type::kString},    {"size", Type::kUnsigned},
                                   {"mode", Type::kString},      {"created", Type::kBool},
                                   {"removed", Type::kBool},     {"target", Type::kString},
                                   {"collected", Type::kString}, {"note", Type::kString}};
constexpr Field kExitArgs[] = {
    {"exit_code", Type::kInteger}, {"signal", Type::kString}, {"thread", Type::kBool}};
constexpr Field kLimitArgs[] = {
    {"limit", Type::kString}, {"configured", Type::kString}, {"observed", Type::kString}};
struct TypedArgs {
  std::string_view type;
  std::span<const Field> fields;
};
constexpr TypedArgs kArgsByType[] = {
    {"process_start", kStartArgs},    {"process_exec", kExecArgs},
    {"process_exit", kExitArgs},      {"resource_limit_exceeded", kLimitArgs},
    {"timeout_exceeded", kLimitArgs}, {"file_dropped", kArtifactArgs},
};
constexpr Field kArgObject[] = {
    {"raw", Type::kString},      {"resolved", Type::kString}, {"access", Type::kString},
    {"address", Type::kString},  {"path", Type::kString},     {"family", Type::kString},
    {"abstract", Type::kString}, {"port", Type::kInteger},    {"exists", Type::kBool},
};
// A tip is a policy fragment that learn mode reads back.
constexpr Field kTip[] = {
    {"files", Type::kObject}, {"network", Type::kObject}, {"syscalls", Type::kObject}};
constexpr Field kTipSection[] = {{"rules", Type::kArray}, {"families", Type::kStrings}};
constexpr Field kTipRule[] = {
    {"path", Type::kString}, {"access", Type::kStrings}, {"names", Type::kStrings}};

bool Is(const json& v, Type t) {
  switch (t) {
    case Type::kString:
      return v.is_string();
    case Type::kNumber:
      return v.is_number();
    case Type::kUnsigned:
      return IsNonNegativeInteger(v);
    case Type::kInteger:
      return v.is_number_integer();
    case Type::kBool:
      return v.is_boolean();
    case Type::kObject:
      return v.is_object();
    case Type::kArray:
      return v.is_array();
    case Type::kObjectOrNull:
      return v.is_object() || v.is_null();
    case Type::kStrings:
      return v.is_array() &&
             std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_string(); });
    case Type::kStringOrArray:
      return v.is_string() || (v.is_array() && std::all_of(v.begin(), v.end(), [](const json& x) {
                                 return x.is_string();
                               }));
  }
  return false;
}

std::string_view Expected(Type t) {
  switch (t) {
    case Type::kString:
      return "a string";
    case Type::kNumber:
      return "a number";
    case Type::kUnsigned:
      return "a non-negative integer";
    case Type::kInteger:
      return "an integer";
    case Type::kBool:
      return "true or false";
    case Type::kObject:
      return "an object";
    case Type::kArray:
      return "an array";
    case Type::kObjectOrNull:
      return "an object or null";
    case Type::kStrings:
      return "an array of strings";
    case Type::kStringOrArray:
      return "a string or an array of strings";
  }
  return "?";
}

// "" or what is wrong with `obj`'s fields; `where` prefixes the field's name ("decision.").
std::string CheckFields(const json& obj, std::span<const Field> fields, const std::string& where) {
  for (const Field& f : fields) {
    auto it = obj.find(std::string(f.key));
    if (it == obj.end()) {
      if (f.required) return fmt::format("field \"{}{}\" is missing", where, f.key);
      continue;
    }
    if (!Is(*it, f.type)) {
      return fmt::format("field \"{}{}\" must be {}, not {}", where, f.key, Expected(f.type),
                         it->type_name());
    }
  }
  return {};
}

std::string CheckTip(const json& tip) {
  if (!tip.is_object()) return {};
  if (std::string why = CheckFields(tip, kTip, "tip."); !why.empty()) return why;
  for (const auto& [name, section] : tip.items()) {
    if (!section.is_object()) continue;
    const std::string where = "tip." + name + ".";
    if (std::string why = CheckFields(section, kTipSection, where); !why.empty()) return why;
    for (const auto& rule : section.value("rules", json::array())) {
      if (!rule.is_object()) return fmt::format("\"{}rules\" must hold objects", where);
      if (std::string why = CheckFields(rule, kTipRule, where + "rules[]."); !why.empty()) {
        return why;
      }
    }
  }
  return {};
}

}  // namespace

std::string CheckRecord(const json& record) {
  if (!record.is_object()) return "not a JSON object";
  if (std::string why = CheckFields(record, kRecord, ""); !why.empty()) return why;
  struct Part {
    std::string_view key;
    std::span<const Field> fields;
  };
  std::span<const Field> args_fields;
  const std::string type = record.at("type").get<std::string>();
  for (const TypedArgs& t : kArgsByType) {
    if (t.type == type) args_fields = t.fields;
  }
  const Part parts[] = {
      {"syscall", kSyscall}, {"decision", kDecision}, {"repeat", kRepeat},
      {"race", kRace},       {"args", args_fields},
  };
  for (const Part& p : parts) {
    auto it = record.find(std::string(p.key));
    if (it == record.end()) continue;
    if (std::string why = CheckFields(*it, p.fields, std::string(p.key) + "."); !why.empty()) {
      return why;
    }
  }
  if (auto args = record.find("args"); args != record.end()) {
    for (const auto& [name, value] : args->items()) {
      if (!value.is_object()) continue;
      const bool artifact = type == "process_exec" && (name == "image" || name == "script");
      if (std::string why =
              CheckFields(value, artifact ? std::span<const Field>(kArtifactArgs) : kArgObject,
                          "args." + name + ".");
          !why.empty()) {
        return why;
      }
    }
  }
  if (auto repeat = record.find("repeat");
      repeat != record.end() && repeat->at("count").get<std::uint64_t>() == 0) {
    return "field \"repeat.count\" must be at least 1";
  }
  if (auto tip = record.find("tip"); tip != record.end()) return CheckTip(*tip);
  return {};
}

int NestingDepth(std::string_view text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

std::optional<Record> ToRecord(const json& j, std::string& why) {
  why = CheckSchemaVersion(j);
  if (why.empty()) why = CheckRecord(j);
  Record record;
  if (why.empty()) why = FromJson(j, record);
  if (!why.empty()) return std::nullopt;
  return record;
}

namespace {

// The line parsed, bounded first; nullopt with `why`.
std::optional<json> ParseLine(std::string_view line, std::string& why) {
  if (NestingDepth(line, kMaxEventDepth) > kMaxEventDepth) {
    why = fmt::format("nested deeper than {} levels: not an events record", kMaxEventDepth);
    return std::nullopt;
  }
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded()) {
    why = "not JSON";
    return std::nullopt;
  }
  return j;
}

// Reads `in` line by line, bounded, handing each line that fits to `take`, which returns "" or
// why the line is not a record.
EventsScan ForEachLine(std::istream& in, const std::function<std::string(std::string_view)>& take) {
  EventsScan out;
  auto problem = [&out](std::string why) {
    ++out.skipped;
    if (out.problems.size() < kKeptProblems) out.problems.push_back({out.lines, std::move(why)});
  };
  std::string line;
  bool too_long = false;
  while (ReadBoundedLine(in, line, too_long)) {
    ++out.lines;
    if (too_long) {
      problem(fmt::format("longer than {} MiB: not an events record", kMaxEventLine >> 20));
      continue;
    }
    if (std::string why = take(line); !why.empty()) problem(std::move(why));
  }
  return out;
}

}  // namespace

std::optional<json> ParseRecord(std::string_view line, std::string& why) {
  std::optional<json> j = ParseLine(line, why);
  if (!j || !ToRecord(*j, why)) return std::nullopt;
  return j;
}

std::optional<Record> ParseTypedRecord(std::string_view line, std::string& why) {
  std::optional<json> j = ParseLine(line, why);
  if (!j) return std::nullopt;
  return ToRecord(*j, why);
}

bool ReadBoundedLine(std::istream& in, std::string& line, bool& too_long, std::size_t max) {
  line.clear();
  too_long = false;
  std::streambuf* buf = in.rdbuf();
  if (buf == nullptr) return false;
  bool any = false;
  for (;;) {
    int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      return any;
    }
    any = true;
    if (c == '\n') return true;
    if (line.size() < max) {
      line.push_back(static_cast<char>(c));
    } else {
      too_long = true;
    }
  }
}

EventsScan ForEachRecord(std::istream& in, const std::function<void(json&&)>& each) {
  return ForEachLine(in, [&each](std::string_view line) {
    std::string why;
    if (std::optional<json> record = ParseRecord(line, why)) each(std::move(*record));
    return why;
  });
}

EventsScan ForEachTypedRecord(std::istream& in, const std::function<void(Record&&)>& each) {
  return ForEachLine(in, [&each](std::string_view line) {
    std::string why;
    if (std::optional<Record> record = ParseTypedRecord(line, why)) each(std::move(*record));
    return why;
  });
}

EventsRead ReadEventsFile(std::istream& in) {
  EventsRead out;
  static_cast<EventsScan&>(out) =
      ForEachRecord(in, [&out](json&& record) { out.records.push_back(std::move(record)); });
  return out;
}

std::string DescribeProblems(const std::string& file, const EventsScan& scan) {
  constexpr std::size_t kShown = 5;
  std::string out;
  for (std::size_t i = 0; i < scan.problems.size() && i < kShown; ++i) {
    out += fmt::format("{}: line {}: {}; skipped\n", base::EscapeBytes(file), scan.problems[i].line,
                       base::EscapeBytes(scan.problems[i].what));
  }
  const std::size_t shown = std::min(scan.problems.size(), kShown);
  if (scan.skipped > shown) {
    out +=
        fmt::format("{}: {} more line(s) skipped\n", base::EscapeBytes(file), scan.skipped - shown);
  }
  return out;
}

}  // namespace report
