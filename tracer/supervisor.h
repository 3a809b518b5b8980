// The tracer loop: one thread, the only one that issues ptrace requests. It follows the whole
// process tree (fork, vfork, clone, exec by any thread, group-stops, signals), decides every
// flagged syscall against the policy, enforces (allow, skip with an errno, kill the tree), and
// hands events to an EventLog. When the command's main process exits, everything it left is
// killed and reaped. No exceptions escape the loop; tracee failures (ESRCH) are normal.
#pragma once

#include <sys/types.h>

#include <sys/ptrace.h>
#include <sys/user.h>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "policy/policy.h"
#include "report/event_log.h"
#include "report/run_facts.h"
#include "syscalls/table.h"
#include "tracer/anchored_call.h"
#include "tracer/artifact_tracker.h"
#include "tracer/cgroup.h"
#include "tracer/event_draft.h"
#include "tracer/event_sink.h"
#include "tracer/exec_image.h"
#include "tracer/lanes.h"
#include "tracer/launcher.h"
#include "tracer/limit_watcher.h"
#include "tracer/output_capture.h"
#include "tracer/path_resolver.h"
#include "tracer/pin.h"
#include "tracer/pin_injector.h"
#include "tracer/same_cpu.h"
#include "tracer/spin_policy.h"
#include "tracer/stack_unwinder.h"
#include "tracer/stop_decision.h"
#include "tracer/stop_queue.h"
#include "tracer/syscall_info.h"
#include "tracer/tracee.h"
#include "tracer/tracee_table.h"

namespace tracer {

// Limits the supervisor watches (the kernel enforces them; the supervisor turns what it sees
// into resource_limit_exceeded and timeout_exceeded events and enforces the wall-clock timeout).
struct Watch {
  policy::Limits limits;
  Cgroup* cgroup = nullptr;   // the run's cgroup, when there is one
  bool own_mounts = false;    // the tracee has a mount namespace: resolve through /proc/PID/root
  bool ns_proc_pids = false;  // its /proc numbers processes in its PID namespace
  std::string tmpfs_dir;      // the size-limited work dir, watched for a full disk
  // Also show allowed decisions in the live view (not the file), each with its result: an
  // allowed call then takes a syscall-exit stop (Tracee::Inject::kLiveExit). Off: no exit stop
  // is ever asked for the view (RunFacts::return_stops stays 0).
  bool live_allowed = false;
  bool landlock = false;  // Landlock enforces the path rules too (filesystem races closed)
  // tracejail's own outputs (events file, result file, stream socket), absolute: the tracee may
  // not touch them, nor move or remove a directory above them.
  std::vector<std::string> protected_paths;
  // Why the tree and the supervisor must not share one CPU (tracer/same_cpu.h); empty: they
  // may. The filter must stop the affinity calls (TraceAffinity) for them to.
  std::string same_cpu_off = "not asked for";
  // Why the supervisor may not run lanes (tracer/lanes.h); empty: it may, when asked for
  // (TRACEJAIL_LANES). The filter must let rt_sigsuspend run (tracer::ParkingAllowed).
  std::string lanes_off = "not checked";
  // After a SIGINT, SIGTERM or SIGHUP is forwarded to the command: how long the tree may take
  // to end before it is killed (a second signal kills at once).
  double kill_grace_s = 2.0;
  // The terminals tracejail was started from (device numbers of its stdin, stdout, stderr and
  // controlling terminal) and whether the command was given them (--tty): without, the command
  // may not change them (tracer/decode.cc, terminal requests).
  std::vector<dev_t> caller_terminals;
  bool keep_terminal = false;
  // How many denials the result notes for the summary (-v: report::kVerboseDenials).
  std::size_t denial_notes = report::kFirstDenials;
  // Which recorded call events carry the calling thread's stack (--stack).
  StackMode stack = StackMode::kDenials;
  // Hashes of what ran and of what was left behind (with an events log or --collect).
  ArtifactOptions artifacts;
};

using report::LimitHit;

// What supervision found out (report::RunFacts, mapped to the execution result by
// report::FillResult), and why the command never started, if it did not.
struct RunResult : report::RunFacts {
  std::optional<SpawnError> spawn_error;
};

struct DecodedCall;

// The supervisor's pieces: the tracee table (tracer/tracee_table.h) and the stops waiting to be
// handled (tracer/stop_queue.h), the pin injector (tracer/pin_injector.h), the limit watcher
// (tracer/limit_watcher.h), the decision for one stop (tracer/stop_decision.h), the events'
// drafts (tracer/event_draft.h) and where they go (tracer/event_sink.h). What remains here is
// the loop and carrying out what those decide with ptrace.
class Supervisor {
 public:
  // Events go to `log` (none when null).
  Supervisor(const policy::Policy& policy, Mode mode, report::EventLog* log, Watch watch = {});
  // Events go to `sink` (none when null): a test captures them there.
  Supervisor(const policy::Policy& policy, Mode mode, EventSink* sink, Watch watch);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Launches `spec` and supervises it to the end. Throws only if the launch itself fails.
  // `capture`, when given, is started once the child exists.
  RunResult Run(const LaunchSpec& spec, OutputCapture* capture = nullptr);

