#include "report/event.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "policy/names.h"
#include "report/record_fields.h"

namespace report {
namespace {

using nlohmann::json;

// A value from the record in an error message: quoted, and cut so a hostile one stays short.
std::string Quoted(const std::string& s) {
  constexpr std::size_t kShown = 40;
  if (s.size() <= kShown) return fmt::format("\"{}\"", s);
  return fmt::format("\"{}...\"", std::string_view(s).substr(0, kShown));
}

template <typename T>
bool ReadName(FieldReader& r, std::string_view key, T& out,
              std::optional<T> (*from_name)(std::string_view), std::string_view known,
              Presence p = Presence::kOptional) {
  std::string text;
  if (!r.String(key, text, p)) return false;
  if (auto v = from_name(text)) {
    out = *v;
    return true;
  }
  r.Fail(key, fmt::format("is {}, not one of {}", Quoted(text), known));
  return false;
}

void ReadSyscall(FieldReader& r, Event& e) {
  const json* sys = r.Nested("syscall");
  if (sys == nullptr) return;
  FieldReader s(*sys, "syscall.");
  SyscallRef ref;
  s.String("name", ref.name, Presence::kRequired);
  s.Long("nr", ref.number);
  s.String("arch", ref.arch);
  r.Adopt(s);
  e.syscall = std::move(ref);
}

void ReadRawArgs(FieldReader& r, const json& j, Event& e) {
  auto it = j.find("raw_args");
  if (it == j.end() || !r.ok()) return;
  if (!it->is_array() || it->size() != e.raw_args.size() ||
      !std::all_of(it->begin(), it->end(), [](const json& v) { return IsNonNegativeInteger(v); })) {
    r.Fail("raw_args", "must be an array of 6 non-negative integers");
    return;
  }
  for (std::size_t i = 0; i < e.raw_args.size(); ++i) e.raw_args[i] = (*it)[i].get<std::uint64_t>();
}

void ReadDecision(FieldReader& r, Event& e) {
  const json* decision = r.Nested("decision");
  if (decision == nullptr) return;
  FieldReader d(*decision, "decision.");
  ReadName(d, "action", e.action, policy::ActionFromName, "allow, deny, kill", Presence::kRequired);
  d.String("rule", e.rule);
  policy::Action would{};
  if (ReadName(d, "would", would, policy::ActionFromName, "allow, deny, kill")) e.would = would;
  ReadName(d, "errno", e.error, policy::ErrnoFromRecordedName,
           "the errno names tracejail writes (\"EACCES\", \"errno 999\")");
  d.String("primitive", e.primitive);
  d.String("capability", e.capability);
  r.Adopt(d);
}

// "attack": technique ids as report/attack.h spells them, a handful at most.
void ReadAttack(FieldReader& r, const json& j, Event& e) {
  auto it = j.find("attack");
  if (it == j.end() || !r.ok()) return;
  constexpr std::size_t kMaxIds = 32;
  if (!it->is_array() || it->size() > kMaxIds ||
      !std::all_of(it->begin(), it->end(), [](const json& v) {
        return v.is_string() && IsAttackId(v.get_ref<const std::string&>());
      })) {
    r.Fail("attack", "must be an array of at most 32 ATT&CK technique ids (\"T1611\")");
    return;
  }
  for (const auto& v : *it) e.attack.push_back(v.get<std::string>());
}

void ReadRepeat(FieldReader& r, Event& e) {
  const json* repeat = r.Nested("repeat");
  if (repeat == nullptr) return;
  FieldReader f(*repeat, "repeat.");
  Repeat rep;
  f.Unsigned("count", rep.count, Presence::kRequired);
  if (f.ok() && rep.count == 0) f.Fail("count", "must be at least 1");
  f.Number("first_time", rep.first_time);
  f.Unsigned("first_seq", rep.first_seq);
  r.Adopt(f);
  e.repeat = rep;
}

std::optional<std::string> StringAt(const json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// An integer that fits an int; nullopt for anything else.
std::optional<int> IntAt(const json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) return std::nullopt;
  if (it->is_number_unsigned()) {
    auto v = it->get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) return std::nullopt;
    return static_cast<int>(v);
  }
  auto v = it->get<std::int64_t>();
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    return std::nullopt;
  }
  return static_cast<int>(v);
}

}  // namespace

