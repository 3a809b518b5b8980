#include "policy/loader.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>

#include <fmt/format.h>

#include "base/path.h"
#include "policy/capabilities.h"
#include "policy/json_positions.h"
#include "policy/names.h"
#include "policy/presets.h"
#include "syscalls/classes.h"
#include "syscalls/numbers.h"

namespace policy {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 32;

// One error found in a document, with where it is for sorting.
struct Problem {
  std::string message;
  std::string origin;
  int line = INT_MAX, column = INT_MAX;
};

// Every error of a load, so that `policy check` names them all in one run. Past kMaxProblems
// they are only counted.
struct Problems {
  static constexpr std::size_t kMaxProblems = 100;
  std::vector<Problem> list;
  std::size_t dropped = 0;
  void Add(Problem p) {
    if (list.size() < kMaxProblems) {
      list.push_back(std::move(p));
    } else {
      ++dropped;
    }
  }
};

// A located error: thrown by Ctx::Fail, caught by Recover, which records it and goes on.
class LocatedError : public PolicyError {
 public:
  LocatedError(Problem p) : PolicyError(p.message), problem(std::move(p)) {}
  Problem problem;
};

// Where we are in the document, for messages: "policy.json:12:7: #/files/rules/3/action: ...".
struct Ctx {
  std::string origin;
  std::string pointer;
  const PositionMap* positions = nullptr;
  Problems* problems = nullptr;
  Ctx At(std::string_view key) const {
    return Ctx{origin, pointer + "/" + std::string(key), positions, problems};
  }
  Ctx At(std::size_t index) const {
    return Ctx{origin, pointer + "/" + std::to_string(index), positions, problems};
  }
  const TextPosition* Position(bool key_first) const {
    if (positions == nullptr) return nullptr;
    auto it = key_first ? positions->find("key:" + pointer) : positions->end();
    if (it == positions->end()) it = positions->find(pointer);
    return it == positions->end() ? nullptr : &it->second;
  }
  std::string Where() const {
    const TextPosition* at = Position(false);
    return at == nullptr ? origin : fmt::format("{}:{}:{}", origin, at->line, at->column);
  }
  Problem Make(const std::string& what, bool key_first) const {
    Problem p{"", origin};
    std::string where = origin;
    if (const TextPosition* at = Position(key_first)) {
      p.line = at->line;
      p.column = at->column;
      where += fmt::format(":{}:{}", at->line, at->column);
    }
    p.message = fmt::format("{}: #{}: {}", where, pointer.empty() ? "/" : pointer, what);
    return p;
  }
  // The position of the key that names this value (for unknown keys), else of the value.
  [[noreturn]] void FailAtKey(const std::string& what) const {
    throw LocatedError(Make(what, true));
  }
  [[noreturn]] void Fail(const std::string& what) const { throw LocatedError(Make(what, false)); }
  // An error that does not stop the reading of the document (an unknown key): recorded when
  // errors are being collected, else thrown.
  void Note(const std::string& what, bool at_key) const {
    if (problems == nullptr) throw LocatedError(Make(what, at_key));
    problems->Add(Make(what, at_key));
  }
};

// Runs `f`; an error it throws is recorded and the reading goes on with the next item.
template <typename F>
void Recover(const Ctx& ctx, F&& f) {
  if (ctx.problems == nullptr) {
    f();
    return;
  }
  try {
    f();
  } catch (const LocatedError& e) {
    ctx.problems->Add(e.problem);
  } catch (const PolicyError& e) {
    ctx.problems->Add(Problem{e.what(), ctx.origin});
  }
}

// " (did you mean \"x\"?)" when one candidate is close to `got`.
template <typename Names>
std::string Suggest(std::string_view got, const Names& candidates) {
  std::string best;
  std::size_t best_distance = 3;  // at most two edits away
  for (const auto& c : candidates) {
    std::string_view cand(c);
    std::size_t d = EditDistance(got, cand);
    if (d < best_distance && d < std::max<std::size_t>(cand.size(), 2)) {
      best_distance = d;
      best = std::string(cand);
    }
  }
  return best.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", best);
}

std::string JoinAll(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

std::string Join(std::initializer_list<std::string_view> items) {
  std::string out;
  for (auto i : items) {
    if (!out.empty()) out += ", ";
    out += i;
  }
  return out;
}

void CheckKeys(const json& obj, const Ctx& ctx, std::initializer_list<std::string_view> allowed) {
  if (!obj.is_object()) ctx.Fail("expected an object");
  for (const auto& [key, value] : obj.items()) {
    bool ok = false;
    for (auto a : allowed) ok = ok || a == key;
    if (!ok) {
      ctx.At(key).Note(fmt::format("unknown key \"{}\"{} (allowed here: {})", key,
                                   Suggest(key, allowed), Join(allowed)),
                       true);
    }
  }
}

std::string GetString(const json& v, const Ctx& ctx) {
  if (!v.is_string()) ctx.Fail("expected a string");
  return v.get<std::string>();
}

// ${NAME} becomes the variable's value, escaped: a HOME of "/srv/a*b" names that directory, not
// a wildcard. "\$" (and every other escape) is copied for the pattern compiler, which makes it a
// literal "$", so "\${HOME}" is the name "${HOME}".
std::string ExpandVariables(const std::string& in, const Ctx& ctx, const Variables& vars) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\\' && i + 1 < in.size()) {
      out.append(in, i++, 2);
      continue;
    }
    if (in.compare(i, 2, "${") != 0) {
      out += in[i];
      continue;
    }
    std::size_t end = in.find('}', i);
    if (end == std::string::npos) {
      ctx.Fail(fmt::format(
          "unterminated variable in \"{}\" (write \"\\${{\" for a literal \"${{\")", in));
    }
    std::string name = in.substr(i + 2, end - i - 2);
    auto it = vars.find(name);
    if (it == vars.end()) {
      std::string known;
      std::vector<std::string> names;
      for (const auto& [k, v] : vars) {
        known += (known.empty() ? "" : ", ") + k;
        names.push_back(k);
      }
      ctx.Fail(fmt::format(
          "unknown variable ${{{}}}{} (known: {}; write \"\\${{\" for a literal \"${{\")", name,
          Suggest(name, names), known));
    }
    out += EscapeGlob(it->second);
    i = end;
  }
  return out;
}