  // Forwarded by the CLI's signal handler (async-signal-safe: sets a flag).
  static void RequestForward(int sig);

  // A limit enforced outside the tracer (captured output): records the event and the hit.
  void LimitExceeded(policy::LimitKind kind, std::string observed, nlohmann::json details);
  const RunResult& result() const { return result_; }

 private:
  class Context;

  // The next stop to handle: a queued one, or what waitpid reports (tid 0: nothing yet; < 0:
  // waitpid failed with wait_errno, saved before the tick could overwrite it).
  struct Next {
    pid_t tid = 0;
    int status = 0;
    int wait_errno = 0;
  };
  void Begin(const LaunchSpec& spec, OutputCapture* capture);
  Next WaitNext();
  void Dispatch(pid_t tid, int status);  // the tick, forwarded signals, then the stop
  void Finish();

  Tracee& Get(pid_t tid);
  static pid_t TgidOf(Tracee& t) { return TraceeTable::TgidOf(t); }
  static const std::string& ExeOf(Tracee& t) { return TraceeTable::ExeOf(t); }
  PinSpace* SpaceOf(Tracee& t) { return pins_.SpaceOf(t); }
  void HandleStop(pid_t tid, int status);
  void HandleExit(pid_t tid, int status);
  void HandleSyscallStop(Tracee& t);  // only while injecting
  void HandleChild(Tracee& t, int event);
  void HandleExec(Tracee& t);
  void HandleSignalStop(Tracee& t, int sig);
  void HandleSeccomp(Tracee& t);
  // A call the registers did not decide: decoded, decided (stop_decision.h), prepared,
  // recorded, enforced.
  void HandleCall(Tracee& t, const RawStop& stop);
  // What an allowed call needs before it runs (its arguments pinned, its sharers held, its
  // exec, connect or bind armed, CLONE_UNTRACED removed); `d` may become a denial. False: the
  // task could not be steered and was killed.
  bool Prepare(Tracee& t, DecodedCall& call, const RawStop& stop, policy::Decision& d);
  void RecordCall(Tracee& t, const DecodedCall& call, const RawStop& stop,
                  const policy::Decision& d);
  // `counted`: a policy denial (RunResult::denied), not a call the kernel would fail anyway.
  // kAlways: denied in audit mode too (tracejail's self-protection).
  enum class Enforcement : std::uint8_t { kByMode, kAlways };
  void Enforce(Tracee& t, const policy::Decision& d, bool counted = true,
               Enforcement how = Enforcement::kByMode);
  void Resume(Tracee& t, int sig = 0);  // PTRACE_CONT, or PTRACE_SYSCALL while injecting
  // At exec of the dynamic loader: is the program it is told to run allowed to execute? If not,
  // records it and kills the process (enforce mode) and returns false.
  bool LoaderMayRun(Tracee& t);
  // An exec is allowed: record the image the kernel must run (the file, or its interpreter).
  void ArmExecCheck(Tracee& t, DecodedCall& call);
  // At the exec event of a task whose exec was armed (`origin`, by the exec'ing thread): is the
  // image running the one checked? If not, records it, kills the process, returns false.
  bool ExecImageMatches(Tracee& t, const ExecCheck& origin);
  // The protected output the request touches (or a directory above it it would change), or "".
  std::string ProtectedPathHit(const policy::Request& req) const;
  void FinishSendmmsg(Tracee& t);
  void FinishBind(Tracee& t);
  // An allowed connect to a unix socket path: records the socket file checked (ArmConnect), and
  // at the call's exit compares the socket reached with it; another one is disconnected and the
  // call fails with ECONNREFUSED (FinishConnect).
  void ArmConnect(Tracee& t, DecodedCall& call);
  // An allowed call that names its object by a descriptor (or by the working directory, with
  // an empty path): when another task shares the table (or the working directory) it is held
  // stopped from here to the call's exit, and the descriptor must still name the file decided
  // on. A decision instead when the call must not run (it names another file now, or a sharer
  // did not stop).
  std::optional<policy::Decision> GuardFdNamed(Tracee& t, DecodedCall& call);
  void FinishHeld(Tracee& t);  // the exit of a call GuardFdNamed held sharers for
  // An allowed unix bind: its exit makes the socket the tree's if it succeeded, and for a path
  // bind checks that the socket file was made in the checked directory. A decision instead
  // when the bind must not run (the checked directory is gone or has a symlink in its walk
  // now; a task sharing the descriptor table could not be held); call.note says why.
  std::optional<policy::Decision> ArmBind(Tracee& t, DecodedCall& call);
  void FinishConnect(Tracee& t);
  // Another task of the tree shares its descriptor table (with `fs`: or its working directory).
  bool FilesShared(Tracee& t, bool fs = false);
  void PinRegionFailed(Tracee& t, const std::string& why);  // records it, kills the process
  // Pins an allowed call's pointer arguments. kNone: pinned, or allowed unpinned (the reason
  // in call.unpinned); otherwise it must be denied instead.
  // kGone: the call could not be steered and the task was killed (Abandon).
  enum class PinFailure : std::uint8_t { kNone, kNoSlot, kUnwritable, kGone };
  PinFailure PinArguments(Tracee& t, DecodedCall& call);
  // Anchored path calls (tracer/anchored_call.h, tracer/supervisor_anchored.cc). StartAnchored
  // turns the allowed call at its seccomp stop into the first anchor's openat2; false: it cannot be
  // anchored (call.walk_gap says why) and nothing was changed. The task may be gone (kGone in
  // `failure`).
  bool StartAnchored(Tracee& t, DecodedCall& call, AnchorPlan plan, PinSpace& space,
                     std::uint64_t slot, PinFailure& failure);
  void StepAnchored(Tracee& t);                            // a syscall-stop of the injection
  void AnchoredSeccomp(Tracee& t);                         // a seccomp stop of a re-issued call
  void AnchoredFailed(Tracee& t, const std::string& why);  // records it, kills the process
  void ReissueAnchored(Tracee& t, user_regs_struct want, AnchoredCall::Step step);
  void CloseAnchors(Tracee& t);
  // At the re-issued call's entry or seccomp stop: checks the anchors (holding the tasks that
  // share its descriptor table) and lets the call run, or fails it.
  void RunAnchoredCall(Tracee& t, const user_regs_struct& r);
  // The tasks that share `t`'s descriptor table are held in a ptrace-stop from the check of its
  // anchors to the end of its call, so none can put another file under an anchor's number in
  // between: each is interrupted (PTRACE_INTERRUPT) and its stop parked until ThawSharers.
  enum class Freeze : std::uint8_t { kFrozen, kTimedOut, kCallerGone };
  Freeze FreezeSharers(Tracee& t, bool fs = false);  // fs: the working directory's sharers too
  // A stop of a frozen task (or of a new one sharing a frozen table) is parked: true.
  bool ParkIfFrozen(pid_t tid, int status);
  void ThawSharers(pid_t freezer) { Here().stops.Thaw(freezer); }  // their stops go first, in order
  // On the tick: an anchored call that has held its sharers for a whole tick (a connect or a
  // send waiting for room, perhaps for one of them) is interrupted (PTRACE_INTERRUPT); it ends
  // with an ERESTART code, the sharers go on, and the call starts over, decided and anchored
  // again. Its sharers never wait on it forever.
  void NudgeHeldCalls();
  std::unordered_map<std::string, bool> proc_in_view_;  // by ResolveView::root: procfs at /proc
  // Events: the fields only the live side knows (seq, time, the task), then the sink.
  void Emit(report::Event e, Tracee* t);
  void Stamp(report::Event& e, Tracee* t);  // time and the task, at the decision
  // The live view's results (Watch::live_allowed): an allowed call's live-only event waits on
  // its task (Tracee::live_call) for the call's exit. FlushLive emits it with `ret` (nullopt:
  // "= ?", the exit never came) and ends a kLiveExit; FinishLive is that exit stop.
  void FlushLive(Tracee& t, std::optional<long long> ret);
  void FinishLive(Tracee& t);
  // `tip`: the policy fragment that would allow the call (kept for denials only).
  void Record(Tracee& t, const policy::Decision& d, nlohmann::json tip, const DecodedCall* call,
              long nr, std::uint32_t arch, const std::uint64_t* raw, std::string message,
              bool live_only = false, bool hold_for_exit = false);
  // The stack of `t` at its current stop for an event (tracer/stack_unwinder.h), or why not.
  nlohmann::json StackOf(Tracee& t);
  std::size_t stacks_taken_ = 0;
  // What ran and what was left behind: hashed only when something keeps it (events, --collect).
  ArtifactTracker artifacts_;
  bool tracks_artifacts() const { return sink_ != nullptr || watch_.artifacts.collect_dir >= 0; }
  // Before an allowed call runs: the files it writes, creates or removes.
  void NoteChanges(Tracee& t, const DecodedCall& call);
  void Lifecycle(Tracee& t, LifecycleDraft draft);
  void LimitEvent(Tracee* t, LimitReport report);
  void KillAll();
  // SIGINT/SIGTERM/SIGHUP/SIGQUIT that reached tracejail: forwarded to the command; the tree is
  // killed when the grace ends (Tick) or at a second signal.
  void HandleSignals();
  void KillEverything();  // KillAll, the cgroup's members and untraced children too
  void KillUntracedChildren();
  // An error in tracejail's own machinery: recorded (the first one) and the tree is killed.
  void Fail(std::string what);
  void CheckLoopEnd();  // after waitpid said ECHILD: nothing known may still be alive
  void Drain();         // kills and reaps everything, unknown tasks and children included
  void Tick();          // periodic: timeout, cgroup counters, disk, the same-CPU pin
  void CheckKernelLimits();
  const ResolveView& ViewOf(Tracee& t);

