#include "tracer/stop_decision.h"

#include <linux/audit.h>
#include <seccomp.h>

#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

#include "base/escape.h"
#include "policy/names.h"
#include "syscalls/numbers.h"
#include "tracer/sockaddr.h"

namespace tracer {

using syscalls::Group;
using syscalls::SyscallRow;

std::string ArchName(std::uint32_t arch, std::uint64_t nr) {
  if (arch == AUDIT_ARCH_X86_64) return (nr & kX32Bit) ? "x32" : "x86_64";
  if (arch == AUDIT_ARCH_I386) return "i386";
  if (arch == AUDIT_ARCH_AARCH64) return "aarch64";
  return fmt::format("arch {:#x}", arch);
}

std::string SyscallName(std::uint32_t arch, std::uint64_t nr) {
  std::uint32_t scmp_arch = arch;
  long number = static_cast<long>(nr);
  if (arch == AUDIT_ARCH_X86_64 && (nr & kX32Bit)) {
    scmp_arch = SCMP_ARCH_X32;
    number = static_cast<long>(nr & ~kX32Bit);
  }
  if (scmp_arch == AUDIT_ARCH_X86_64) {
    return syscalls::SyscallNameOf(static_cast<int>(number))
        .value_or(fmt::format("syscall_{}", nr));
  }
  char* name = seccomp_syscall_resolve_num_arch(scmp_arch, static_cast<int>(number));
  std::string out = name ? name : fmt::format("syscall_{}", nr);
  std::free(name);
  return out;
}

RegisterVerdict DecideOnRegisters(const RawStop& stop, const policy::Policy& policy) {
  if (stop.arch != AUDIT_ARCH_X86_64 || (stop.nr & kX32Bit) != 0) {
    RegisterVerdict v;
    v.request.syscall = "foreign_abi";
    v.request.primitive = policy::Primitive::kForeignAbi;
    v.decision = policy.Evaluate(v.request);
    v.next = RegisterVerdict::Next::kEnforce;
    v.record = true;
    v.tip = policy.Tip(v.request);
    v.message = fmt::format("{} syscall {} from a 64-bit sandbox", ArchName(stop.arch, stop.nr),
                            SyscallName(stop.arch, stop.nr));
    return v;
  }
  if (stop.row == nullptr && stop.unknown_tag) {
    // A number the table does not classify: newer than tracejail, or no syscall at all. It must
    // not reach the kernel undecided (policy "unknown_syscall": ENOSYS at every level but none).
    RegisterVerdict v;
    v.request.syscall = "unknown_syscall";
    v.request.primitive = policy::Primitive::kUnknownSyscall;
    v.decision = policy.Evaluate(v.request);
    v.next = RegisterVerdict::Next::kEnforce;
    v.record = true;
    v.tip = policy.Tip(v.request);
    v.message = fmt::format("syscall {} is not in tracejail's syscall table ({})", stop.nr,
                            v.decision.action == policy::Action::kAllow ? "allowed" : "refused");
    return v;
  }
  if (!policy.syscall_rules.empty() ||
      policy.syscall_default.action != policy::SyscallAction::kAllow) {
    // Policy syscall rules come first: they are decided on registers alone.
    std::string name = stop.row ? std::string(stop.row->name) : SyscallName(stop.arch, stop.nr);
    std::optional<policy::Decision> sd = policy.DecideSyscall(name, stop.args.data());
    if (!sd && policy.syscall_default.action != policy::SyscallAction::kAllow &&
        (stop.row == nullptr || stop.row->group != Group::kProcess)) {
      // No rule allows it: the default applies. Only audit mode stops here for a number the
      // table does not know, and openat2 for the open family's rewrite (MakePlan): say what
      // enforce would do. Escape primitives and tree checks stop without a rule to be decided
      // and reported below.
      bool kill = policy.syscall_default.action == policy::SyscallAction::kKill;
      sd = policy::Decision{kill ? policy::Action::kKill : policy::Action::kDeny,
                            policy.syscall_default.error, policy::EventType::kSyscallBlocked,
                            policy::Severity::kMedium, policy.syscall_default.id};
    }
    if (sd) {
      RegisterVerdict v;
      v.decision = *sd;
      v.record = sd->event != policy::EventType::kNone || sd->action != policy::Action::kAllow;
      // Decode only to show the arguments: the decision was made on the registers.
      v.decode_for_event = v.record && stop.row != nullptr;
      v.tip = {{"syscalls", {{"rules", {{{"names", {name}}, {"action", "allow"}}}}}}};
      v.message = fmt::format("{} {} by a syscall rule", name, policy::Name(sd->action));
      // Allowed by a rule, and in the table: the table's checks still apply. The event (if any)
      // is recorded, and the call decided as any other.
      v.next = sd->action != policy::Action::kAllow || stop.row == nullptr
                   ? RegisterVerdict::Next::kEnforce
                   : RegisterVerdict::Next::kDecodeAndDecide;
      return v;
    }
  }
  RegisterVerdict v;
  // Not in the table and no rule for it: stopped by a filter the tracee stacked, not by ours.
  if (stop.row == nullptr) v.next = RegisterVerdict::Next::kLetRun;
  return v;
}

std::string ProtectedPathHit(const policy::Request& req,
                             const std::vector<std::string>& protected_paths) {
  using policy::Access;
  for (int i = 0; i < req.path_count; ++i) {
    const auto& p = req.paths[static_cast<std::size_t>(i)];
    bool changes =
        (p.access & (Access::kWrite | Access::kCreate | Access::kDelete)) != Access::kNone;
    for (const auto& entry : protected_paths) {
      // "DIR/": the directory and everything beneath it (--collect's directory).
      const bool tree = entry.size() > 1 && entry.back() == '/';
      const std::string_view out =
          tree ? std::string_view(entry).substr(0, entry.size() - 1) : std::string_view(entry);
      if (p.path == out) return entry;
      if (tree && p.path.size() > out.size() && p.path.starts_with(out) &&
          p.path[out.size()] == '/') {
        return entry;
      }
      bool above = out.size() > p.path.size() && out.starts_with(p.path) &&
                   (p.path == "/" || out[p.path.size()] == '/');
      if (above && changes && p.path != "/") return entry;
    }
  }
  return {};
}

CallVerdict DecideCall(DecodedCall& call, const policy::Policy& policy, const CallFacts& facts) {
  CallVerdict v;
  if (call.early_errno != 0) {
    // The kernel would fail this call anyway; deny it so a racing thread cannot make the
    // kernel see something the tracer did not.
    v.kernel_fails = true;
    v.decision = policy::Decision{policy::Action::kDeny, call.early_errno, policy::EventType::kNone,
                                  policy::Severity::kInfo, kKernelWouldFailRule};
    return v;
  }
  v.decision = policy.Evaluate(call.request);
  if (!facts.protected_hit.empty()) {
    v.decision = policy::Decision{policy::Action::kDeny, EACCES, policy::EventType::kEscapeAttempt,
                                  policy::Severity::kHigh, kOutputRule};
    call.note = fmt::format("{} is tracejail's own output", base::EscapeBytes(facts.protected_hit));
  }
  // tracejail and its ancestors are out of reach whatever the mode or level (self_guard.h).
  if (!facts.self_guard.empty()) {
    v.decision = policy::Decision{policy::Action::kDeny, EPERM, policy::EventType::kEscapeAttempt,
                                  policy::Severity::kHigh, kSelfRule};
    call.note = facts.self_guard;
    v.self_hit = true;
  }
  return v;
}

std::string CallMessage(const SyscallRow& row, const DecodedCall& call,
                        const policy::Decision& decision) {
  std::string message = fmt::format("{} {}", row.name, policy::Name(decision.action));
  for (int i = 0; i < call.request.path_count; ++i) {
    const auto& p = call.request.paths[static_cast<std::size_t>(i)];
    message += fmt::format(" {} ({})", base::EscapeBytes(p.path), policy::AccessNames(p.access));
  }
  if (call.addr) message += " " + AddressText(*call.addr);
  if (call.request.primitive != policy::Primitive::kNone) {
    message += fmt::format(" [{}]", policy::Name(call.request.primitive));
  }
  if (!call.note.empty()) message += ": " + call.note;
  return message;
}

}  // namespace tracer