int ParseErrno(const json& v, const Ctx& ctx) {
  std::string name = GetString(v, ctx);
  auto e = ErrnoFromName(name);
  if (!e) {
    ctx.Fail(fmt::format("unknown errno \"{}\"{} (known: {})", name, Suggest(name, KnownErrnos()),
                         JoinAll(KnownErrnos())));
  }
  return *e;
}

EventType ParseEventType(const json& v, const Ctx& ctx) {
  std::string name = GetString(v, ctx);
  auto t = EventTypeFromName(name);
  if (!t) {
    ctx.Fail(fmt::format("unknown event type \"{}\"{} (known: {})", name,
                         Suggest(name, KnownEventTypes()), JoinAll(KnownEventTypes())));
  }
  return *t;
}

Severity ParseSeverity(const json& v, const Ctx& ctx) {
  std::string name = GetString(v, ctx);
  auto s = SeverityFromName(name);
  if (!s) {
    ctx.Fail(fmt::format("unknown severity \"{}\"{} (info, low, medium, high, critical)", name,
                         Suggest(name, std::array{"info", "low", "medium", "high", "critical"})));
  }
  return *s;
}

Verdict ParseVerdict(const json& obj, const Ctx& ctx, const Verdict& defaults_for_deny) {
  Verdict v;
  if (!obj.contains("action")) ctx.Fail("missing \"action\" (allow, deny or kill)");
  std::string action = GetString(obj["action"], ctx.At("action"));
  auto a = ActionFromName(action);
  if (!a) {
    ctx.At("action").Fail(fmt::format("unknown action \"{}\"{} (allow, deny or kill)", action,
                                      Suggest(action, std::array{"allow", "deny", "kill"})));
  }
  v.action = *a;
  if (v.action != Action::kAllow) {
    v.error = defaults_for_deny.error;
    v.event = defaults_for_deny.event;
    v.severity = defaults_for_deny.severity;
  }
  if (obj.contains("errno")) {
    Recover(ctx, [&] {
      if (v.action != Action::kDeny) ctx.At("errno").Fail("\"errno\" only applies to action deny");
      v.error = ParseErrno(obj["errno"], ctx.At("errno"));
    });
  }
  if (obj.contains("event")) {
    Recover(ctx, [&] { v.event = ParseEventType(obj["event"], ctx.At("event")); });
  }
  if (obj.contains("severity")) {
    Recover(ctx, [&] { v.severity = ParseSeverity(obj["severity"], ctx.At("severity")); });
  }
  return v;
}

const Verdict kFileDeny{Action::kDeny, EACCES, EventType::kPermissionDenied, Severity::kMedium};
const Verdict kNetDeny{Action::kDeny, EACCES, EventType::kPermissionDenied, Severity::kMedium};
const Verdict kEscapeDeny{Action::kDeny, EPERM, EventType::kEscapeAttempt, Severity::kHigh};
// A syscall number tracejail's table does not know: it fails as on a kernel without it.
const Verdict kUnknownSyscallDeny{Action::kDeny, ENOSYS, EventType::kSyscallBlocked,
                                  Severity::kHigh};
constexpr auto kUnknownIndex = static_cast<std::size_t>(Primitive::kUnknownSyscall);

// "policy.json:14#/files/rules/3", plus " (name)" when the rule has an "id".
std::string RuleId(const Ctx& ctx, const json* rule = nullptr) {
  std::string where = ctx.origin;
  if (ctx.positions != nullptr) {
    auto it = ctx.positions->find(ctx.pointer);
    if (it != ctx.positions->end()) where += ":" + std::to_string(it->second.line);
  }
  std::string id = where + "#" + ctx.pointer;
  if (rule != nullptr && rule->contains("id") && (*rule)["id"].is_string()) {
    id += " (" + (*rule)["id"].get<std::string>() + ")";
  }
  return id;
}

// `pattern` with its literal leading components resolved (symlinks, as the kernel would follow
// them); the rest, from the first component with a wildcard, unchanged. A prefix that does not
// exist resolves as far as it does. The literal part is unescaped to ask the file system and the
// answer escaped again: a symlink to "/srv/a*b" leads to that directory, not to a wildcard.
std::string CanonicalPattern(const std::string& pattern) {
  if (pattern.empty() || pattern[0] != '/') return pattern;
  std::size_t wild = FirstWildcard(pattern);
  std::size_t literal_end = wild == std::string::npos ? pattern.size() : pattern.rfind('/', wild);
  if (literal_end == 0) literal_end = 1;  // "/*": the literal part is "/"
  auto literal = UnescapeGlob(std::string_view(pattern).substr(0, literal_end));
  if (!literal) return pattern;
  std::string rest = pattern.substr(literal_end);
  // Resolve the longest existing prefix of the literal part.
  std::string head = *literal, tail;
  while (true) {
    char buf[PATH_MAX];
    if (realpath(head.c_str(), buf) != nullptr) {
      std::string out = buf;
      if (!tail.empty()) out += (out == "/" ? "" : "/") + tail.substr(1);
      // Unchanged: keep the pattern as written (its escapes need not be EscapeGlob's).
      return out == *literal ? pattern : EscapeGlob(out) + rest;
    }
    auto slash = head.rfind('/');
    if (slash == std::string::npos || head == "/") return pattern;
    tail = head.substr(slash) + tail;
    head = slash == 0 ? "/" : head.substr(0, slash);
  }
}

void ParsePathRule(const json& r, const Ctx& rc, const Variables& vars, Policy& p);

void ParseFiles(const json& files, const Ctx& ctx, const Variables& vars, Policy& p) {
  CheckKeys(files, ctx, {"default", "rules"});
  if (files.contains("default")) {
    Recover(ctx, [&] {
      CheckKeys(files["default"], ctx.At("default"), {"action", "errno", "event", "severity"});
      p.path_default = {RuleId(ctx.At("default"), &files["default"]),
                        ParseVerdict(files["default"], ctx.At("default"), kFileDeny)};
    });
  }
  if (!files.contains("rules")) return;
  const json& rules = files["rules"];
  if (!rules.is_array()) ctx.At("rules").Fail("expected an array of rules");
  for (std::size_t i = 0; i < rules.size(); ++i) {
    Recover(ctx, [&] { ParsePathRule(rules[i], ctx.At("rules").At(i), vars, p); });
  }
}

