#include "policy/policy.h"

#include <sys/socket.h>

#include <arpa/inet.h>

#include <algorithm>

#include "policy/names.h"

namespace policy {
namespace {

int Rank(Action a) { return static_cast<int>(a); }  // allow < deny < kill

Decision ToDecision(const Verdict& v, std::string_view id) {
  return Decision{v.action, v.error, v.event, v.severity, id};
}

// Keeps the more restrictive of two decisions; the first on a tie.
void Restrict(Decision& acc, const Decision& d) {
  if (Rank(d.action) > Rank(acc.action)) acc = d;
}

bool IsMappedV4(const SocketAddress& a) {
  static constexpr std::array<std::uint8_t, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return a.family == AF_INET6 && std::equal(kMapped.begin(), kMapped.end(), a.ip.begin());
}

// An IPv4-mapped IPv6 address is matched by IPv4 rules as the IPv4 address it carries.
SocketAddress AsV4(const SocketAddress& a) {
  SocketAddress v4 = a;
  v4.family = AF_INET;
  v4.ip = {};
  std::copy_n(a.ip.begin() + 12, 4, v4.ip.begin());
  return v4;
}

bool PrefixBitsEqual(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b,
                     int bits) {
  int full = bits / 8;
  if (!std::equal(a.begin(), a.begin() + full, b.begin())) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[static_cast<std::size_t>(full)] & mask) == (b[static_cast<std::size_t>(full)] & mask);
}

}  // namespace

