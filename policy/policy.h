// A loaded policy and its one decision function. Pure: no ptrace, no I/O.
//
// Conflict rule (docs/policy.md): among the rules that match a request, the most specific wins
// (longest path prefix, longest CIDR prefix); at equal specificity the most restrictive action
// wins (kill > deny > allow). When a request has several parts (a rename's two paths, an open
// that reads and writes) each part is decided and the most restrictive result is returned.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "policy/decision.h"
#include "policy/operation.h"

namespace policy {

// What a matching rule does; Decision is a Verdict plus the id of the rule that gave it.
struct Verdict {
  Action action = Action::kAllow;
  int error = 0;
  EventType event = EventType::kNone;
  Severity severity = Severity::kInfo;
};

struct PathRule {
  std::string id;      // e.g. "default.json#/files/rules/3"
  std::string prefix;  // absolute, normalised, variables expanded; matches whole components
  Access access = Access::kNone;
  Verdict verdict;
};

struct Cidr {
  int family = 0;  // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> ip{};
  int prefix_len = 0;
};

struct NetRule {
  std::string id;
  std::uint8_t verbs = 0;     // bit (1 << NetVerb)
  std::optional<int> family;  // unset: any family
  std::optional<Cidr> cidr;   // inet/inet6 only
  std::uint16_t port_lo = 0;
  std::uint16_t port_hi = 65535;
  std::optional<std::string> unix_prefix;  // AF_UNIX path prefix or abstract name prefix
  bool unix_abstract = false;
  Verdict verdict;
};

inline constexpr std::size_t kPrimitiveCount =
    static_cast<std::size_t>(Primitive::kSystemAdmin) + 1;

struct PrimitiveRule {
  std::string id;
  Verdict verdict;
};

class Policy {
 public:
  std::string name;    // "default" or the file name
  std::string source;  // the JSON text it was loaded from, for `policy show`

  std::vector<PathRule> path_rules;
  PrimitiveRule path_default;

  std::vector<NetRule> net_rules;
  PrimitiveRule net_default;
  std::vector<int> families;  // socket families socket() may create
  PrimitiveRule family_default;

  std::array<PrimitiveRule, kPrimitiveCount> primitives{};

  Decision Evaluate(const Request& request) const;

  // Plan inputs: which syscall rows the run must flag.
  bool NeedsMetadata() const;  // some rule decides kMetadata differently from the default
  bool NeedsPaths() const;     // any path decision can differ from allow
  bool NeedsNetwork() const;

  // The smallest policy fragment that would allow `request` (for a denied one): path rules for
  // exactly the denied access kinds of the resolved paths, a network rule for the exact address,
  // the missing socket family, or the escape primitive. Paste it into a policy that extends the
  // current one. Null when nothing was denied.
  nlohmann::json Tip(const Request& request) const;

 private:
  Decision DecidePath(const PathAccess& path) const;
  Decision DecidePathAccess(const std::string& path, Access bit) const;
  Decision DecideNet(const NetAccess& net) const;
};

// Normalises an absolute path lexically: collapses "//", ".", "..", drops a trailing "/".
std::string NormalizePath(std::string_view path);

// True when `path` equals `prefix` or lies below it (component-wise).
bool PathHasPrefix(std::string_view path, std::string_view prefix);

bool CidrContains(const Cidr& cidr, const SocketAddress& addr);

}  // namespace policy