  const policy::Policy& policy_;
  Mode mode_;
  std::unique_ptr<EventLogSink> log_sink_;  // when constructed with an EventLog
  EventSink* sink_;
  syscalls::SyscallIndex index_;
  TraceeTable tracees_;
  PinInjector pins_{tracees_};
  // Unix socket addresses the tree bound (a bind it was allowed and that succeeded): "/path"
  // or "@abstract-name". Connects to them are the tree talking to itself (policy "own").
  std::unordered_set<std::string> bound_sockets_;
  pid_t main_pid_ = -1;     // the process tracejail started
  pid_t command_pid_ = -1;  // the command: main_pid_, or the first child of a PID-namespace init
  bool has_init_ = false;
  bool killing_ = false;
  bool main_exec_seen_ = false;
  bool command_ended_ = false;  // the command's (or, without one, the main process's) end
  int signals_seen_ = 0;        // of g_signal_count
  base::UniqueFd spawn_errors_;
  std::uint64_t seq_ = 0;
  RunResult result_;
  Watch watch_;
  LimitWatcher limits_;
  ResolveView view_;  // scratch for ViewOf
  SameCpu same_cpu_;
  // Fairness: waitpid(-1) returns the first reportable task of the kernel's list (the newest
  // tracee first), so a task that stops again at once (a thread looping on a flagged call) can
  // starve the others. Every kDrainEvery stops the loop takes every stop already reported into
  // the ready queue (Lane::stops) and handles them in order before waiting again.
  static constexpr int kDrainEvery = 8;

