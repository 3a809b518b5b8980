#include "policy/loader.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>

#include <fmt/format.h>

#include "policy/names.h"

namespace policy {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 32;

// Where we are in the document, for messages: "policy.json#/files/rules/3/action".
struct Ctx {
  std::string origin;
  std::string pointer;
  Ctx At(std::string_view key) const { return Ctx{origin, pointer + "/" + std::string(key)}; }
  Ctx At(std::size_t index) const { return Ctx{origin, pointer + "/" + std::to_string(index)}; }
  [[noreturn]] void Fail(const std::string& what) const {
    throw PolicyError(fmt::format("{}#{}: {}", origin, pointer.empty() ? "/" : pointer, what));
  }
};

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
    if (!ok) ctx.Fail(fmt::format("unknown key \"{}\" (allowed here: {})", key, Join(allowed)));
  }
}

std::string GetString(const json& v, const Ctx& ctx) {
  if (!v.is_string()) ctx.Fail("expected a string");
  return v.get<std::string>();
}

std::string ExpandVariables(const std::string& in, const Ctx& ctx, const Variables& vars) {
  std::string out;
  std::size_t i = 0;
  while (i < in.size()) {
    std::size_t start = in.find("${", i);
    if (start == std::string::npos) {
      out.append(in, i);
      break;
    }
    out.append(in, i, start - i);
    std::size_t end = in.find('}', start);
    if (end == std::string::npos) ctx.Fail(fmt::format("unterminated variable in \"{}\"", in));
    std::string name = in.substr(start + 2, end - start - 2);
    auto it = vars.find(name);
    if (it == vars.end()) {
      std::string known;
      for (const auto& [k, v] : vars) known += (known.empty() ? "" : ", ") + k;
      ctx.Fail(fmt::format("unknown variable ${{{}}} (known: {})", name, known));
    }
    out += it->second;
    i = end + 1;
  }
  return out;
}

Verdict ParseVerdict(const json& obj, const Ctx& ctx, const Verdict& defaults_for_deny) {
  Verdict v;
  if (!obj.contains("action")) ctx.Fail("missing \"action\" (allow, deny or kill)");
  std::string action = GetString(obj["action"], ctx.At("action"));
  auto a = ActionFromName(action);
  if (!a) ctx.At("action").Fail(fmt::format("unknown action \"{}\" (allow, deny or kill)", action));
  v.action = *a;
  if (v.action != Action::kAllow) {
    v.error = defaults_for_deny.error;
    v.event = defaults_for_deny.event;
    v.severity = defaults_for_deny.severity;
  }
  if (obj.contains("errno")) {
    std::string name = GetString(obj["errno"], ctx.At("errno"));
    auto e = ErrnoFromName(name);
    if (!e) ctx.At("errno").Fail(fmt::format("unknown errno \"{}\" (e.g. EACCES, EPERM)", name));
    if (v.action != Action::kDeny) ctx.At("errno").Fail("\"errno\" only applies to action deny");
    v.error = *e;
  }
  if (obj.contains("event")) {
    std::string name = GetString(obj["event"], ctx.At("event"));
    auto t = EventTypeFromName(name);
    if (!t) ctx.At("event").Fail(fmt::format("unknown event type \"{}\"", name));
    v.event = *t;
  }
  if (obj.contains("severity")) {
    std::string name = GetString(obj["severity"], ctx.At("severity"));
    auto s = SeverityFromName(name);
    if (!s) {
      ctx.At("severity")
          .Fail(fmt::format("unknown severity \"{}\" (info, low, medium, high, "
                            "critical)",
                            name));
    }
    v.severity = *s;
  }
  return v;
}

const Verdict kFileDeny{Action::kDeny, EACCES, EventType::kPermissionDenied, Severity::kMedium};
const Verdict kNetDeny{Action::kDeny, EACCES, EventType::kPermissionDenied, Severity::kMedium};
const Verdict kEscapeDeny{Action::kDeny, EPERM, EventType::kEscapeAttempt, Severity::kHigh};

std::string RuleId(const Ctx& ctx) { return ctx.origin + "#" + ctx.pointer; }

