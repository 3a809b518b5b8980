#include "tracer/observer.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
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
#include <fstream>

#include <fmt/format.h>

#include "base/escape.h"
#include "tracer/borrow_fd.h"
#include "tracer/decode.h"
#include "tracer/monotonic.h"
#include "tracer/self_guard.h"
#include "tracer/syscall_info.h"
#include "tracer/tick_timer.h"

namespace tracer {

using syscalls::Kind;

namespace {

std::atomic<int> g_stop_signal{0};  // the first SIGINT/SIGTERM/SIGHUP/SIGQUIT
std::atomic<int> g_stop_count{0};
std::atomic<pid_t> g_loop_tid{0};  // the thread in Observer::Run, 0 outside it
std::atomic<bool> g_tick{false};

void OnTick(int) { g_tick.store(true, std::memory_order_relaxed); }

constexpr long kTickNs = 100'000'000;

constexpr unsigned long kSeizeOptions = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK |
                                        PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
                                        PTRACE_O_TRACEEXEC;

double Now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

bool IsStopSignal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

std::string ReadLinkOr(const std::string& path, std::string fallback) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? fallback : std::string(buf, static_cast<std::size_t>(n));
}

// A process's argv as the kernel holds it (right after an exec: exactly what was passed),
// escaped; bounded like the decoder's.
std::vector<std::string> Cmdline(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/cmdline", pid), std::ios::binary);
  std::vector<std::string> argv;
  std::string arg;
  std::size_t total = 0;
  while (std::getline(in, arg, '\0') && argv.size() < kMaxArgvEntries && total < (1u << 20)) {
    total += arg.size();
    argv.push_back(base::EscapeBytes(arg));
  }
  return argv;
}

std::vector<pid_t> Tasks(pid_t pid) {
  std::vector<pid_t> out;
  DIR* dir = opendir(fmt::format("/proc/{}/task", pid).c_str());
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir)) {
    pid_t tid = 0;
    const char* end = e->d_name + std::strlen(e->d_name);
    auto [ptr, ec] = std::from_chars(e->d_name, end, tid);
    if (ec == std::errc() && ptr == end && tid > 0) out.push_back(tid);
  }
  closedir(dir);
  return out;
}

std::optional<int> PtraceScope() {
  std::ifstream in("/proc/sys/kernel/yama/ptrace_scope");
  int scope = 0;
  if (in >> scope) return scope;
  return std::nullopt;
}

bool HasPtraceCapability() {
  // CapEff: hexadecimal; CAP_SYS_PTRACE is bit 19.
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("CapEff:")) continue;
    unsigned long long caps = std::strtoull(line.c_str() + 7, nullptr, 16);
    return (caps >> 19) & 1;
  }
  return false;
}

AttachFacts FactsFor(pid_t pid, int err) {
  AttachFacts f;
  f.error = err;
  f.ptrace_scope = PtraceScope();
  f.tracer_pid = ProcField(fmt::format("/proc/{}/status", pid), "TracerPid:").value_or(0);
  f.privileged = HasPtraceCapability();
  struct stat st {};
  if (stat(fmt::format("/proc/{}", pid).c_str(), &st) == 0) f.same_user = st.st_uid == getuid();
  return f;
}

// A unix socket address as bound_sockets_ keys it (as the supervisor does).
std::string BoundKey(const policy::SocketAddress& a) {
  return a.abstract ? "@" + a.unix_path : a.unix_path;
}

std::string MountNamespace(const std::string& proc) { return ReadLinkOr(proc + "/ns/mnt", ""); }

}  // namespace

