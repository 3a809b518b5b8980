// Lanes: the supervisor's tracer threads, one per CPU (tracer/lanes.h, docs/performance.md).
// The loop each lane runs, how a task is handed from one lane to another without a moment in
// which a flagged call could run undecided, and how the lanes agree that the run is over.
#include <linux/audit.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <system_error>

#include <fmt/format.h>

#include "tracer/launcher.h"
#include "tracer/monotonic.h"
#include "tracer/self_guard.h"
#include "tracer/supervisor.h"
#include "tracer/supervisor_internal.h"
#include "tracer/tick_timer.h"

namespace tracer {

thread_local Supervisor::Lane* Supervisor::here_ = nullptr;

namespace {

// How long placement leaves a task alone after looking at it (seconds), and after finding it
// shares something with another task (it may stop sharing: an exec).
constexpr double kPlacementEvery = 0.05;
constexpr double kSharerRetry = 1.0;
// A task counts as busy for placement when it stopped this recently (seconds).
constexpr double kBusyWindow = 0.1;
// How many times a lane polls the supervisor's lock before it sleeps on it (about 50 µs).
constexpr int kLockPolls = 2000;

pid_t Gettid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

bool PinTo(pid_t tid, int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return sched_setaffinity(tid, sizeof one, &one) == 0;
}

}  // namespace

void Supervisor::SetUpLanes(const std::vector<int>& cpus) {
  lanes_.resize(1);
  const char* lanes = getenv("TRACEJAIL_LANES");
  const char* handover = getenv("TRACEJAIL_LANES_HANDOVER");
  std::string error;
  std::optional<LaneConfig> config = ParseLaneConfig(lanes, handover, error);
  if (!config) throw std::runtime_error(error);
  lane_config_ = *config;
  if (lane_config_.lanes == 0) {
    lanes_note_ = "off (TRACEJAIL_LANES=off)";
    return;
  }
  if (!watch_.lanes_off.empty()) {
    lanes_note_ = "off: " + watch_.lanes_off;
    return;
  }
  if (!same_cpu_.active()) {
    lanes_note_ = "off: the tree is not pinned to one CPU";
    return;
  }
  if (Gettid() != getpid()) {
    // Orphans come back to the leader thread: it must be lane 0, which waits for its own.
    lanes_note_ = "off: the supervisor does not run on tracejail's main thread";
    return;
  }
  lanes_[0]->cpu = same_cpu_.cpu();
  for (int cpu : cpus) {
    if (static_cast<int>(lanes_.size()) >= lane_config_.lanes) break;
    if (cpu == lanes_[0]->cpu) continue;
    auto lane = std::make_unique<Lane>();
    lane->index = lanes_.size();
    lane->cpu = cpu;
    lanes_.push_back(std::move(lane));
  }
  if (lanes_.size() < 2) {
    lanes_.resize(1);
    lanes_note_ = "off: tracejail may use only one CPU";
    return;
  }
  lanes_note_ = fmt::format("{} lanes{}", lanes_.size(),
                            lane_config_.every_stop ? ", a handover at every stop" : "");
}

void Supervisor::StartLanes() {
  for (std::size_t i = 1; i < lanes_.size(); ++i) {
    Lane* lane = lanes_[i].get();
    try {
      StartLane(lane);
    } catch (const std::system_error& e) {
      // No thread for it: nothing was handed to it yet, so the run goes on with fewer lanes.
      std::lock_guard lock(mu_);
      lanes_.resize(i);
      lanes_note_ = fmt::format("{} lanes (a lane's thread could not start: {})", i, e.what());
      break;
    }
  }
}

void Supervisor::StartLane(Lane* lane) {
  lane_threads_.emplace_back([this, lane] {
    PinTo(0, lane->cpu);
    {
      std::lock_guard lock(mu_);
      lane->thread = Gettid();
    }
    // Its own tick: a lost wake-up costs at most one tick, and held calls are nudged.
    TickTimer timer(OnSupervisorTick, kSupervisorTickNs);
    here_ = lane;
    lane->spin = SpinPolicy(kSupervisorSpinSeconds, SupervisorCpus());
    LaneLoop(*lane);
  });
}

void Supervisor::WakeLane(Lane& lane) {
  lane.idle = false;
  lanes_cv_.notify_all();
  if (lane.thread > 0 && lane.thread != Gettid())
    syscall(SYS_tgkill, getpid(), lane.thread, SIGALRM);
}

void Supervisor::LaneLoop(Lane& lane) {
  here_ = &lane;
  std::unique_lock lock(mu_, std::defer_lock);
  for (;;) {
    const Next next = WaitNext();
    lane.info_tid = 0;
    if (lanes_.size() > 1 && next.tid > 0 && WIFSTOPPED(next.status) &&
        (next.status >> 16) == PTRACE_EVENT_SECCOMP) {
      // Its own tracee in a stop: read before the lock, so other lanes decide meanwhile (fails
      // harmlessly for another lane's task, which is forwarded).
      lane.info_size = ptrace(PTRACE_GET_SYSCALL_INFO, next.tid, sizeof lane.info, &lane.info);
      lane.info_tid = next.tid;
    }
    // Held for a few microseconds per stop by another lane: polled before sleeping, since a
    // sleeping lane is woken from another CPU, the very cost lanes are there to avoid.
    for (int i = 0; i < kLockPolls && !lock.try_lock(); ++i) __builtin_ia32_pause();
    if (!lock.owns_lock()) lock.lock();
    // Tasks handed here are seized now; their stops come to this lane's waitpid.
    const bool took = TakeMail(lane);
    if (next.tid > 0) {
      lane.idle = false;
      Tracee* known = tracees_.Find(next.tid);
      if (known != nullptr && known->lane != lane.index) {
        // Collected as tracejail's child (the leader thread sees its children's statuses too):
        // the lane that traces it handles it.
        Lane& owner = *lanes_[known->lane];
        owner.mail.emplace_back(next.tid, next.status);
        WakeLane(owner);
        Release(lane, lock);
        continue;
      }
    }
    if (next.tid > 0 && !killing_ && ParkIfFrozen(next.tid, next.status)) {
      Release(lane, lock);
      continue;
    }
    if (killing_ && lane.stops.HasParked()) lane.stops.ThawAll();
    Dispatch(next.tid, next.status);
    if (next.tid < 0 && next.wait_errno != EINTR && !took) {
      if (next.wait_errno != ECHILD) {
        // waitpid itself failed: the tree is still tracejail's, so it is killed and reaped.
        Fail(fmt::format("waitpid failed: {}", std::strerror(next.wait_errno)));
        Drain();
      }
      if (LaneIdle(lane, lock)) {
        Release(lane, lock);
        break;
      }
    }
    Release(lane, lock);
  }
}

void Supervisor::Release(Lane& lane, std::unique_lock<std::mutex>& lock) {
  lane.info_tid = 0;
  std::vector<Lane::Resumption> resume;
  resume.swap(lane.resume);
  lock.unlock();
  for (const Lane::Resumption& r : resume) {
    ptrace(r.request, r.tid, nullptr, reinterpret_cast<void*>(static_cast<long>(r.sig)));
  }
}

bool Supervisor::LaneIdle(Lane& lane, std::unique_lock<std::mutex>& lock) {
  lane.idle = true;
  if (!lanes_done_) {
    bool all = true;
    for (const auto& l : lanes_) {
      all = all && l->idle && l->mail.empty() && l->adopt.empty() && !l->stops.HasReady();
    }
    if (all) {
      lanes_done_ = true;
      for (const auto& l : lanes_) WakeLane(*l);
    }
  }
  if (lanes_done_) return true;
  // Another lane still has tasks: wait for one to be handed here, or for the tick (lane 0
  // checks the timeout and the limits while idle too).
  lanes_cv_.wait_for(lock, std::chrono::nanoseconds(kSupervisorTickNs));
  return lanes_done_;
}

bool Supervisor::TakeMail(Lane& lane) {
  const bool any = !lane.mail.empty() || !lane.adopt.empty();
  for (const auto& [tid, status] : lane.mail) lane.stops.PushReady(tid, status);
  lane.mail.clear();
  std::vector<pid_t> adopt;
  adopt.swap(lane.adopt);
  for (pid_t tid : adopt) {
    Tracee* t = tracees_.Find(tid);
    if (t == nullptr) continue;
    // Parked with every signal blocked: only SIGKILL ends it before the seize.
    if (ptrace(PTRACE_SEIZE, tid, nullptr, TraceOptions()) == 0 &&
        ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) == 0) {
      if (same_cpu_.active()) PinTo(tid, lane.cpu);
      continue;
    }
    const int err = errno;
    if (!TaskAliveNow(tid)) {
      tracees_.erase(tid);  // killed while parked: its parent reaps it
      continue;
    }
    // Alive, parked, and no lane traces it: it must not run on.
    kill(tid, SIGKILL);
    tracees_.erase(tid);
    Fail(fmt::format("task {} could not be handed to the supervisor's lane {}: ptrace: {}", tid,
                     lane.index, std::strerror(err)));
  }
  return any;
}