std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    i = j;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (auto p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

bool PathHasPrefix(std::string_view path, std::string_view prefix) {
  if (prefix == "/") return !path.empty() && path[0] == '/';
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

bool CidrContains(const Cidr& cidr, const SocketAddress& addr) {
  if (cidr.family == AF_INET && IsMappedV4(addr)) return CidrContains(cidr, AsV4(addr));
  if (cidr.family != addr.family) return false;
  return PrefixBitsEqual(cidr.ip, addr.ip, cidr.prefix_len);
}

Decision Policy::DecidePathAccess(const std::string& path, Access bit) const {
  const PathRule* best = nullptr;
  for (const auto& rule : path_rules) {
    if (!Any(rule.access & bit) || !PathHasPrefix(path, rule.prefix)) continue;
    if (best == nullptr || rule.prefix.size() > best->prefix.size() ||
        (rule.prefix.size() == best->prefix.size() &&
         Rank(rule.verdict.action) > Rank(best->verdict.action))) {
      best = &rule;
    }
  }
  return best ? ToDecision(best->verdict, best->id)
              : ToDecision(path_default.verdict, path_default.id);
}

Decision Policy::DecidePath(const PathAccess& path) const {
  if (!path.resolved) {
    return Decision{Action::kDeny, 13 /*EACCES*/, EventType::kPermissionDenied, Severity::kMedium,
                    "builtin:unresolvable-path"};
  }
  Decision result = ToDecision(Verdict{}, path_default.id);
  bool first = true;
  for (const auto& [bit, unused_name] : kAccessNames) {
    if (!Any(path.access & bit)) continue;
    Decision d = DecidePathAccess(path.path, bit);
    if (first) {
      result = d;
      first = false;
    } else {
      Restrict(result, d);
    }
  }
  return result;
}

Decision Policy::DecideNet(const NetAccess& net) const {
  if (net.verb == NetVerb::kSocket) {
    if (std::find(families.begin(), families.end(), net.family) != families.end()) {
      return Decision{Action::kAllow, 0, EventType::kNone, Severity::kInfo, family_default.id};
    }
    return ToDecision(family_default.verdict, family_default.id);
  }
  if (!net.addr) return Decision{};  // e.g. send on a connected socket: connect was decided
  const SocketAddress& addr = *net.addr;
  const NetRule* best = nullptr;
  int best_specificity = -1;
  auto verb_bit = static_cast<std::uint8_t>(1u << static_cast<unsigned>(net.verb));
  for (const auto& rule : net_rules) {
    if ((rule.verbs & verb_bit) == 0) continue;
    int effective_family = IsMappedV4(addr) ? AF_INET : addr.family;
    if (rule.family && *rule.family != addr.family && *rule.family != effective_family) continue;
    int specificity = 0;
    if (rule.cidr) {
      if (!CidrContains(*rule.cidr, addr)) continue;
      specificity += rule.cidr->prefix_len;
    }
    if (rule.port_lo != 0 || rule.port_hi != 65535) {
      if (addr.family != AF_INET && addr.family != AF_INET6) continue;
      if (addr.port < rule.port_lo || addr.port > rule.port_hi) continue;
      specificity += 1;
    }
    if (rule.unix_prefix) {
      if (addr.family != AF_UNIX || addr.abstract != rule.unix_abstract) continue;
      bool match = rule.unix_abstract ? addr.unix_path.starts_with(*rule.unix_prefix)
                                      : PathHasPrefix(addr.unix_path, *rule.unix_prefix);
      if (!match) continue;
      specificity += static_cast<int>(rule.unix_prefix->size());
    }
    if (best == nullptr || specificity > best_specificity ||
        (specificity == best_specificity &&
         Rank(rule.verdict.action) > Rank(best->verdict.action))) {
      best = &rule;
      best_specificity = specificity;
    }
  }
  return best ? ToDecision(best->verdict, best->id)
              : ToDecision(net_default.verdict, net_default.id);
}

Decision Policy::Evaluate(const Request& request) const {
  Decision result{};
  bool decided = false;
  auto take = [&](const Decision& d) {
    if (!decided) {
      result = d;
      decided = true;
    } else {
      Restrict(result, d);
    }
  };
  if (request.primitive != Primitive::kNone) {
    const auto& rule = primitives.at(static_cast<std::size_t>(request.primitive));
    take(ToDecision(rule.verdict, rule.id));
  }
  for (int i = 0; i < request.path_count; ++i) {
    take(DecidePath(request.paths.at(static_cast<std::size_t>(i))));
  }
  if (request.net) take(DecideNet(*request.net));
  for (const auto& net : request.more_net) take(DecideNet(net));
  return result;
}

nlohmann::json Policy::Tip(const Request& request) const {
  nlohmann::json tip = nlohmann::json::object();
  for (int i = 0; i < request.path_count; ++i) {
    const PathAccess& p = request.paths.at(static_cast<std::size_t>(i));
    if (!p.resolved) continue;
    nlohmann::json kinds = nlohmann::json::array();
    for (const auto& [bit, access_name] : kAccessNames) {
      if (Any(p.access & bit) && DecidePathAccess(p.path, bit).action != Action::kAllow) {
        kinds.push_back(access_name);
      }
    }
    if (!kinds.empty()) {
      tip["files"]["rules"].push_back({{"path", p.path}, {"access", kinds}, {"action", "allow"}});
    }
  }
  auto add_net = [&](const NetAccess& net) {
    if (DecideNet(net).action == Action::kAllow) return;
    if (net.verb == NetVerb::kSocket) {
      nlohmann::json fams = nlohmann::json::array();
      for (int f : families) fams.push_back(FamilyName(f));
      fams.push_back(FamilyName(net.family));
      tip["network"]["families"] = fams;
      return;
    }
    if (!net.addr) return;
    const SocketAddress& a = *net.addr;
    nlohmann::json rule = {{"verbs", {std::string(Name(net.verb))}}, {"action", "allow"}};
    if (a.family == AF_INET || a.family == AF_INET6) {
      SocketAddress shown = IsMappedV4(a) ? AsV4(a) : a;
      char buf[64] = {};
      inet_ntop(shown.family, shown.ip.data(), buf, sizeof buf);
      rule["cidr"] = std::string(buf) + (shown.family == AF_INET ? "/32" : "/128");
      rule["ports"] = std::to_string(a.port);
    } else if (a.family == AF_UNIX && !a.unnamed) {
      rule["unix"] = (a.abstract ? "@" : "") + a.unix_path;
    } else {
      rule["family"] = FamilyName(a.family);
    }
    tip["network"]["rules"].push_back(rule);
  };
  if (request.net) add_net(*request.net);
  for (const auto& net : request.more_net) add_net(net);
  if (request.primitive != Primitive::kNone &&
      primitives.at(static_cast<std::size_t>(request.primitive)).verdict.action != Action::kAllow) {
    tip["escapes"][std::string(Name(request.primitive))] = {{"action", "allow"}};
  }
  if (tip.empty()) return nullptr;
  return tip;
}

bool Policy::NeedsMetadata() const {
  return std::any_of(path_rules.begin(), path_rules.end(),
                     [&](const PathRule& r) {
                       return Any(r.access & Access::kMetadata) &&
                              r.verdict.action != path_default.verdict.action;
                     }) ||
         (path_default.verdict.action != Action::kAllow);
}

bool Policy::NeedsPaths() const {
  return path_default.verdict.action != Action::kAllow ||
         std::any_of(path_rules.begin(), path_rules.end(),
                     [](const PathRule& r) { return r.verdict.action != Action::kAllow; });
}

bool Policy::NeedsNetwork() const {
  return net_default.verdict.action != Action::kAllow ||
         family_default.verdict.action != Action::kAllow ||
         std::any_of(net_rules.begin(), net_rules.end(),
                     [](const NetRule& r) { return r.verdict.action != Action::kAllow; });
}

}  // namespace policy