std::string AttachErrorMessage(pid_t pid, const AttachFacts& f) {
  const std::string head = fmt::format("cannot attach to process {}: ", pid);
  if (f.self) {
    return head +
           "it is tracejail itself or one of its ancestors (the shell that started it): observe "
           "it from another terminal";
  }
  if (f.error == ESRCH) return fmt::format("no such process: {}", pid);
  if (f.error != EPERM) {
    return head + fmt::format("PTRACE_SEIZE failed: {}", std::strerror(f.error));
  }
  if (f.tracer_pid != 0) {
    return head + fmt::format(
                      "it is already traced by process {} (a debugger, strace or another "
                      "tracejail): a process has one tracer at a time",
                      f.tracer_pid);
  }
  constexpr const char* kScope = "/proc/sys/kernel/yama/ptrace_scope";
  if (f.ptrace_scope && *f.ptrace_scope >= 3) {
    return head + fmt::format(
                      "{} is {}: the kernel lets no process attach to another, not even root, "
                      "until the next reboot",
                      kScope, *f.ptrace_scope);
  }
  if (f.ptrace_scope == 2 && !f.privileged) {
    return head + fmt::format(
                      "{} is 2: only root (CAP_SYS_PTRACE) may attach to a process; run "
                      "tracejail observe as root",
                      kScope);
  }
  if (f.ptrace_scope == 1 && !f.privileged) {
    return head + fmt::format(
                      "{} is 1: a process may be attached to only by its ancestors (or by root, "
                      "or a tracer it names with prctl(PR_SET_PTRACER)); run tracejail observe "
                      "as root, or set it to 0 (sysctl kernel.yama.ptrace_scope=0) if this "
                      "machine's policy allows",
                      kScope);
  }
  if (!f.same_user && !f.privileged) {
    return head +
           "it runs as another user: only root (CAP_SYS_PTRACE) may attach to it (ptrace "
           "EPERM)";
  }
  return head +
         "the kernel refused (ptrace EPERM): the process may have changed its user ids "
         "(set-user-ID), be made non-dumpable (prctl PR_SET_DUMPABLE), or a security module "
         "forbids it; root (CAP_SYS_PTRACE) may be allowed";
}