void ParsePathRule(const json& r, const Ctx& rc, const Variables& vars, Policy& p) {
  CheckKeys(r, rc, {"path", "access", "action", "errno", "event", "severity", "id", "notes"});
  if (r.contains("id")) Recover(rc, [&] { GetString(r["id"], rc.At("id")); });
  // The path, the access kinds and the verdict are checked apart, so that one rule's errors
  // are all reported; the rule is kept only when its path compiled.
  PathRule rule;
  rule.id = RuleId(rc, &r);
  std::string path;
  bool compiled = false;
  Recover(rc, [&] {
    if (!r.contains("path")) rc.Fail("missing \"path\"");
    path = ExpandVariables(GetString(r["path"], rc.At("path")), rc.At("path"), vars);
    std::string error;
    auto pattern = PathPattern::Compile(path, &error);
    if (!pattern) {
      rc.At("path").Fail(
          fmt::format("\"{}\": {}{}", path, error,
                      path.empty() || path[0] != '/' ? " (not an absolute path)" : ""));
    }
    rule.pattern = std::move(*pattern);
    compiled = true;
  });
  Recover(rc, [&] {
    if (!r.contains("access") || !r["access"].is_array() || r["access"].empty()) {
      rc.At("access").Fail(
          "expected a non-empty array of access kinds (read, write, create, "
          "delete, exec, metadata, chmod, chown)");
    }
  });
  for (std::size_t k = 0; r.contains("access") && r["access"].is_array() && k < r["access"].size();
       ++k) {
    Recover(rc, [&] {
      std::string name = GetString(r["access"][k], rc.At("access").At(k));
      auto a = AccessFromName(name);
      if (!a) {
        rc.At("access").At(k).Fail(
            fmt::format("unknown access kind \"{}\"{} (read, write, create, "
                        "delete, exec, metadata, chmod, chown)",
                        name, Suggest(name, KnownAccessKinds())));
      }
      rule.access = rule.access | *a;
    });
  }
  rule.verdict = ParseVerdict(r, rc, kFileDeny);
  if (!compiled) return;
  // The tracer decides on resolved paths: a rule written through a symlink ("/lib/udev" where
  // /lib -> usr/lib) would never match. The rule also applies to what its literal part
  // resolves to on this machine.
  std::string canonical = CanonicalPattern(path);
  if (canonical != path) {
    std::string error;
    if (auto resolved = PathPattern::Compile(canonical, &error)) {
      PathRule alias = rule;
      alias.pattern = std::move(*resolved);
      p.path_rules.push_back(std::move(rule));
      p.path_rules.push_back(std::move(alias));
      return;
    }
  }
  p.path_rules.push_back(std::move(rule));
}

std::uint16_t ParsePort(std::string_view s, const Ctx& ctx) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || ptr != s.data() + s.size() || value > 65535) {
    ctx.Fail(fmt::format("bad port \"{}\" (0-65535)", s));
  }
  return static_cast<std::uint16_t>(value);
}

Cidr ParseCidr(const std::string& text, const Ctx& ctx) {
  Cidr c;
  if (text.find('\0') != std::string::npos) ctx.Fail("bad address: it contains a NUL character");
  std::string addr = text;
  int max_len = 0;
  std::size_t slash = text.find('/');
  if (slash != std::string::npos) addr = text.substr(0, slash);
  if (inet_pton(AF_INET, addr.c_str(), c.ip.data()) == 1) {
    c.family = AF_INET;
    max_len = 32;
  } else if (inet_pton(AF_INET6, addr.c_str(), c.ip.data()) == 1) {
    c.family = AF_INET6;
    max_len = 128;
  } else {
    ctx.Fail(fmt::format("bad address \"{}\" (e.g. 127.0.0.0/8 or ::1/128)", text));
  }
  c.prefix_len = max_len;
  if (slash != std::string::npos) {
    std::string_view len = std::string_view(text).substr(slash + 1);
    int value = -1;
    auto [ptr, ec] = std::from_chars(len.data(), len.data() + len.size(), value);
    if (ec != std::errc{} || ptr != len.data() + len.size() || value < 0 || value > max_len) {
      ctx.Fail(fmt::format("bad prefix length in \"{}\" (0-{})", text, max_len));
    }
    c.prefix_len = value;
  }
  return c;
}

bool GetBool(const json& v, const Ctx& ctx);

void ParseNetRule(const json& r, const Ctx& rc, const Variables& vars, Policy& p);

void ParseNetwork(const json& net, const Ctx& ctx, const Variables& vars, Policy& p) {
  CheckKeys(net, ctx, {"families", "family_default", "default", "rules"});
  if (net.contains("families")) {
    const json& fams = net["families"];
    if (!fams.is_array()) ctx.At("families").Fail("expected an array of family names");
    p.families.clear();
    for (std::size_t i = 0; i < fams.size(); ++i) {
      Recover(ctx, [&] {
        std::string name = GetString(fams[i], ctx.At("families").At(i));
        auto f = FamilyFromName(name);
        if (!f) {
          ctx.At("families")
              .At(i)
              .Fail(fmt::format("unknown socket family \"{}\"{} (known: {})", name,
                                Suggest(name, KnownFamilies()), JoinAll(KnownFamilies())));
        }
        p.families.push_back(*f);
      });
    }
  }
  const Verdict kFamilyDeny{Action::kDeny, EAFNOSUPPORT, EventType::kPermissionDenied,
                            Severity::kMedium};
  if (net.contains("family_default")) {
    Recover(ctx, [&] {
      Ctx c = ctx.At("family_default");
      CheckKeys(net["family_default"], c, {"action", "errno", "event", "severity"});
      p.family_default = {RuleId(c), ParseVerdict(net["family_default"], c, kFamilyDeny)};
    });
  }
  if (net.contains("default")) {
    Recover(ctx, [&] {
      Ctx c = ctx.At("default");
      CheckKeys(net["default"], c, {"action", "errno", "event", "severity"});
      p.net_default = {RuleId(c), ParseVerdict(net["default"], c, kNetDeny)};
    });
  }
  if (!net.contains("rules")) return;
  const json& rules = net["rules"];
  if (!rules.is_array()) ctx.At("rules").Fail("expected an array of rules");
  for (std::size_t i = 0; i < rules.size(); ++i) {
    Recover(ctx, [&] { ParseNetRule(rules[i], ctx.At("rules").At(i), vars, p); });
  }
}

