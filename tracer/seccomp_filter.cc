#include "tracer/seccomp_filter.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "base/unique_fd.h"
#include "syscalls/numbers.h"

namespace tracer {

using syscalls::ArgOf;
using syscalls::FindRow;
using syscalls::Group;
using syscalls::KernelCond;
using syscalls::Role;
using syscalls::SyscallIndex;
using syscalls::SyscallRow;
using syscalls::SyscallTable;
namespace {

using policy::ArgCondition;
using policy::SyscallAction;

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

void Check(int rc, std::string_view what) {
  if (rc < 0) {
    throw std::runtime_error(fmt::format("libseccomp {} failed: {}", what, std::strerror(-rc)));
  }
}

// Whether the policy refuses other processes' /proc entries: then every open and change stops,
// whatever the path rules say (the tree check needs the resolved path).
bool GuardsProc(const policy::Policy& p) {
  for (auto prim : {policy::Primitive::kProcessOutside, policy::Primitive::kProcessVmRead,
                    policy::Primitive::kProcessVmWrite}) {
    if (p.primitives.at(static_cast<std::size_t>(prim)).verdict.action != policy::Action::kAllow) {
      return true;
    }
  }
  return false;
}

bool Flagged(const SyscallRow& row, const policy::Policy& p) {
  switch (row.group) {
    case Group::kOpen:
    case Group::kMutate:
      return p.NeedsPaths() || GuardsProc(p);
    case Group::kStat:
      return p.NeedsMetadata();
    case Group::kNet:
      // A unix socket's bind creates a file: a path decision as well.
      return p.NeedsNetwork() || (row.verb == policy::NetVerb::kBind && p.NeedsPaths());
    case Group::kExec:
    case Group::kProcess:
      return true;
    case Group::kPlain:
      return false;
  }
  return true;
}

scmp_arg_cmp ToCmp(const policy::ArgCondition& c) {
  using Op = policy::ArgCondition::Op;
  scmp_compare op = SCMP_CMP_EQ;
  switch (c.op) {
    case Op::kEq:
      op = SCMP_CMP_EQ;
      break;
    case Op::kNe:
      op = SCMP_CMP_NE;
      break;
    case Op::kLt:
      op = SCMP_CMP_LT;
      break;
    case Op::kLe:
      op = SCMP_CMP_LE;
      break;
    case Op::kGt:
      op = SCMP_CMP_GT;
      break;
    case Op::kGe:
      op = SCMP_CMP_GE;
      break;
    case Op::kMaskedEq:
      op = SCMP_CMP_MASKED_EQ;
      break;
  }
  if (c.op == Op::kMaskedEq) return SCMP_CMP(c.index, op, c.mask, c.value);
  return SCMP_CMP(c.index, op, c.value);
}

std::uint32_t KernelAction(SyscallAction action, int error, std::uint16_t trace_tag) {
  switch (action) {
    case SyscallAction::kAllow:
      return SCMP_ACT_ALLOW;
    case SyscallAction::kDeny:
      return SCMP_ACT_ERRNO(static_cast<std::uint32_t>(error));
    case SyscallAction::kKill:
      return SCMP_ACT_KILL_PROCESS;
    case SyscallAction::kTrace:
      return SCMP_ACT_TRACE(trace_tag);
  }
  return SCMP_ACT_KILL_PROCESS;
}

void AddRule(Ctx& ctx, std::uint32_t action, int nr, const std::vector<ArgCondition>& conds,
             const std::string& what) {
  std::uint32_t default_action = 0;
  if (seccomp_attr_get(ctx.get(), SCMP_FLTATR_ACT_DEFAULT, &default_action) == 0 &&
      action == default_action) {
    return;  // the default already does it (libseccomp refuses such rules)
  }
  std::vector<scmp_arg_cmp> cmps;
  for (const auto& c : conds) cmps.push_back(ToCmp(c));
  Check(seccomp_rule_add_array(ctx.get(), action, nr, static_cast<unsigned>(cmps.size()),
                               cmps.empty() ? nullptr : cmps.data()),
        fmt::format("seccomp_rule_add({})", what));
}

Ctx Build(const FilterPlan& plan, const SyscallIndex& index) {
  Ctx ctx(seccomp_init(KernelAction(plan.default_action, plan.default_error, 0)));
  if (!ctx) throw std::runtime_error("libseccomp seccomp_init failed");
  Check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRACE(kForeignAbiTag)),
        "seccomp_attr_set(ACT_BADARCH)");
  Check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2), "seccomp_attr_set(OPTIMIZE)");
  const auto table = SyscallTable();
  for (const TraceRule& t : plan.trace_rules) {
    auto tag = static_cast<std::uint16_t>(t.row - table.data());
    AddRule(ctx, SCMP_ACT_TRACE(tag), index.Number(*t.row), t.conds, std::string(t.row->name));
  }
  for (const KernelRule& k : plan.kernel_rules) {
    AddRule(ctx, KernelAction(k.action, k.error, kSyscallRuleTag), k.nr, k.args,
            fmt::format("{} for policy rule {}", k.name, k.rule_id));
  }
  for (const SyscallRow* row : plan.kernel_errno) {
    int nr = index.Number(*row);
    if (nr < 0) continue;
    AddRule(ctx, SCMP_ACT_ERRNO(static_cast<std::uint32_t>(row->kernel_errno)), nr, {},
            std::string(row->name));
  }
  return ctx;
}