// The live TraceeContext of an observed task: memory through process_vm_readv, paths through
// /proc, tree checks against the tasks attached.
class Observer::Context final : public TraceeContext {
 public:
  Context(Observer& o, Tracee& t) : o_(o), t_(t) {}
  MemoryReader& Memory() override { return *t_.mem; }
  pid_t Pid() const override { return TraceeTable::TgidOf(t_); }
  pid_t Tid() const override { return t_.tid; }
  ResolveResult Resolve(int dirfd, std::string_view path, LastLink last, EmptyPath empty,
                        std::uint64_t resolve) override {
    return ResolvePath(Pid(), t_.tid, dirfd, path, last, empty, &o_.ViewOf(t_), resolve);
  }
  bool InTree(pid_t pid) const override { return pid > 0 && o_.tracees_.contains(pid); }
  bool GroupInTree(pid_t pgid) const override {
    return InTree(pgid) || (pgid > 0 && getpgid(t_.tid) == pgid);
  }
  // The process's terminals are its own: none is "tracejail's" (it did not start it).
  Terminal TerminalOf(int fd) override {
    struct stat st {};
    if (stat(fmt::format("/proc/{}/task/{}/fd/{}", Pid(), t_.tid, fd).c_str(), &st) != 0 ||
        !S_ISCHR(st.st_mode)) {
      return Terminal::kNone;
    }
    unsigned major = ::major(st.st_rdev);
    return major == 4 || major == 5 || (major >= 128 && major <= 143) ? Terminal::kTerminal
                                                                      : Terminal::kNone;
  }
  bool BoundByTree(const policy::SocketAddress& addr) const override {
    return o_.bound_sockets_.contains(BoundKey(addr));
  }
  bool WantsSocketType() const override { return o_.policy_.NeedsSocketType(); }
  std::optional<int> SocketType(int fd) override {
    base::UniqueFd sock = BorrowFd(t_.tid, fd);
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
  Observer& o_;
  Tracee& t_;
};

Observer::Observer(const policy::Policy& policy, EventSink* sink, ObserveOptions options)
    : policy_(policy),
      sink_(sink),
      options_(std::move(options)),
      mode_(options_.enforce ? Mode::kEnforce : Mode::kAudit) {
  // The calls `run` stops for in audit mode (denials and kills become stops), so that observe
  // decides and records the same ones. With --enforce they are the same calls, enforced here.
  plan_ = MakePlan(policy_, index_, /*audit=*/true);
  traced_rows_.insert(plan_.traced.begin(), plan_.traced.end());
  for (const auto& rule : plan_.kernel_rules) {
    if (rule.nr >= 0) rule_nrs_.insert(static_cast<std::uint64_t>(rule.nr));
  }
  default_traced_ = plan_.default_action != policy::SyscallAction::kAllow;
  g_stop_signal.store(0);
  signals_seen_ = g_stop_count.load();  // a signal before observing is not this one's
}

Observer::~Observer() {
  if (!tracees_.empty()) ReleaseAll();
}

void Observer::RequestStop(int sig) {
  int saved = errno;
  int none = 0;
  g_stop_signal.compare_exchange_strong(none, sig);
  g_stop_count.fetch_add(1);
  // Delivered to another thread of tracejail (the event writer): wake the loop with a tick.
  pid_t loop = g_loop_tid.load();
  if (loop > 0 && loop != static_cast<pid_t>(syscall(SYS_gettid))) {
    syscall(SYS_tgkill, getpid(), loop, SIGALRM);
  }
  errno = saved;
}

Tracee& Observer::Get(pid_t tid) {
  auto [t, added] = tracees_.Get(tid);
  if (added) ++result_.processes;
  return t;
}

void Observer::Attach(pid_t pid) {
  auto refuse = [&](int err, AttachFacts facts) {
    ReleaseAll();
    facts.error = err;
    throw AttachError(err, AttachErrorMessage(pid, facts));
  };
  std::optional<pid_t> tgid =
      pid > 0 ? ProcField(fmt::format("/proc/{}/status", pid), "Tgid:") : std::nullopt;
  if (!tgid) refuse(ESRCH, {});
  // Observing tracejail, or what waits for it, would stop the observer on its own calls.
  std::vector<pid_t> own = SelfGuard(getpid()).Protected();
  own.push_back(getpid());
  if (std::find(own.begin(), own.end(), *tgid) != own.end()) refuse(EPERM, {.self = true});
  main_pid_ = *tgid;
  result_.pid = main_pid_;
  own_mounts_ = MountNamespace("/proc/self") != MountNamespace(fmt::format("/proc/{}", main_pid_));
  // Every thread, until a listing shows none new: a thread seized follows its own clones
  // (PTRACE_O_TRACECLONE), one made before it was seized is seen in the next listing.
  std::vector<pid_t> seized;
  for (bool added = true; added;) {
    added = false;
    for (pid_t tid : Tasks(main_pid_)) {
      if (tracees_.contains(tid)) continue;
      if (ptrace(PTRACE_SEIZE, tid, nullptr, reinterpret_cast<void*>(kSeizeOptions)) != 0) {
        int err = errno;
        if (err == ESRCH && !seized.empty()) continue;  // a thread that just ended
        refuse(err, FactsFor(tid, err));
      }
      Tracee& t = Get(tid);
      t.tgid = main_pid_;
      ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
      seized.push_back(tid);
      added = true;
    }
  }
  if (seized.empty()) refuse(ESRCH, {});
  result_.threads = seized.size();
  Tracee& main = Get(main_pid_);  // the leader (a zombie leader's threads run on)
  main.tgid = main_pid_;
  result_.exe = TraceeTable::ExeOf(main);
  result_.argv = Cmdline(main_pid_);
  pid_t parent = ProcField(fmt::format("/proc/{}/status", main_pid_), "PPid:").value_or(0);
  Lifecycle(main, AttachedDraft(main_pid_, parent, seized.size(), result_.exe, result_.argv));
  // Each thread stops once (the interrupt, or a group-stop) and is resumed with syscall stops
  // from there: no call of the process is unseen once Attach returns. Other stops met on the
  // way (a fork, a signal) are handled as in the loop.
  for (pid_t tid : seized) {
    for (;;) {
      int status = 0;
      pid_t got = waitpid(tid, &status, __WALL);
      if (got < 0 && errno == EINTR) {
        if (g_stop_count.load() != signals_seen_) return;  // asked to stop: Run lets go
        continue;
      }
      if (got < 0) break;  // gone
      const bool first = WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP;
      Dispatch(tid, status);
      if (first || !WIFSTOPPED(status)) break;
    }
  }
}

const ObserveResult& Observer::Run() {
  started_ = Monotonic();
  auto timer = std::make_unique<TickTimer>(OnTick, kTickNs);
  if (!timer->armed()) {
    Fail(fmt::format("the observer's tick timer could not be created: {}", std::strerror(errno)));
  }
  g_loop_tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
  Tick();  // a signal that came while attaching
  bool abandon = false;
  for (;;) {
    int status = 0;
    pid_t tid = waitpid(-1, &status, __WALL);
    const int wait_errno = tid < 0 ? errno : 0;
    if (g_tick.exchange(false, std::memory_order_relaxed)) Tick();
    if (tid > 0) Dispatch(tid, status);
    if (detaching_ && g_stop_count.load() != signals_seen_) {
      // Another signal while tasks are being let go: stop waiting for the ones that do not
      // stop (in an uninterruptible sleep); the kernel detaches them when tracejail exits.
      if (result_.interrupted == 0) result_.interrupted = g_stop_signal.load();
      abandon = true;
      break;
    }
    if (tid > 0 || wait_errno == EINTR) continue;
    if (wait_errno != ECHILD) Fail(fmt::format("waitpid failed: {}", std::strerror(wait_errno)));
    break;  // ECHILD: nothing attached any more
  }
  g_loop_tid.store(0);
  timer.reset();
  if (abandon) {
    result_.left_running += tracees_.size();
    if (tracees_.contains(main_pid_) && !main_ended_) result_.detached = true;
    tracees_.clear();
    pending_.clear();
  }
  if (!tracees_.empty()) ReleaseAll();
  return result_;
}

void Observer::Tick() {
  if (sink_ != nullptr && sink_->failed() && result_.internal_error.empty()) {
    Fail("the events could not be recorded (" + sink_->Failure().value_or("?") + ")");
  }
  int count = g_stop_count.load();
  if (count != signals_seen_ && !detaching_) {
    signals_seen_ = count;
    result_.interrupted = g_stop_signal.load();
    StartDetach();
  }
  if (!detaching_ && options_.duration_s > 0 && Monotonic() - started_ >= options_.duration_s) {
    result_.duration_over = true;
    StartDetach();
  }
}

void Observer::Fail(std::string what) {
  if (result_.internal_error.empty()) result_.internal_error = std::move(what);
  StartDetach();
}

void Observer::StartDetach() {
  if (detaching_) return;
  detaching_ = true;
  // Every task is running (each stop is resumed at once) or listening in a group-stop: the
  // interrupt stops it, and it is let go at that stop (DetachAt).
  for (const auto& [tid, t] : tracees_) ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
}

void Observer::ReleaseAll() {
  // Outside the loop (an attach that failed halfway, an error): interrupt, then let go of
  // each at its stop; a bounded wait, since nothing here may hang tracejail.
  detaching_ = false;
  StartDetach();
  for (int rounds = 0; !tracees_.empty() && rounds < 1000; ++rounds) {
    int status = 0;
    pid_t tid = waitpid(-1, &status, __WALL);
    if (tid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    Dispatch(tid, status);
  }
  tracees_.clear();
  pending_.clear();
}

void Observer::Dispatch(pid_t tid, int status) {
  try {
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      HandleExit(tid, status);
    } else if (WIFSTOPPED(status)) {
      Tracee& t = Get(tid);
      if (detaching_) {
        DetachAt(t, status);
      } else {
        HandleStop(t, status);
      }
    }
  } catch (const std::exception& e) {
    // The task is still in its stop: let it go with everything else.
    Fail(fmt::format("the observer's loop failed (task {}): {}", tid, e.what()));
    if (Tracee* t = tracees_.Find(tid)) DetachAt(*t, status);
  }
}

void Observer::HandleExit(pid_t tid, int status) {
  if (Tracee* t = tracees_.Find(tid)) {
    Lifecycle(*t, ExitDraft(tid, status, t->tgid != 0 && t->tgid != tid));
  }
  tracees_.erase(tid);
  pending_.erase(tid);
  if (tid != main_pid_) return;
  main_ended_ = true;
  if (WIFEXITED(status)) {
    result_.exit_code = WEXITSTATUS(status);
  } else {
    result_.term_signal = WTERMSIG(status);
  }
  // It ended: the children it made are let go, running as they were.
  StartDetach();
}

void Observer::DetachAt(Tracee& t, int status) {
  const pid_t tid = t.tid;
  const int sig = WSTOPSIG(status);
  const int event = status >> 16;
  const bool syscall_stop = event == 0 && sig == (SIGTRAP | 0x80);
  auto pending = pending_.find(tid);
  if (pending != pending_.end() && pending->second.skip_error >= 0) {
    // A call skipped at its entry (--enforce) must get its errno at its exit first; let go of
    // it there, never between (it would return ENOSYS).
    if (!syscall_stop) {
      ptrace(PTRACE_SYSCALL, tid, nullptr,
             reinterpret_cast<void*>(static_cast<long>(event == 0 ? sig : 0)));
      return;
    }
    HandleSyscall(t);  // the exit: sets the result, and resumes; stopped again by the interrupt
    ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
    return;
  }
  // A signal-delivery-stop passes its signal on; a group-stop stays a stop after the detach.
  const int deliver = event == 0 && !syscall_stop ? sig : 0;
  if (ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(deliver))) ==
      0) {
    ++result_.left_running;
    if (tid == main_pid_) result_.detached = true;
  }
  tracees_.erase(tid);
  pending_.erase(tid);
}