void ParseNetRule(const json& r, const Ctx& rc, const Variables& vars, Policy& p) {
  CheckKeys(r, rc,
            {"verbs", "family", "protocol", "cidr", "ports", "unix", "own", "action", "errno",
             "event", "severity", "id", "notes"});
  if (r.contains("id")) GetString(r["id"], rc.At("id"));
  NetRule rule;
  rule.id = RuleId(rc, &r);
  if (r.contains("verbs")) {
    if (!r["verbs"].is_array()) rc.At("verbs").Fail("expected an array of verbs");
    for (std::size_t k = 0; k < r["verbs"].size(); ++k) {
      Recover(rc, [&] {
        std::string name = GetString(r["verbs"][k], rc.At("verbs").At(k));
        auto v = VerbFromName(name);
        if (!v || *v == NetVerb::kSocket) {
          rc.At("verbs").At(k).Fail(
              fmt::format("unknown verb \"{}\" (connect, bind, send, listen, accept)", name));
        }
        rule.verbs = static_cast<std::uint8_t>(rule.verbs | (1u << static_cast<unsigned>(*v)));
      });
    }
  } else {
    rule.verbs = static_cast<std::uint8_t>((1u << static_cast<unsigned>(NetVerb::kConnect)) |
                                           (1u << static_cast<unsigned>(NetVerb::kSend)));
  }
  if (r.contains("family")) {
    Recover(rc, [&] {
      std::string name = GetString(r["family"], rc.At("family"));
      auto f = FamilyFromName(name);
      if (!f) {
        rc.At("family").Fail(fmt::format("unknown socket family \"{}\"{} (known: {})", name,
                                         Suggest(name, KnownFamilies()), JoinAll(KnownFamilies())));
      }
      rule.family = *f;
    });
  }
  if (r.contains("protocol")) {
    Recover(rc, [&] {
      std::string proto = GetString(r["protocol"], rc.At("protocol"));
      static constexpr std::array<std::pair<std::string_view, int>, 5> kProtocols{{
          {"tcp", SOCK_STREAM},
          {"stream", SOCK_STREAM},
          {"udp", SOCK_DGRAM},
          {"dgram", SOCK_DGRAM},
          {"seqpacket", SOCK_SEQPACKET},
      }};
      auto it = std::find_if(kProtocols.begin(), kProtocols.end(),
                             [&](const auto& e) { return e.first == proto; });
      if (it == kProtocols.end()) {
        rc.At("protocol")
            .Fail(fmt::format(
                "unknown protocol \"{}\"{} (tcp, udp, stream, dgram, "
                "seqpacket)",
                proto, Suggest(proto, std::array{"tcp", "udp", "stream", "dgram", "seqpacket"})));
      }
      rule.socket_type = it->second;
    });
  }
  if (r.contains("cidr")) {
    Recover(rc, [&] {
      rule.cidr = ParseCidr(GetString(r["cidr"], rc.At("cidr")), rc.At("cidr"));
      if (rule.family && *rule.family != rule.cidr->family) {
        rc.At("cidr").Fail("address family does not match \"family\"");
      }
    });
  }
  if (r.contains("ports")) {
    Recover(rc, [&] {
      std::string ports = GetString(r["ports"], rc.At("ports"));
      std::size_t dash = ports.find('-');
      std::string_view sv(ports);
      rule.port_lo = ParsePort(sv.substr(0, dash), rc.At("ports"));
      rule.port_hi =
          dash == std::string::npos ? rule.port_lo : ParsePort(sv.substr(dash + 1), rc.At("ports"));
      if (rule.port_lo > rule.port_hi) rc.At("ports").Fail("port range is reversed");
    });
  }
  if (r.contains("unix")) {
    Recover(rc, [&] {
      std::string u = GetString(r["unix"], rc.At("unix"));
      if (u.starts_with("@")) {
        rule.abstract = u.substr(1);
        std::string error;
        if (!CheckComponentPattern(*rule.abstract, &error)) {
          rc.At("unix").Fail(fmt::format("\"{}\": {}", u, error));
        }
      } else if (u.starts_with("/")) {
        std::string error;
        rule.unix_path = PathPattern::Compile(ExpandVariables(u, rc.At("unix"), vars), &error);
        if (!rule.unix_path) rc.At("unix").Fail(fmt::format("\"{}\": {}", u, error));
      } else {
        rc.At("unix").Fail("expected an absolute path pattern or @abstract-name pattern");
      }
      rule.family = AF_UNIX;
    });
  }
  if (r.contains("own")) {
    Recover(rc, [&] {
      rule.own = GetBool(r["own"], rc.At("own"));
      if (rule.own) rule.family = AF_UNIX;
    });
  }
  rule.verdict = ParseVerdict(r, rc, kNetDeny);
  p.net_rules.push_back(std::move(rule));
}

void ParseEscapes(const json& esc, const Ctx& ctx, Policy& p) {
  if (!esc.is_object()) ctx.Fail("expected an object");
  if (esc.contains("default")) {
    Recover(ctx, [&] {
      Ctx c = ctx.At("default");
      CheckKeys(esc["default"], c, {"action", "errno", "event", "severity"});
      PrimitiveRule rule{RuleId(c), ParseVerdict(esc["default"], c, kEscapeDeny)};
      for (std::size_t i = 1; i < kPrimitiveCount; ++i) {
        // An unknown syscall keeps failing with ENOSYS (what a program probing for a newer call
        // expects) unless the default allows everything or the policy names it.
        if (i == kUnknownIndex && rule.verdict.action != Action::kAllow) continue;
        p.primitives.at(i) = rule;
      }
    });
  }
  for (const auto& [key, value] : esc.items()) {
    if (key == "default") continue;
    Recover(ctx, [&] {
      auto prim = PrimitiveFromName(key);
      if (!prim || *prim == Primitive::kNone) {
        ctx.At(key).FailAtKey(fmt::format("unknown escape primitive \"{}\"{} (known: {})", key,
                                          Suggest(key, KnownPrimitives()),
                                          JoinAll(KnownPrimitives())));
      }
      Ctx c = ctx.At(key);
      CheckKeys(value, c, {"action", "errno", "event", "severity"});
      p.primitives.at(static_cast<std::size_t>(*prim)) = {RuleId(c),
                                                          ParseVerdict(value, c, kEscapeDeny)};
    });
  }
}