std::string ReadAll(int fd) {
  std::string out;
  if (lseek(fd, 0, SEEK_SET) < 0) throw std::runtime_error("lseek on filter memfd failed");
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) throw std::runtime_error(fmt::format("read filter: {}", std::strerror(errno)));
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

base::UniqueFd MemFd() {
  base::UniqueFd fd(memfd_create("tracejail-filter", MFD_CLOEXEC));
  if (!fd.valid()) throw std::runtime_error(fmt::format("memfd_create: {}", std::strerror(errno)));
  return fd;
}

}  // namespace

namespace {

ArgCondition ToArg(const KernelCond& c) {
  if (c.op == KernelCond::Op::kLess) return {c.arg, ArgCondition::Op::kLt, c.value, 0};
  if (c.op == KernelCond::Op::kNotEq) return {c.arg, ArgCondition::Op::kNe, c.value, 0};
  return {c.arg, ArgCondition::Op::kMaskedEq, c.value, c.mask};
}

// The row's conditions as alternatives, each a conjunction.
std::vector<std::vector<ArgCondition>> RowTerms(const SyscallRow& row) {
  std::vector<std::vector<ArgCondition>> terms;
  for (std::size_t i = 0; i < row.cond_count; ++i) {
    const KernelCond& c = row.conds[i];
    if (!c.and_prev || terms.empty()) terms.emplace_back();
    terms.back().push_back(ToArg(c));
  }
  return terms;
}

std::optional<ArgCondition> Negate(const ArgCondition& c) {
  using Op = ArgCondition::Op;
  if (c.op == Op::kLt) return ArgCondition{c.index, Op::kGe, c.value, 0};
  if (c.op == Op::kNe) return ArgCondition{c.index, Op::kEq, c.value, 0};
  if (c.op == Op::kMaskedEq && c.mask == c.value && c.mask != 0) {
    return ArgCondition{c.index, Op::kMaskedEq, 0, c.mask};  // "some of these bits" -> "none"
  }
  if (c.op == Op::kMaskedEq && c.mask == ~0ULL) return ArgCondition{c.index, Op::kNe, c.value, 0};
  return std::nullopt;
}

// Rules (alternatives, each a conjunction) that hold exactly where the row does not stop, so a
// policy allow can be given to the kernel without swallowing the row's own conditions.
// nullopt when BPF cannot say it; the row must then be traced always.
std::optional<std::vector<std::vector<ArgCondition>>> Complement(const SyscallRow& row) {
  auto terms = RowTerms(row);
  std::vector<std::vector<ArgCondition>> out;
  if (terms.size() == 1 && terms[0].size() > 1) {
    // not (a and b) = (not a) or (not b)
    for (const auto& c : terms[0]) {
      auto n = Negate(c);
      if (!n) return std::nullopt;
      out.push_back({*n});
    }
    return out;
  }
  // not (a or b or ...) = (not a) and (not b) ...; BPF rules name each argument once, so
  // "none of these bits" on one argument merges into one mask.
  std::vector<ArgCondition> all;
  for (const auto& term : terms) {
    if (term.size() != 1) return std::nullopt;
    auto n = Negate(term[0]);
    if (!n) return std::nullopt;
    auto same = std::find_if(all.begin(), all.end(),
                             [&](const ArgCondition& a) { return a.index == n->index; });
    if (same == all.end()) {
      all.push_back(*n);
    } else if (same->op == ArgCondition::Op::kMaskedEq && same->value == 0 &&
               n->op == ArgCondition::Op::kMaskedEq && n->value == 0) {
      same->mask |= n->mask;
    } else {
      return std::nullopt;
    }
  }
  out.push_back(std::move(all));
  return out;
}

void AddRowTraces(const SyscallRow& row, FilterPlan& plan) {
  if (row.cond_count == 0) {
    plan.trace_rules.push_back({&row, {}});
    return;
  }
  for (auto& term : RowTerms(row)) plan.trace_rules.push_back({&row, std::move(term)});
}

}  // namespace