void Observer::HandleStop(Tracee& t, int status) {
  const int sig = WSTOPSIG(status);
  const int event = status >> 16;
  if (event == 0 && sig == (SIGTRAP | 0x80)) return HandleSyscall(t);
  switch (event) {
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE:
      return HandleChild(t, event);
    case PTRACE_EVENT_EXEC:
      return HandleExec(t);
    case PTRACE_EVENT_STOP:
      if (IsStopSignal(sig)) {
        ptrace(PTRACE_LISTEN, t.tid, nullptr, nullptr);  // group-stop: stays stopped until SIGCONT
      } else {
        Resume(t);
      }
      return;
    default:
      return Resume(t, sig);  // signal-delivery-stop: deliver it, never swallow it
  }
}

void Observer::HandleChild(Tracee& t, int event) {
  unsigned long child = 0;
  if (ptrace(PTRACE_GETEVENTMSG, t.tid, nullptr, &child) == 0 && child != 0) {
    Tracee& c = Get(static_cast<pid_t>(child));
    if (event != PTRACE_EVENT_CLONE) c.tgid = static_cast<pid_t>(child);
    pid_t parent = TraceeTable::TgidOf(t);
    bool thread = event == PTRACE_EVENT_CLONE && TraceeTable::TgidOf(c) == parent;
    Lifecycle(c, ChildDraft(static_cast<pid_t>(child), parent, t.tid, thread, event));
  }
  Resume(t);
}