std::uint64_t GetUint(const json& v, const Ctx& ctx) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer()) return static_cast<std::uint64_t>(v.get<std::int64_t>());
  if (v.is_string()) {  // "0x40000000" for masks and flags
    std::string t = v.get<std::string>();
    std::uint64_t value = 0;
    int base = t.starts_with("0x") ? 16 : 10;
    std::string_view digits = base == 16 ? std::string_view(t).substr(2) : std::string_view(t);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (ec == std::errc{} && ptr == digits.data() + digits.size() && !digits.empty()) return value;
  }
  ctx.Fail("expected an unsigned integer (or a \"0x...\" string)");
}

constexpr std::array<std::pair<std::string_view, SyscallAction>, 4> kActions{{
    {"allow", SyscallAction::kAllow},
    {"deny", SyscallAction::kDeny},
    {"kill", SyscallAction::kKill},
    {"trace", SyscallAction::kTrace},
}};
constexpr std::array<std::pair<std::string_view, ArgCondition::Op>, 7> kOps{{
    {"eq", ArgCondition::Op::kEq},
    {"ne", ArgCondition::Op::kNe},
    {"lt", ArgCondition::Op::kLt},
    {"le", ArgCondition::Op::kLe},
    {"gt", ArgCondition::Op::kGt},
    {"ge", ArgCondition::Op::kGe},
    {"masked_eq", ArgCondition::Op::kMaskedEq},
}};

void ParseSyscallRule(const json& r, const Ctx& rc, Policy& p);

void ParseSyscalls(const json& sys, const Ctx& ctx, Policy& p) {
  CheckKeys(sys, ctx, {"default", "rules"});
  if (sys.contains("default")) {
    Recover(ctx, [&] {
      Ctx dc = ctx.At("default");
      CheckKeys(sys["default"], dc, {"action", "errno"});
      if (!sys["default"].contains("action")) dc.Fail("missing \"action\" (allow, deny or kill)");
      std::string action = GetString(sys["default"]["action"], dc.At("action"));
      if (action == "allow") {
        p.syscall_default.action = SyscallAction::kAllow;
      } else if (action == "deny") {
        p.syscall_default.action = SyscallAction::kDeny;
      } else if (action == "kill") {
        p.syscall_default.action = SyscallAction::kKill;
      } else {
        dc.At("action").Fail(fmt::format("unknown action \"{}\"{} (allow, deny or kill)", action,
                                         Suggest(action, std::array{"allow", "deny", "kill"})));
      }
      p.syscall_default.error = EPERM;
      if (sys["default"].contains("errno")) {
        p.syscall_default.error = ParseErrno(sys["default"]["errno"], dc.At("errno"));
      }
      p.syscall_default.id = RuleId(dc);
    });
  }
  if (!sys.contains("rules")) return;
  const json& rules = sys["rules"];
  if (!rules.is_array()) ctx.At("rules").Fail("expected an array of rules");
  for (std::size_t i = 0; i < rules.size(); ++i) {
    Recover(ctx, [&] { ParseSyscallRule(rules[i], ctx.At("rules").At(i), p); });
  }
}