  // Lanes (tracer/lanes.h, docs/performance.md): tracer threads, one per CPU, each owning the
  // tracees it seized or that were born to them (Tracee::lane); lanes_[0] is the thread in Run,
  // and with lanes off the only one. Each waits for its own tracees only (__WNOTHREAD) and
  // decides under mu_, so the decision code runs one stop at a time as before. A task moves
  // only while it shares nothing (no thread, memory, descriptor table or working directory) with
  // another task: sharers stay in one lane, so holding them (FreezeSharers) never crosses lanes.
  struct Lane {
    std::size_t index = 0;
    int cpu = -1;
    pid_t thread = 0;  // its thread id, once it runs
    StopQueue stops;   // its own stops, touched by its thread only
    SpinPolicy spin{0, 1};
    int since_drain = 0;
    // Under mu_: wait statuses another lane collected for this lane's tasks (a task tracejail
    // is the parent of reports to the leader thread too), tasks handed to this lane.
    std::vector<std::pair<pid_t, int>> mail;
    std::vector<pid_t> adopt;
    bool idle = false;  // its waitpid said ECHILD and nothing came since
    // The stop being handled, as the lane read it before taking the lock (a seccomp stop's
    // PTRACE_GET_SYSCALL_INFO; info_tid 0: none), and the resumes Resume() left for the lane
    // to issue once it let go of the lock: its own tracees, in order.
    pid_t info_tid = 0;
    SyscallInfo info{};
    long info_size = 0;
    struct Resumption {
      pid_t tid;
      __ptrace_request request;
      int sig;
    };
    std::vector<Resumption> resume;
  };
  static thread_local Lane* here_;
  Lane& Here() { return *here_; }
  int WaitFlags() const { return lanes_.size() > 1 ? __WALL | __WNOTHREAD : __WALL; }
  void SetUpLanes(const std::vector<int>& cpus);
  void StartLanes();  // a lane whose thread cannot start is dropped with the ones after it
  void StartLane(Lane* lane);
  void LaneLoop(Lane& lane);
  // No task of `lane` is left: true once no lane has one (the run is over); false when the lane
  // has work again or should look again (its tick).
  bool LaneIdle(Lane& lane, std::unique_lock<std::mutex>& lock);
  bool TakeMail(Lane& lane);
  void Release(Lane& lane,
               std::unique_lock<std::mutex>& lock);  // unlock, then the resumes  // true: it had
                                                     // statuses or tasks for this lane
  void WakeLane(Lane& lane);
  // At a seccomp stop (x86_64 call `nr`): hands the task to another lane when placement says so
  // (parked in rt_sigsuspend, detached, seized by the other lane's thread). True: handed over.
  bool HandOver(Tracee& t, std::uint32_t arch, std::uint64_t nr);
  bool Solitary(Tracee& t);
  // The first stop of a task seized by this lane: its call is set to start over.
  bool Adopted(Tracee& t);
  std::mutex mu_;
  std::condition_variable lanes_cv_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::vector<std::thread> lane_threads_;
  bool lanes_done_ = false;
  LaneConfig lane_config_;
  std::string lanes_note_;  // why lanes are off, or how many
  std::uint64_t handovers_ = 0;
  int filters_ = -1;  // Seccomp_filters of the command after its exec; -1: unknown, no handover
  void GiveCpusBack(std::string why);  // ends the same-CPU pin, for the rest of the run
  void ResetSpin();                    // the poll policy for the CPUs the supervisor has now
};

}  // namespace tracer