bool IsAttackId(std::string_view id) {
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (id.size() != 5 && id.size() != 9) return false;
  if (id[0] != 'T' || !digits(id.substr(1, 4))) return false;
  return id.size() == 5 || (id[5] == '.' && digits(id.substr(6)));
}

json ToJson(const Event& e) {
  json j;
  j["type"] = policy::Name(e.type);
  j["severity"] = policy::Name(e.severity);
  j["seq"] = e.seq;
  j["time"] = e.time;
  j["pid"] = e.pid;
  j["tid"] = e.tid;
  j["exe"] = e.exe;
  if (e.syscall) {
    j["syscall"] = {
        {"name", e.syscall->name}, {"nr", e.syscall->number}, {"arch", e.syscall->arch}};
    j["raw_args"] = e.raw_args;
  }
  j["args"] = e.args.is_null() ? json::object() : e.args;
  json decision = {{"action", policy::Name(e.action)}, {"rule", e.rule}};
  if (e.would) decision["would"] = policy::Name(*e.would);
  if (e.error != 0) decision["errno"] = policy::ErrnoName(e.error);
  if (!e.primitive.empty()) decision["primitive"] = e.primitive;
  if (!e.capability.empty()) decision["capability"] = e.capability;
  j["decision"] = decision;
  if (!e.tip.is_null()) j["tip"] = e.tip;
  j["race_free"] = e.race_free;
  if (!e.race.is_null()) j["race"] = e.race;
  if (!e.stack.is_null()) j["stack"] = e.stack;
  if (!e.message.empty()) j["message"] = e.message;
  if (!e.attack.empty()) j["attack"] = e.attack;
  if (e.repeat) {
    j["repeat"] = {{"count", e.repeat->count},
                   {"first_time", e.repeat->first_time},
                   {"first_seq", e.repeat->first_seq}};
  }
  if (!e.prev_hash.empty()) j["prev_hash"] = e.prev_hash;
  if (e.returned) j["return"] = e.returned->value ? json(*e.returned->value) : json(nullptr);
  return j;
}

std::string FromJson(const json& j, Event& out) {
  Event e;
  FieldReader r(j, "");
  ReadName(r, "type", e.type, policy::RecordedEventType, "the record types of docs/events.md",
           Presence::kRequired);
  ReadName(r, "severity", e.severity, policy::SeverityFromName,
           "info, low, medium, high, critical");
  r.Unsigned("seq", e.seq);
  r.Number("time", e.time);
  r.Int("pid", e.pid);
  r.Int("tid", e.tid);
  r.String("exe", e.exe);
  ReadSyscall(r, e);
  ReadRawArgs(r, j, e);
  if (!r.Object("args", e.args)) e.args = json::object();
  ReadDecision(r, e);
  r.Object("tip", e.tip, Presence::kOptional, /*or_null=*/true);
  r.Bool("race_free", e.race_free);
  r.Object("race", e.race);
  r.Object("stack", e.stack);
  r.String("message", e.message);
  ReadAttack(r, j, e);
  ReadRepeat(r, e);
  r.String("prev_hash", e.prev_hash);
  if (auto it = j.find("return"); it != j.end()) {  // live-only records (the live view's)
    if (it->is_number_integer()) {
      e.returned = Event::Returned{it->get<std::int64_t>()};
    } else if (it->is_null()) {
      e.returned = Event::Returned{};
    } else {
      return "\"return\" must be an integer or null";
    }
  }
  if (!r.ok()) return r.error();
  out = std::move(e);
  return {};
}

