// The supervisor's state for one traced task (a thread or a process), and what one seccomp,
// syscall or signal stop may leave in flight on it (an injection, a pinned call, an armed exec
// check). Plain data: the tracee table (tracer/tracee_table.h) owns every entry.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/user.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "report/event.h"
#include "tracer/anchored_call.h"
#include "tracer/exec_image.h"
#include "tracer/pin.h"
#include "tracer/process_memory.h"

namespace tracer {

// An allowed exec in flight (enforce mode): the image it must run (tracer/exec_image.h),
// checked at the exec event; cleared at the task's next seccomp stop (the exec failed).
struct ExecCheck {
  bool armed = false;
  std::optional<FileId> expect;
  std::string expect_path;
};

struct Tracee {
  pid_t tid = 0;
  pid_t tgid = 0;   // 0 until known
  std::string exe;  // escaped, empty until needed
  std::unique_ptr<ProcessMemory> mem;
  std::vector<std::string> pending_argv;  // argv of an allowed execve, for the exec event
  // The same exec as decided: the path it named (resolved) and its argv unescaped, for the
  // hashes of what ran (tracer/artifact_tracker.h).
  std::string pending_exec_path;
  std::vector<std::string> pending_argv_raw;
  pid_t ns_pid = 0, ns_tid = 0;  // ids in its PID namespace, when it has one
  // The thread whose fork or vfork made this process, until it execs (0: none); for the
  // Python stack of its calls (tracer/python_frames.h).
  pid_t creator = 0;
  bool cpu_reported = false, fsize_reported = false;
  PinSlot pin;  // its slot in its address space's pinned-argument region
  // Slots of pinned calls a signal interrupted: a restart (SA_RESTART) re-reads them, so a
  // call the handler makes must not overwrite them. The oldest go beyond four.
  std::vector<PinSlot> retired;
  bool pinned_in_flight = false;  // its last flagged call was pinned; no stop since
  long pinned_nr = -1;
  ExecCheck exec;
  // Mapping the pin region after an exec, one syscall-stop at a time (tracer/pin_injector.h).
  // kSendmmsgExit: a sendmmsg turned into a sendmsg of its pinned first message, awaiting its
  // syscall exit to restore the registers and report one message sent.
  enum class Inject : std::uint8_t {
    kNone,
    kExecExit,
    kMmapEntry,
    kMmapExit,
    kSendmmsgExit,
    kBindExit,     // an allowed unix bind: its result decides whether the socket is the tree's
    kConnectExit,  // an allowed unix connect: was the socket reached the one checked?
    kAnchored,     // an allowed path call on anchors the tracee opens (`anchored`)
    kHeldExit,     // an allowed call on a descriptor, its sharers held until its exit
    kLiveExit,     // an allowed call whose result the live view shows (live_call): its exit
  };
  Inject inject = Inject::kNone;
  user_regs_struct saved{};
  std::uint64_t mmsg_vec = 0;  // kSendmmsgExit: the caller's struct mmsghdr array
  std::string bind_key;        // kBindExit: the address being bound (BoundKey)
  // kBindExit of a path bind that is checked (ArmBind): the socket descriptor, the checked
  // directory (tracejail's own descriptor), the final name and the path, for messages.
  bool bind_check = false;
  int bind_fd = -1;
  base::UniqueFd bind_dir;
  std::string bind_name, bind_path;
  // kConnectExit: the socket descriptor, and the socket file checked (none: it could not be
  // opened without a symlink) and its path.
  int connect_fd = -1;
  std::optional<FileId> connect_expect;
  std::string connect_path;
  std::uint16_t saved_text = 0;
  std::unique_ptr<AnchoredCall> anchored;  // kAnchored
  int held_ticks = 0;                      // kHeldExit: ticks seen while it holds its sharers
  // The live view's line for its allowed call in flight (--live, -o: Watch::live_allowed),
  // waiting for the call's result: emitted at the call's exit (kLiveExit, or the exit stop an
  // injection above takes anyway), or with "?" when the exit never comes (Supervisor::FlushLive).
  std::unique_ptr<report::Event> live_call;
  // Lanes (Supervisor::Lane): the lane whose thread traces it. `adopting`: handed over, parked
  // in rt_sigsuspend until that lane's first stop of it puts back `handed` (its call, set to
  // start over), which is decided there before the task may move again (`arrived`). `last_stop` and
  // `next_placement`: when it last stopped, when placement may look at it again (Monotonic
  // seconds).
  std::size_t lane = 0;
  bool adopting = false;
  bool arrived = false;  // adopted, its handed-over call not yet decided here
  user_regs_struct handed{};
  double last_stop = 0, next_placement = 0;
};

// A ptrace request on a task in a ptrace-stop failed: it is gone (ESRCH), or it cannot be
// steered. Either way it must not run on unchecked, nor stay stopped: SIGKILL reaches a
// stopped tracee, and its pid cannot be reused before tracejail reaps it.
inline void Abandon(Tracee& t) {
  t.inject = Tracee::Inject::kNone;
  kill(t.tid, SIGKILL);
}

}  // namespace tracer