void Observer::HandleExec(Tracee& t) {
  unsigned long former = 0;
  const pid_t was =
      ptrace(PTRACE_GETEVENTMSG, t.tid, nullptr, &former) == 0 ? static_cast<pid_t>(former) : t.tid;
  tracees_.TakeExec(t, was);
  if (was != t.tid) pending_.erase(was);
  // The new image's argv, before any of its code ran: what execve passed.
  Lifecycle(t, ExecDraft(TraceeTable::ExeOf(t), Cmdline(t.tid)));
  Resume(t);
}

void Observer::HandleSyscall(Tracee& t) {
  SyscallInfo info{};
  long n = ptrace(PTRACE_GET_SYSCALL_INFO, t.tid, sizeof info, &info);
  if (n <= 0) return Resume(t);
  if (info.op == kSyscallInfoEntry) {
    const std::uint64_t* raw = info.seccomp.args;
    RawStop stop{info.arch,
                 info.seccomp.nr,
                 {raw[0], raw[1], raw[2], raw[3], raw[4], raw[5]},
                 nullptr,
                 false};
    return HandleEntry(t, stop);
  }
  if (info.op == kSyscallInfoExit) {
    auto it = pending_.find(t.tid);
    if (it != pending_.end()) {
      Pending& p = it->second;
      if (p.skip_error >= 0) {
        // The skipped call's result: -errno in rax (the kernel left -ENOSYS there).
        ptrace(PTRACE_POKEUSER, t.tid, offsetof(user_regs_struct, rax),
               static_cast<long>(-p.skip_error));
        p.skip_error = -1;
      }
      if (!p.bind_key.empty()) {
        if (info.exit.is_error == 0 && info.exit.rval == 0) bound_sockets_.insert(p.bind_key);
        p.bind_key.clear();
      }
      pending_.erase(it);
    }
  }
  Resume(t);
}