void ParseFiles(const json& files, const Ctx& ctx, const Variables& vars, Policy& p) {
  CheckKeys(files, ctx, {"default", "rules"});
  if (files.contains("default")) {
    CheckKeys(files["default"], ctx.At("default"), {"action", "errno", "event", "severity"});
    p.path_default = {RuleId(ctx.At("default")),
                      ParseVerdict(files["default"], ctx.At("default"), kFileDeny)};
  }
  if (!files.contains("rules")) return;
  const json& rules = files["rules"];
  if (!rules.is_array()) ctx.At("rules").Fail("expected an array of rules");
  for (std::size_t i = 0; i < rules.size(); ++i) {
    Ctx rc = ctx.At("rules").At(i);
    const json& r = rules[i];
    CheckKeys(r, rc, {"path", "access", "action", "errno", "event", "severity", "id"});
    if (!r.contains("path")) rc.Fail("missing \"path\"");
    std::string path = ExpandVariables(GetString(r["path"], rc.At("path")), rc.At("path"), vars);
    if (path.empty() || path[0] != '/') {
      rc.At("path").Fail(fmt::format("\"{}\" is not an absolute path", path));
    }
    PathRule rule;
    rule.id = r.contains("id") ? GetString(r["id"], rc.At("id")) : RuleId(rc);
    rule.prefix = NormalizePath(path);
    if (!r.contains("access") || !r["access"].is_array() || r["access"].empty()) {
      rc.At("access").Fail(
          "expected a non-empty array of access kinds (read, write, create, "
          "delete, exec, metadata, chmod, chown)");
    }
    for (std::size_t k = 0; k < r["access"].size(); ++k) {
      std::string name = GetString(r["access"][k], rc.At("access").At(k));
      auto a = AccessFromName(name);
      if (!a) {
        rc.At("access").At(k).Fail(fmt::format(
            "unknown access kind \"{}\" (read, write, create, delete, exec, metadata, chmod, "
            "chown)",
            name));
      }
      rule.access = rule.access | *a;
    }
    rule.verdict = ParseVerdict(r, rc, kFileDeny);
    p.path_rules.push_back(std::move(rule));
  }
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

void ParseNetwork(const json& net, const Ctx& ctx, Policy& p) {
  CheckKeys(net, ctx, {"families", "family_default", "default", "rules"});
  if (net.contains("families")) {
    const json& fams = net["families"];
    if (!fams.is_array()) ctx.At("families").Fail("expected an array of family names");
    p.families.clear();
    for (std::size_t i = 0; i < fams.size(); ++i) {
      std::string name = GetString(fams[i], ctx.At("families").At(i));
      auto f = FamilyFromName(name);
      if (!f) ctx.At("families").At(i).Fail(fmt::format("unknown socket family \"{}\"", name));
      p.families.push_back(*f);
    }
  }
  const Verdict kFamilyDeny{Action::kDeny, EAFNOSUPPORT, EventType::kPermissionDenied,
                            Severity::kMedium};
  if (net.contains("family_default")) {
    Ctx c = ctx.At("family_default");
    CheckKeys(net["family_default"], c, {"action", "errno", "event", "severity"});
    p.family_default = {RuleId(c), ParseVerdict(net["family_default"], c, kFamilyDeny)};
  }
  if (net.contains("default")) {
    Ctx c = ctx.At("default");
    CheckKeys(net["default"], c, {"action", "errno", "event", "severity"});
    p.net_default = {RuleId(c), ParseVerdict(net["default"], c, kNetDeny)};
  }
  if (!net.contains("rules")) return;
  const json& rules = net["rules"];
  if (!rules.is_array()) ctx.At("rules").Fail("expected an array of rules");
  for (std::size_t i = 0; i < rules.size(); ++i) {
    Ctx rc = ctx.At("rules").At(i);
    const json& r = rules[i];
    CheckKeys(
        r, rc,
        {"verbs", "family", "cidr", "ports", "unix", "action", "errno", "event", "severity", "id"});
    NetRule rule;
    rule.id = r.contains("id") ? GetString(r["id"], rc.At("id")) : RuleId(rc);
    if (r.contains("verbs")) {
      if (!r["verbs"].is_array()) rc.At("verbs").Fail("expected an array of verbs");
      for (std::size_t k = 0; k < r["verbs"].size(); ++k) {
        std::string name = GetString(r["verbs"][k], rc.At("verbs").At(k));
        auto v = VerbFromName(name);
        if (!v || *v == NetVerb::kSocket) {
          rc.At("verbs").At(k).Fail(
              fmt::format("unknown verb \"{}\" (connect, bind, send, listen, accept)", name));
        }
        rule.verbs = static_cast<std::uint8_t>(rule.verbs | (1u << static_cast<unsigned>(*v)));
      }
    } else {
      rule.verbs = static_cast<std::uint8_t>((1u << static_cast<unsigned>(NetVerb::kConnect)) |
                                             (1u << static_cast<unsigned>(NetVerb::kSend)));
    }
    if (r.contains("family")) {
      std::string name = GetString(r["family"], rc.At("family"));
      auto f = FamilyFromName(name);
      if (!f) rc.At("family").Fail(fmt::format("unknown socket family \"{}\"", name));
      rule.family = *f;
    }
    if (r.contains("cidr")) {
      rule.cidr = ParseCidr(GetString(r["cidr"], rc.At("cidr")), rc.At("cidr"));
      if (rule.family && *rule.family != rule.cidr->family) {
        rc.At("cidr").Fail("address family does not match \"family\"");
      }
    }
    if (r.contains("ports")) {
      std::string ports = GetString(r["ports"], rc.At("ports"));
      std::size_t dash = ports.find('-');
      std::string_view sv(ports);
      rule.port_lo = ParsePort(sv.substr(0, dash), rc.At("ports"));
      rule.port_hi =
          dash == std::string::npos ? rule.port_lo : ParsePort(sv.substr(dash + 1), rc.At("ports"));
      if (rule.port_lo > rule.port_hi) rc.At("ports").Fail("port range is reversed");
    }
    if (r.contains("unix")) {
      std::string u = GetString(r["unix"], rc.At("unix"));
      if (u.starts_with("@")) {
        rule.unix_abstract = true;
        rule.unix_prefix = u.substr(1);
      } else if (u.starts_with("/")) {
        rule.unix_prefix = NormalizePath(u);
      } else {
        rc.At("unix").Fail("expected an absolute path or @abstract-name");
      }
      rule.family = AF_UNIX;
    }
    rule.verdict = ParseVerdict(r, rc, kNetDeny);
    p.net_rules.push_back(std::move(rule));
  }
}

void ParseEscapes(const json& esc, const Ctx& ctx, Policy& p) {
  if (!esc.is_object()) ctx.Fail("expected an object");
  if (esc.contains("default")) {
    Ctx c = ctx.At("default");
    CheckKeys(esc["default"], c, {"action", "errno", "event", "severity"});
    PrimitiveRule rule{RuleId(c), ParseVerdict(esc["default"], c, kEscapeDeny)};
    for (std::size_t i = 1; i < kPrimitiveCount; ++i) p.primitives.at(i) = rule;
  }
  for (const auto& [key, value] : esc.items()) {
    if (key == "default") continue;
    auto prim = PrimitiveFromName(key);
    if (!prim || *prim == Primitive::kNone) {
      std::string known;
      for (std::size_t i = 1; i < kPrimitiveCount; ++i) {
        known += (known.empty() ? "" : ", ") + std::string(Name(static_cast<Primitive>(i)));
      }
      ctx.Fail(fmt::format("unknown escape primitive \"{}\" (known: {})", key, known));
    }
    Ctx c = ctx.At(key);
    CheckKeys(value, c, {"action", "errno", "event", "severity"});
    p.primitives.at(static_cast<std::size_t>(*prim)) = {RuleId(c),
                                                        ParseVerdict(value, c, kEscapeDeny)};
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
  }
}

void Apply(const json& doc, const Ctx& ctx, const Variables& vars, Policy& p) {
  CheckKeys(doc, ctx, {"version", "name", "extends", "files", "network", "escapes"});
  if (!doc.contains("version")) ctx.Fail("missing \"version\": 1");
  if (!doc["version"].is_number_integer() || doc["version"].get<long long>() != 1) {
    ctx.At("version").Fail("unsupported version (this tracejail reads version 1)");
  }
  if (doc.contains("name")) p.name = GetString(doc["name"], ctx.At("name"));
  if (doc.contains("files")) ParseFiles(doc["files"], ctx.At("files"), vars, p);
  if (doc.contains("network")) ParseNetwork(doc["network"], ctx.At("network"), p);
  if (doc.contains("escapes")) ParseEscapes(doc["escapes"], ctx.At("escapes"), p);
}

}  // namespace