bool Supervisor::Solitary(Tracee& t) {
  for (const auto& [tid, other] : tracees_) {
    if (tid == t.tid) continue;
    for (int what : {KCMP_VM, KCMP_FILES, KCMP_FS}) {
      // Shared, or it cannot be told: the task stays (an unknown is "shared").
      if (SameKernelObject(t.tid, tid, what).value_or(true)) return false;
    }
  }
  return true;
}

bool Supervisor::HandOver(Tracee& t, std::uint32_t arch, std::uint64_t nr) {
  if (lanes_.size() < 2) return false;
  const double now = Monotonic();
  t.last_stop = now;
  if (t.arrived) {
    t.arrived = false;  // the call it was handed over with is decided here, first
    return false;
  }
  if (killing_ || !same_cpu_.active() || t.tid == main_pid_ || t.adopting ||
      t.inject != Tracee::Inject::kNone || t.live_call || t.anchored || !t.retired.empty() ||
      Here().stops.AnyFrozen() || arch != AUDIT_ARCH_X86_64 || (nr & kX32Bit) != 0) {
    return false;
  }
  std::size_t to = t.lane;
  if (lane_config_.every_stop) {
    to = (t.lane + 1) % lanes_.size();
  } else {
    if (now < t.next_placement) return false;
    t.next_placement = now + kPlacementEvery;
    std::vector<int> busy(lanes_.size(), 0);
    for (const auto& [tid, other] : tracees_) {
      if (other.lane < busy.size() && now - other.last_stop < kBusyWindow) ++busy[other.lane];
    }
    std::optional<std::size_t> pick = PickLane(busy, t.lane);
    if (!pick) return false;
    to = *pick;
  }
  if (!Solitary(t)) {
    t.next_placement = now + kSharerRetry;
    return false;
  }
  // A filter of the task's own could fail or stop the parking call with no tracer to stop at:
  // it would run on, untraced, with the parking registers. Such a task stays for good.
  if (filters_ < 0 || ProcField(fmt::format("/proc/{}/status", t.tid), "Seccomp_filters:") !=
                          std::optional<pid_t>(filters_)) {
    t.next_placement = std::numeric_limits<double>::infinity();
    return false;
  }
  // Parked: the call becomes rt_sigsuspend with every signal blocked (a call the filter never
  // stops, tracer/seccomp_filter.h), its mask just below the red zone where a signal frame
  // would go; the task sleeps in the kernel, runs nothing of its own, and waits there for the
  // other lane's PTRACE_INTERRUPT.
  user_regs_struct regs{};
  if (ptrace(PTRACE_GETREGS, t.tid, nullptr, &regs) != 0) return false;
  const std::uint64_t mask_at = (regs.rsp - 128 - 8) & ~std::uint64_t{7};
  std::uint64_t full = ~std::uint64_t{0};
  iovec local{&full, sizeof full};
  iovec remote{reinterpret_cast<void*>(mask_at), sizeof full};
  if (process_vm_writev(t.tid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(sizeof full)) {
    return false;
  }
  user_regs_struct park = regs;
  park.orig_rax = SYS_rt_sigsuspend;
  park.rdi = mask_at;
  park.rsi = sizeof full;
  if (ptrace(PTRACE_SETREGS, t.tid, nullptr, &park) != 0) return false;
  if (ptrace(PTRACE_DETACH, t.tid, nullptr, nullptr) != 0) {
    // Still ours: the call is put back and decided here (gone: its exit comes).
    ptrace(PTRACE_SETREGS, t.tid, nullptr, &regs);
    return false;
  }
  // What the new lane puts back: the instruction pointer on the syscall instruction and the
  // call's number in rax, no restart to apply (orig_rax -1): the call starts over there.
  t.handed = regs;
  t.handed.rip -= 2;
  t.handed.rax = nr;
  t.handed.orig_rax = ~std::uint64_t{0};
  t.adopting = true;
  t.lane = to;
  ++handovers_;
  Lane& target = *lanes_[to];
  target.adopt.push_back(t.tid);
  WakeLane(target);
  return true;
}

bool Supervisor::Adopted(Tracee& t) {
  t.adopting = false;
  t.arrived = true;
  if (ptrace(PTRACE_SETREGS, t.tid, nullptr, &t.handed) != 0) {
    // Its call cannot be put back: it must not run on with the parking registers.
    Abandon(t);
    return false;
  }
  return true;
}

}  // namespace tracer