std::optional<PathArg> AsPathArg(const json& v) {
  if (!v.is_object()) return std::nullopt;
  PathArg p;
  p.raw = StringAt(v, "raw");
  p.resolved = StringAt(v, "resolved");
  p.access = StringAt(v, "access").value_or("");
  if (auto exists = v.find("exists"); exists != v.end() && exists->is_boolean()) {
    p.exists = exists->get<bool>();
  }
  return p;
}

std::optional<AddressArg> AsAddressArg(const json& v) {
  // A decoded socket address always names its family (tracer/sockaddr.h, AddressJson).
  if (!v.is_object() || StringAt(v, "family") == std::nullopt) return std::nullopt;
  AddressArg a;
  a.family = StringAt(v, "family");
  a.address = StringAt(v, "address");
  a.path = StringAt(v, "path");
  a.abstract = StringAt(v, "abstract");
  if (auto port = v.find("port"); port != v.end() && port->is_number_integer()) {
    a.port = port->get<long>();
  }
  return a;
}

LifecycleArgs LifecycleArgsOf(const Event& e) {
  LifecycleArgs a;
  if (!e.args.is_object()) return a;
  // Each field on its own: one of the wrong type (never in a checked record) stays empty.
  const json& args = e.args;
  a.parent_pid = IntAt(args, "parent_pid").value_or(0);
  if (auto it = args.find("thread"); it != args.end() && it->is_boolean())
    a.thread = it->get<bool>();
  a.exit_code = IntAt(args, "exit_code");
  a.via = StringAt(args, "via").value_or("");
  a.exe = StringAt(args, "exe").value_or("");
  a.signal = StringAt(args, "signal");
  a.limit = StringAt(args, "limit").value_or("");
  a.configured = StringAt(args, "configured").value_or("");
  a.observed = StringAt(args, "observed").value_or("");
  if (auto argv = args.find("argv"); argv != args.end() && argv->is_array()) {
    for (const auto& arg : *argv) {
      if (arg.is_string()) a.argv.push_back(arg.get<std::string>());
    }
  }
  return a;
}

namespace {

std::vector<std::string> Strings(const json& obj, std::string_view key) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// The objects of `section.rules`.
std::vector<const json*> Rules(const json& tip, std::string_view section) {
  std::vector<const json*> out;
  auto s = tip.find(section);
  if (s == tip.end() || !s->is_object()) return out;
  auto rules = s->find("rules");
  if (rules == s->end() || !rules->is_array()) return out;
  for (const auto& r : *rules) {
    if (r.is_object()) out.push_back(&r);
  }
  return out;
}

}  // namespace

Tip TipOf(const Event& e) {
  Tip tip;
  if (!e.tip.is_object()) return tip;
  for (const json* r : Rules(e.tip, "files")) {
    tip.files.push_back({StringAt(*r, "path").value_or(""), Strings(*r, "access")});
  }
  for (const json* r : Rules(e.tip, "network")) tip.network_rules.push_back(*r);
  if (auto net = e.tip.find("network"); net != e.tip.end() && net->is_object()) {
    tip.families = Strings(*net, "families");
  }
  for (const json* r : Rules(e.tip, "syscalls")) {
    for (auto& name : Strings(*r, "names")) tip.syscalls.push_back(std::move(name));
  }
  if (auto esc = e.tip.find("escapes"); esc != e.tip.end() && esc->is_object()) {
    for (const auto& [name, verdict] : esc->items()) tip.escapes.push_back(name);
  }
  return tip;
}

policy::Action Effective(const Event& e) { return e.would.value_or(e.action); }

bool IsLifecycle(const Event& e) {
  using policy::EventType;
  return e.type == EventType::kProcessStart || e.type == EventType::kProcessExec ||
         e.type == EventType::kProcessExit || e.type == EventType::kFileDropped;
}

bool IsLimit(const Event& e) {
  return e.type == policy::EventType::kResourceLimitExceeded ||
         e.type == policy::EventType::kTimeoutExceeded;
}

}  // namespace report
