#include "report/policy_replay.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "base/escape.h"
#include "policy/names.h"
#include "syscalls/table.h"

namespace report {
namespace {

using nlohmann::json;
using policy::Action;

// The bytes base::EscapeBytes wrote as "\xHH" and "\\", back; anything else as is.
std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 3]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 2, 2)), nullptr, 16));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// "AF_INET" (as events write families) or "inet" (as policies do) -> AF_INET.
std::optional<int> FamilyOf(std::string name) {
  if (name.starts_with("AF_")) name = name.substr(3);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return policy::FamilyFromName(name);
}

policy::Access AccessOf(const std::string& names) {
  policy::Access a = policy::Access::kNone;
  std::size_t start = 0;
  while (start < names.size()) {
    std::size_t end = names.find('|', start);
    if (end == std::string::npos) end = names.size();
    if (auto bit = policy::AccessFromName(names.substr(start, end - start))) a = a | *bit;
    start = end + 1;
  }
  return a;
}

std::optional<policy::SocketAddress> AddressOf(const AddressArg& a) {
  policy::SocketAddress out;
  const std::optional<int> family = a.family ? FamilyOf(*a.family) : std::nullopt;
  if (!family) return std::nullopt;
  out.family = *family;
  if (out.family == AF_INET || out.family == AF_INET6) {
    if (!a.address || inet_pton(out.family, a.address->c_str(), out.ip.data()) != 1) {
      return std::nullopt;
    }
    if (!a.port || *a.port < 0 || *a.port > 65535) return std::nullopt;
    out.port = static_cast<std::uint16_t>(*a.port);
  } else if (out.family == AF_UNIX) {
    if (a.path) {
      out.unix_path = Unescape(*a.path);
    } else if (a.abstract) {
      out.unix_path = Unescape(*a.abstract);
      out.abstract = true;
    } else {
      out.unnamed = true;
    }
  }
  return out;
}

// Every decoded address in `v` (sendmsg's and sendmmsg's are nested), in order, 3 levels deep.
void CollectAddresses(const json& v, int depth, std::vector<policy::SocketAddress>& out) {
  if (depth > 3) return;
  if (std::optional<AddressArg> a = AsAddressArg(v)) {
    if (auto addr = AddressOf(*a)) out.push_back(*addr);
    return;
  }
  if (v.is_object() || v.is_array()) {
    for (const auto& item : v) CollectAddresses(item, depth + 1, out);
  }
}

// Socket type from "SOCK_STREAM|SOCK_CLOEXEC"; -1 when not said.
int SocketTypeOf(const json& args) {
  auto it = args.find("type");
  if (it == args.end() || !it->is_string()) return -1;
  const std::string& t = it->get_ref<const std::string&>();
  for (const auto& [name, value] :
       {std::pair{"SOCK_STREAM", SOCK_STREAM}, std::pair{"SOCK_DGRAM", SOCK_DGRAM},
        std::pair{"SOCK_RAW", SOCK_RAW}, std::pair{"SOCK_SEQPACKET", SOCK_SEQPACKET}}) {
    if (t == name || t.starts_with(std::string(name) + "|")) return value;
  }
  return -1;
}

// Rules of tracejail's own guards: decided by tracejail whatever the policy says. The
// builtin ids a policy owns (its defaults) are decided by the candidate policy again.
bool IsGuard(const std::string& rule) {
  if (!rule.starts_with("builtin:")) return false;
  for (std::string_view own :
       {"builtin:escapes", "builtin:unknown-syscall", "builtin:files-default",
        "builtin:network-default", "builtin:families", "builtin:syscalls-default",
        "builtin:anonymous-object-metadata", "builtin:unresolvable-path"}) {
    if (rule == own) return false;
  }
  return true;
}

std::string EndpointText(const policy::SocketAddress& a) {
  if (a.family == AF_INET || a.family == AF_INET6) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(a.family, a.ip.data(), buf, sizeof buf);
    return a.family == AF_INET6 ? fmt::format("[{}]:{}", buf, a.port)
                                : fmt::format("{}:{}", buf, a.port);
  }
  if (a.family == AF_UNIX) {
    if (a.unnamed) return "unix:(unnamed)";
    return "unix:" + std::string(a.abstract ? "@" : "") + base::EscapeBytes(a.unix_path);
  }
  return policy::FamilyName(a.family);
}

