#include "tracer/supervisor.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <tuple>

#include <fmt/format.h>

#include "base/escape.h"
#include "syscalls/numbers.h"
#include "syscalls/xlat.h"
#include "tracer/borrow_fd.h"
#include "tracer/decode.h"
#include "tracer/dynamic_loader.h"
#include "tracer/fs_anchor.h"
#include "tracer/monotonic.h"
#include "tracer/path_resolver.h"
#include "tracer/seccomp_filter.h"
#include "tracer/self_guard.h"
#include "tracer/sockaddr.h"
#include "tracer/spin_policy.h"
#include "tracer/supervisor_internal.h"
#include "tracer/syscall_info.h"
#include "tracer/tick_timer.h"
#include "tracer/unix_diag.h"

namespace tracer {

using syscalls::FindRow;
using syscalls::Kind;
using syscalls::kPinBase;
using syscalls::kPinEnd;
using syscalls::kPinSlots;
using syscalls::kPinSlotSize;
using syscalls::SyscallRow;
namespace xlat = syscalls::xlat;
namespace {

// Signals tracejail received (SIGINT, SIGTERM, SIGHUP, SIGQUIT): the first one and how many.
std::atomic<int> g_first_signal{0};  // of the current run
std::atomic<int> g_signal_count{0};
std::atomic<pid_t> g_tracer_tid{0};  // the thread in Supervisor::Run, 0 outside it
std::atomic<bool> g_tick{false};
thread_local volatile sig_atomic_t tl_lane_tick = 0;  // another lane's tick (OnSupervisorTick)

double Now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string ReadLinkOr(const std::string& path, std::string fallback) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? fallback : std::string(buf, static_cast<std::size_t>(n));
}

// A unix socket address as bound_sockets_ keys it: the resolved path, or "@" and the name.
std::string BoundKey(const policy::SocketAddress& a) {
  return a.abstract ? "@" + a.unix_path : a.unix_path;
}

// The children of tracejail: /proc/self/task/TID/children of each of its threads
// (CONFIG_PROC_CHILDREN), or else a scan of every process's parent.
std::vector<pid_t> OwnChildren() {
  std::vector<pid_t> out;
  std::error_code ec;
  bool listed = false;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(task.path() / "children");
    if (!in) continue;
    listed = true;
    for (pid_t child = 0; in >> child;) out.push_back(child);
  }
  if (listed) return out;
  pid_t self = getpid();
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    pid_t p = 0;
    auto [end, err] = std::from_chars(name.data(), name.data() + name.size(), p);
    if (err != std::errc() || end != name.data() + name.size()) continue;
    if (ProcField(fmt::format("/proc/{}/status", p), "PPid:") == self) out.push_back(p);
  }
  return out;
}

bool IsStopSignal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

}  // namespace

void OnSupervisorTick(int) {
  int saved = errno;
  if (static_cast<pid_t>(syscall(SYS_gettid)) == g_tracer_tid.load(std::memory_order_relaxed)) {
    g_tick.store(true, std::memory_order_relaxed);
  } else {
    tl_lane_tick = 1;
  }
  errno = saved;
}

bool TakeLaneTick() {
  if (tl_lane_tick == 0) return false;
  tl_lane_tick = 0;
  return true;
}

int SupervisorCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return CPU_COUNT(&set);
}

bool TaskAliveNow(pid_t tid) {
  std::ifstream in(fmt::format("/proc/{}/stat", tid));
  std::string stat;
  if (!std::getline(in, stat)) return false;
  std::size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z' &&
         stat[close + 2] != 'X';
}

// The live TraceeContext: memory through process_vm_readv, paths through /proc, tree checks
// against the supervisor's table.
class Supervisor::Context final : public TraceeContext {
 public:
  Context(Supervisor& s, Tracee& t) : s_(s), t_(t) {}
  MemoryReader& Memory() override { return *t_.mem; }
  pid_t Pid() const override { return s_.TgidOf(t_); }
  pid_t Tid() const override { return t_.tid; }
  ResolveResult Resolve(int dirfd, std::string_view path, LastLink last, EmptyPath empty,
                        std::uint64_t resolve) override {
    return ResolvePath(Pid(), t_.tid, dirfd, path, last, empty, &s_.ViewOf(t_), resolve);
  }
  std::optional<bool> Exists(const std::string& resolved) override {
    struct stat st {};
    if (lstat((s_.ViewOf(t_).root + resolved).c_str(), &st) == 0) return true;
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return std::nullopt;
  }
  bool ProcPidInTree(pid_t pid) const override {
    // In a PID namespace of its own the tracee sees no process outside the tree.
    return s_.watch_.ns_proc_pids || InTree(pid);
  }
  // A pid as the tracee names it. In a PID namespace of its own every pid it can name is the
  // tree's (the numbers are the namespace's, not tracejail's).
  bool InTree(pid_t pid) const override {
    return pid > 0 && (s_.watch_.ns_proc_pids || s_.tracees_.contains(pid));
  }
  bool GroupInTree(pid_t pgid) const override {
    return InTree(pgid) || (pgid > 0 && getpgid(t_.tid) == pgid);
  }
  Terminal TerminalOf(int fd) override {
    struct stat st {};
    if (stat(fmt::format("/proc/{}/task/{}/fd/{}", Pid(), t_.tid, fd).c_str(), &st) != 0 ||
        !S_ISCHR(st.st_mode)) {
      return Terminal::kNone;
    }
    // tty (4), /dev/tty, console, ptmx (5), pty masters (128-135) and slaves (136-143).
    unsigned major = ::major(st.st_rdev);
    if (major != 4 && major != 5 && (major < 128 || major > 143)) return Terminal::kNone;
    return IsCallerTerminal(st.st_rdev) && !s_.watch_.keep_terminal ? Terminal::kCallers
                                                                    : Terminal::kTerminal;
  }
  // One of the terminals tracejail was started from (Watch::caller_terminals).
  bool IsCallerTerminal(dev_t rdev) const {
    const auto& callers = s_.watch_.caller_terminals;
    return std::find(callers.begin(), callers.end(), rdev) != callers.end();
  }
  bool PtyIsOurs(int index) override {
    struct stat st {};
    std::string path = fmt::format("/dev/pts/{}", index);
    if (stat(path.c_str(), &st) != 0) return true;  // no such terminal: the kernel says ENOENT
    if (IsCallerTerminal(st.st_rdev)) return true;
    // A master the tree holds (/dev/ptmx) names its terminal in fdinfo's tty-index.
    for (pid_t tgid : s_.tracees_.Processes()) {
      std::error_code ec;
      std::filesystem::directory_iterator fds(fmt::format("/proc/{}/fd", tgid), ec);
      for (; !ec && fds != std::filesystem::directory_iterator(); fds.increment(ec)) {
        std::string target = ReadLinkOr(fds->path().string(), "");
        if (target != "/dev/ptmx" && target != "/dev/pts/ptmx") continue;
        auto tty = ProcField(
            fmt::format("/proc/{}/fdinfo/{}", tgid, fds->path().filename().string()), "tty-index:");
        if (tty && *tty == index) return true;
      }
    }
    return false;
  }
  bool BoundByTree(const policy::SocketAddress& addr) const override {
    return s_.bound_sockets_.contains(BoundKey(addr));
  }
  bool WantsSocketType() const override { return s_.policy_.NeedsSocketType(); }
  std::optional<int> SocketType(int fd) override {
    base::UniqueFd sock = BorrowFd(t_.tid, fd);  // and ask the socket
    if (!sock.valid()) return std::nullopt;
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(sock.get(), SOL_SOCKET, SO_TYPE, &type, &len) != 0) return std::nullopt;
    return type;
  }
  std::optional<pid_t> PidfdTarget(int fd) override {
    std::string base = fmt::format("/proc/{}/task/{}/", Pid(), t_.tid);
    if (auto pid = ProcField(base + "fdinfo/" + std::to_string(fd), "Pid:")) return *pid;
    std::string link = ReadLinkOr(base + "fd/" + std::to_string(fd), "");
    if (link.starts_with("/proc/")) {
      pid_t pid = 0;
      auto [ptr, ec] = std::from_chars(link.data() + 6, link.data() + link.size(), pid);
      if (ec == std::errc{} && ptr == link.data() + link.size()) return pid;
    }
    return std::nullopt;
  }

 private:
  Supervisor& s_;
  Tracee& t_;
};

Supervisor::Supervisor(const policy::Policy& policy, Mode mode, report::EventLog* log, Watch watch)
    : Supervisor(policy, mode, static_cast<EventSink*>(nullptr), std::move(watch)) {
  if (log != nullptr) {
    log_sink_ = std::make_unique<EventLogSink>(*log);
    sink_ = log_sink_.get();
  }
}

Supervisor::Supervisor(const policy::Policy& policy, Mode mode, EventSink* sink, Watch watch)
    : policy_(policy),
      mode_(mode),
      sink_(sink),
      watch_(std::move(watch)),
      limits_(watch_.limits, watch_.cgroup, watch_.tmpfs_dir, watch_.kill_grace_s) {
  artifacts_ = ArtifactTracker(watch_.artifacts);
}

