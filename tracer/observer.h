// `tracejail observe -p PID`: attach to a process tracejail did not start (every thread, and the
// children it makes from then on), decode and decide what it does against the policy, record the
// same events as `run`, and let go of it (PTRACE_DETACH) on a signal, after a duration or when it
// ends. No seccomp filter can be added to a process from outside, so every syscall stops twice
// (PTRACE_SYSCALL entry and exit); the calls `run`'s audit-mode filter would stop are decided
// like `run` decides them (tracer/stop_decision.h) and recorded through the EventSink. Nothing is
// enforced (every denial is a "would deny"), unless `enforce`: then a denied call is skipped at
// its entry (orig_rax = -1) and fails with its errno at its exit, without pinned arguments (an
// allow is not race-free). One thread only: Attach and Run must be called by the same thread.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "policy/policy.h"
#include "report/result.h"
#include "report/run_facts.h"
#include "syscalls/table.h"
#include "tracer/event_draft.h"
#include "tracer/event_sink.h"
#include "tracer/path_resolver.h"
#include "tracer/seccomp_filter.h"
#include "tracer/stop_decision.h"
#include "tracer/tracee_table.h"

namespace tracer {

struct ObserveOptions {
  bool enforce = false;       // deny by skipping the call at its entry; kill the tree on kill
  bool live_allowed = false;  // also show allowed decisions in the live view (not the file)
  double duration_s = 0;      // let go after this long; 0: until it ends or a signal
  std::size_t denial_notes = report::kFirstDenials;  // noted for the summary (-v: more)
  // tracejail's own outputs (events file, result file, key), absolute: a call that touches one
  // is an escape attempt.
  std::vector<std::string> protected_paths;
};

// What observing found out: RunFacts (`detached` when it was let go while it ran on) and how the
// observation began and ended.
struct ObserveResult : report::RunFacts {
  pid_t pid = 0;                  // the process observed (its thread group)
  std::string exe;                // escaped
  std::vector<std::string> argv;  // at attach, escaped
  std::size_t threads = 0;        // threads attached at the start
  bool duration_over = false;     // let go because ObserveOptions::duration_s passed
  std::size_t left_running = 0;   // tasks detached (the process's and its children's)
};

// Why PTRACE_SEIZE failed, as far as tracejail can tell (AttachErrorMessage).
struct AttachFacts {
  int error = 0;                    // PTRACE_SEIZE's errno
  std::optional<int> ptrace_scope;  // /proc/sys/kernel/yama/ptrace_scope, when Yama is there
  pid_t tracer_pid = 0;             // a tracer already attached (TracerPid:), or 0
  bool privileged = false;          // tracejail has CAP_SYS_PTRACE
  bool same_user = true;            // the process runs as tracejail's real user
  bool self = false;                // tracejail itself or one of its ancestors
};
// One line: "cannot attach to process N: ..." or "no such process: N", naming
// /proc/sys/kernel/yama/ptrace_scope when it is why. Pure.
std::string AttachErrorMessage(pid_t pid, const AttachFacts& facts);

class AttachError : public std::runtime_error {
 public:
  AttachError(int err, const std::string& message) : std::runtime_error(message), error(err) {}
  int error;  // ESRCH: no such process; EPERM: not permitted; else: ptrace failed
};

class Observer {
 public:
  // Events go to `sink` (none when null).
  Observer(const policy::Policy& policy, EventSink* sink, ObserveOptions options);
  ~Observer();  // lets go of anything still attached
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;

  // Seizes every thread of `pid`'s process and waits until each is stopped once, so that from
  // its return every syscall of the process is seen. Throws AttachError (nothing left attached).
  void Attach(pid_t pid);
  // Observes until the process ends (the children it made are let go), a signal (RequestStop)
  // or the duration; every task still attached is detached, running as before.
  const ObserveResult& Run();
  const ObserveResult& result() const { return result_; }

  // From the CLI's signal handler (async-signal-safe: sets a flag): stop observing. A second
  // signal stops waiting for tasks that do not stop to be detached (the kernel detaches them
  // when tracejail exits).
  static void RequestStop(int sig);

 private:
  class Context;
  // Per task, what a call in flight left for its exit stop.
  struct Pending {
    int skip_error = -1;   // the call was skipped (--enforce): its result is -skip_error
    std::string bind_key;  // an allowed unix bind: the tree's socket if it succeeds
  };

  Tracee& Get(pid_t tid);
  void Dispatch(pid_t tid, int status);
  void HandleExit(pid_t tid, int status);
  void HandleStop(Tracee& t, int status);
  void HandleChild(Tracee& t, int event);
  void HandleExec(Tracee& t);
  void HandleSyscall(Tracee& t);
  void HandleEntry(Tracee& t, const RawStop& stop);
  void HandleCall(Tracee& t, const RawStop& stop);
  // Whether `run`'s filter (audit plan) would have stopped this call for the tracer.
  bool Watched(const RawStop& stop, bool native) const;
  void RecordCall(Tracee& t, const DecodedCall& call, const RawStop& stop,
                  const policy::Decision& d);
  void Record(Tracee& t, const policy::Decision& d, nlohmann::json tip, const DecodedCall* call,
              long nr, std::uint32_t arch, const std::uint64_t* raw, std::string message,
              bool live_only = false);
  void Enforce(Tracee& t, const policy::Decision& d);
  void Resume(Tracee& t, int sig = 0);
  void Emit(report::Event e, Tracee* t);
  void Lifecycle(Tracee& t, LifecycleDraft draft);
  void Tick();
  void StartDetach();                    // interrupts every task; each is let go at its stop
  void DetachAt(Tracee& t, int status);  // a stop while detaching
  void Fail(std::string what);           // tracejail's own failure: recorded, then let go
  void ReleaseAll();                     // best effort, outside the loop (errors, destructor)
  const ResolveView& ViewOf(Tracee& t);

  const policy::Policy& policy_;
  EventSink* sink_;
  ObserveOptions options_;
  Mode mode_;
  syscalls::SyscallIndex index_;
  FilterPlan plan_;
  std::unordered_set<const syscalls::SyscallRow*> traced_rows_;
  std::unordered_set<std::uint64_t> rule_nrs_;  // numbers a syscall rule names
  bool default_traced_ = false;                 // the syscall default is not allow
  TraceeTable tracees_;
  std::unordered_map<pid_t, Pending> pending_;
  std::unordered_set<std::string> bound_sockets_;
  ResolveView view_;
  bool own_mounts_ = false;  // the process has another mount namespace than tracejail
  pid_t main_pid_ = -1;
  bool detaching_ = false;
  bool main_ended_ = false;
  int signals_seen_ = 0;
  double started_ = 0;
  std::uint64_t seq_ = 0;
  ObserveResult result_;
};

}  // namespace tracer