// What the request names, for a person: "/etc/passwd (read)", "127.0.0.1:80 (connect)".
std::string TargetText(const policy::Request& r) {
  std::string out;
  auto add = [&out](const std::string& s) { out += (out.empty() ? "" : " ") + s; };
  for (int i = 0; i < r.path_count; ++i) {
    const auto& p = r.paths.at(static_cast<std::size_t>(i));
    add(fmt::format("{} ({})", base::EscapeBytes(p.path), policy::AccessNames(p.access)));
  }
  auto add_net = [&](const policy::NetAccess& n) {
    if (n.addr) {
      add(fmt::format("{} ({})", EndpointText(*n.addr), policy::Name(n.verb)));
    } else if (n.verb == syscalls::NetVerb::kSocket) {
      add(fmt::format("family {}", policy::FamilyName(n.family)));
    }
  };
  if (r.net) add_net(*r.net);
  for (const auto& n : r.more_net) add_net(n);
  if (r.primitive != policy::Primitive::kNone) {
    add(fmt::format("[{}]", policy::Name(r.primitive)));
  }
  return out;
}

}  // namespace

std::optional<policy::Request> RequestOf(const Event& e, std::string& why) {
  if (IsLifecycle(e) || IsLimit(e) || !e.syscall) {
    why = "not a call";
    return std::nullopt;
  }
  policy::Request req;
  req.syscall = e.syscall->name;
  if (!e.primitive.empty()) {
    std::optional<policy::Primitive> p = policy::PrimitiveFromName(e.primitive);
    if (!p) {
      why = fmt::format("unknown escape primitive \"{}\"", base::DisplayText(e.primitive));
      return std::nullopt;
    }
    req.primitive = *p;
  }
  const json& args = e.args;
  if (args.is_object()) {
    for (const auto& [key, value] : args.items()) {
      std::optional<PathArg> p = AsPathArg(value);
      if (!p || (!p->resolved && !p->raw) || req.path_count >= 2) continue;
      policy::PathAccess& pa = req.paths.at(static_cast<std::size_t>(req.path_count));
      pa.resolved = p->resolved.has_value();
      pa.path = Unescape(p->resolved.value_or(*p->raw));
      pa.access = AccessOf(p->access);
      // A rename moves the name with everything beneath it (tracer/decode.cc).
      pa.carries_tree = req.path_count == 0 && e.syscall->name.starts_with("rename");
      ++req.path_count;
    }
  }
  const syscalls::SyscallRow* row = syscalls::FindRow(e.syscall->name);
  if (row != nullptr && row->kind == syscalls::Kind::kNet && args.is_object()) {
    policy::NetAccess net;
    net.verb = row->verb;
    net.type = SocketTypeOf(args);
    if (row->verb == syscalls::NetVerb::kSocket) {
      auto domain = args.find("domain");
      std::optional<int> family = domain != args.end() && domain->is_string()
                                      ? FamilyOf(domain->get<std::string>())
                                      : std::nullopt;
      if (!family) {
        why = "socket call without a family the policy knows";
        return std::nullopt;
      }
      net.family = *family;
      req.net = net;
    } else {
      std::vector<policy::SocketAddress> addrs;
      CollectAddresses(args, 0, addrs);
      for (std::size_t i = 0; i < addrs.size(); ++i) {
        policy::NetAccess one = net;
        one.family = addrs[i].family;
        one.addr = addrs[i];
        if (i == 0) {
          req.net = one;
        } else {
          req.more_net.push_back(one);
        }
      }
      if (addrs.empty()) req.net = net;  // a send on a connected socket: nothing to decide
    }
  }
  return req;
}