void ParseSyscallRule(const json& r, const Ctx& rc, Policy& p) {
  CheckKeys(r, rc, {"names", "action", "errno", "event", "severity", "args", "id", "notes"});
  if (r.contains("id")) GetString(r["id"], rc.At("id"));
  SyscallRule rule;
  rule.id = RuleId(rc, &r);
  if (!r.contains("names") || !r["names"].is_array() || r["names"].empty()) {
    rc.At("names").Fail("expected a non-empty array of syscall names or classes (\"%file\")");
  }
  for (std::size_t k = 0; k < r["names"].size(); ++k) {
    Recover(rc, [&] {
      Ctx nc = rc.At("names").At(k);
      std::string name = GetString(r["names"][k], nc);
      if (name.starts_with("%")) {
        const syscalls::SyscallClass* cls = syscalls::FindSyscallClass(name);
        if (cls == nullptr) {
          std::vector<std::string> classes;
          for (const auto& c : syscalls::SyscallClasses()) classes.emplace_back(c.name);
          nc.Fail(fmt::format("unknown syscall class \"{}\"{} (classes: {})", name,
                              Suggest(name, classes), JoinAll(classes)));
        }
        for (std::string_view m : cls->members) {
          if (syscalls::SyscallNumber(m)) rule.names.emplace_back(std::string(m), 1);
        }
      } else {
        if (!syscalls::SyscallNumber(name)) {
          nc.Fail(fmt::format("unknown syscall \"{}\"{} (not a syscall of this architecture)", name,
                              Suggest(name, syscalls::KnownSyscallNames())));
        }
        rule.names.emplace_back(name, 2);
      }
    });
  }
  if (!r.contains("action")) rc.Fail("missing \"action\" (allow, deny, kill or trace)");
  std::string action = GetString(r["action"], rc.At("action"));
  auto a = std::find_if(kActions.begin(), kActions.end(),
                        [&](const auto& e) { return e.first == action; });
  if (a == kActions.end()) {
    rc.At("action").Fail(
        fmt::format("unknown action \"{}\"{} (allow, deny, kill or trace)", action,
                    Suggest(action, std::array{"allow", "deny", "kill", "trace"})));
  }
  rule.action = a->second;
  rule.error = EPERM;
  if (r.contains("errno")) {
    if (rule.action != SyscallAction::kDeny) rc.At("errno").Fail("\"errno\" only applies to deny");
    rule.error = ParseErrno(r["errno"], rc.At("errno"));
  }
  if (r.contains("event")) rule.event = ParseEventType(r["event"], rc.At("event"));
  if (r.contains("severity")) rule.severity = ParseSeverity(r["severity"], rc.At("severity"));
  if (r.contains("args")) {
    if (!r["args"].is_array()) rc.At("args").Fail("expected an array of argument conditions");
    if (rule.action == SyscallAction::kAllow && p.syscall_default.action == SyscallAction::kAllow) {
      rc.At("args").Fail(
          "with \"syscalls.default\" allow, an allow rule cannot have argument conditions (put "
          "the condition on the deny or kill rule it relaxes)");
    }
    for (std::size_t k = 0; k < r["args"].size(); ++k) {
      Recover(rc, [&] {
        Ctx ac = rc.At("args").At(k);
        const json& c = r["args"][k];
        CheckKeys(c, ac, {"index", "op", "value", "mask"});
        ArgCondition cond;
        if (!c.contains("index")) ac.Fail("missing \"index\" (0-5)");
        cond.index = static_cast<unsigned>(GetUint(c["index"], ac.At("index")));
        if (cond.index > 5) ac.At("index").Fail("argument index must be 0-5");
        std::string op = c.contains("op") ? GetString(c["op"], ac.At("op")) : "eq";
        auto o =
            std::find_if(kOps.begin(), kOps.end(), [&](const auto& e) { return e.first == op; });
        if (o == kOps.end()) {
          ac.At("op").Fail(
              fmt::format("unknown operator \"{}\" (eq, ne, lt, le, gt, ge, masked_eq)", op));
        }
        cond.op = o->second;
        if (!c.contains("value")) ac.Fail("missing \"value\"");
        cond.value = GetUint(c["value"], ac.At("value"));
        if (cond.op == ArgCondition::Op::kMaskedEq) {
          if (!c.contains("mask")) ac.Fail("masked_eq needs a \"mask\"");
          cond.mask = GetUint(c["mask"], ac.At("mask"));
        } else if (c.contains("mask")) {
          ac.At("mask").Fail("\"mask\" only applies to masked_eq");
        }
        rule.args.push_back(cond);
      });
    }
  }
  p.syscall_rules.push_back(std::move(rule));
}

void ParseLimits(const json& limits, const Ctx& ctx, Policy& p) {
  if (!limits.is_object()) ctx.Fail("expected an object");
  for (const auto& [key, value] : limits.items()) {
    Recover(ctx, [&] {
      auto kind = LimitFromKey(key);
      if (!kind) {
        std::vector<std::string> keys;
        for (const auto& info : kLimitInfo) keys.emplace_back(info.key);
        ctx.At(key).FailAtKey(fmt::format("unknown limit \"{}\"{} (limits: {})", key,
                                          Suggest(key, keys), JoinAll(keys)));
      }
      ParsedLimit parsed = ParseLimitValue(InfoOf(*kind).unit, value);
      if (!parsed.error.empty()) ctx.At(key).Fail(parsed.error);
      p.limits.Set(*kind, parsed.value);
    });
  }
}

bool GetBool(const json& v, const Ctx& ctx) {
  if (!v.is_boolean()) ctx.Fail("expected true or false");
  return v.get<bool>();
}

std::string GetChoice(const json& v, const Ctx& ctx, std::initializer_list<std::string_view> ok) {
  std::string s = GetString(v, ctx);
  if (std::find(ok.begin(), ok.end(), s) == ok.end()) {
    ctx.Fail(fmt::format("unknown value \"{}\"{} (one of: {})", s, Suggest(s, ok), Join(ok)));
  }
  return s;
}

void ParseIsolation(const json& iso, const Ctx& ctx, Policy& p) {
  CheckKeys(iso, ctx,
            {"environment", "workdir", "namespaces", "landlock", "read_only_root", "cgroups",
             "capabilities"});
  IsolationWanted& out = p.isolation;
  if (iso.contains("environment")) {
    Recover(ctx, [&] {
      out.clean_environment =
          GetChoice(iso["environment"], ctx.At("environment"), {"clean", "inherit"}) == "clean";
    });
  }
  if (iso.contains("workdir")) {
    Recover(ctx, [&] {
      out.private_workdir =
          GetChoice(iso["workdir"], ctx.At("workdir"), {"private", "none"}) == "private";
    });
  }
  if (iso.contains("namespaces")) {
    Recover(ctx, [&] {
      Ctx nc = ctx.At("namespaces");
      if (!iso["namespaces"].is_array()) nc.Fail("expected an array such as [\"pid\", \"net\"]");
      out.namespaces = 0;
      std::vector<std::string> names;
      for (const auto& info : kNamespaceInfo) names.emplace_back(info.name);
      for (std::size_t i = 0; i < iso["namespaces"].size(); ++i) {
        Recover(ctx, [&] {
          std::string name = GetString(iso["namespaces"][i], nc.At(i));
          auto ns = NamespaceFromName(name);
          if (!ns) {
            nc.At(i).Fail(fmt::format("unknown namespace \"{}\"{} (namespaces: {})", name,
                                      Suggest(name, names), JoinAll(names)));
          }
          out.Add(*ns);
        });
      }
    });
  }
  if (iso.contains("landlock")) {
    Recover(ctx, [&] { out.landlock = GetBool(iso["landlock"], ctx.At("landlock")); });
  }
  if (iso.contains("read_only_root")) {
    Recover(ctx,
            [&] { out.read_only_root = GetBool(iso["read_only_root"], ctx.At("read_only_root")); });
  }
  if (iso.contains("cgroups")) {
    Recover(ctx, [&] {
      out.cgroups_required =
          GetChoice(iso["cgroups"], ctx.At("cgroups"), {"required", "preferred"}) == "required";
    });
  }
  if (iso.contains("capabilities")) {
    Recover(ctx, [&] {
      Ctx cc = ctx.At("capabilities");
      const json& caps = iso["capabilities"];
      if (caps.is_string() && caps.get<std::string>() == "inherit") {
        out.capabilities.reset();
      } else if (caps.is_array()) {
        CapSet set = 0;
        for (std::size_t i = 0; i < caps.size(); ++i) {
          Recover(ctx, [&] {
            std::string name = GetString(caps[i], cc.At(i));
            auto cap = CapFromName(name);
            if (!cap) {
              cc.At(i).Fail(
                  fmt::format("unknown capability \"{}\"{} (names as in capabilities(7), "
                              "with or without CAP_)",
                              name, Suggest(name, AllCapNames())));
            }
            set |= CapBit(*cap);
          });
        }
        out.capabilities = set;
      } else {
        cc.Fail("expected \"inherit\" or an array of capability names such as [\"CHOWN\"]");
      }
    });
  }
}