FilterPlan MakePlan(const policy::Policy& policy, const SyscallIndex& index, bool audit) {
  FilterPlan plan;
  plan.default_action = policy.syscall_default.action;
  plan.default_error = policy.syscall_default.error;
  const bool default_allow = plan.default_action == SyscallAction::kAllow;
  for (const auto& row : SyscallTable()) {
    if (row.kernel_errno != 0) {
      plan.kernel_errno.push_back(&row);
      continue;
    }
    if (!Flagged(row, policy) || index.Number(row) < 0) continue;
    std::vector<const policy::SyscallRule*> allows;
    for (const auto* r : policy.SyscallRulesFor(row.name)) {
      if (r->action == SyscallAction::kAllow || r->action == SyscallAction::kTrace) {
        allows.push_back(r);
      }
    }
    if (default_allow || row.group == Group::kProcess) {
      // Escape primitives and tree checks always stop, so that they are reported.
      AddRowTraces(row, plan);
      if (!default_allow && row.cond_count > 0 && !allows.empty()) {
        if (auto rules = Complement(row)) {
          for (auto& conds : *rules) {
            plan.kernel_rules.push_back({index.Number(row), std::string(row.name),
                                         SyscallAction::kAllow, 0, std::move(conds),
                                         "builtin:allowed-without-flagged-bits"});
          }
        } else {
          std::erase_if(plan.trace_rules, [&](const TraceRule& t) { return t.row == &row; });
          plan.trace_rules.push_back({&row, {}});
        }
      }
    } else {
      // Default deny: the syscall stops only where a policy rule allows it.
      for (const auto* r : allows) plan.trace_rules.push_back({&row, r->args});
    }
    if (std::any_of(plan.trace_rules.begin(), plan.trace_rules.end(),
                    [&](const TraceRule& t) { return t.row == &row; })) {
      plan.traced.push_back(&row);
    }
  }
  // The tracer hands every allowed open to the kernel as openat2 (tracer/pin.h), and the
  // tracee opens the anchors of an allowed rename, mkdir, chmod... with openat2 too
  // (tracer/fs_anchor.h); the filter is run again on the changed call: where the syscall
  // default is not allow, openat2 must stop too. Called by the program itself, the tracer
  // applies the default to it.
  auto is_traced = [&](std::string_view name) {
    const SyscallRow* row = FindRow(name);
    return row != nullptr &&
           std::find(plan.traced.begin(), plan.traced.end(), row) != plan.traced.end();
  };
  bool anchors = std::any_of(plan.traced.begin(), plan.traced.end(), [](const SyscallRow* r) {
    return r->group == Group::kMutate && ArgOf(*r, Role::kPath) >= 0;
  });
  if (!default_allow && !is_traced("openat2") &&
      (is_traced("open") || is_traced("openat") || is_traced("creat") || anchors)) {
    const SyscallRow* openat2 = FindRow("openat2");
    plan.trace_rules.push_back({openat2, {}});
    plan.traced.push_back(openat2);
  }
  // Syscall rules for every other syscall are decided in the kernel. For the syscalls the
  // tracer stops for, the tracer applies them (with an event) before anything else.
  std::vector<std::string> done;
  for (const auto& rule : policy.syscall_rules) {
    for (const auto& [name, spec] : rule.names) {
      if (std::find(done.begin(), done.end(), name) != done.end()) continue;
      done.push_back(name);
      const SyscallRow* row = FindRow(name);
      bool traced = row != nullptr &&
                    std::find(plan.traced.begin(), plan.traced.end(), row) != plan.traced.end();
      bool kernel_errno = row != nullptr && row->kernel_errno != 0;
      if (traced || kernel_errno) continue;
      auto nr = syscalls::SyscallNumber(name);
      if (!nr) continue;
      std::vector<const policy::SyscallRule*> rules = policy.SyscallRulesFor(name);
      bool one_layer = std::all_of(rules.begin(), rules.end(), [&](const policy::SyscallRule* r) {
        return r->layer == rules.front()->layer;
      });
      if (!one_layer) {
        // An extending policy overrides its base here: the filter cannot rank layers, so the
        // tracer decides (Policy::DecideSyscall applies the conflict rule).
        plan.kernel_rules.push_back(
            {*nr, name, SyscallAction::kTrace, 0, {}, "builtin:layered-syscall-rules"});
        continue;
      }
      for (const policy::SyscallRule* r : rules) {
        if (r->action == SyscallAction::kAllow && default_allow) continue;
        plan.kernel_rules.push_back({*nr, name, r->action, r->error, r->args, r->id});
      }
    }
  }
  for (std::uint32_t nr = 0; nr < kSyscallNumberLimit; ++nr) {
    if (index.Lookup(nr) != nullptr) continue;
    if (!plan.unknown.empty() && plan.unknown.back().second == nr) {
      ++plan.unknown.back().second;
    } else {
      plan.unknown.emplace_back(nr, nr + 1);
    }
  }
  if (!plan.unknown.empty() && plan.unknown.back().second == kSyscallNumberLimit) {
    plan.unknown.back().second = kX32SyscallBit;
  } else {
    plan.unknown.emplace_back(kSyscallNumberLimit, kX32SyscallBit);
  }
  if (audit) {
    auto to_trace = [](SyscallAction& a) {
      if (a == SyscallAction::kDeny || a == SyscallAction::kKill) a = SyscallAction::kTrace;
    };
    for (auto& k : plan.kernel_rules) to_trace(k.action);
    to_trace(plan.default_action);
  }
  return plan;
}