Supervisor::~Supervisor() {
  // Nothing outlives tracejail: if Run() did not finish, kill what is left and reap it.
  if (!tracees_.empty()) Drain();
}

void Supervisor::RequestForward(int sig) {
  int saved = errno;  // a signal handler must leave errno as it found it
  int none = 0;
  g_first_signal.compare_exchange_strong(none, sig);
  g_signal_count.fetch_add(1);
  // Delivered to another thread of tracejail (output capture, event writer): the tracer thread
  // may be asleep in waitpid. A tick wakes it (EINTR) and the loop sees the count.
  pid_t tracer = g_tracer_tid.load();
  if (tracer > 0 && tracer != static_cast<pid_t>(syscall(SYS_gettid))) {
    syscall(SYS_tgkill, getpid(), tracer, SIGALRM);
  }
  errno = saved;
}

void Supervisor::HandleSignals() {
  int count = g_signal_count.load();
  if (count == signals_seen_) return;
  int received = count - signals_seen_;  // since the last look
  signals_seen_ = count;
  int sig = g_first_signal.load();
  bool first = result_.interrupted == 0;
  if (first) result_.interrupted = sig;
  // Forwarded first, so the program may end as it would have been ended natively.
  pid_t target = command_pid_ > 0 ? command_pid_ : main_pid_;
  if (target > 0 && !killing_) kill(target, sig);
  if (first && received == 1 && limits_.StartGrace(Monotonic())) return;
  // A second signal, or no grace: the whole tree, at once.
  KillEverything();
}

void Supervisor::KillEverything() {
  KillAll();
  // Anything in the cgroup that escaped tracing dies too (with a PID namespace, the init's
  // exit already takes the whole namespace down).
  if (watch_.cgroup != nullptr && !has_init_) watch_.cgroup->KillAll();
  KillUntracedChildren();
}

void Supervisor::KillUntracedChildren() {
  // A process of the tree that tracejail does not trace would keep waitpid from ever saying
  // ECHILD: orphans come back to tracejail (a subreaper), so each is killed once it is
  // tracejail's child. Nothing of the tree should be untraced (CLONE_UNTRACED is removed or
  // denied); this is the net under that. tracejail has no children but the tree.
  for (pid_t child : OwnChildren()) {
    if (!tracees_.contains(child)) kill(child, SIGKILL);
  }
}

void Supervisor::Fail(std::string what) {
  if (result_.internal_error.empty()) result_.internal_error = std::move(what);
  KillEverything();
}

void Supervisor::CheckLoopEnd() {
  // waitpid said ECHILD: tracejail has no child and no tracee left, so every task still in the
  // table is one whose end was never reported. Its id is no longer tracejail's and may already
  // name an unrelated process: it is forgotten, never killed. If one still runs, tracejail lost
  // sight of it: an internal error (and the cgroup, whose members are the tree's, is killed).
  std::vector<pid_t> alive;
  for (const auto& [tid, t] : tracees_) {
    if (TaskAliveNow(tid)) alive.push_back(tid);
  }
  tracees_.clear();
  if (!alive.empty()) {
    Fail(fmt::format("{} task(s) of the tree (first: {}) stopped being reported to tracejail",
                     alive.size(), alive.front()));
  }
  if (!command_ended_ && result_.internal_error.empty()) {
    Fail("the supervisor stopped waiting before the command's end was seen");
  }
}

void Supervisor::Drain() {
  // Every task tracejail knows of, every child it has (orphans it reaps as a subreaper) and
  // every member of the cgroup gets SIGKILL; then everything is reaped. A task that reports a
  // stop (one whose creation was never seen) is killed then: none is ever left in a stop.
  killing_ = true;
  for (const auto& [tid, status] : Here().stops.ready()) kill(tid, SIGKILL);  // not yet handled
  Here().stops.ClearReady();
  for (const auto& [tid, t] : tracees_) kill(tid, SIGKILL);
  for (pid_t child : OwnChildren()) kill(child, SIGKILL);
  if (watch_.cgroup != nullptr) watch_.cgroup->KillAll();
  for (;;) {
    int status = 0;
    pid_t tid = waitpid(-1, &status, WaitFlags());
    if (tid > 0) {
      if (WIFSTOPPED(status)) {
        kill(tid, SIGKILL);
      } else {
        if (Tracee* t = tracees_.Find(tid)) FlushLive(*t, std::nullopt);
        tracees_.erase(tid);
        // Its orphans (untraced ones included) are tracejail's children now.
        for (pid_t child : OwnChildren()) kill(child, SIGKILL);
      }
      continue;
    }
    if (errno == EINTR) continue;
    break;
  }
  tracees_.clear();
}

Tracee& Supervisor::Get(pid_t tid) {
  auto [t, added] = tracees_.Get(tid);
  if (added) {
    ++result_.processes;
    t.lane = Here().index;  // born to the lane that traces its parent
    if (killing_) kill(tid, SIGKILL);
    same_cpu_.Adopt(tid);
    // The tick reads each task's run time: at most kMaxTasks per lane.
    if (same_cpu_.active() && tracees_.size() > kMaxTasks * lanes_.size()) {
      GiveCpusBack(fmt::format("the tree had more than {} tasks", kMaxTasks * lanes_.size()));
    }
  }
  return t;
}

void Supervisor::KillAll() {
  killing_ = true;
  // A PID namespace's init is spared while the command lives: it reaps the killed tree (so the
  // tree's CPU time reaches tracejail's rusage) and exits; the namespace dies with it.
  bool spare_init = has_init_ && command_pid_ > 0 && tracees_.contains(command_pid_);
  for (const auto& [tid, t] : tracees_) {
    if (!(spare_init && tid == main_pid_)) kill(tid, SIGKILL);
  }
}

void Supervisor::GiveCpusBack(std::string why) {
  same_cpu_.Release(tracees_.Tids(), Monotonic(), std::move(why));
  ResetSpin();  // now worth it again
}

void Supervisor::ResetSpin() {
  // Polling needs a CPU of its own. In audit mode every flagged call is an event, and the
  // event writer's thread needs one too: a poll would take its time.
  Here().spin =
      SpinPolicy(kSupervisorSpinSeconds, SupervisorCpus() - (mode_ == Mode::kAudit ? 1 : 0));
}

RunResult Supervisor::Run(const LaunchSpec& spec, OutputCapture* capture) {
  Begin(spec, capture);
  // Always ticking: the timeout, the limits, the same-CPU pin and the grace after a forwarded
  // signal are all checked on the tick, and a signal that reached another thread of tracejail
  // wakes the loop through it (RequestForward).
  auto timer = std::make_unique<TickTimer>(OnSupervisorTick, kSupervisorTickNs);
  if (!timer->armed()) {
    Fail(fmt::format("the supervisor's tick timer could not be created: {}", std::strerror(errno)));
  }
  // Woken through the tick's SIGALRM only while the timer exists (see RequestForward).
  g_tracer_tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
  StartLanes();
  LaneLoop(*lanes_[0]);
  for (std::thread& lane : lane_threads_) lane.join();
  lane_threads_.clear();
  g_tracer_tid.store(0);  // before the tick's handler goes (see above)
  timer.reset();
  Finish();
  return result_;
}

void Supervisor::Begin(const LaunchSpec& spec, OutputCapture* capture) {
  // Before the fork: the command inherits the pin.
  g_first_signal.store(0);
  signals_seen_ = g_signal_count.load();  // a signal before the run is not this run's
  lanes_.clear();
  lanes_.push_back(std::make_unique<Lane>());
  lanes_[0]->thread = static_cast<pid_t>(syscall(SYS_gettid));
  here_ = lanes_[0].get();
  lanes_done_ = false;
  same_cpu_.Start(Monotonic(), watch_.same_cpu_off);
  SetUpLanes(same_cpu_.AllowedCpus());
  ResetSpin();
  Launched launched = Launch(spec);
  // Seized: from now on no process may attach to tracejail or open its memory without
  // CAP_SYS_PTRACE, which the command does not have (DropPtraceCapability). Children forked
  // from here on are the command's, made dumpable again by their execve.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (capture != nullptr) capture->Start();
  main_pid_ = launched.pid;
  has_init_ = launched.init;
  command_pid_ = has_init_ ? -1 : main_pid_;
  spawn_errors_ = std::move(launched.errors);
  Tracee& main = Get(main_pid_);
  main.tgid = main_pid_;
  Lifecycle(main, LaunchedDraft(main_pid_, getpid()));
  limits_.Start(Monotonic());
}

Supervisor::Next Supervisor::WaitNext() {
  Next next;
  Lane& lane = Here();
  if (lane.stops.HasReady()) {
    std::tie(next.tid, next.status) = lane.stops.PopReady();
    return next;
  }
  const int flags = WaitFlags();
  double began = Monotonic();
  if (double budget = lane.spin.Budget(); budget > 0) {
    while ((next.tid = waitpid(-1, &next.status, flags | WNOHANG)) == 0 &&
           Monotonic() < began + budget) {
    }
  }
  if (next.tid == 0) next.tid = waitpid(-1, &next.status, flags);
  // Saved before anything else runs: the tick reads /proc and would overwrite it.
  next.wait_errno = next.tid < 0 ? errno : 0;
  lane.spin.Record(Monotonic() - began);
  if (next.tid > 0 && ++lane.since_drain >= kDrainEvery) {
    // Everyone already waiting goes after this one, in the order the kernel reports them:
    // none waits longer than one round (see kDrainEvery).
    lane.since_drain = 0;
    int more_status = 0;
    for (pid_t more; (more = waitpid(-1, &more_status, flags | WNOHANG)) > 0;) {
      lane.stops.PushReady(more, more_status);
    }
  }
  return next;
}

