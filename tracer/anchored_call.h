// An anchored path call in flight (tracer/fs_anchor.h): what the supervisor remembers while it
// steps the tracee through the injected calls, one syscall-stop at a time
// (tracer/supervisor_anchored.cc):
//
//   seccomp stop of the call  -> the call becomes openat2 of the first anchor
//   exit of openat2           -> the anchor's descriptor; the next anchor's openat2, or the call
//                                itself re-issued on "/proc/thread-self/fd/N/<name>"
//   entry of the call         -> every anchor is still the open file the tracee got (kcmp);
//                                the tasks sharing its descriptor table are held until the end
//   exit of the call          -> its result; the anchors are closed, one injected close each
//   exit of the last close    -> the call's registers come back with its result
//
// Every signal but SIGKILL and SIGSTOP is blocked around the injected calls
// (PTRACE_SETSIGMASK), so no handler runs in between; the call itself runs under the program's
// own mask, so a signal interrupts a blocking connect or send as it would natively. An
// interrupted call is handed back with its ERESTART code and the kernel restarts it (then it is
// decided and anchored again) or fails it with EINTR, as the handler asks.
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "tracer/fs_anchor.h"

namespace tracer {

struct AnchoredCall {
  enum class Step : std::uint8_t {
    kOpenExit,     // an anchor's openat2 runs: its exit gives the descriptor
    kOpenEntry,    // the next anchor's openat2 was re-issued: its entry must be that call
    kCallEntry,    // the call was re-issued on the anchors: at its entry they are checked
    kCallSeccomp,  // likewise, at its seccomp stop (no entry stop: one stop fewer)
    kCallExit,     // the call runs: its exit gives the result
    kCloseEntry,   // an anchor's close was issued
    kCloseExit,
  };
  Step step = Step::kOpenExit;
  AnchorPlan plan;
  user_regs_struct call{};  // the call's registers at its seccomp stop
  user_regs_struct want{};  // the call the next entry stop must show (rip: after the insn)
  std::uint64_t mask = 0;   // the tracee's signal mask, given back at the end
  std::uint64_t slot = 0;   // the calling thread's pin slot
  std::vector<std::uint64_t> path_at, how_at;  // each anchor's openat2 arguments in the slot
  std::vector<int> fds;                        // the anchors open in the tracee
  std::vector<base::UniqueFd> held;            // tracejail's copies of them
  std::size_t closed = 0;                      // how many of `fds` are closed
  long long result = 0;                        // what the call returns
  bool via_seccomp = false;                    // the re-issued call is checked at its seccomp stop
  int abort_errno = 0;         // the call was skipped at its entry and fails with this
  std::uint64_t mmsg_vec = 0;  // sendmmsg sent as a sendmsg: its vector, for msg_len
  int ticks_held = 0;          // kCallExit: ticks seen while it holds its sharers
  bool nudged = false;         // it was interrupted so that its sharers could go on
  std::string name;            // the call's name
  std::string checked;         // the first checked path (escaped), for messages
};

// Whether tasks `a` and `b` share one kernel object of kcmp's `type` (KCMP_VM, KCMP_FILES,
// KCMP_FS, ...); nullopt when kcmp cannot tell (a task gone, kcmp refused). Each caller decides
// which answer an unknown is: the one that fails closed for what it guards.
std::optional<bool> SameKernelObject(pid_t a, pid_t b, int type);

// Tasks `a` and `b` share a descriptor table (with `fs`: or a working directory), as kcmp
// tells: the tasks that could change what `a`'s descriptors (or relative names) refer to.
bool SharesTables(pid_t a, pid_t b, bool fs);

}  // namespace tracer