std::string TraceAffinity(FilterPlan& plan, const policy::Policy& policy) {
  if (plan.default_action != SyscallAction::kAllow) {
    return "the policy's syscall default is not allow";
  }
  std::vector<int> nrs;
  std::vector<const SyscallRow*> rows;
  for (const char* name : {"sched_getaffinity", "sched_setaffinity"}) {
    if (!policy.SyscallRulesFor(name).empty()) {
      return fmt::format("the policy has a syscall rule for {}", name);
    }
    auto nr = syscalls::SyscallNumber(name);
    const SyscallRow* row = FindRow(name);
    if (!nr || row == nullptr) return fmt::format("{} has no number here", name);
    nrs.push_back(*nr);
    rows.push_back(row);
  }
  // Their rows (other processes by pid) stop for every call now, the caller's own included:
  // the supervisor decides the target first, then gives the tree its CPUs back.
  for (const SyscallRow* row : rows) {
    std::erase_if(plan.trace_rules, [&](const TraceRule& t) { return t.row == row; });
    plan.trace_rules.push_back({row, {}});
    if (std::find(plan.traced.begin(), plan.traced.end(), row) == plan.traced.end()) {
      plan.traced.push_back(row);
    }
  }
  plan.affinity_traced = std::move(nrs);
  return {};
}