void Supervisor::Dispatch(pid_t tid, int status) {
  try {
    if (Here().index == 0) {
      if (g_tick.exchange(false, std::memory_order_relaxed)) Tick();
      HandleSignals();
    } else if (TakeLaneTick()) {
      NudgeHeldCalls();  // this lane's held calls (lane 0 does its own in Tick)
    }
    if (tid > 0) {
      if (WIFEXITED(status) || WIFSIGNALED(status)) {
        HandleExit(tid, status);
      } else if (WIFSTOPPED(status)) {
        HandleStop(tid, status);
      }
    }
  } catch (const std::exception& e) {
    Fail(fmt::format("the supervisor's loop failed (task {}): {}", tid, e.what()));
  } catch (...) {
    Fail(fmt::format("the supervisor's loop failed (task {}) with an unknown exception", tid));
  }
}

void Supervisor::Finish() {
  // No line is lost: a call still waiting for its exit (a task tracejail lost) shows "?".
  for (auto& [tid, t] : tracees_) FlushLive(t, std::nullopt);
  CheckLoopEnd();
  CheckKernelLimits();
  if (tracks_artifacts()) {
    for (report::Artifact& a : artifacts_.Finish()) {
      ++result_.dropped_files;
      if (sink_ != nullptr) Emit(DroppedEvent(a), nullptr);
    }
    result_.untracked_files = artifacts_.untracked();
    result_.collect_error = artifacts_.collect_error();
  }
  result_.scheduling = same_cpu_.Describe();
  if (!lanes_note_.empty()) {
    result_.scheduling["lanes"] = lanes_note_;
    if (lanes_.size() > 1) result_.scheduling["handovers"] = handovers_;
  }
  if (watch_.cgroup != nullptr) result_.peak_memory = watch_.cgroup->PeakMemory();
}

const ResolveView& Supervisor::ViewOf(Tracee& t) {
  view_ = ResolveView{};
  if (watch_.own_mounts) view_.root = fmt::format("/proc/{}/root", TgidOf(t));
  if (watch_.ns_proc_pids) {
    if (t.ns_tid == 0) {
      // The last id of "NSpid:" / "NStgid:" is the one in the innermost namespace.
      auto last = [](const std::string& path, std::string_view field) -> pid_t {
        std::ifstream in(path);
        for (std::string line; std::getline(in, line);) {
          if (!line.starts_with(field)) continue;
          std::size_t sp = line.find_last_of(" \t");
          return static_cast<pid_t>(std::atoi(line.c_str() + sp + 1));
        }
        return 0;
      };
      std::string status = fmt::format("/proc/{}/status", t.tid);
      t.ns_tid = last(status, "NSpid:");
      t.ns_pid = last(status, "NStgid:");
    }
    view_.self_pid = t.ns_pid;
    view_.self_tid = t.ns_tid;
  }
  return view_;
}

void Supervisor::Stamp(report::Event& e, Tracee* t) {
  e.time = Now();
  if (t != nullptr) {
    e.pid = TgidOf(*t);
    e.tid = t->tid;
    e.exe = ExeOf(*t);
  }
}

void Supervisor::Emit(report::Event e, Tracee* t) {
  Stamp(e, t);
  e.seq = ++seq_;
  if (!e.live_only) ++result_.events;
  sink_->Emit(std::move(e));
}

void Supervisor::FlushLive(Tracee& t, std::optional<long long> ret) {
  if (t.inject == Tracee::Inject::kLiveExit) t.inject = Tracee::Inject::kNone;
  if (!t.live_call) return;
  std::unique_ptr<report::Event> e = std::move(t.live_call);
  e->returned = report::Event::Returned{ret};
  e->seq = ++seq_;
  if (sink_ != nullptr) sink_->Emit(std::move(*e));
}

void Supervisor::FinishLive(Tracee& t) {
  ++result_.return_stops;
  SyscallInfo info{};
  long n = ptrace(PTRACE_GET_SYSCALL_INFO, t.tid, sizeof info, &info);
  std::optional<long long> ret;
  if (n > 0 && info.op == kSyscallInfoExit) ret = info.exit.rval;
  FlushLive(t, ret);
  ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
}

void Supervisor::Lifecycle(Tracee& t, LifecycleDraft draft) {
  if (sink_ == nullptr) return;
  Emit(LifecycleEvent(std::move(draft)), &t);
}

void Supervisor::LimitEvent(Tracee* t, LimitReport report) {
  result_.limits_hit.push_back({report.kind, report.observed});
  if (sink_ == nullptr) return;
  Emit(tracer::LimitEvent(std::move(report), limits_.limits()), t);
}

void Supervisor::LimitExceeded(policy::LimitKind kind, std::string observed,
                               nlohmann::json details) {
  LimitEvent(nullptr, {policy::EventType::kResourceLimitExceeded, kind, std::move(observed),
                       std::move(details)});
}

void Supervisor::CheckKernelLimits() {
  std::vector<LimitReport> seen;
  limits_.CheckKernel(seen);
  for (auto& report : seen) LimitEvent(nullptr, std::move(report));
}

void Supervisor::Tick() {
  if (sink_ != nullptr && sink_->failed() && result_.internal_error.empty()) {
    // The record cannot be kept: the run must not go on unrecorded, nor end as if complete.
    Fail("the events could not be recorded (" + sink_->Failure().value_or("?") + ")");
  }
  if (auto timeout = limits_.CheckTimeout(Monotonic(), tracees_.size())) {
    result_.timed_out = true;
    pid_t who = command_pid_ > 0 ? command_pid_ : main_pid_;
    LimitEvent(who > 0 ? tracees_.Find(who) : nullptr, std::move(*timeout));
    KillEverything();
  }
  // The grace after a forwarded SIGINT/SIGTERM/SIGHUP is over: the tree still runs.
  if (!killing_ && limits_.GraceOver(Monotonic())) KillEverything();
  // While the tree is being killed, orphans that come back to tracejail die as they come.
  if (killing_) KillUntracedChildren();
  NudgeHeldCalls();
  CheckKernelLimits();
  if (same_cpu_.active() && lanes_.size() < 2) {
    same_cpu_.Tick(tracees_.Tids(), Monotonic());
    if (!same_cpu_.active()) ResetSpin();
  } else if (same_cpu_.active()) {
    std::vector<pid_t> tids = tracees_.Tids();
    std::vector<std::size_t> lanes;
    for (pid_t tid : tids) lanes.push_back(tracees_.Find(tid)->lane);
    same_cpu_.Tick(tids, Monotonic(), lanes);
    if (!same_cpu_.active()) ResetSpin();
  }
}

void Supervisor::HandleExit(pid_t tid, int status) {
  ThawSharers(tid);  // the tasks its anchored call held, if any: the call is over with it
  if (Tracee* t = tracees_.Find(tid)) {
    FlushLive(*t, std::nullopt);  // its call never returned (exit, exit_group, a kill)
    Lifecycle(*t, ExitDraft(tid, status, t->tgid != 0 && t->tgid != tid));
  }
  tracees_.erase(tid);
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) CheckKernelLimits();  // an OOM kill?
  // The command's status is the run's; an init's only when the command never started.
  if (tid == command_pid_ || (tid == main_pid_ && command_pid_ < 0)) {
    command_ended_ = true;
    if (WIFEXITED(status)) {
      result_.exit_code = WEXITSTATUS(status);
    } else {
      result_.term_signal = WTERMSIG(status);
    }
  }
  if (tid != main_pid_) return;
  if (!main_exec_seen_ && spawn_errors_.valid()) {
    result_.spawn_error = ReadSpawnError(spawn_errors_.get());
    spawn_errors_.Reset();
  }
  main_pid_ = -1;
  // What the command left running dies with it.
  if (!tracees_.empty()) KillAll();
  KillUntracedChildren();
}

void Supervisor::HandleStop(pid_t tid, int status) {
  Tracee& t = Get(tid);
  if (killing_) {
    if (has_init_ && tid == main_pid_ && command_pid_ > 0) {
      ptrace(PTRACE_CONT, tid, nullptr, nullptr);  // the init reaps and exits (see KillAll)
    } else {
      kill(tid, SIGKILL);
    }
    return;
  }
  // Handed over from another lane: its call is put back to start over, whatever this stop is.
  if (t.adopting && !Adopted(t)) return;
  const int sig = WSTOPSIG(status);
  const int event = status >> 16;
  if (event == 0 && sig == (SIGTRAP | 0x80)) return HandleSyscallStop(t);
  switch (event) {
    case PTRACE_EVENT_SECCOMP:
      return HandleSeccomp(t);
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE:
      return HandleChild(t, event);
    case PTRACE_EVENT_EXEC:
      return HandleExec(t);
    case PTRACE_EVENT_STOP:
      if (IsStopSignal(sig)) {
        ptrace(PTRACE_LISTEN, tid, nullptr, nullptr);  // group-stop: stay stopped until SIGCONT
      } else {
        Resume(t);  // keeps stepping through the pin-region injection, if one is under way
      }
      return;
    default:
      return HandleSignalStop(t, sig);
  }
}