std::pair<std::size_t, std::size_t> LineColumn(std::string_view text, std::size_t byte) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

json Parse(std::string_view text, std::string_view origin) {
  if (text.size() > kMaxPolicyBytes) {
    throw PolicyError(fmt::format("{}: policy is {} bytes; the limit is {} bytes", origin,
                                  text.size(), kMaxPolicyBytes));
  }
  auto depth_guard = [&](int depth, json::parse_event_t, json&) {
    if (depth > kMaxDepth) {
      throw PolicyError(fmt::format("{}: nesting deeper than {} levels", origin, kMaxDepth));
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), depth_guard);
  } catch (const json::parse_error& e) {
    auto [line, col] = LineColumn(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    std::size_t colon = what.find(": ", what.find("parse error"));
    throw PolicyError(fmt::format("{}:{}:{}: invalid JSON: {}", origin, line, col,
                                  colon == std::string::npos ? what : what.substr(colon + 2)));
  } catch (const json::exception& e) {  // e.g. a number too large for a double
    throw PolicyError(fmt::format("{}: invalid JSON: {}", origin, e.what()));
  }
}

void Apply(const json& doc, const Ctx& ctx, const Variables& vars, Policy& p) {
  // Each section is read to its end even when one before it had errors.
  auto section = [&](const char* key, auto&& parse) {
    if (doc.contains(key)) Recover(ctx, [&] { parse(doc[key], ctx.At(key)); });
  };
  section("name", [&](const json& v, const Ctx& c) { p.name = GetString(v, c); });
  section("description", [&](const json& v, const Ctx& c) { p.description = GetString(v, c); });
  section("files", [&](const json& v, const Ctx& c) { ParseFiles(v, c, vars, p); });
  section("network", [&](const json& v, const Ctx& c) { ParseNetwork(v, c, vars, p); });
  section("escapes", [&](const json& v, const Ctx& c) { ParseEscapes(v, c, p); });
  section("syscalls", [&](const json& v, const Ctx& c) { ParseSyscalls(v, c, p); });
  section("limits", [&](const json& v, const Ctx& c) { ParseLimits(v, c, p); });
  section("isolation", [&](const json& v, const Ctx& c) { ParseIsolation(v, c, p); });
}