bool Observer::Watched(const RawStop& stop, bool native) const {
  if (!native) return true;  // a foreign ABI: always an event
  if (default_traced_ || rule_nrs_.contains(stop.nr)) return true;
  return stop.row != nullptr ? traced_rows_.contains(stop.row) : stop.unknown_tag;
}

void Observer::HandleEntry(Tracee& t, const RawStop& given) {
  RawStop stop = given;
  const bool native = stop.arch == AUDIT_ARCH_X86_64 && (stop.nr & kX32Bit) == 0;
  if (native) {
    stop.row = stop.nr < kSyscallNumberLimit ? index_.Lookup(static_cast<long>(stop.nr)) : nullptr;
    stop.unknown_tag =
        stop.row == nullptr &&
        (stop.nr >= kX32SyscallBit || plan_.IsUnknown(static_cast<std::uint32_t>(stop.nr)));
  }
  if (!Watched(stop, native)) return Resume(t);
  ++result_.flagged;
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
    Record(t, early.decision, early.tip, with_call ? &shown : nullptr, static_cast<long>(stop.nr),
           stop.arch, stop.args.data(), early.message);
  }
  if (early.next == RegisterVerdict::Next::kEnforce) return Enforce(t, early.decision);
  if (early.next == RegisterVerdict::Next::kLetRun) return Resume(t);
  HandleCall(t, stop);
}

void Observer::HandleCall(Tracee& t, const RawStop& stop) {
  Context ctx(*this, t);
  DecodedCall call;
  Decode(*stop.row, stop.args, ctx, call);
  CallFacts facts{ProtectedPathHit(call.request, options_.protected_paths), ""};
  if (!call.outside.empty()) facts.self_guard = SelfGuard(getpid()).Check(call.outside);
  const CallVerdict verdict = DecideCall(call, policy_, facts);
  if (verdict.kernel_fails) {
    // The kernel fails it anyway. With --enforce it is failed here (as `run` does), so that
    // another thread cannot make the kernel see something else; otherwise it runs.
    if (options_.enforce) return Enforce(t, verdict.decision);
    return Resume(t);
  }
  const policy::Decision& d = verdict.decision;
  if (options_.enforce && d.action == policy::Action::kAllow) {
    call.unpinned =
        "observe attaches to a running process, which has no pinned-argument region: another "
        "thread can change the arguments between the check and the call";
  }
  const syscalls::SyscallRow* row = stop.row;
  if (d.action == policy::Action::kAllow && row->kind == Kind::kNet &&
      row->verb == policy::NetVerb::kBind && call.addr && call.addr->family == AF_UNIX &&
      !call.addr->unnamed) {
    pending_[t.tid].bind_key = BoundKey(*call.addr);  // the tree's own socket if it succeeds
  }
  RecordCall(t, call, stop, d);
  Enforce(t, d);
}