Variables DefaultVariables() {
  Variables vars;
  char buf[PATH_MAX];
  vars["CWD"] = getcwd(buf, sizeof buf) ? NormalizePath(buf) : "/";
  const char* home = std::getenv("HOME");
  vars["HOME"] = home && home[0] == '/' ? NormalizePath(home) : "/nonexistent";
  const char* tmp = std::getenv("TMPDIR");
  vars["TMPDIR"] = tmp && tmp[0] == '/' ? NormalizePath(tmp) : "/tmp";
  return vars;
}

Policy LoadPolicyText(std::string_view text, std::string_view origin, const Variables& vars) {
  json doc = Parse(text, origin);
  Ctx ctx{std::string(origin), ""};
  Policy p;
  // Fail closed: a policy that says nothing denies escape primitives and foreign sockets.
  for (std::size_t i = 1; i < kPrimitiveCount; ++i) {
    p.primitives.at(i) = {"builtin:escapes", kEscapeDeny};
  }
  p.path_default = {"builtin:files-default", Verdict{}};
  p.net_default = {"builtin:network-default", kNetDeny};
  p.family_default = {"builtin:families", Verdict{Action::kDeny, EAFNOSUPPORT,
                                                  EventType::kPermissionDenied, Severity::kMedium}};
  p.families = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
  if (doc.is_object() && doc.contains("extends")) {
    std::string base = GetString(doc["extends"], ctx.At("extends"));
    if (base != "default") {
      ctx.At("extends").Fail(
          fmt::format("unknown base \"{}\" (this version knows: default)", base));
    }
    p = LoadDefaultPolicy(vars);
  }
  Apply(doc, ctx, vars, p);
  p.source = std::string(text);
  if (p.name.empty()) p.name = std::string(origin);
  return p;
}

Policy LoadPolicyFile(const std::string& path, const Variables& vars) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw PolicyError(fmt::format("cannot read policy file {}: {}", path, std::strerror(errno)));
  }
  std::string text;
  text.resize(kMaxPolicyBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return LoadPolicyText(text, path, vars);
}

Policy LoadDefaultPolicy(const Variables& vars) {
  return LoadPolicyText(DefaultPolicyText(), "default", vars);
}

}  // namespace policy