std::string ReadPolicyFile(const std::string& path) {
  // Opened without blocking and checked before reading: a FIFO or a device named as a policy
  // would hang the run or feed it whatever the other end writes.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    int err = errno;
    if (fd >= 0) close(fd);
    throw PolicyError(fmt::format("cannot read policy file {}: {}", path, std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    throw PolicyError(fmt::format(
        "policy file {} is not a regular file (a FIFO, device or directory); copy the policy "
        "into a file and name that",
        path));
  }
  std::string text(kMaxPolicyBytes + 1, '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    ssize_t n = read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      throw PolicyError(fmt::format("cannot read policy file {}: {}", path, std::strerror(err)));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  close(fd);
  text.resize(got);
  return text;
}

constexpr std::size_t kMaxExtendsDepth = 16;

struct LoadState {
  const Variables& vars;
  std::vector<std::string> stack;  // origins being loaded, outermost first
  Problems problems;               // every error of every document in the chain
};

// Loads `text` on top of `p`: first what it extends, then its own keys.
// `key` identifies the document for cycle detection: a preset's name or a file's real path.
void LoadInto(std::string_view text, const std::string& origin, const std::string& base_dir,
              const std::string& key, LoadState& st, Policy& p) {
  json doc = Parse(text, origin);
  PositionMap positions = IndexPositions(text);
  Ctx ctx{origin, "", &positions, &st.problems};
  CheckKeys(doc, ctx,
            {"version", "name", "description", "extends", "files", "network", "escapes", "syscalls",
             "limits", "isolation"});
  Recover(ctx, [&] {
    if (!doc.contains("version")) ctx.Fail("missing \"version\": 1");
    if (!doc["version"].is_number_integer() || doc["version"].get<long long>() != 1) {
      ctx.At("version").Fail("unsupported version (this tracejail reads version 1)");
    }
  });
  st.stack.push_back(key);
  if (doc.contains("extends")) {
    Recover(ctx, [&] {
      Ctx ec = ctx.At("extends");
      std::string base = GetString(doc["extends"], ec);
      if (st.stack.size() > kMaxExtendsDepth) {
        ec.Fail(fmt::format("\"extends\" chain deeper than {} policies", kMaxExtendsDepth));
      }
      if (auto preset = PresetText(base)) {
        if (std::find(st.stack.begin(), st.stack.end(), base) != st.stack.end()) {
          ec.Fail(fmt::format("\"extends\" cycle through preset \"{}\"", base));
        }
        LoadInto(*preset, base, "", base, st, p);
      } else if (base.find('/') != std::string::npos || base.ends_with(".json")) {
        std::string path = base.starts_with("/") || base_dir.empty() ? base : base_dir + "/" + base;
        char real[PATH_MAX];
        if (realpath(path.c_str(), real) == nullptr) {
          ec.Fail(fmt::format("cannot read extended policy {}: {}", path, std::strerror(errno)));
        }
        std::string canonical = real;
        if (std::find(st.stack.begin(), st.stack.end(), canonical) != st.stack.end()) {
          std::string cycle;
          for (const auto& o : st.stack) cycle += o + " -> ";
          ec.Fail(fmt::format("\"extends\" cycle: {}{}", cycle, canonical));
        }
        std::string dir = canonical.substr(0, canonical.rfind('/'));
        LoadInto(ReadPolicyFile(canonical), canonical, dir.empty() ? "/" : dir, canonical, st, p);
      } else {
        std::vector<std::string> names;
        for (const auto& known : Presets()) names.emplace_back(known.name);
        ec.Fail(fmt::format("unknown preset \"{}\"{} (presets: {}; or a path to a .json file)",
                            base, Suggest(base, names), JoinAll(names)));
      }
    });
  }
  // Rules added by this document form the next layer (they override their base at equal
  // specificity).
  std::size_t paths_before = p.path_rules.size(), nets_before = p.net_rules.size(),
              syscalls_before = p.syscall_rules.size();
  Apply(doc, ctx, st.vars, p);
  int layer = static_cast<int>(p.chain.size());
  for (std::size_t i = paths_before; i < p.path_rules.size(); ++i) p.path_rules[i].layer = layer;
  for (std::size_t i = nets_before; i < p.net_rules.size(); ++i) p.net_rules[i].layer = layer;
  for (std::size_t i = syscalls_before; i < p.syscall_rules.size(); ++i) {
    p.syscall_rules[i].layer = layer;
  }
  p.chain.push_back(origin);
  st.stack.pop_back();
}

// Every error, in document order (a base policy's before the policy that extends it), one per
// line, and how many more there were past the cap.
std::vector<std::string> Report(Problems problems) {
  std::vector<std::string> origins;
  for (const Problem& p : problems.list) {
    if (std::find(origins.begin(), origins.end(), p.origin) == origins.end()) {
      origins.push_back(p.origin);
    }
  }
  auto rank = [&](const Problem& p) {
    return std::tuple(std::find(origins.begin(), origins.end(), p.origin) - origins.begin(), p.line,
                      p.column);
  };
  std::stable_sort(problems.list.begin(), problems.list.end(),
                   [&](const Problem& a, const Problem& b) { return rank(a) < rank(b); });
  std::vector<std::string> lines;
  for (Problem& p : problems.list) lines.push_back(std::move(p.message));
  if (problems.dropped > 0) {
    lines.push_back(fmt::format("... and {} more errors (only the first {} are shown)",
                                problems.dropped, Problems::kMaxProblems));
  }
  return lines;
}

// What a policy that says nothing gets: fail closed.
Policy FailClosedBase() {
  Policy p;
  for (std::size_t i = 1; i < kPrimitiveCount; ++i) {
    p.primitives.at(i) = {"builtin:escapes", kEscapeDeny};
  }
  p.primitives.at(kUnknownIndex) = {"builtin:unknown-syscall", kUnknownSyscallDeny};
  p.path_default = {"builtin:files-default", Verdict{}};
  p.net_default = {"builtin:network-default", kNetDeny};
  p.family_default = {"builtin:families", Verdict{Action::kDeny, EAFNOSUPPORT,
                                                  EventType::kPermissionDenied, Severity::kMedium}};
  p.families = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
  return p;
}

// ${ROOT_HOME}: root's home as another user's, derived from ${HOME} when the caller did not set
// it. When the caller is root with HOME=/root, a rule for other users' homes must not tie with
// the caller's own-home rule (and deny it).
Variables WithDerived(const Variables& vars) {
  Variables all = vars;
  if (!all.contains("ROOT_HOME")) {
    auto home = all.find("HOME");
    all["ROOT_HOME"] = home != all.end() && home->second == "/root" ? "/nonexistent/root" : "/root";
  }
  return all;
}

Policy Load(std::string_view text, const std::string& origin, const std::string& base_dir,
            const std::string& key, const Variables& given) {
  const Variables vars = WithDerived(given);
  LoadState st{vars, {}, {}};
  Policy p = FailClosedBase();
  LoadInto(text, origin, base_dir, key, st, p);
  if (!st.problems.list.empty()) throw PolicyError(Report(std::move(st.problems)));
  p.source = std::string(text);
  if (p.name.empty()) p.name = origin;
  p.Compile();
  return p;
}

}  // namespace

Variables DefaultVariables() {
  Variables vars;
  char buf[PATH_MAX];
  vars["CWD"] = getcwd(buf, sizeof buf) ? base::NormalizePath(buf) : "/";
  vars["WORKDIR"] = vars["CWD"];
  const char* home = std::getenv("HOME");
  vars["HOME"] = home && home[0] == '/' ? base::NormalizePath(home) : "/nonexistent";
  const char* tmp = std::getenv("TMPDIR");
  vars["TMPDIR"] = tmp && tmp[0] == '/' ? base::NormalizePath(tmp) : "/tmp";
  vars["COMMAND"] = "/nonexistent/command";
  return WithDerived(vars);
}

Policy LoadPolicyText(std::string_view text, std::string_view origin, const Variables& vars) {
  return Load(text, std::string(origin), "", std::string(origin), vars);
}

Policy LoadPolicyFile(const std::string& path, const Variables& vars) {
  std::string text = ReadPolicyFile(path);
  std::size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  char real[PATH_MAX];
  std::string key = realpath(path.c_str(), real) != nullptr ? std::string(real) : path;
  return Load(text, path, dir, key, vars);
}

std::string_view DefaultPolicyText() { return *PresetText(kDefaultPreset); }

Policy LoadDefaultPolicy(const Variables& vars) {
  return LoadPolicyText(DefaultPolicyText(), kDefaultPreset, vars);
}

std::optional<Policy> LoadPreset(std::string_view name, const Variables& vars) {
  auto text = PresetText(name);
  if (!text) return std::nullopt;
  return LoadPolicyText(*text, name, vars);
}

Policy LoadPolicySpec(const std::string& spec, const Variables& vars) {
  if (auto p = LoadPreset(spec, vars)) return std::move(*p);
  if (spec.find('/') == std::string::npos && !spec.ends_with(".json")) {
    std::string names;
    for (const auto& preset : Presets())
      names += (names.empty() ? "" : ", ") + std::string(preset.name);
    throw PolicyError(
        fmt::format("unknown level \"{}\" (levels: {}; or a path to a .json file)", spec, names));
  }
  return LoadPolicyFile(spec, vars);
}

}  // namespace policy
