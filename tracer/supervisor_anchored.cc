// The live side of anchored path calls (tracer/fs_anchor.h, tracer/anchored_call.h): the
// injection of each anchor's openat2, the re-issued call and the closes, one syscall-stop at a
// time.
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/kcmp.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "base/escape.h"
#include "tracer/borrow_fd.h"
#include "tracer/decode.h"
#include "tracer/monotonic.h"
#include "tracer/supervisor.h"
#include "tracer/syscall_info.h"

namespace tracer {

using syscalls::kPinBase;
using syscalls::kPinSlotSize;
namespace {

constexpr std::uint16_t kSyscallInsn = 0x050f;  // 0f 05, little-endian
// The slot's first bytes take the anchored paths (written once the descriptors are known); the
// anchors' openat2 arguments follow.
constexpr std::uint64_t kOpenArea = 1024;

unsigned long long& ArgRegister(user_regs_struct& r, int i) {
  switch (i) {
    case 0:
      return r.rdi;
    case 1:
      return r.rsi;
    case 2:
      return r.rdx;
    case 3:
      return r.r10;
    case 4:
      return r.r8;
    default:
      return r.r9;
  }
}

bool SameCall(const user_regs_struct& a, const user_regs_struct& b) {
  return a.orig_rax == b.orig_rax && a.rip == b.rip && a.rdi == b.rdi && a.rsi == b.rsi &&
         a.rdx == b.rdx && a.r10 == b.r10 && a.r8 == b.r8 && a.r9 == b.r9;
}

// The six argument registers, as events record them.
std::array<std::uint64_t, 6> RawArgs(const user_regs_struct& r) {
  return {r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9};
}

// `call` turned into the openat2 of anchor `i` (its path and open_how already in the slot).
user_regs_struct OpenAnchorRegs(const AnchoredCall& a, std::size_t i) {
  user_regs_struct r = a.call;
  r.orig_rax = SYS_openat2;
  r.rdi = static_cast<std::uint64_t>(static_cast<std::int64_t>(AT_FDCWD));
  r.rsi = a.path_at[i];
  r.rdx = a.how_at[i];
  r.r10 = 3 * sizeof(std::uint64_t);
  return r;
}

// Whether thread `tid` has a signal pending that `mask` does not block (its own or its
// process's). False when that cannot be read: the call is then restarted, never handed back
// with an ERESTART code nothing would turn into EINTR or a restart.
bool SignalPending(pid_t tid, std::uint64_t mask) {
  base::UniqueFd fd(open(fmt::format("/proc/{}/status", tid).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  char text[4096];
  ssize_t n = read(fd.get(), text, sizeof text - 1);
  if (n <= 0) return false;
  text[n] = '\0';
  std::uint64_t pending = 0;
  for (const char* key : {"\nSigPnd:", "\nShdPnd:"}) {
    const char* at = std::strstr(text, key);
    if (at == nullptr) return false;
    pending |= std::strtoull(at + std::strlen(key), nullptr, 16);
  }
  return (pending & ~mask) != 0;
}

}  // namespace

bool Supervisor::StartAnchored(Tracee& t, DecodedCall& call, AnchorPlan plan, PinSpace& space,
                               std::uint64_t slot, PinFailure& failure) {
  failure = PinFailure::kNone;
  auto a = std::make_unique<AnchoredCall>();
  if (ptrace(PTRACE_GETREGS, t.tid, nullptr, &a->call) != 0) {
    Abandon(t);
    failure = PinFailure::kGone;
    return true;
  }
  // The call names its anchors through the tracee's own /proc: there must be one.
  const std::string& root = ViewOf(t).root;
  auto known = proc_in_view_.find(root);
  if (known == proc_in_view_.end()) {
    struct statfs sf {};
    bool proc = statfs((root + "/proc").c_str(), &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
    known = proc_in_view_.emplace(root, proc).first;
  }
  if (!known->second) {
    call.walk_gap = "the tracee has no /proc to name its anchors through (not anchored)";
    return false;
  }
  // The call is re-issued by stepping back over its own `syscall` instruction.
  std::uint16_t insn = 0;
  if (pread(space.mem_fd, &insn, 2, static_cast<off_t>(a->call.rip - 2)) != 2 ||
      insn != kSyscallInsn) {
    call.walk_gap = "its syscall instruction cannot be stepped back over (not anchored)";
    return false;
  }
  std::string bytes;
  for (const FsAnchor& anchor : plan.anchors) {
    OpenHowWords how = AnchorHow(anchor);
    const std::array<std::uint64_t, 3> words{how.flags, how.mode, how.resolve};
    a->how_at.push_back(
        AppendAligned(bytes, slot + kOpenArea,
                      std::string_view(reinterpret_cast<const char*>(words.data()), sizeof words)));
    std::string path = anchor.open_path;
    path.push_back('\0');
    a->path_at.push_back(AppendAligned(bytes, slot + kOpenArea, path));
  }
  // The re-issued call's arguments, with the longest descriptor numbers, must fit before them.
  const std::vector<int> widest(plan.anchors.size(), 1 << 30);
  const std::size_t names = PlaceAnchored(plan.anchors, widest, slot).bytes.size();
  if (kOpenArea + bytes.size() > kPinSlotSize || names > kOpenArea) {
    call.walk_gap = "the checked paths are too long for a pin slot (not anchored)";
    return false;
  }
  space.Wrote(static_cast<int>((slot - kPinBase) / kPinSlotSize), "");  // no longer known
  if (pwrite(space.mem_fd, bytes.data(), bytes.size(), static_cast<off_t>(slot + kOpenArea)) !=
      static_cast<ssize_t>(bytes.size())) {
    call.walk_gap = fmt::format("writing the anchors' paths failed: {}", std::strerror(errno));
    return false;
  }
  // No signal handler may run between the injected calls: they wait until the call is over.
  std::uint64_t all = ~std::uint64_t{0};
  if (ptrace(PTRACE_GETSIGMASK, t.tid, sizeof a->mask, &a->mask) != 0 ||
      ptrace(PTRACE_SETSIGMASK, t.tid, sizeof all, &all) != 0) {
    Abandon(t);
    failure = PinFailure::kGone;
    return true;
  }
  user_regs_struct r = OpenAnchorRegs(*a, 0);
  if (ptrace(PTRACE_SETREGS, t.tid, nullptr, &r) != 0) {
    Abandon(t);
    failure = PinFailure::kGone;
    return true;
  }
  a->slot = slot;
  a->plan = std::move(plan);
  a->step = AnchoredCall::Step::kOpenExit;
  a->want = r;
  a->via_seccomp = policy_.syscall_rules.empty() &&
                   policy_.syscall_default.action == policy::SyscallAction::kAllow;
  a->name = std::string(call.row->name);
  a->checked = base::EscapeBytes(call.request.path_count > 0 ? call.request.paths[0].path
                                 : call.addr                 ? call.addr->unix_path
                                                             : std::string());
  t.anchored = std::move(a);
  t.inject = Tracee::Inject::kAnchored;
  call.pinned = true;
  call.walk_guard =
      t.anchored->plan.anchors.front().carrier != Carrier::kPath
          ? "anchored: the tracee opened the checked socket file with openat2 RESOLVE_NO_SYMLINKS "
            "| RESOLVE_NO_MAGICLINKS and the call named it through /proc/thread-self/fd: a "
            "symlink planted or swapped after the check fails the call (ELOOP)"
          : "anchored: the tracee opened each checked directory (or the object a followed name "
            "ends at) with openat2 RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS and the call named "
            "it through /proc/thread-self/fd: a symlink planted or swapped after the check fails "
            "the call (ELOOP)";
  return true;
}

void Supervisor::ReissueAnchored(Tracee& t, user_regs_struct want, AnchoredCall::Step step) {
  AnchoredCall& a = *t.anchored;
  want.rip = a.call.rip;
  a.want = want;
  a.step = step;
  // Back over the `syscall` instruction, with the number in rax: the tracee makes the call.
  want.rip -= 2;
  want.rax = want.orig_rax;
  if (ptrace(PTRACE_SETREGS, t.tid, nullptr, &want) != 0) {
    Abandon(t);
    return;
  }
  // The call itself stops at its seccomp stop (it stopped there before, and the filter decides
  // on the number alone) unless syscall rules may decide it in the kernel: then at its entry.
  ptrace(step == AnchoredCall::Step::kCallSeccomp ? PTRACE_CONT : PTRACE_SYSCALL, t.tid, nullptr,
         nullptr);
}

void Supervisor::RunAnchoredCall(Tracee& t, const user_regs_struct& r) {
  using Step = AnchoredCall::Step;
  AnchoredCall& a = *t.anchored;
  if (!SameCall(r, a.want)) {
    AnchoredFailed(t, "the tracee did not re-issue the call tracejail set up");
    return;
  }
  // A task sharing the descriptor table could put another file under an anchor's number:
  // each one is held stopped from here to the call's exit (none: nothing to wait for).
  switch (FreezeSharers(t)) {
    case Freeze::kFrozen:
      break;
    case Freeze::kCallerGone:
      ThawSharers(t.tid);
      return;  // its end is handled in order
    case Freeze::kTimedOut:
      // A sharer did not stop (an uninterruptible wait): the call is skipped and fails.
      ThawSharers(t.tid);
      a.abort_errno = EAGAIN;
      if (ptrace(PTRACE_POKEUSER, t.tid, offsetof(user_regs_struct, orig_rax), -1L) != 0) {
        Abandon(t);
        return;
      }
      a.step = Step::kCallExit;
      ptrace(PTRACE_SYSCALL, t.tid, nullptr, nullptr);
      return;
  }
  // Nothing but a task of this descriptor table can change an anchor, and every one of them is
  // stopped: check each is still the file opened.
  for (std::size_t i = 0; i < a.fds.size(); ++i) {
    if (syscall(SYS_kcmp, getpid(), t.tid, KCMP_FILE, a.held[i].get(), a.fds[i]) != 0) {
      AnchoredFailed(t, fmt::format("descriptor {} is no longer the anchor it opened", a.fds[i]));
      return;
    }
  }
  // The call itself runs under the program's own signal mask: a signal interrupts it as it
  // would natively (a connect or send that blocks), and the restart is settled at the end.
  if (ptrace(PTRACE_SETSIGMASK, t.tid, sizeof a.mask, &a.mask) != 0) {
    Abandon(t);
    return;
  }
  a.step = Step::kCallExit;
  ptrace(PTRACE_SYSCALL, t.tid, nullptr, nullptr);
}

void Supervisor::CloseAnchors(Tracee& t) {
  AnchoredCall& a = *t.anchored;
  if (a.closed < a.fds.size()) {
    user_regs_struct want = a.call;
    want.orig_rax = SYS_close;
    want.rdi = static_cast<std::uint64_t>(a.fds[a.closed]);
    ReissueAnchored(t, want, AnchoredCall::Step::kCloseEntry);
    return;
  }
  // The call's own registers, its result, and its signal mask: as if it had run as written.
  ThawSharers(t.tid);
  user_regs_struct r = a.call;
  r.rax = static_cast<std::uint64_t>(a.result);
  if (IsRestart(a.result)) {
    // A signal interrupted the call. With one to deliver, the kernel settles it as for any
    // call (restarted, or EINTR for a handler without SA_RESTART); with none left (another
    // thread took it), the call runs again from its `syscall` instruction, as the kernel does.
    if (a.result == -516) {  // ERESTART_RESTARTBLOCK: no restart block of ours to run
      r.rax = static_cast<std::uint64_t>(-EINTR);
    } else if (!SignalPending(t.tid, a.mask)) {
      r.rip -= 2;
      r.rax = r.orig_rax;
    }
  } else if (a.mmsg_vec != 0 && a.result >= 0) {
    // sendmmsg ran as a sendmsg of its first message: one message sent, its length in msg_len.
    auto sent = static_cast<std::uint32_t>(a.result);
    PinSpace* space = SpaceOf(t);
    if (space != nullptr && space->mem_fd >= 0) {
      pwrite(space->mem_fd, &sent, sizeof sent, static_cast<off_t>(a.mmsg_vec + 56));
    }
    r.rax = 1;
  }
  // The live view's line (if it waits) shows what the program sees, or the restart code.
  FlushLive(t, IsRestart(a.result) ? a.result : static_cast<long long>(r.rax));
  std::uint64_t mask = a.mask;
  t.anchored.reset();
  t.inject = Tracee::Inject::kNone;
  if (ptrace(PTRACE_SETREGS, t.tid, nullptr, &r) != 0 ||
      ptrace(PTRACE_SETSIGMASK, t.tid, sizeof mask, &mask) != 0) {
    Abandon(t);
    return;
  }
  ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
}

void Supervisor::StepAnchored(Tracee& t) {
  using Step = AnchoredCall::Step;
  AnchoredCall& a = *t.anchored;
  // After a re-issue the next syscall-stop is that call's entry; after PTRACE_SYSCALL from an
  // entry or seccomp stop, its exit. The step says which.
  switch (a.step) {
    case Step::kOpenEntry:  // an openat2 or a close: what counts is its exit
    case Step::kCloseEntry:
      a.step = a.step == Step::kOpenEntry ? Step::kOpenExit : Step::kCloseExit;
      ptrace(PTRACE_SYSCALL, t.tid, nullptr, nullptr);
      return;
    default:
      break;
  }
  user_regs_struct r{};
  if (ptrace(PTRACE_GETREGS, t.tid, nullptr, &r) != 0) {
    Abandon(t);
    return;
  }
  const auto ret = static_cast<long long>(r.rax);
  switch (a.step) {
    case Step::kCallEntry:
    case Step::kCallSeccomp:  // resumed with PTRACE_SYSCALL after a trap (an interrupt): its entry
      RunAnchoredCall(t, r);
      return;
    case Step::kOpenEntry:
    case Step::kCloseEntry:
      break;  // above
    case Step::kOpenExit: {
      if (ret < 0) {
        a.result = ret;
        if (ret == -ELOOP) {
          // The walk was free of symlinks when it was checked: one was put there since.
          policy::Decision d{policy::Action::kDeny, ELOOP, policy::EventType::kEscapeAttempt,
                             policy::Severity::kHigh, "builtin:path-race"};
          ++result_.denied;
          const std::string& opened = a.plan.anchors[a.fds.size()].open_path;
          Record(t, d, nullptr, nullptr, static_cast<long>(a.call.orig_rax), AUDIT_ARCH_X86_64,
                 RawArgs(a.call).data(), AnchorSymlinkMessage(a.name, a.checked, opened));
        }
        CloseAnchors(t);
        return;
      }
      a.fds.push_back(static_cast<int>(ret));
      a.held.push_back(BorrowFd(TgidOf(t), static_cast<int>(ret)));
      if (!a.held.back().valid()) {
        a.result = -EAGAIN;  // it could not be checked before the call: the call does not run
        CloseAnchors(t);
        return;
      }
      if (a.fds.size() < a.plan.anchors.size()) {
        ReissueAnchored(t, OpenAnchorRegs(a, a.fds.size()), Step::kOpenEntry);
        return;
      }
      // Every anchor is open: the call names its objects through them.
      AnchoredArgs placed = PlaceAnchored(a.plan.anchors, a.fds, a.slot);
      user_regs_struct want = a.call;
      for (const auto& [arg, value] : placed.registers) ArgRegister(want, arg) = value;
      if (placed.syscall >= 0) {
        want.orig_rax = static_cast<std::uint64_t>(placed.syscall);
        a.mmsg_vec = a.call.rsi;  // sendmmsg(fd, msgvec, ...): msg_len is written back there
      }
      const std::string& bytes = placed.bytes;
      PinSpace* space = SpaceOf(t);
      if (space == nullptr || space->mem_fd < 0 ||
          pwrite(space->mem_fd, bytes.data(), bytes.size(), static_cast<off_t>(a.slot)) !=
              static_cast<ssize_t>(bytes.size())) {
        a.result = -EAGAIN;
        CloseAnchors(t);
        return;
      }
      // A call whose number changed may not stop for the filter: it is checked at its entry.
      ReissueAnchored(t, want,
                      a.via_seccomp && placed.syscall < 0 ? Step::kCallSeccomp : Step::kCallEntry);
      return;
    }
    case Step::kCallExit: {
      // Signals wait again until the closes are done; the sharers stay held until then, so
      // none of them can take a signal this call's restart depends on.
      std::uint64_t all = ~std::uint64_t{0};
      if (ptrace(PTRACE_SETSIGMASK, t.tid, sizeof all, &all) != 0) {
        ThawSharers(t.tid);
        Abandon(t);
        return;
      }
      a.result = a.abort_errno != 0 ? -a.abort_errno : ret;
      CloseAnchors(t);
      return;
    }
    case Step::kCloseExit:
      ++a.closed;
      CloseAnchors(t);
      return;
  }
  AnchoredFailed(t, "a syscall stop came out of order");
}

void Supervisor::AnchoredSeccomp(Tracee& t) {
  using Step = AnchoredCall::Step;
  AnchoredCall& a = *t.anchored;
  if (a.step == Step::kCallSeccomp) {  // the re-issued call: its anchors are checked here
    user_regs_struct r{};
    if (ptrace(PTRACE_GETREGS, t.tid, nullptr, &r) != 0) {
      Abandon(t);
      return;
    }
    RunAnchoredCall(t, r);
    return;
  }
  SyscallInfo info{};
  if (ptrace(PTRACE_GET_SYSCALL_INFO, t.tid, sizeof info, &info) <= 0) {
    Abandon(t);
    return;
  }
  // A re-issued openat2, call or close stops for the filter too, after its entry.
  bool ours =
      (a.step == Step::kOpenExit || a.step == Step::kCallExit || a.step == Step::kCloseExit) &&
      info.op == kSyscallInfoSeccomp && info.seccomp.nr == a.want.orig_rax;
  if (!ours) {
    AnchoredFailed(t, "a seccomp stop came in the middle of the call");
    return;
  }
  ptrace(PTRACE_SYSCALL, t.tid, nullptr, nullptr);
}

void Supervisor::AnchoredFailed(Tracee& t, const std::string& why) {
  // The injection lost its way: the call cannot be known to act on what was checked.
  AnchoredCall& a = *t.anchored;
  policy::Decision d{policy::Action::kKill, 0, policy::EventType::kEscapeAttempt,
                     policy::Severity::kHigh, "builtin:path-race"};
  Record(t, d, nullptr, nullptr, static_cast<long>(a.call.orig_rax), AUDIT_ARCH_X86_64,
         RawArgs(a.call).data(), AnchorLostMessage(a.name, a.checked, why));
  t.anchored.reset();
  t.inject = Tracee::Inject::kNone;
  FlushLive(t, std::nullopt);
  ThawSharers(t.tid);
  kill(TgidOf(t), SIGKILL);
  ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
}

std::optional<bool> SameKernelObject(pid_t a, pid_t b, int type) {
  long order = syscall(SYS_kcmp, a, b, type, 0, 0);  // 0 same, 1 or 2 an order of two others
  if (order < 0 || order > 3) return std::nullopt;
  return order == 0;
}

bool SharesTables(pid_t a, pid_t b, bool fs) {
  // An unknown answer is "not shared": the task it would concern is gone or not ours.
  return SameKernelObject(a, b, KCMP_FILES).value_or(false) ||
         (fs && SameKernelObject(a, b, KCMP_FS).value_or(false));
}

Supervisor::Freeze Supervisor::FreezeSharers(Tracee& t, bool fs) {
  constexpr double kMaxWait = 2.0;  // seconds for every sharer to reach a stop
  std::vector<pid_t> pending;
  for (const auto& [tid, other] : tracees_) {
    if (tid == t.tid || !SharesTables(t.tid, tid, fs)) continue;
    Here().stops.Freeze(tid, t.tid);
    // One that is stopped already traps again when resumed: harmless (PTRACE_EVENT_STOP).
    if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) == 0) pending.push_back(tid);
  }
  // A sharer the tracer does not know yet was just cloned: it waits in its first stop until
  // its status is collected, and then it is parked (ParkIfFrozen).
  // Stops already collected are of stopped tasks: they wait with the others.
  Here().stops.ParkFrozenReady();
  std::erase_if(pending, [&](pid_t p) { return Here().stops.IsParked(p); });
  double deadline = Monotonic() + kMaxWait;
  while (!pending.empty()) {
    int status = 0;
    pid_t got = waitpid(-1, &status, WaitFlags());  // the tick interrupts it (EINTR)
    if (got > 0) {
      if (!ParkIfFrozen(got, status)) {
        Here().stops.PushReady(got, status);  // another task's stop: handled later, in order
        if (got == t.tid) return Freeze::kCallerGone;
      }
      std::erase(pending, got);
    } else if (errno != EINTR) {
      return Freeze::kTimedOut;
    }
    // One that let go of the table (it exited or exec'd) cannot change it any more.
    std::erase_if(pending, [&](pid_t p) { return !SharesTables(t.tid, p, fs); });
    if (!pending.empty() && Monotonic() > deadline) return Freeze::kTimedOut;
  }
  return Freeze::kFrozen;
}

bool Supervisor::ParkIfFrozen(pid_t tid, int status) {
  // A task the tracer had not seen yet (just cloned) that shares a frozen descriptor table is
  // parked too: the working directory's sharers as well, parking one more than needed only
  // delays it.
  return Here().stops.Park(tid, status, [](pid_t freezer, pid_t task) {
    return SharesTables(freezer, task, /*fs=*/true);
  });
}

void Supervisor::NudgeHeldCalls() {
  if (!Here().stops.AnyFrozen()) return;
  for (pid_t tid : Here().stops.Freezers()) {
    Tracee* held = tracees_.Find(tid);
    if (held == nullptr) continue;
    if (held->inject == Tracee::Inject::kHeldExit) {
      // A call on a descriptor that blocks (a lock, a slow filesystem): interrupted likewise,
      // it is restarted, decided and held again.
      if (++held->held_ticks == 2) ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
      continue;
    }
    if (!held->anchored) continue;
    AnchoredCall& a = *held->anchored;
    // The first tick may come just after the call began: the second one interrupts it.
    if (a.step != AnchoredCall::Step::kCallExit || a.nudged || ++a.ticks_held < 2) continue;
    a.nudged = true;
    ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
  }
}

}  // namespace tracer