void Supervisor::HandleSyscallStop(Tracee& t) {
  switch (t.inject) {
    case Tracee::Inject::kAnchored:
      return StepAnchored(t);
    case Tracee::Inject::kSendmmsgExit:
      return FinishSendmmsg(t);
    case Tracee::Inject::kBindExit:
      return FinishBind(t);
    case Tracee::Inject::kConnectExit:
      return FinishConnect(t);
    case Tracee::Inject::kHeldExit:
      return FinishHeld(t);
    case Tracee::Inject::kLiveExit:
      return FinishLive(t);
    default:
      if (auto why = pins_.Step(t)) PinRegionFailed(t, *why);
      return;
  }
}

void Supervisor::HandleChild(Tracee& t, int event) {
  unsigned long child = 0;
  if (ptrace(PTRACE_GETEVENTMSG, t.tid, nullptr, &child) == 0 && child != 0) {
    Tracee& c = Get(static_cast<pid_t>(child));
    if (event != PTRACE_EVENT_CLONE) c.tgid = static_cast<pid_t>(child);
    pins_.AdoptSpace(c, t);
    if (has_init_ && command_pid_ < 0 && t.tid == main_pid_) {
      command_pid_ = static_cast<pid_t>(child);
    }
    pid_t parent = TgidOf(t);
    bool thread = event == PTRACE_EVENT_CLONE && TgidOf(c) == parent;
    // A process runs on its creator's memory (vfork) or a copy (fork) until it execs: the Python
    // stack of a call it makes before then is the creator's (tracer/python_frames.h).
    c.creator = thread ? 0 : t.tid;
    Lifecycle(c, ChildDraft(static_cast<pid_t>(child), parent, t.tid, thread, event));
  }
  Resume(t);  // the fork's own exit stop still comes when one was asked for (kLiveExit)
}

void Supervisor::HandleExec(Tracee& t) {
  const pid_t tid = t.tid;
  unsigned long former = 0;
  // A non-leader thread that exec'd has the leader's id now, and its old id is gone.
  const pid_t from =
      ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &former) == 0 ? static_cast<pid_t>(former) : tid;
  // The exec succeeded: its line shows 0 before the exec's own. When another thread exec'd,
  // this id's call in flight (the old leader's) never returns.
  if (Tracee* execd = from != tid ? tracees_.Find(from) : nullptr) {
    FlushLive(t, std::nullopt);
    if (execd->live_call) {
      t.live_call = std::move(execd->live_call);
      t.live_call->tid = tid;
    }
  }
  FlushLive(t, 0);
  const ExecCheck origin = tracees_.TakeExec(t, from);
  t.creator = 0;  // a new image: nothing of its creator's memory is left
  LifecycleDraft exec = ExecDraft(ExeOf(t), t.pending_argv);
  if (tracks_artifacts()) {
    artifacts_.DescribeExec(tid, ViewOf(t).root, t.pending_exec_path, t.pending_argv_raw,
                            exec.args);
  }
  Lifecycle(t, std::move(exec));
  t.pending_argv.clear();
  t.pending_exec_path.clear();
  t.pending_argv_raw.clear();
  if (origin.armed && !ExecImageMatches(t, origin)) return;   // killed before it ran
  if (IsDynamicLoader(ExeOf(t)) && !LoaderMayRun(t)) return;  // likewise
  if (tid == command_pid_ && !main_exec_seen_) {
    main_exec_seen_ = true;
    // The filters every task of the tree has (tracejail's, and any tracejail itself runs
    // under): a task with more stacked one of its own, and is never parked (HandOver).
    filters_ = ProcField(fmt::format("/proc/{}/status", tid), "Seccomp_filters:").value_or(-1);
    spawn_errors_.Reset();
    limits_.WatchWorkdir(tid);
  }
  // A new address space: map its pin region before the program's first instruction (audit
  // mode lets every call run as written, so it pins nothing).
  pins_.NewSpace(t, mode_ == Mode::kEnforce);
  ptrace(mode_ == Mode::kAudit ? PTRACE_CONT : PTRACE_SYSCALL, tid, nullptr, nullptr);
}

void Supervisor::HandleSignalStop(Tracee& t, int sig) {
  if (auto hit = limits_.SignalLimit(t, sig)) LimitEvent(&t, std::move(*hit));
  pins_.OnSignal(t);
  // Signal-delivery-stop: deliver the signal, never swallow it.
  Resume(t, sig);
}

void Supervisor::HandleSeccomp(Tracee& t) {
  if (t.inject == Tracee::Inject::kAnchored) {
    AnchoredSeccomp(t);
    return;
  }
  // A call whose exit was waited for ended without one (this is defence: every exit stop is
  // reported before the next call's seccomp stop).
  if (t.live_call || t.inject == Tracee::Inject::kLiveExit) FlushLive(t, std::nullopt);
  if (t.inject == Tracee::Inject::kHeldExit) {
    // The held call is over (its exit stop is always reported first; this is defence): the
    // tasks it held go on.
    t.inject = Tracee::Inject::kNone;
    ThawSharers(t.tid);
  }
  if (t.inject != Tracee::Inject::kNone && t.inject != Tracee::Inject::kSendmmsgExit &&
      t.inject != Tracee::Inject::kBindExit && t.inject != Tracee::Inject::kConnectExit) {
    // Our mmap is not flagged by our filter: a filter the tracee stacked stopped it, or the
    // injection lost its way. Nothing may run unchecked: fail closed.
    PinRegionFailed(t, "a seccomp stop arrived while the region was being mapped");
    return;
  }
  t.pinned_in_flight = false;  // its previous call is over (an interrupted one: HandleStop)
  t.exec.armed = false;        // likewise an exec that failed (one that ran: the exec event)
  SyscallInfo info{};
  long n = 0;
  if (Lane& lane = Here(); lane.info_tid == t.tid) {
    // Read by the lane before it took the lock (LaneLoop): the same stop, not resumed since.
    info = lane.info;
    n = lane.info_size;
  } else {
    n = ptrace(PTRACE_GET_SYSCALL_INFO, t.tid, sizeof info, &info);
  }
  if (n <= 0 || info.op != kSyscallInfoSeccomp) {
    // The call cannot be identified: it must not run undecided.
    Abandon(t);
    return;
  }
  const std::uint64_t nr = info.seccomp.nr;
  if (HandOver(t, info.arch, nr)) return;  // decided in the lane it goes to
  ++result_.flagged;
  const std::uint64_t* raw = info.seccomp.args;
  RawStop stop{info.arch,
               nr,
               {raw[0], raw[1], raw[2], raw[3], raw[4], raw[5]},
               nullptr,
               info.seccomp.ret_data == kUnknownTag};
  if (info.arch == AUDIT_ARCH_X86_64 && (nr & kX32Bit) == 0) {
    stop.row = index_.Lookup(static_cast<long>(nr));
  }
  const RegisterVerdict early = DecideOnRegisters(stop, policy_);
  if (early.record) {
    DecodedCall shown;
    shown.request = early.request;
    if (early.decode_for_event) {
      Context ctx(*this, t);
      Decode(*stop.row, stop.args, ctx, shown);
    }
    const bool with_call =
        early.decode_for_event || early.request.primitive == policy::Primitive::kUnknownSyscall;
    Record(t, early.decision, early.tip, with_call ? &shown : nullptr, static_cast<long>(nr),
           info.arch, raw, early.message);
  }
  if (early.next == RegisterVerdict::Next::kEnforce) {
    Enforce(t, early.decision);
    return;
  }
  if (early.next == RegisterVerdict::Next::kLetRun) {
    ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
    return;
  }
  HandleCall(t, stop);
}

void Supervisor::HandleCall(Tracee& t, const RawStop& stop) {
  Context ctx(*this, t);
  DecodedCall call;
  Decode(*stop.row, stop.args, ctx, call);
  CallFacts facts{ProtectedPathHit(call.request), ""};
  // In a PID namespace of its own the tree cannot name tracejail or its ancestors.
  if (!call.outside.empty() && !watch_.ns_proc_pids) {
    facts.self_guard = SelfGuard(getpid()).Check(call.outside);
  }
  const CallVerdict verdict = DecideCall(call, policy_, facts);
  if (verdict.kernel_fails) {
    if (mode_ == Mode::kEnforce) {
      Enforce(t, verdict.decision, /*counted=*/false);
    } else {
      ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
    }
    return;
  }
  policy::Decision d = verdict.decision;
  if (!Prepare(t, call, stop, d)) return;  // killed: it must not run the half-rewritten call
  RecordCall(t, call, stop, d);
  // What runs (allowed, or in audit mode anything but tracejail's self-protection) may leave
  // files behind: their state before the call, for the end of the run.
  if (tracks_artifacts() &&
      (d.action == policy::Action::kAllow || (mode_ == Mode::kAudit && !verdict.self_hit))) {
    NoteChanges(t, call);
  }
  if (d.action == policy::Action::kAllow &&
      (stop.nr == SYS_sched_getaffinity || stop.nr == SYS_sched_setaffinity)) {
    // The program asks about or sets CPUs: the tree gets its CPUs back first, and the call runs
    // as it would natively (tracer/same_cpu.h).
    if (stop.nr == SYS_sched_setaffinity) same_cpu_.TreeSetAffinity();
    if (same_cpu_.active()) {
      GiveCpusBack(fmt::format("the program called {}", SyscallName(stop.arch, stop.nr)));
    }
  }
  Enforce(t, d, true, verdict.self_hit ? Enforcement::kAlways : Enforcement::kByMode);
}

