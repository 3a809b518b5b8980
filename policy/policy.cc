#include "policy/policy.h"

#include <arpa/inet.h>
#include <sys/socket.h>

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

// The first `bits` bits of `ip` (of a family's `len` bytes) as a hash key.
std::string MaskedKey(const std::array<std::uint8_t, 16>& ip, int bits) {
  std::string key(static_cast<std::size_t>((bits + 7) / 8), '\0');
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>(ip[i]);
  if (bits % 8 != 0 && !key.empty()) {
    key.back() = static_cast<char>(static_cast<std::uint8_t>(key.back()) &
                                   static_cast<std::uint8_t>(0xff << (8 - bits % 8)));
  }
  return key;
}

// The conflict rule: more specific, then the later layer (an extending policy overrides its
// base), then more restrictive.
struct Standing {
  int specificity;
  int layer;
  Action action;
};
bool Better(const Standing& a, const Standing& b) {
  if (a.specificity != b.specificity) return a.specificity > b.specificity;
  if (a.layer != b.layer) return a.layer > b.layer;
  return Rank(a.action) > Rank(b.action);
}

}  // namespace

bool CidrContains(const Cidr& cidr, const SocketAddress& addr) {
  if (cidr.family == AF_INET && IsMappedV4(addr)) return CidrContains(cidr, AsV4(addr));
  if (cidr.family != addr.family) return false;
  return PrefixBitsEqual(cidr.ip, addr.ip, cidr.prefix_len);
}

void Policy::Compile() {
  path_index_.clear();
  for (std::size_t i = 0; i < path_rules.size(); ++i) {
    path_index_[path_rules[i].pattern.anchor()].push_back(static_cast<std::uint32_t>(i));
  }
  path_indexed_ = path_rules.size();
  net_any_.clear();
  net_cidr_.clear();
  for (std::size_t i = 0; i < net_rules.size(); ++i) {
    const NetRule& r = net_rules[i];
    auto idx = static_cast<std::uint32_t>(i);
    if (!r.cidr) {
      net_any_.push_back(idx);
      continue;
    }
    std::pair<int, int> key{r.cidr->family, r.cidr->prefix_len};
    auto it = std::find_if(net_cidr_.begin(), net_cidr_.end(),
                           [&](const auto& b) { return b.first == key; });
    if (it == net_cidr_.end()) {
      net_cidr_.push_back({key, {}});
      it = net_cidr_.end() - 1;
    }
    it->second[MaskedKey(r.cidr->ip, r.cidr->prefix_len)].push_back(idx);
  }
  net_indexed_ = net_rules.size();
  needs_socket_type_ = std::any_of(net_rules.begin(), net_rules.end(),
                                   [](const NetRule& r) { return r.socket_type.has_value(); });
  syscall_index_.clear();
  for (std::size_t i = 0; i < syscall_rules.size(); ++i) {
    for (const auto& [n, spec] : syscall_rules[i].names) {
      syscall_index_[n].push_back(static_cast<std::uint32_t>(i));
    }
  }
  syscall_indexed_ = syscall_rules.size();
}

bool ConditionHolds(const ArgCondition& c, const std::uint64_t* args) {
  std::uint64_t v = args[c.index];
  switch (c.op) {
    case ArgCondition::Op::kEq:
      return v == c.value;
    case ArgCondition::Op::kNe:
      return v != c.value;
    case ArgCondition::Op::kLt:
      return v < c.value;
    case ArgCondition::Op::kLe:
      return v <= c.value;
    case ArgCondition::Op::kGt:
      return v > c.value;
    case ArgCondition::Op::kGe:
      return v >= c.value;
    case ArgCondition::Op::kMaskedEq:
      return (v & c.mask) == c.value;
  }
  return false;
}

