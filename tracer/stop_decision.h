// The decision for one seccomp stop, as a pure function of what the stop shows (architecture,
// number, registers, the decoded call), the policy and the facts only the live side can learn
// (CallFacts). No ptrace and no tracer state: the supervisor gathers the inputs, calls these,
// and carries the verdict out (pinning, arming, recording, enforcing). Unit-tested with the
// fake tracee of tests/unit/fakes.h (tests/unit/stop_decision_test.cc).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/policy.h"
#include "syscalls/table.h"
#include "tracer/decode.h"

namespace tracer {

enum class Mode : std::uint8_t { kEnforce, kAudit };

// The x32 ABI bit of a syscall number on x86-64.
inline constexpr std::uint64_t kX32Bit = 0x40000000;

// "x86_64", "x32", "i386", "arch 0x..." for an audit architecture and number.
std::string ArchName(std::uint32_t arch, std::uint64_t nr);
// The syscall's name on that architecture (libseccomp), or "syscall_N".
std::string SyscallName(std::uint32_t arch, std::uint64_t nr);

// What a seccomp stop shows before anything is read from the tracee.
struct RawStop {
  std::uint32_t arch = 0;
  std::uint64_t nr = 0;
  std::array<std::uint64_t, 6> args{};
  const syscalls::SyscallRow* row = nullptr;  // the table's row for `nr`, or nullptr
  bool unknown_tag = false;  // our filter stopped it as a number the table does not know
};

// What the registers alone say about a stop.
struct RegisterVerdict {
  enum class Next : std::uint8_t {
    kDecodeAndDecide,  // nothing decided yet: decode the call and DecideCall
    kEnforce,          // decided: enforce `decision`
    kLetRun,           // not ours: a filter the tracee stacked stopped it; it goes on
  };
  Next next = Next::kDecodeAndDecide;
  policy::Decision decision;
  bool record = false;  // record an event for `decision` (before decoding and deciding, if any)
  // The event shows the decoded arguments (a syscall rule's decision, on a row of the table).
  bool decode_for_event = false;
  policy::Request request;  // what the event names (its primitive), when not decoded
  nlohmann::json tip;
  std::string message;
};

// A foreign ABI, a number the table does not classify, a syscall rule (or the syscall default)
// that decides the call, or a stop that is not ours.
RegisterVerdict DecideOnRegisters(const RawStop& stop, const policy::Policy& policy);

// What only the live side can learn about a decoded call.
struct CallFacts {
  std::string protected_hit;  // a path of tracejail's own output the call names, or ""
  std::string self_guard;     // why the call reaches tracejail or an ancestor, or ""
};

struct CallVerdict {
  policy::Decision decision;
  // The kernel would fail the call anyway (call.early_errno): in enforce mode it is denied
  // uncounted and unrecorded; in audit mode it runs.
  bool kernel_fails = false;
  bool self_hit = false;  // enforced whatever the mode (self_guard.h)
};

// The output of tracejail's (`protected_paths`, absolute; one ending in "/" is a directory
// protected with everything beneath it) the request touches, or a directory above one it would
// change; "" when none.
std::string ProtectedPathHit(const policy::Request& req,
                             const std::vector<std::string>& protected_paths);

// The policy's decision on a decoded call, overridden by tracejail's own guards. Sets call.note
// when a guard decided.
CallVerdict DecideCall(DecodedCall& call, const policy::Policy& policy, const CallFacts& facts);

// The event message for a decided call: "openat deny /etc/shadow (read) [primitive]: note".
std::string CallMessage(const syscalls::SyscallRow& row, const DecodedCall& call,
                        const policy::Decision& decision);

// Rule ids of tracejail's own guards.
inline constexpr std::string_view kSelfRule = "builtin:tracejail-self";
inline constexpr std::string_view kOutputRule = "builtin:tracejail-output";
inline constexpr std::string_view kKernelWouldFailRule = "builtin:kernel-would-fail";

}  // namespace tracer