bool Supervisor::Prepare(Tracee& t, DecodedCall& call, const RawStop& stop, policy::Decision& d) {
  const SyscallRow* row = stop.row;
  const bool enforced_allow = mode_ == Mode::kEnforce && d.action == policy::Action::kAllow;
  if (enforced_allow) {
    // Fail closed: every slot of this address space is held by a task that may be in a call,
    // or the region cannot be written.
    switch (PinArguments(t, call)) {
      case PinFailure::kNone:
        if (std::optional<policy::Decision> refused = GuardFdNamed(t, call)) d = *refused;
        break;
      case PinFailure::kNoSlot:
        d = policy::Decision{policy::Action::kDeny, EAGAIN, policy::EventType::kSuspiciousBehavior,
                             policy::Severity::kMedium, "builtin:pin-slots-exhausted"};
        call.note = PinSlotsNote();
        break;
      case PinFailure::kGone:
        return false;
      case PinFailure::kUnwritable:
        d = policy::Decision{policy::Action::kDeny, EAGAIN, policy::EventType::kSuspiciousBehavior,
                             policy::Severity::kMedium, "builtin:pin-region-unwritable"};
        call.note = "its pinned-argument region cannot be written: " + call.unpinned;
        break;
    }
  }
  const std::uint64_t flags = stop.args[0];
  if (row->kind == Kind::kClone && (flags & CLONE_UNTRACED) != 0 &&
      (d.action == policy::Action::kAllow || mode_ == Mode::kAudit)) {
    // Where the policy lets it run (none, audit), the child is traced all the same: a process
    // tracejail cannot see is one it cannot account for, kill, or wait for.
    if (ptrace(PTRACE_POKEUSER, t.tid, offsetof(user_regs_struct, rdi),
               flags & ~static_cast<std::uint64_t>(CLONE_UNTRACED)) != 0) {
      Abandon(t);
      return false;
    }
    call.note = "CLONE_UNTRACED removed: tracejail traces every process of the tree";
  }
  if (row->kind == Kind::kExec && mode_ == Mode::kEnforce && d.action == policy::Action::kAllow) {
    ArmExecCheck(t, call);
  }
  if (row->kind == Kind::kExec) {
    t.pending_argv.clear();
    for (const auto& a : call.argv.items) t.pending_argv.push_back(base::EscapeBytes(a));
    t.pending_exec_path = call.paths[0].resolved.path;
    t.pending_argv_raw = call.argv.items;
  }
  if (d.action == policy::Action::kAllow && mode_ == Mode::kEnforce && row->kind == Kind::kNet &&
      row->verb == policy::NetVerb::kConnect && call.addr && call.addr->family == AF_UNIX &&
      !call.addr->abstract && !call.addr->unnamed && t.inject == Tracee::Inject::kNone) {
    ArmConnect(t, call);
  }
  if (d.action == policy::Action::kAllow && mode_ == Mode::kEnforce &&
      row->verb == policy::NetVerb::kBind && row->kind == Kind::kNet && call.addr &&
      call.addr->family == AF_UNIX && !call.addr->unnamed && t.inject == Tracee::Inject::kNone) {
    if (std::optional<policy::Decision> refused = ArmBind(t, call)) d = *refused;
  }
  return true;
}

void Supervisor::RecordCall(Tracee& t, const DecodedCall& call, const RawStop& stop,
                            const policy::Decision& d) {
  const long nr = static_cast<long>(stop.nr);
  const bool plain_allow =
      d.action == policy::Action::kAllow && d.event == policy::EventType::kNone;
  if (plain_allow && sink_ != nullptr && (mode_ == Mode::kAudit || watch_.live_allowed)) {
    // Audit mode records every allowed access too: the input of learn mode and reports. The
    // live view may show them (never the file).
    // In enforce mode the line waits for the call's result (FlushLive): an exit stop, asked
    // for here only when no injection takes the exit anyway.
    const bool live_only = mode_ != Mode::kAudit;
    Record(t, d, nullptr, &call, nr, stop.arch, stop.args.data(), AllowedMessage(stop.row->name),
           live_only, /*hold_for_exit=*/live_only);
    if (t.live_call && t.inject == Tracee::Inject::kNone) t.inject = Tracee::Inject::kLiveExit;
  }
  if (!plain_allow) {
    Record(t, d, policy_.Tip(call.request), &call, nr, stop.arch, stop.args.data(),
           CallMessage(*stop.row, call, d));
  }
}

std::string Supervisor::ProtectedPathHit(const policy::Request& req) const {
  return tracer::ProtectedPathHit(req, watch_.protected_paths);
}

bool Supervisor::LoaderMayRun(Tracee& t) {
  // The argv the kernel copied into the new image, before any of its code ran: exactly what
  // ld.so will read.
  std::ifstream in(fmt::format("/proc/{}/cmdline", t.tid), std::ios::binary);
  std::vector<std::string> argv;
  std::string arg;
  std::size_t total = 0;
  while (std::getline(in, arg, '\0') && argv.size() < kMaxArgvEntries && total < (1u << 20)) {
    total += arg.size();
    argv.push_back(std::move(arg));
  }
  auto program = LoaderProgram(argv);
  if (!program) return true;
  Context ctx(*this, t);
  DecodedCall call;
  call.row = FindRow("execve");
  call.paths[0].raw = *program;
  call.paths[0].resolved =
      ctx.Resolve(AT_FDCWD, *program, LastLink::kFollow, EmptyPath::kRefuse, 0);
  if (call.paths[0].resolved.error != 0) return true;  // ld.so will fail to open it
  for (const auto& a : argv) call.argv.items.push_back(a);
  call.request.syscall = "execve";
  call.request.path_count = 1;
  call.request.paths[0] = {call.paths[0].resolved.path, policy::Access::kExec, true};
  policy::Decision d = policy_.Evaluate(call.request);
  if (d.action == policy::Action::kAllow) return true;
  d.action = policy::Action::kKill;  // it is already exec'd: the process can only be killed
  d.error = 0;
  const std::uint64_t raw[6] = {};
  Record(t, d, policy_.Tip(call.request), &call, SYS_execve, AUDIT_ARCH_X86_64, raw,
         LoaderRefusedMessage(*program, call.request.paths[0].path));
  if (mode_ == Mode::kAudit) return true;
  ++result_.denied;
  kill(t.tid, SIGKILL);
  ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
  return false;
}

void Supervisor::ArmExecCheck(Tracee& t, DecodedCall& call) {
  // The file the decision was made on, as the tracer's own descriptor: the checked path walked
  // with no symlink (what it names now, not what a swapped link would lead to), or for
  // execveat(fd, "", AT_EMPTY_PATH) the descriptor's file if it is still the one decided on.
  const ResolveResult& r = call.paths[0].resolved;
  const std::string root = ViewOf(t).root;
  const std::string task = fmt::format("/proc/{}/task/{}", TgidOf(t), t.tid);
  base::UniqueFd file;
  if (call.paths[0].raw.empty()) {
    file.Reset(open(fmt::format("{}/fd/{}", task, static_cast<int>(call.args[0])).c_str(),
                    O_PATH | O_CLOEXEC));
    char name[PATH_MAX];
    ssize_t n = file.valid() ? readlink(fmt::format("/proc/self/fd/{}", file.get()).c_str(), name,
                                        sizeof name)
                             : -1;
    if (n < 0 || std::string_view(name, static_cast<std::size_t>(n)) != r.path) file.Reset();
  } else if (!r.walk.empty() || (!r.path.empty() && r.path[0] == '/')) {
    file.Reset(OpenChecked(root, r.walk.empty() ? r.path : r.walk));
  }
  ExpectedImage image = ImageOf(file.get(), root, task + "/cwd");
  t.exec.armed = true;
  t.exec.expect = image.id;
  t.exec.expect_path = image.path.empty() ? r.path : image.path;
  call.walk_guard =
      "the image the kernel runs is compared with the file checked at the exec event, before "
      "its first instruction: a file swapped after the check kills the process";
}

bool Supervisor::ExecImageMatches(Tracee& t, const ExecCheck& origin) {
  std::optional<FileId> running = RunningImage(t.tid);
  if (running && origin.expect && *running == *origin.expect) return true;
  policy::Decision d{policy::Action::kKill, 0, policy::EventType::kEscapeAttempt,
                     policy::Severity::kHigh, "builtin:exec-race"};
  const std::uint64_t raw[6] = {};
  Record(t, d, nullptr, nullptr, SYS_execve, AUDIT_ARCH_X86_64, raw,
         ExecRaceMessage(ExeOf(t), origin.expect_path, origin.expect.has_value()));
  ++result_.denied;
  kill(t.tid, SIGKILL);
  ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
  return false;
}