std::string ParkingAllowed(const FilterPlan& plan, const policy::Policy& policy) {
  if (plan.default_action != SyscallAction::kAllow)
    return "the policy's syscall default is not allow";
  if (!policy.SyscallRulesFor("rt_sigsuspend").empty()) {
    return "the policy has a syscall rule for rt_sigsuspend";
  }
  const SyscallRow* row = FindRow("rt_sigsuspend");
  auto nr = syscalls::SyscallNumber("rt_sigsuspend");
  if (row == nullptr || !nr) return "rt_sigsuspend has no row or number here";
  if (row->group != Group::kPlain || plan.IsUnknown(static_cast<std::uint32_t>(*nr)) ||
      std::find(plan.traced.begin(), plan.traced.end(), row) != plan.traced.end() ||
      std::find(plan.kernel_errno.begin(), plan.kernel_errno.end(), row) !=
          plan.kernel_errno.end()) {
    return "the filter stops or fails rt_sigsuspend";
  }
  for (const KernelRule& rule : plan.kernel_rules) {
    if (rule.nr == *nr) return "the filter has a rule for rt_sigsuspend";
  }
  return {};
}

std::vector<sock_filter> BuildFilter(const FilterPlan& plan, const SyscallIndex& index) {
  Ctx ctx = Build(plan, index);
  base::UniqueFd fd = MemFd();
  Check(seccomp_export_bpf(ctx.get(), fd.get()), "seccomp_export_bpf");
  std::string bytes = ReadAll(fd.get());
  if (bytes.empty() || bytes.size() % sizeof(sock_filter) != 0) {
    throw std::runtime_error("libseccomp exported a malformed BPF program");
  }
  // Numbers without a table row stop for the tracer before libseccomp's program runs: two
  // comparisons per run of them (libseccomp names single numbers only, hundreds of rules).
  // Every jump of the prelude lands inside it or on libseccomp's first instruction, whose own
  // jumps are relative, so they hold.
  std::vector<sock_filter> prelude;
  const std::size_t runs = plan.unknown.size();
  if (runs > 100) throw std::runtime_error("too many runs of unknown syscall numbers");
  // Layout: [0] ld arch, [1] jeq x86_64, [2] ld nr, 2 per run, ja over, ret TRACE, libseccomp.
  const std::size_t trace_at = 3 + 2 * runs + 1;
  prelude.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  prelude.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0,
                             static_cast<std::uint8_t>(trace_at + 1 - 2)));
  prelude.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
  for (const auto& [first, end] : plan.unknown) {
    prelude.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, first, 0, 1));  // below: next run
    std::size_t here = prelude.size();
    prelude.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, end, 0,
                               static_cast<std::uint8_t>(trace_at - (here + 1))));
  }
  prelude.push_back(BPF_STMT(BPF_JMP | BPF_JA | BPF_K, 1));
  prelude.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | kUnknownTag));
  std::vector<sock_filter> prog = std::move(prelude);
  const std::size_t at = prog.size();
  prog.resize(at + bytes.size() / sizeof(sock_filter));
  std::memcpy(prog.data() + at, bytes.data(), bytes.size());
  if (prog.size() > BPF_MAXINSNS) {
    throw std::runtime_error(
        fmt::format("the seccomp filter has {} instructions, more than the "
                    "kernel's limit of {}",
                    prog.size(), BPF_MAXINSNS));
  }
  return prog;
}

