// tracejail protects itself at every level and in every mode, `none`, `audit` and `learn`
// included: a traced program may never signal, ptrace or read the memory of tracejail or of
// any of its ancestors (the shell that started it, init). The decoder names the processes
// outside the tree a call reaches (DecodedCall::outside); this says whether one of them is
// protected. The kernel side of the same promise: the command runs without CAP_SYS_PTRACE and
// tracejail is not dumpable (docs/security.md).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tracer/decode.h"

namespace tracer {

// A numeric field ("Tgid:", "PPid:", "Pid:") of a /proc status-like file (status, fdinfo).
std::optional<pid_t> ProcField(const std::string& path, std::string_view field);

// How processes are looked up: /proc by default; unit tests pass fakes.
struct ProcessLookup {
  std::function<std::optional<pid_t>(pid_t tid)> tgid_of;    // the process a task belongs to
  std::function<std::optional<pid_t>(pid_t pid)> parent_of;  // 0 for the top of the chain
  std::function<std::optional<pid_t>(pid_t pid)> group_of;   // its process group
  std::function<std::string(pid_t pid)> name_of;             // for the message
  static ProcessLookup Live();
};

class SelfGuard {
 public:
  explicit SelfGuard(pid_t self, ProcessLookup lookup = ProcessLookup::Live())
      : self_(self), lookup_(std::move(lookup)) {}

  // Why the call must be refused ("pid 812 is tracejail itself"), or "" when none of the
  // targets is tracejail or an ancestor of it.
  std::string Check(const OutsideTargets& targets) const;

  // tracejail and its ancestors, nearest first (read afresh: tracejail may be re-parented).
  std::vector<pid_t> Protected() const;

 private:
  pid_t self_;
  ProcessLookup lookup_;
};

}  // namespace tracer