std::vector<const SyscallRule*> Policy::SyscallRulesFor(std::string_view syscall) const {
  std::vector<std::pair<const SyscallRule*, int>> found;
  auto add = [&](const SyscallRule& r) {
    for (const auto& [n, spec] : r.names) {
      if (n == syscall) found.push_back({&r, spec});
    }
  };
  if (syscall_indexed_ == syscall_rules.size()) {
    auto it = syscall_index_.find(syscall);
    if (it != syscall_index_.end()) {
      for (std::uint32_t i : it->second) add(syscall_rules[i]);
    }
  } else {
    for (const auto& r : syscall_rules) add(r);
  }
  int top = 0;
  for (const auto& [r, spec] : found) top = std::max(top, spec);
  std::vector<const SyscallRule*> out;
  for (const auto& [r, spec] : found) {
    if (spec == top && std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  }
  return out;
}

std::optional<Decision> Policy::DecideSyscall(std::string_view syscall,
                                              const std::uint64_t* args) const {
  std::optional<Decision> result;
  auto rank = [](SyscallAction a) {
    switch (a) {
      case SyscallAction::kKill:
        return 3;
      case SyscallAction::kDeny:
        return 2;
      case SyscallAction::kTrace:
        return 1;
      case SyscallAction::kAllow:
        return 0;
    }
    return 0;
  };
  int best_layer = -1;
  int best = -1;
  for (const SyscallRule* r : SyscallRulesFor(syscall)) {
    bool holds = std::all_of(r->args.begin(), r->args.end(),
                             [&](const ArgCondition& c) { return ConditionHolds(c, args); });
    if (!holds) continue;
    // The later layer wins (an extending policy overrides its base), then the most restrictive.
    if (r->layer < best_layer || (r->layer == best_layer && rank(r->action) <= best)) continue;
    best_layer = r->layer;
    best = rank(r->action);
    Decision d;
    d.rule = r->id;
    switch (r->action) {
      case SyscallAction::kAllow:
        break;
      case SyscallAction::kTrace:
        d.event = r->event == EventType::kNone ? EventType::kSyscallAllowed : r->event;
        d.severity = Severity::kInfo;
        break;
      case SyscallAction::kDeny:
      case SyscallAction::kKill:
        d.action = r->action == SyscallAction::kDeny ? Action::kDeny : Action::kKill;
        d.error = r->error;
        d.event = r->event == EventType::kNone ? EventType::kSyscallBlocked : r->event;
        d.severity = r->severity;
        break;
    }
    result = d;
  }
  return result;
}

Decision Policy::DecidePathAccess(std::string_view path, Access bit) const {
  // fstat of a pipe, socket or anon inode (fstatat(fd, "", AT_EMPTY_PATH)) reveals nothing a
  // rule could protect: no name to match, and the fd is already open.
  if (bit == Access::kMetadata && !path.empty() && path.front() != '/') {
    return Decision{Action::kAllow, 0, EventType::kNone, Severity::kInfo,
                    "builtin:anonymous-object-metadata"};
  }
  const PathRule* best = nullptr;
  auto consider = [&](const PathRule& rule) {
    if (!Any(rule.access & bit) || !rule.pattern.Matches(path)) return;
    if (best == nullptr ||
        Better({rule.pattern.specificity(), rule.layer, rule.verdict.action},
               {best->pattern.specificity(), best->layer, best->verdict.action})) {
      best = &rule;
    }
  };
  if (path_indexed_ == path_rules.size() && !path_rules.empty()) {
    // Every rule is anchored in a directory that is an ancestor of (or equal to) the path.
    auto visit = [&](std::string_view anchor) {
      auto it = path_index_.find(anchor);
      if (it == path_index_.end()) return;
      for (std::uint32_t i : it->second) consider(path_rules[i]);
    };
    visit("/");
    for (std::size_t pos = 1; pos <= path.size(); ++pos) {
      if (pos == path.size() || path[pos] == '/') visit(path.substr(0, pos));
    }
  } else {
    for (const auto& rule : path_rules) consider(rule);
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
  if (path.carries_tree) {
    std::string below = path.path == "/" ? "/" : path.path + "/";
    for (const auto& rule : path_rules) {
      // Any denial beneath it: under the new name, the files below could be read, written,
      // created, removed or have their modes changed where the policy said no.
      if (rule.verdict.action == Action::kAllow) continue;
      if (rule.pattern.anchor().starts_with(below) || rule.pattern.anchor() == path.path) {
        Restrict(result, ToDecision(rule.verdict, rule.id));
      }
    }
  }
  return result;
}

bool Policy::NetRuleMatches(const NetRule& rule, const NetAccess& net, int& specificity) const {
  const SocketAddress& addr = *net.addr;
  auto verb_bit = static_cast<std::uint8_t>(1u << static_cast<unsigned>(net.verb));
  if ((rule.verbs & verb_bit) == 0) return false;
  int effective_family = IsMappedV4(addr) ? AF_INET : addr.family;
  if (rule.family && *rule.family != addr.family && *rule.family != effective_family) {
    return false;
  }
  specificity = 0;
  if (rule.socket_type) {
    // Unknown type (the tracer could not ask the socket): an allow rule must not match, a deny
    // or kill rule must, so that not knowing never widens what is allowed.
    int type = net.type < 0 ? -1 : (net.type & 0xf);
    if (type < 0 ? rule.verdict.action == Action::kAllow : type != *rule.socket_type) {
      return false;
    }
    specificity += 1;
  }
  if (rule.cidr) {
    if (!CidrContains(*rule.cidr, addr)) return false;
    specificity += rule.cidr->prefix_len;
  }
  if (rule.port_lo != 0 || rule.port_hi != 65535) {
    if (addr.family != AF_INET && addr.family != AF_INET6) return false;
    if (addr.port < rule.port_lo || addr.port > rule.port_hi) return false;
    specificity += 1;
  }
  if (rule.unix_path) {
    if (addr.family != AF_UNIX || addr.abstract || addr.unnamed) return false;
    if (!rule.unix_path->Matches(addr.unix_path)) return false;
    specificity += rule.unix_path->specificity();
  }
  if (rule.abstract) {
    if (addr.family != AF_UNIX || !addr.abstract) return false;
    if (!MatchComponent(*rule.abstract, addr.unix_path)) return false;
    specificity += static_cast<int>(rule.abstract->size());
  }
  if (rule.own) {
    // The tree's own sockets: more specific than any pattern (a socket the program bound in
    // its work dir is its own, whatever rules name the directory's sockets).
    if (addr.family != AF_UNIX || !net.own_socket) return false;
    specificity += 4096;
  }
  return true;
}

std::vector<SocketAddress> DestinationsAsUsed(const SocketAddress& addr,
                                              const std::vector<SocketAddress>& local) {
  if (addr.family != AF_INET && addr.family != AF_INET6) return {addr};
  SocketAddress a = IsMappedV4(addr) ? AsV4(addr) : addr;
  auto is_zero = [](const SocketAddress& x) {
    std::size_t n = x.family == AF_INET ? 4 : 16;
    return std::all_of(x.ip.begin(), x.ip.begin() + static_cast<std::ptrdiff_t>(n),
                       [](std::uint8_t b) { return b == 0; });
  };
  SocketAddress loopback = a;
  loopback.ip = {};
  if (a.family == AF_INET) {
    loopback.ip[0] = 127;
    loopback.ip[3] = 1;
  } else {
    loopback.ip[15] = 1;
  }
  // The unspecified address means this host: the kernel connects to the loopback address.
  if (is_zero(a)) return {loopback};
  // Broadcast and multicast reach every listener of the group, this host's included (a
  // listener on 0.0.0.0 or ::): decided as the address and as the loopback address.
  bool group = a.family == AF_INET
                   ? (a.ip[0] >= 224 && a.ip[0] <= 239) ||
                         (a.ip[0] == 255 && a.ip[1] == 255 && a.ip[2] == 255 && a.ip[3] == 255) ||
                         a.ip[3] == 255
                   : a.ip[0] == 0xff;
  if (group) return {a, loopback};
  // Any other address of this host reaches the same listeners as the loopback address (one on
  // 0.0.0.0 or ::): rules on the loopback address apply to it as well.
  bool here = (a.family == AF_INET && a.ip[0] == 127) ||
              std::any_of(local.begin(), local.end(), [&](const SocketAddress& l) {
                SocketAddress lv = IsMappedV4(l) ? AsV4(l) : l;
                return lv.family == a.family && lv.ip == a.ip;
              });
  if (here && a.ip != loopback.ip) return {a, loopback};
  return {a};
}

Decision Policy::DecideNet(const NetAccess& net) const {
  if ((net.verb == NetVerb::kConnect || net.verb == NetVerb::kSend) && net.addr) {
    auto as_used = DestinationsAsUsed(*net.addr, local_addresses);
    if (as_used.size() != 1 || as_used[0].ip != net.addr->ip ||
        as_used[0].family != net.addr->family) {
      Decision result{};
      bool first = true;
      for (const auto& a : as_used) {
        NetAccess one = net;
        one.addr = a;
        Decision d = DecideAddress(one);
        if (first) {
          result = d;
          first = false;
        } else {
          Restrict(result, d);
        }
      }
      return result;
    }
  }
  return DecideAddress(net);
}

Decision Policy::DecideAddress(const NetAccess& net) const {
  if (net.verb == NetVerb::kSocket) {
    if (std::find(families.begin(), families.end(), net.family) != families.end()) {
      return Decision{Action::kAllow, 0, EventType::kNone, Severity::kInfo, family_default.id};
    }
    return ToDecision(family_default.verdict, family_default.id);
  }
  if (!net.addr) return Decision{};  // e.g. send on a connected socket: connect was decided
  const NetRule* best = nullptr;
  int best_spec = 0;
  auto consider = [&](const NetRule& rule) {
    int spec = 0;
    if (!NetRuleMatches(rule, net, spec)) return;
    if (best == nullptr || Better({spec, rule.layer, rule.verdict.action},
                                  {best_spec, best->layer, best->verdict.action})) {
      best = &rule;
      best_spec = spec;
    }
  };
  if (net_indexed_ == net_rules.size()) {
    for (std::uint32_t i : net_any_) consider(net_rules[i]);
    const SocketAddress& a = *net.addr;
    SocketAddress v4 = IsMappedV4(a) ? AsV4(a) : a;
    for (const auto& [key, buckets] : net_cidr_) {
      const SocketAddress& probe = key.first == AF_INET ? v4 : a;
      if (probe.family != key.first) continue;
      auto it = buckets.find(MaskedKey(probe.ip, key.second));
      if (it == buckets.end()) continue;
      for (std::uint32_t i : it->second) consider(net_rules[i]);
    }
  } else {
    for (const auto& rule : net_rules) consider(rule);
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
      // Escaped: a file named "**" gets a rule for itself, not for everything beside it.
      tip["files"]["rules"].push_back(
          {{"path", EscapeGlob(p.path)}, {"access", kinds}, {"action", "allow"}});
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
      rule["unix"] = (a.abstract ? "@" : "") + EscapeGlob(a.unix_path);
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
  return path_default.verdict.action != Action::kAllow ||
         std::any_of(path_rules.begin(), path_rules.end(), [&](const PathRule& r) {
           return Any(r.access & Access::kMetadata) && r.verdict.action != Action::kAllow;
         });
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
