// The run's BPF program: which syscalls stop for the tracer (SECCOMP_RET_TRACE with the row's
// table index as data), which fail in the kernel, and what happens to foreign ABIs. Built with
// libseccomp in the parent and exported as raw BPF, so the child only makes one
// async-signal-safe seccomp(2) call before execve.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "policy/policy.h"
#include "syscalls/table.h"

namespace tracer {

// RET_TRACE data for calls from a foreign ABI (i386 int 0x80, x32), which libseccomp routes to
// the bad-architecture action.
inline constexpr std::uint16_t kForeignAbiTag = 0xffff;
// RET_TRACE data for a syscall stopped only because a policy syscall rule says "trace".
inline constexpr std::uint16_t kSyscallRuleTag = 0xfffe;
// RET_TRACE data for a syscall number the table does not classify: the tracer applies the
// policy's "unknown_syscall" verdict (ENOSYS at every level but none).
inline constexpr std::uint16_t kUnknownTag = 0xfffc;
// The table classifies numbers below this one by one (the unit test walks them); every number
// from here up to the x32 bit is unknown to any kernel tracejail was built for.
inline constexpr std::uint32_t kSyscallNumberLimit = 1024;
// The first number of the x32 ABI (libseccomp sends those to the bad-architecture action).
inline constexpr std::uint32_t kX32SyscallBit = 0x40000000;

// A policy syscall rule decided in the kernel (the syscall is not one the tracer stops for).
struct KernelRule {
  int nr = -1;
  std::string name;
  policy::SyscallAction action = policy::SyscallAction::kDeny;
  int error = 0;
  std::vector<policy::ArgCondition> args;
  std::string rule_id;
};

// RET_TRACE for `row` when every condition holds (no conditions: always).
struct TraceRule {
  const syscalls::SyscallRow* row = nullptr;
  std::vector<policy::ArgCondition> conds;
};

struct FilterPlan {
  policy::SyscallAction default_action = policy::SyscallAction::kAllow;
  int default_error = 0;
  std::vector<const syscalls::SyscallRow*> traced;  // rows with at least one trace rule
  std::vector<TraceRule> trace_rules;
  std::vector<const syscalls::SyscallRow*> kernel_errno;  // rows with kernel_errno set
  std::vector<KernelRule> kernel_rules;  // policy syscall rules decided in the kernel
  // sched_getaffinity, sched_setaffinity: their rows stop for every call while the tree may
  // share one CPU with the supervisor (tracer/same_cpu.h), which then gives it its CPUs back.
  std::vector<int> affinity_traced;
  // Syscall numbers without a table row, as [first, end) runs up to kX32SyscallBit: a prelude
  // in front of libseccomp's program stops them with kUnknownTag (two comparisons per run).
  std::vector<std::pair<std::uint32_t, std::uint32_t>> unknown;
  bool IsUnknown(std::uint32_t nr) const;
};

// `audit`: nothing may be denied or killed in the kernel either; syscall rules (and a default)
// that would deny or kill stop for the tracer instead, which records and allows them.
FilterPlan MakePlan(const policy::Policy& policy, const syscalls::SyscallIndex& index,
                    bool audit = false);

// Stops every sched_getaffinity and sched_setaffinity for the same-CPU pin. Only when
// the policy leaves them to the kernel's default, and that default allows them: otherwise
// returns the reason it cannot, and the plan is unchanged.
std::string TraceAffinity(FilterPlan& plan, const policy::Policy& policy);

// Whether the filter lets every rt_sigsuspend run (allowed in the kernel, never stopped, failed
// or killed): the supervisor's lanes park a task in it while handing it from one tracer thread
// to another (tracer/supervisor_lanes.cc), with no tracer to stop it. "" if so, else why not.
std::string ParkingAllowed(const FilterPlan& plan, const policy::Policy& policy);

// Throws std::runtime_error naming the libseccomp call that failed.
std::vector<sock_filter> BuildFilter(const FilterPlan& plan, const syscalls::SyscallIndex& index);

// The plan in readable form: what the kernel allows, denies, and stops for the tracer.
std::string DescribePlan(const FilterPlan& plan, const syscalls::SyscallIndex& index);

// libseccomp's pseudo-filter-code listing of the same program (`tracejail policy compile --pfc`).
std::string DescribeFilter(const FilterPlan& plan, const syscalls::SyscallIndex& index);

}  // namespace tracer
