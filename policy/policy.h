// A loaded policy and its one decision function. Pure: no ptrace, no I/O.
//
// Conflict rule (docs/policy.md): among the rules that match a request, the most specific wins
// (most literal characters in a path pattern; longest CIDR prefix, plus one for a port or a
// protocol restriction; longest unix pattern); at equal specificity the later layer wins (a
// policy overrides what it extends); within a layer the most restrictive action wins
// (kill > deny > allow). When a request has several parts (a rename's two paths, an open that
// reads and writes, a sendmmsg to several addresses) each part is decided and the most
// restrictive result is returned.
//
// Matching is indexed (Compile()): path rules by the literal directory their pattern is
// anchored in, network rules by family and CIDR prefix length, so a decision costs a few hash
// lookups, not a scan of every rule. Evaluate() falls back to a scan when rules were added after
// Compile() (tests build policies by hand).
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/decision.h"
#include "policy/glob.h"
#include "policy/limits.h"
#include "policy/operation.h"

namespace policy {

// What a matching rule does; Decision is a Verdict plus the id of the rule that gave it.
struct Verdict {
  Action action = Action::kAllow;
  int error = 0;
  EventType event = EventType::kNone;
  Severity severity = Severity::kInfo;
};

// Every rule remembers its layer: 0 for the base of an `extends` chain, one more for each
// policy that extends it. At equal specificity the higher layer wins (an extending policy
// overrides its base); within one layer the most restrictive action wins.

struct PathRule {
  std::string id;  // "policy.json:12#/files/rules/3 (secrets)"
  PathPattern pattern;
  Access access = Access::kNone;
  Verdict verdict;
  int layer = 0;
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
  std::optional<PathPattern> unix_path;  // AF_UNIX path pattern
  std::optional<std::string> abstract;   // AF_UNIX abstract-name pattern (*, ?, [...])
  std::optional<int> socket_type;        // SOCK_STREAM ("tcp"/"stream"), SOCK_DGRAM ("udp")
  bool own = false;  // matches only unix sockets the traced tree bound itself ("own": true)
  Verdict verdict;
  int layer = 0;
};

struct PrimitiveRule {
  std::string id;
  Verdict verdict;
};

// A syscall rule of the policy: decided in the kernel (BPF) by number and integer arguments.
struct ArgCondition {
  enum class Op : std::uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kMaskedEq };
  unsigned index = 0;  // 0..5
  Op op = Op::kEq;
  std::uint64_t value = 0;
  std::uint64_t mask = 0;  // kMaskedEq only
};

enum class SyscallAction : std::uint8_t { kAllow, kDeny, kKill, kTrace };

struct SyscallRule {
  std::string id;
  // Syscall names with classes expanded, each with its specificity: 2 when named, 1 when it
  // came from a class. For one syscall only the rules of the highest specificity apply.
  std::vector<std::pair<std::string, int>> names;
  SyscallAction action = SyscallAction::kAllow;
  int error = 0;  // deny
  EventType event = EventType::kNone;
  Severity severity = Severity::kMedium;
  std::vector<ArgCondition> args;  // all must hold
  int layer = 0;
};

bool ConditionHolds(const ArgCondition& c, const std::uint64_t* args);

class Policy {
 public:
  std::string name;  // "standard" or the file name
  std::string description;
  std::string source;              // the JSON text it was loaded from
  std::vector<std::string> chain;  // extends chain, base first (for explain)

  Limits limits;              // each key set by the last policy of the chain that names it
  IsolationWanted isolation;  // likewise

  std::vector<PathRule> path_rules;
  PrimitiveRule path_default;

  std::vector<NetRule> net_rules;
  PrimitiveRule net_default;
  std::vector<int> families;  // socket families socket() may create
  PrimitiveRule family_default;

  std::array<PrimitiveRule, kPrimitiveCount> primitives{};

  // The addresses of this host's interfaces (filled by the CLI): a connect or send to one of
  // them is decided as to the loopback address as well (DestinationsAsUsed).
  std::vector<SocketAddress> local_addresses;

  std::vector<SyscallRule> syscall_rules;
  // What the kernel does with a syscall no syscall rule allows: kAllow (the usual), kDeny with
  // `error`, or kKill. Syscalls the tracer stops for are stopped only when allowed here.
  struct {
    SyscallAction action = SyscallAction::kAllow;
    int error = 1;  // EPERM
    std::string id = "builtin:syscalls-default";
  } syscall_default;

  // Builds the matching indexes; call after the rules are final.
  void Compile();

  Decision Evaluate(const Request& request) const;
  // One access kind on one resolved path (the Landlock planner asks this per directory).
  Decision DecidePathAccess(std::string_view path, Access bit) const;

  // The syscall rules that apply to `name` (highest specificity only), in policy order.
  std::vector<const SyscallRule*> SyscallRulesFor(std::string_view syscall) const;
  // What the syscall rules say about this call: the most restrictive rule whose conditions hold
  // (kTrace counts as allow, with a syscall_allowed event). nullopt when no rule matches.
  std::optional<Decision> DecideSyscall(std::string_view syscall, const std::uint64_t* args) const;

  // Plan inputs: which syscall rows the run must flag.
  bool NeedsMetadata() const;  // some rule decides kMetadata differently from allow
  bool NeedsPaths() const;     // any path decision can differ from allow
  bool NeedsNetwork() const;
  bool NeedsSocketType() const { return needs_socket_type_; }

  // The smallest policy fragment that would allow `request` (for a denied one): path rules for
  // exactly the denied access kinds of the resolved paths (each path escaped: its pattern matches
  // that path and what lies below it, nothing else), a network rule for the exact address,
  // the missing socket family, or the escape primitive. Paste it into a policy that extends the
  // current one. Null when nothing was denied.
  nlohmann::json Tip(const Request& request) const;

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index =
      std::unordered_map<std::string, std::vector<std::uint32_t>, StringHash, std::equal_to<>>;

  Decision DecidePath(const PathAccess& path) const;
  Decision DecideNet(const NetAccess& net) const;
  Decision DecideAddress(const NetAccess& net) const;
  bool NetRuleMatches(const NetRule& rule, const NetAccess& net, int& specificity) const;

  Index path_index_;                    // anchor -> path rules
  std::size_t path_indexed_ = 0;        // rules covered by path_index_
  std::vector<std::uint32_t> net_any_;  // rules with no CIDR
  // (family, prefix length) -> masked address bytes -> rules
  std::vector<std::pair<std::pair<int, int>, Index>> net_cidr_;
  std::size_t net_indexed_ = 0;
  bool needs_socket_type_ = false;
  Index syscall_index_;  // syscall name -> rules (all specificities)
  std::size_t syscall_indexed_ = 0;
};

bool CidrContains(const Cidr& cidr, const SocketAddress& addr);

// The destinations a connect or send to `addr` reaches, as the kernel uses them: IPv4-mapped
// IPv6 as IPv4; 0.0.0.0 and :: as the loopback address; another address of this host (127/8,
// `local`) as itself and the loopback address (a listener on 0.0.0.0 answers both). A policy
// decides each and the most restrictive result wins.
std::vector<SocketAddress> DestinationsAsUsed(const SocketAddress& addr,
                                              const std::vector<SocketAddress>& local);

}  // namespace policy