void Observer::RecordCall(Tracee& t, const DecodedCall& call, const RawStop& stop,
                          const policy::Decision& d) {
  const long nr = static_cast<long>(stop.nr);
  const bool plain_allow =
      d.action == policy::Action::kAllow && d.event == policy::EventType::kNone;
  if (plain_allow && sink_ != nullptr && (mode_ == Mode::kAudit || options_.live_allowed)) {
    // As `run --mode audit`: every allowed access is recorded too (learn's and the reports'
    // input); with --enforce only the live view may show them.
    Record(t, d, nullptr, &call, nr, stop.arch, stop.args.data(), AllowedMessage(stop.row->name),
           /*live_only=*/mode_ != Mode::kAudit);
  }
  if (!plain_allow) {
    Record(t, d, policy_.Tip(call.request), &call, nr, stop.arch, stop.args.data(),
           CallMessage(*stop.row, call, d));
  }
}

void Observer::Record(Tracee& t, const policy::Decision& d, nlohmann::json tip,
                      const DecodedCall* call, long nr, std::uint32_t arch,
                      const std::uint64_t* raw, std::string message, bool live_only) {
  // Without --enforce nothing is enforced, tracejail's self-protection included.
  const bool audit = !options_.enforce;
  if (d.action != policy::Action::kAllow) {
    if (audit) ++result_.denied;  // with --enforce, Enforce counts it
    if (result_.first_denials.size() < options_.denial_notes) {
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
  CallRecord record{d, call, nr, arch, raw, mode_, false};
  record.passive = audit;
  Emit(CallEvent(record, std::move(args), std::move(tip), std::move(message), live_only), &t);
}

void Observer::Enforce(Tracee& t, const policy::Decision& d) {
  // Nothing is enforced without --enforce, tracejail's self-protection included.
  if (d.action == policy::Action::kAllow || !options_.enforce) return Resume(t);
  ++result_.denied;
  if (d.action == policy::Action::kKill) {
    result_.killed_by_policy = true;
    for (const auto& [tid, other] : tracees_) kill(tid, SIGKILL);
    return;
  }
  // Skip the call: orig_rax = -1 at its entry makes the kernel skip it; its exit stop sets the
  // result (HandleSyscall).
  if (ptrace(PTRACE_POKEUSER, t.tid, offsetof(user_regs_struct, orig_rax), -1L) != 0) {
    kill(t.tid, SIGKILL);  // it must not run the call it was denied
    return;
  }
  pending_[t.tid].skip_error = d.error;
  Resume(t);
}

void Observer::Resume(Tracee& t, int sig) {
  ptrace(PTRACE_SYSCALL, t.tid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig)));
}

const ResolveView& Observer::ViewOf(Tracee& t) {
  view_ = ResolveView{};
  // In a container (another mount namespace), paths are the process's: through its root.
  if (own_mounts_) view_.root = fmt::format("/proc/{}/root", TraceeTable::TgidOf(t));
  return view_;
}

void Observer::Emit(report::Event e, Tracee* t) {
  e.seq = ++seq_;
  e.time = Now();
  if (t != nullptr) {
    e.pid = TraceeTable::TgidOf(*t);
    e.tid = t->tid;
    e.exe = TraceeTable::ExeOf(*t);
  }
  if (!e.live_only) ++result_.events;
  sink_->Emit(std::move(e));
}

void Observer::Lifecycle(Tracee& t, LifecycleDraft draft) {
  if (sink_ == nullptr) return;
  Emit(LifecycleEvent(std::move(draft)), &t);
}

}  // namespace tracer