void PolicyReplay::Add(const Record& record) {
  const Event* ep = AsEvent(record);
  if (ep == nullptr) return;
  const Event& e = *ep;
  if (IsLifecycle(e) || IsLimit(e)) return;
  const std::uint64_t n = e.repeat ? e.repeat->count : 1;
  if (e.would || e.type == policy::EventType::kSyscallAllowed) r_.audit_recording = true;
  std::string why;
  std::optional<policy::Request> req = RequestOf(e, why);
  if (!req) {
    r_.not_replayed += n;
    return;
  }
  ReplayVerdict v;
  v.syscall = e.syscall->name;
  v.target = TargetText(*req);
  v.recorded = Effective(e);
  if (IsGuard(e.rule)) {
    v.action = Effective(e);
    v.rule = e.rule;
    v.guard = true;
  } else {
    std::optional<policy::Decision> sd;
    if (!policy_.syscall_rules.empty() ||
        policy_.syscall_default.action != policy::SyscallAction::kAllow) {
      sd = policy_.DecideSyscall(e.syscall->name, e.raw_args.data());
      if (!sd && policy_.syscall_default.action != policy::SyscallAction::kAllow) {
        const bool kill = policy_.syscall_default.action == policy::SyscallAction::kKill;
        sd = policy::Decision{kill ? Action::kKill : Action::kDeny, policy_.syscall_default.error,
                              policy::EventType::kSyscallBlocked, policy::Severity::kMedium,
                              policy_.syscall_default.id};
      }
    }
    if (sd && sd->action != Action::kAllow) {
      v.action = sd->action;
      v.rule = std::string(sd->rule);
      v.tip = {{"syscalls", {{"rules", {{{"names", {v.syscall}}, {"action", "allow"}}}}}}};
    } else {
      const policy::Decision d = policy_.Evaluate(*req);
      v.action = d.action;
      v.rule = std::string(d.rule);
      if (d.action != Action::kAllow) v.tip = policy_.Tip(*req);
    }
  }
  r_.calls += n;
  (v.action == Action::kAllow  ? r_.allowed
   : v.action == Action::kDeny ? r_.denied
                               : r_.killed) += n;
  const std::string key =
      fmt::format("{}\n{}\n{}\n{}", policy::Name(v.action), v.rule, v.syscall, v.target);
  auto [it, fresh] = index_.try_emplace(key, r_.verdicts.size());
  if (!fresh) {
    r_.verdicts[it->second].count += n;
    return;
  }
  v.count = n;
  r_.verdicts.push_back(std::move(v));
}

std::string RenderReplayText(const ReplayResult& r, std::string_view policy_name,
                             std::string_view events_file, bool list_allowed) {
  std::string out = fmt::format("{} against {}: {} call(s): {} allowed, {} denied, {} killed\n",
                                base::DisplayText(policy_name), base::DisplayText(events_file),
                                r.calls, r.allowed, r.denied, r.killed);
  if (!r.audit_recording) {
    out +=
        "note: an enforce-mode recording: the calls its own policy allowed were not recorded "
        "and are not tested (record with `tracejail run --mode audit` or `tracejail learn`)\n";
  }
  if (r.not_replayed > 0) {
    out += fmt::format("note: {} recorded decision(s) had no call to replay\n", r.not_replayed);
  }
  auto line = [&out](const ReplayVerdict& v) {
    out += fmt::format("{:<5} {} {}{}  <- {}{}\n", policy::Name(v.action),
                       base::DisplayText(v.syscall), base::DisplayText(v.target),
                       v.count > 1 ? fmt::format(" (x{})", v.count) : "", base::DisplayText(v.rule),
                       v.guard ? " (tracejail's own guard, under every policy)" : "");
    if (!v.tip.is_null()) {
      out += fmt::format("      to allow it, add to the policy: {}\n", base::JsonForDisplay(v.tip));
    }
  };
  for (const auto& v : r.verdicts) {
    if (v.action != Action::kAllow) line(v);
  }
  if (list_allowed) {
    for (const auto& v : r.verdicts) {
      if (v.action == Action::kAllow) line(v);
    }
  }
  return out;
}

nlohmann::json ReplayJson(const ReplayResult& r, std::string_view policy_name,
                          std::string_view events_file) {
  json verdicts = json::array();
  for (const auto& v : r.verdicts) {
    verdicts.push_back({{"action", policy::Name(v.action)},
                        {"rule", v.rule},
                        {"syscall", v.syscall},
                        {"target", v.target},
                        {"recorded", policy::Name(v.recorded)},
                        {"count", v.count},
                        {"guard", v.guard},
                        {"tip", v.tip}});
  }
  return {{"schema_version", kSchemaVersion},
          {"policy", policy_name},
          {"events", events_file},
          {"audit_recording", r.audit_recording},
          {"calls", r.calls},
          {"allowed", r.allowed},
          {"denied", r.denied},
          {"killed", r.killed},
          {"not_replayed", r.not_replayed},
          {"verdicts", verdicts}};
}

}  // namespace report