void Supervisor::FinishSendmmsg(Tracee& t) {
  // At the exit of the sendmsg that stood in for sendmmsg: the caller's registers come back;
  // the result is one message sent, with its length in the vector's first msg_len, or the
  // error. An interrupted call (ERESTART*) restarts as the original sendmmsg and is decided
  // again.
  t.inject = Tracee::Inject::kNone;
  user_regs_struct r{};
  if (ptrace(PTRACE_GETREGS, t.tid, nullptr, &r) != 0) {
    Abandon(t);
    return;
  }
  auto ret = static_cast<long long>(r.rax);
  user_regs_struct out = t.saved;
  out.rax = r.rax;
  if (ret >= 0) {
    auto sent = static_cast<std::uint32_t>(ret);
    PinSpace* space = SpaceOf(t);
    if (space != nullptr && space->mem_fd >= 0) {
      pwrite(space->mem_fd, &sent, sizeof sent, static_cast<off_t>(t.mmsg_vec + 56));
    }
    out.rax = 1;
  }
  FlushLive(t, static_cast<long long>(out.rax));
  ptrace(PTRACE_SETREGS, t.tid, nullptr, &out);
  ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
}

namespace {

// A socket file `made` (device, inode) that a raced bind put where the kernel's walk of `path`
// led: removed if that walk, done again, ends at exactly that file. Only the directory reached
// is used, through its descriptor, and its entry is compared just before it goes: what can be
// removed is that socket file, or an entry put there since by someone who may write there.
bool RemoveMisplacedSocket(const std::string& root, const std::string& path, FileId made) {
  std::size_t cut = path.find_last_of('/');
  if (!root.empty() || path.empty() || path.front() != '/' || cut + 1 >= path.size()) return false;
  const std::string parent = cut == 0 ? "/" : path.substr(0, cut);
  const std::string name = path.substr(cut + 1);
  // A swapper still at work may have changed the walk back, and may not run again for a while
  // (a loaded machine): tries spread over up to half a second. Only a raced bind pays this.
  constexpr double kGiveUp = 0.5;
  const double until = Monotonic() + kGiveUp;
  do {
    base::UniqueFd dir(open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    struct stat st {};
    if (dir.valid() && fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISSOCK(st.st_mode) && FileId{st.st_dev, st.st_ino} == made) {
      return unlinkat(dir.get(), name.c_str(), 0) == 0;
    }
    const timespec pause{0, 50'000};  // 50 µs: let the swapper move
    nanosleep(&pause, nullptr);
  } while (Monotonic() < until);
  return false;
}

}  // namespace

std::optional<policy::Decision> Supervisor::ArmBind(Tracee& t, DecodedCall& call) {
  // Whether the socket is the tree's own depends on the bind succeeding: see its exit.
  t.inject = Tracee::Inject::kBindExit;
  t.bind_key = BoundKey(*call.addr);
  t.bind_check = false;
  if (call.addr->abstract) return std::nullopt;  // no file: nothing to race
  const std::string& walk = call.unix_walk;
  std::size_t cut = walk.find_last_of('/');
  if (walk.empty() || walk.front() != '/' || cut + 1 >= walk.size()) {
    call.walk_gap = "the socket path has no checked walk to compare the bound file with";
    return std::nullopt;
  }
  // sock_diag answers for tracejail's network namespace only.
  struct stat mine {
  }, theirs{};
  if (stat("/proc/self/ns/net", &mine) != 0 ||
      stat(fmt::format("/proc/{}/task/{}/ns/net", TgidOf(t), t.tid).c_str(), &theirs) != 0 ||
      mine.st_ino != theirs.st_ino || mine.st_dev != theirs.st_dev) {
    call.walk_gap =
        "its network namespace is not tracejail's: the bound file cannot be asked of "
        "the kernel";
    return std::nullopt;
  }
  const std::string checked_dir = cut == 0 ? "/" : walk.substr(0, cut);
  base::UniqueFd dir(OpenChecked(ViewOf(t).root, checked_dir));
  if (!dir.valid()) {
    // The directory just checked is not there any more by a walk without symlinks: a symlink
    // was swapped in (a race), or it is gone. Either way the bind does not run unchecked.
    const int err = errno == 0 ? ENOENT : errno;
    t.inject = Tracee::Inject::kNone;
    call.note = BindDirLostNote(checked_dir, err);
    if (err == ELOOP) {
      return policy::Decision{policy::Action::kDeny, ELOOP, policy::EventType::kEscapeAttempt,
                              policy::Severity::kHigh, "builtin:path-race"};
    }
    return policy::Decision{policy::Action::kDeny, err, policy::EventType::kSuspiciousBehavior,
                            policy::Severity::kMedium, "builtin:bind-unchecked"};
  }
  // From here to the bind's exit no task sharing the descriptor table runs: none can put
  // another socket under the descriptor the exit asks about.
  switch (FreezeSharers(t)) {
    case Freeze::kFrozen:
      break;
    case Freeze::kCallerGone:
      ThawSharers(t.tid);
      return std::nullopt;  // its end is handled in order
    case Freeze::kTimedOut:
      ThawSharers(t.tid);
      t.inject = Tracee::Inject::kNone;
      call.note =
          "a task sharing its descriptor table did not stop within 2 s, so the socket "
          "file the bind makes could not be checked";
      return policy::Decision{policy::Action::kDeny, EAGAIN, policy::EventType::kSuspiciousBehavior,
                              policy::Severity::kMedium, "builtin:bind-unchecked"};
  }
  t.bind_check = true;
  t.bind_fd = static_cast<int>(call.args[0]);
  t.bind_dir = std::move(dir);
  t.bind_name = walk.substr(cut + 1);
  t.bind_path = call.addr->unix_path;
  call.walk_guard =
      "the socket file the bind made is compared (sock_diag) with the final name in the checked "
      "directory at the call's exit, every task sharing the descriptor table held stopped: a "
      "socket made anywhere else kills the process";
  return std::nullopt;
}

void Supervisor::FinishBind(Tracee& t) {
  t.inject = Tracee::Inject::kNone;
  user_regs_struct r{};
  const bool read = ptrace(PTRACE_GETREGS, t.tid, nullptr, &r) == 0;
  bool bound = read && r.rax == 0;
  FlushLive(t, read ? std::optional<long long>(static_cast<long long>(r.rax)) : std::nullopt);
  bool misplaced = false;
  std::optional<FileId> made;
  if (t.bind_check && bound) {
    base::UniqueFd sock = BorrowFd(TgidOf(t), t.bind_fd);
    made = BoundSocketFile(sock.get());
    struct stat st {};
    bool there = fstatat(t.bind_dir.get(), t.bind_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    misplaced = !made || !there || *made != FileId{st.st_dev, st.st_ino};
  }
  if (t.bind_check) ThawSharers(t.tid);
  if (bound && !misplaced) bound_sockets_.insert(std::move(t.bind_key));
  t.bind_key.clear();
  t.bind_check = false;
  t.bind_dir.Reset();
  if (misplaced) {
    // Made where the check did not look: the program must not keep it, nor the file.
    kill(TgidOf(t), SIGKILL);
    bool removed = made && RemoveMisplacedSocket(ViewOf(t).root, t.bind_path, *made);
    policy::Decision d{policy::Action::kKill, 0, policy::EventType::kEscapeAttempt,
                       policy::Severity::kHigh, "builtin:bind-race"};
    const std::uint64_t raw[6] = {static_cast<std::uint64_t>(t.bind_fd)};
    ++result_.denied;
    Record(t, d, nullptr, nullptr, SYS_bind, AUDIT_ARCH_X86_64, raw,
           BindRaceMessage(t.bind_path, removed));
  }
  ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
}

void Supervisor::ArmConnect(Tracee& t, DecodedCall& call) {
  base::UniqueFd file(call.unix_walk.empty() ? -1 : OpenChecked(ViewOf(t).root, call.unix_walk));
  struct stat st {};
  t.connect_expect.reset();
  if (file.valid() && fstat(file.get(), &st) == 0) t.connect_expect = FileId{st.st_dev, st.st_ino};
  t.connect_fd = static_cast<int>(call.args[0]);
  t.connect_path = call.addr->unix_path;
  t.inject = Tracee::Inject::kConnectExit;
  // The check reads the socket through the descriptor after the call: another task sharing the
  // descriptor table could put a different socket there first. Then the check still runs, but
  // the decision is not claimed race-free.
  if (!FilesShared(t)) {
    call.walk_guard =
        "the socket the kernel connected to is compared with the one checked at the call's "
        "exit: another one is disconnected and the call fails (ECONNREFUSED)";
  }
}

bool Supervisor::FilesShared(Tracee& t, bool fs) {
  constexpr std::size_t kMaxCompared = 1024;  // past that, assume it is shared
  if (tracees_.size() > kMaxCompared) return true;
  for (const auto& [tid, other] : tracees_) {
    if (tid != t.tid && SharesTables(t.tid, tid, fs)) return true;
  }
  return false;
}

namespace {

// The file of the socket `sock` is connected to: its peer's bound path, as the peer bound it,
// looked up under `root`. nullopt when any step fails.
std::optional<FileId> PeerSocketFile(int sock, const std::string& root) {
  if (sock < 0) return std::nullopt;
  sockaddr_un peer{};
  socklen_t len = sizeof peer;
  if (getpeername(sock, reinterpret_cast<sockaddr*>(&peer), &len) != 0 ||
      len <= offsetof(sockaddr_un, sun_path) || peer.sun_path[0] != '/') {
    return std::nullopt;  // unnamed, abstract or relative: not the path that was checked
  }
  std::string path(peer.sun_path, strnlen(peer.sun_path, len - offsetof(sockaddr_un, sun_path)));
  struct stat st {};
  if (stat((root + path).c_str(), &st) != 0) return std::nullopt;
  return FileId{st.st_dev, st.st_ino};
}

}  // namespace

void Supervisor::FinishConnect(Tracee& t) {
  t.inject = Tracee::Inject::kNone;
  user_regs_struct r{};
  if (ptrace(PTRACE_GETREGS, t.tid, nullptr, &r) != 0) {
    Abandon(t);
    return;
  }
  if (static_cast<long long>(r.rax) == 0) {  // connected: to the socket that was checked?
    base::UniqueFd held = BorrowFd(TgidOf(t), t.connect_fd);
    std::optional<FileId> reached = PeerSocketFile(held.get(), ViewOf(t).root);
    if (!reached || !t.connect_expect || *reached != *t.connect_expect) {
      if (held.valid()) shutdown(held.get(), SHUT_RDWR);  // the peer sees the end at once
      r.rax = static_cast<unsigned long long>(-static_cast<long long>(ECONNREFUSED));
      if (ptrace(PTRACE_SETREGS, t.tid, nullptr, &r) != 0) {
        Abandon(t);
        return;
      }
      policy::Decision d{policy::Action::kDeny, ECONNREFUSED, policy::EventType::kEscapeAttempt,
                         policy::Severity::kHigh, "builtin:connect-race"};
      const std::uint64_t raw[6] = {static_cast<std::uint64_t>(t.connect_fd)};
      ++result_.denied;
      Record(t, d, nullptr, nullptr, SYS_connect, AUDIT_ARCH_X86_64, raw,
             ConnectRaceMessage(t.connect_path, t.connect_expect.has_value()));
    }
  }
  t.connect_fd = -1;
  FlushLive(t, static_cast<long long>(r.rax));
  ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
}

void Supervisor::Resume(Tracee& t, int sig) {
  const auto request = t.inject != Tracee::Inject::kNone ? PTRACE_SYSCALL : PTRACE_CONT;
  if (lanes_.size() > 1) {
    // After the lane lets go of the lock (LaneLoop): the kernel's work of resuming it does
    // not hold up the other lanes' decisions.
    Here().resume.push_back({t.tid, request, sig});
    return;
  }
  ptrace(request, t.tid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig)));
}

namespace {

// Syscall argument registers in struct user_regs_struct (x86-64 syscall ABI).
constexpr std::array<std::size_t, 6> kArgRegister = {
    offsetof(user_regs_struct, rdi), offsetof(user_regs_struct, rsi),
    offsetof(user_regs_struct, rdx), offsetof(user_regs_struct, r10),
    offsetof(user_regs_struct, r8),  offsetof(user_regs_struct, r9)};

}  // namespace

std::optional<policy::Decision> Supervisor::GuardFdNamed(Tracee& t, DecodedCall& call) {
  // A call that names its object by a descriptor (fchmod, fchown, fsetxattr, ftruncate-like
  // changes, a stat or utimensat by AT_EMPTY_PATH or a NULL path): no walk to race, only the
  // descriptor, which nothing but a task sharing the descriptor table can change while this
  // thread is stopped in the call (and the working directory, for AT_FDCWD, nothing but a task
  // sharing it).
  if (call.row == nullptr || call.row->kind != Kind::kPaths || call.request.path_count == 0) {
    return std::nullopt;
  }
  for (int i = 0; i < call.request.path_count; ++i) {
    if (!call.paths[static_cast<std::size_t>(i)].raw.empty()) return std::nullopt;
  }
  if (!call.walk_guard.empty()) return std::nullopt;
  // The empty path AT_EMPTY_PATH comes with was pinned; the walk it has not is the descriptor.
  if (call.unpinned.empty() || call.unpinned == call.paths[0].resolved.unpinnable) {
    call.pinned = true;
    call.unpinned.clear();
  }
  const int fd = call.paths[0].fd;
  const bool cwd = fd == AT_FDCWD;
  if (!FilesShared(t, cwd)) {
    call.walk_gap.clear();
    call.walk_guard = FdUnsharedGuard(cwd);
    return std::nullopt;
  }
  if (fd < 0 && !cwd) {
    call.walk_gap = "the descriptor it names is not known to tracejail";
    return std::nullopt;
  }
  if (t.inject != Tracee::Inject::kNone) {
    call.walk_gap =
        "another task shares the descriptor table and could put another file under the "
        "descriptor between the check and the call";
    return std::nullopt;
  }
  const policy::Decision unchecked{policy::Action::kDeny, EAGAIN,
                                   policy::EventType::kSuspiciousBehavior,
                                   policy::Severity::kMedium, "builtin:fd-unchecked"};
  // From here to the call's exit no task that could change what the descriptor names runs.
  switch (FreezeSharers(t, cwd)) {
    case Freeze::kFrozen:
      break;
    case Freeze::kCallerGone:
      ThawSharers(t.tid);
      return std::nullopt;  // its end is handled in order
    case Freeze::kTimedOut:
      ThawSharers(t.tid);
      call.note =
          "a task sharing its descriptor table did not stop within 2 s, so the file the "
          "descriptor names could not be held to the one checked";
      return unchecked;
  }
  // Held: what the descriptor names now is what the call acts on. It must be what was decided.
  const std::string link = cwd ? fmt::format("/proc/{}/task/{}/cwd", TgidOf(t), t.tid)
                               : fmt::format("/proc/{}/task/{}/fd/{}", TgidOf(t), t.tid, fd);
  char name[PATH_MAX];
  ssize_t n = readlink(link.c_str(), name, sizeof name);
  const std::string& decided = call.paths[0].resolved.path;
  if (n < 0 || static_cast<std::size_t>(n) >= sizeof name ||
      std::string_view(name, static_cast<std::size_t>(n)) != decided) {
    ThawSharers(t.tid);
    call.note = FdRaceNote(cwd, fd, decided,
                           n < 0 ? std::nullopt
                                 : std::optional<std::string_view>(
                                       std::string_view(name, static_cast<std::size_t>(n))));
    return policy::Decision{policy::Action::kDeny, EBADF, policy::EventType::kEscapeAttempt,
                            policy::Severity::kHigh, "builtin:fd-race"};
  }
  t.inject = Tracee::Inject::kHeldExit;
  t.held_ticks = 0;
  call.walk_gap.clear();
  call.walk_guard = FdHeldGuard(cwd);
  return std::nullopt;
}

void Supervisor::FinishHeld(Tracee& t) {
  t.inject = Tracee::Inject::kNone;
  ThawSharers(t.tid);
  if (t.live_call) {
    user_regs_struct r{};
    FlushLive(t, ptrace(PTRACE_GETREGS, t.tid, nullptr, &r) == 0
                     ? std::optional<long long>(static_cast<long long>(r.rax))
                     : std::nullopt);
  }
  ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
}

Supervisor::PinFailure Supervisor::PinArguments(Tracee& t, DecodedCall& call) {
  if (call.request.path_count == 0 && call.addr_bytes.empty() && call.msghdr_bytes.empty()) {
    return PinFailure::kNone;
  }
  PinSpace* space = SpaceOf(t);
  if (space == nullptr || !space->mapped) {
    call.unpinned = "this address space has no pinned-argument region";
    return PinFailure::kNone;
  }
  if (space->mem_fd < 0) {
    // The region exists but cannot be written: allowing the call unpinned would leave its
    // arguments open to a race.
    call.unpinned = fmt::format("/proc/{}/mem: {}", t.tid, std::strerror(errno));
    return PinFailure::kUnwritable;
  }
  int slot = t.pin.Get();
  if (slot < 0) slot = pins_.StealSlot(t);
  if (slot < 0) return PinFailure::kNoSlot;
  std::uint64_t at = PinSpace::Address(slot);
  if (AnchorPlan anchors = PlanAnchors(call); anchors.needed()) {
    PinFailure failure = PinFailure::kNone;
    if (StartAnchored(t, call, std::move(anchors), *space, at, failure)) return failure;
  } else if (!anchors.inert.empty()) {
    call.walk_guard = anchors.inert;
  } else if (!anchors.why_not.empty()) {
    call.walk_gap = anchors.why_not + " (not anchored)";
  }
  PinPlan plan = PlanPins(call, at);
  call.unpinned = plan.unpinned;
  if (!plan.needed()) return PinFailure::kNone;
  // /proc/PID/mem may write the read-only pages (FOLL_FORCE); the tracee cannot.
  if (!space->Holds(slot, plan.bytes)) {
    space->Wrote(slot, "");  // unknown until the write is known to have completed
    ssize_t n = pwrite(space->mem_fd, plan.bytes.data(), plan.bytes.size(), static_cast<off_t>(at));
    if (n != static_cast<ssize_t>(plan.bytes.size())) {
      call.unpinned = fmt::format("writing the pinned copy failed: {}", std::strerror(errno));
      return PinFailure::kNone;
    }
    space->Wrote(slot, plan.bytes);
  }
  long nr = index_.Number(*call.row);
  if (plan.syscall >= 0) {
    // Only the registers that change, then the number. A task that cannot take them all must
    // not run the half-changed call: it is killed (it is gone already when ptrace fails).
    std::array<std::pair<std::size_t, std::uint64_t>, 7> writes{};  // offset, value
    std::size_t n_writes = 0;
    bool steered = plan.registers.size() < writes.size();  // six arguments at most
    for (const auto& [arg, value] : plan.registers) {
      if (!steered) break;
      if (call.args[static_cast<std::size_t>(arg)] == value) continue;
      writes[n_writes++] = {kArgRegister[static_cast<std::size_t>(arg)], value};
    }
    if (steered && nr != plan.syscall) {
      writes[n_writes++] = {offsetof(user_regs_struct, orig_rax),
                            static_cast<std::uint64_t>(plan.syscall)};
    }
    if (steered && n_writes > 2) {
      // Every ptrace request freezes and thaws the task: from three registers on, reading
      // them all and writing them back costs less than one request per register
      // (docs/performance.md, "A supervisor for parallel programs").
      user_regs_struct regs{};
      steered = ptrace(PTRACE_GETREGS, t.tid, 0, &regs) == 0;
      for (std::size_t i = 0; steered && i < n_writes; ++i) {
        std::memcpy(reinterpret_cast<char*>(&regs) + writes[i].first, &writes[i].second,
                    sizeof writes[i].second);
      }
      steered = steered && ptrace(PTRACE_SETREGS, t.tid, 0, &regs) == 0;
    } else {
      for (std::size_t i = 0; steered && i < n_writes; ++i) {
        steered = ptrace(PTRACE_POKEUSER, t.tid, writes[i].first, writes[i].second) == 0;
      }
    }
    if (!steered) {
      call.unpinned = fmt::format("rewriting the call failed: {}", std::strerror(errno));
      Abandon(t);
      return PinFailure::kGone;
    }
    call.pinned = plan.unpinned.empty();
    if (call.pinned) {
      call.walk_guard =
          "openat2 with RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS on the checked path: a "
          "symlink planted or swapped after the check fails the call (ELOOP)";
    }
    t.pinned_in_flight = true;
    t.pinned_nr = plan.syscall;
    return PinFailure::kNone;
  }
  if (plan.as_sendmsg) {
    if (t.inject != Tracee::Inject::kNone ||
        ptrace(PTRACE_GETREGS, t.tid, nullptr, &t.saved) != 0) {
      call.unpinned = "sendmmsg destinations (a sendmmsg is already being rewritten)";
      return PinFailure::kNone;
    }
    nr = SYS_sendmsg;
  }
  for (const auto& [arg, value] : plan.registers) {
    if (ptrace(PTRACE_POKEUSER, t.tid, kArgRegister[static_cast<std::size_t>(arg)], value) != 0) {
      call.unpinned = fmt::format("setting the argument register failed: {}", std::strerror(errno));
      return PinFailure::kNone;
    }
  }
  if (plan.as_sendmsg) {
    // Send the pinned first message with sendmsg; FinishSendmmsg puts sendmmsg's face back on.
    if (ptrace(PTRACE_POKEUSER, t.tid, offsetof(user_regs_struct, orig_rax), SYS_sendmsg) != 0) {
      ptrace(PTRACE_SETREGS, t.tid, nullptr, &t.saved);
      call.unpinned = "sendmmsg destinations (the call could not be rewritten)";
      return PinFailure::kNone;
    }
    t.inject = Tracee::Inject::kSendmmsgExit;
    t.mmsg_vec = call.args[1];
  }
  call.pinned = plan.unpinned.empty();
  t.pinned_in_flight = true;
  t.pinned_nr = nr;
  return PinFailure::kNone;
}

void Supervisor::PinRegionFailed(Tracee& t, const std::string& why) {
  // Without its region a program's calls could only be checked with a race open: fail closed.
  t.inject = Tracee::Inject::kNone;
  policy::Decision d{policy::Action::kKill, 0, policy::EventType::kEscapeAttempt,
                     policy::Severity::kHigh, "builtin:pin-region-unavailable"};
  const std::uint64_t raw[6] = {kPinBase,       kPinEnd - kPinBase, PROT_READ,
                                PinMmapFlags(), ~std::uint64_t{0},  0};
  Record(t, d, nullptr, nullptr, SYS_mmap, AUDIT_ARCH_X86_64, raw, PinRegionMessage(why));
  kill(TgidOf(t), SIGKILL);
  ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
}

void Supervisor::Enforce(Tracee& t, const policy::Decision& d, bool counted, Enforcement how) {
  if (d.action == policy::Action::kAllow ||
      (mode_ == Mode::kAudit && how == Enforcement::kByMode)) {
    Resume(t);  // with a syscall-exit stop when a sendmmsg was rewritten
    return;
  }
  if (counted) ++result_.denied;
  if (d.action == policy::Action::kKill) {
    result_.killed_by_policy = true;
    KillAll();
    return;
  }
  // Skip the syscall: orig_rax = -1 makes the kernel skip it (re-checked after the seccomp stop
  // since Linux 4.8); rax becomes its return value.
  user_regs_struct regs{};
  if (ptrace(PTRACE_GETREGS, t.tid, nullptr, &regs) != 0) {
    Abandon(t);  // it must not run the call it was denied
    return;
  }
  regs.orig_rax = static_cast<unsigned long long>(-1LL);
  regs.rax = static_cast<unsigned long long>(-static_cast<long long>(d.error));
  if (ptrace(PTRACE_SETREGS, t.tid, nullptr, &regs) != 0) {
    kill(t.tid, SIGKILL);  // cannot deny: never let it run
    return;
  }
  ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
}

void Supervisor::Record(Tracee& t, const policy::Decision& d, nlohmann::json tip,
                        const DecodedCall* call, long nr, std::uint32_t arch,
                        const std::uint64_t* raw, std::string message, bool live_only,
                        bool hold_for_exit) {
  const bool audit = RecordsAsAudit(mode_, d);
  if (d.action != policy::Action::kAllow) {
    if (audit) ++result_.denied;  // in enforce mode, Enforce counts it
    // The first few, for the summary (with or without an events file), and the kill's cause.
    if (result_.first_denials.size() < watch_.denial_notes) {
      std::string action(policy::Name(d.action));
      result_.first_denials.push_back(
          {message, std::string(d.rule), audit ? "would " + action : action, tip});
    }
    if (d.action == policy::Action::kKill && !audit && !result_.killed_by) {
      result_.killed_by = report::DenialNote{message, std::string(d.rule), "kill", tip};
    }
  }
  if (sink_ == nullptr) return;
  nlohmann::json args;
  if (call != nullptr) {
    Context ctx(*this, t);
    args = RenderArgs(*call, ctx);
  }
  report::Event e = CallEvent({d, call, nr, arch, raw, mode_, watch_.landlock}, std::move(args),
                              std::move(tip), std::move(message), live_only);
  const bool wants_stack =
      !live_only && (watch_.stack == StackMode::kAll ||
                     (watch_.stack == StackMode::kDenials && d.action != policy::Action::kAllow));
  if (wants_stack) e.stack = StackOf(t);
  if (hold_for_exit && live_only) {
    FlushLive(t, std::nullopt);  // defence: one call in flight per task
    Stamp(e, &t);
    t.live_call = std::make_unique<report::Event>(std::move(e));
    return;
  }
  Emit(std::move(e), &t);
}

void Supervisor::NoteChanges(Tracee& t, const DecodedCall& call) {
  const std::string root = ViewOf(t).root;  // one view per call, not per path
  for (int i = 0; i < call.request.path_count; ++i) {
    const policy::PathAccess& p = call.request.paths[static_cast<std::size_t>(i)];
    if (p.resolved) artifacts_.NoteChange(root, p.path, p.access);
  }
}

nlohmann::json Supervisor::StackOf(Tracee& t) {
  auto not_taken = [](std::string why) {
    return nlohmann::json{{"frames", nlohmann::json::array()}, {"note", "not taken: " + why}};
  };
  if (stacks_taken_ >= kStackBudget) {
    return not_taken(fmt::format("this run's {} stacks are spent", kStackBudget));
  }
  user_regs_struct regs{};
  if (t.anchored) {
    regs = t.anchored->call;  // the call as it stopped, before tracejail re-issued it
  } else if (t.inject != Tracee::Inject::kNone && t.inject != Tracee::Inject::kLiveExit) {
    return not_taken("the thread is running a call tracejail injected");
  } else if (ptrace(PTRACE_GETREGS, t.tid, nullptr, &regs) != 0) {
    return not_taken(fmt::format("cannot read the registers: {}", std::strerror(errno)));
  }
  ++stacks_taken_;
  return UnwindStopped(TgidOf(t), t.tid, t.creator, regs);
}

}  // namespace tracer