std::string DescribePlan(const FilterPlan& plan, const SyscallIndex& index) {
  static constexpr std::array<std::string_view, 4> kDefaults{"allowed", "denied", "killed",
                                                             "traced"};
  std::string head = fmt::format("Default: a syscall no rule names is {} in the kernel{}.\n",
                                 kDefaults.at(static_cast<std::size_t>(plan.default_action)),
                                 plan.default_action == SyscallAction::kDeny
                                     ? fmt::format(" ({})", std::strerror(plan.default_error))
                                     : "");
  static constexpr std::array<std::string_view, 6> kGroupNames{
      "opens",          "exec",
      "metadata reads", "filesystem changes",
      "network",        "process tree and escapes"};
  std::string out =
      head +
      "Architecture: x86_64 only; calls from any other ABI (i386 int $0x80, x32) stop\n"
      "for the tracer, which applies the policy's \"foreign_abi\" verdict.\n";
  for (std::size_t g = 0; g < kGroupNames.size(); ++g) {
    std::string names;
    for (const SyscallRow* row : plan.traced) {
      if (static_cast<std::size_t>(row->group) != g || index.Number(*row) < 0) continue;
      names += names.empty() ? "" : " ";
      names += row->name;
      if (row->cond_count > 0) names += "(only with flagged arguments)";
    }
    if (!names.empty())
      out += fmt::format("\nStop for the tracer: {}\n  {}\n", kGroupNames[g], names);
  }
  for (const SyscallRow* row : plan.kernel_errno) {
    out += fmt::format("\nFail in the kernel: {} -> {}\n", row->name,
                       std::strerror(row->kernel_errno));
  }
  for (const KernelRule& k : plan.kernel_rules) {
    static constexpr std::array<std::string_view, 4> kNames{"allow", "deny", "kill", "trace"};
    std::string what(kNames.at(static_cast<std::size_t>(k.action)));
    if (k.action == policy::SyscallAction::kDeny)
      what += fmt::format(" ({})", std::strerror(k.error));
    out += fmt::format(
        "\nPolicy syscall rule in the kernel: {} -> {}{}  [rule {}]\n", k.name, what,
        k.args.empty() ? "" : fmt::format(" when {} argument condition(s) hold", k.args.size()),
        k.rule_id);
  }
  if (!plan.unknown.empty()) {
    std::string runs;
    for (const auto& [first, end] : plan.unknown) {
      runs += fmt::format("{}{}-{}", runs.empty() ? "" : ", ", first,
                          end == kX32SyscallBit ? std::string("") : std::to_string(end - 1));
    }
    out += fmt::format(
        "\nSyscall numbers tracejail does not know ({}): stop for the tracer, which applies the "
        "policy's \"unknown_syscall\" verdict (ENOSYS at every level but none).\n",
        runs);
  }
  out += fmt::format("\nEverything else: {} in the kernel, never stopped.\n",
                     kDefaults.at(static_cast<std::size_t>(plan.default_action)));
  return out;
}

std::string DescribeFilter(const FilterPlan& plan, const SyscallIndex& index) {
  Ctx ctx = Build(plan, index);
  base::UniqueFd fd = MemFd();
  Check(seccomp_export_pfc(ctx.get(), fd.get()), "seccomp_export_pfc");
  return ReadAll(fd.get());
}

}  // namespace tracer

namespace tracer {

bool FilterPlan::IsUnknown(std::uint32_t nr) const {
  return std::any_of(unknown.begin(), unknown.end(),
                     [&](const auto& run) { return nr >= run.first && nr < run.second; });
}

}  // namespace tracer
