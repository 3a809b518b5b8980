#include "tracer/pin_injector.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "policy/names.h"
#include "tracer/syscall_info.h"

namespace tracer {

using syscalls::kPinBase;
using syscalls::kPinEnd;
using syscalls::kPinSlotSize;
namespace {

// The region exactly as mapped after exec: private, anonymous, read-only, whole.
bool RegionIntact(pid_t tid) {
  std::ifstream maps(fmt::format("/proc/{}/maps", tid));
  std::string want = fmt::format("{:08x}-{:08x} r--p 00000000 00:00 0", kPinBase, kPinEnd);
  for (std::string line; std::getline(maps, line);) {
    if (line.starts_with(want)) {
      return line.find_first_not_of(' ', want.size()) == std::string::npos;
    }
  }
  return false;
}

// Whether `tid` is blocked outside any call that reads [slot, slot + kPinSlotSize): its
// /proc/TID/syscall is "-1 ..." (not in a call) or names a call with no argument there.
// "running" may be inside its call: not idle.
bool SlotIdle(pid_t tid, std::uint64_t slot) {
  std::ifstream in(fmt::format("/proc/{}/syscall", tid));
  std::string nr;
  if (!(in >> nr) || nr == "running") return false;
  if (nr == "-1") return true;
  for (int i = 0; i < 6; ++i) {
    std::string arg;
    if (!(in >> arg)) return false;
    std::uint64_t v = std::strtoull(arg.c_str(), nullptr, 16);
    if (v >= slot && v < slot + kPinSlotSize) return false;
  }
  return true;
}

}  // namespace

std::uint64_t PinMmapFlags() { return MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE; }

PinInjector::PinInjector(TraceeTable& tracees) : tracees_(tracees) {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    max_mem_fds_ = std::clamp<std::size_t>(files.rlim_cur / 4, 8, 128);
  }
}

void PinInjector::AdoptSpace(Tracee& child, Tracee& parent) {
  if (child.pin.space() != nullptr || parent.pin.space() == nullptr) return;
  // Threads and CLONE_VM children share the parent's address space, so its slots; a fork gets
  // a copy of the region (with the parent's pinned bytes, harmless) and slots of its own. When
  // kcmp cannot tell, sharing is the safe guess: it only costs slots.
  bool thread = child.tgid != 0 && child.tgid == TraceeTable::TgidOf(parent);
  long same = thread ? 0 : syscall(SYS_kcmp, parent.tid, child.tid, KCMP_VM, 0, 0);
  if (same <= 0) {
    child.pin.Reset(parent.pin.space());
    return;
  }
  // A copy of the parent's memory: the region is there unless something kept it from the fork
  // (the guards refuse that); check rather than trust it.
  auto space = std::make_shared<PinSpace>();
  space->mapped = parent.pin.space()->mapped && RegionIntact(child.tid);
  child.pin.Reset(std::move(space));
}

PinSpace* PinInjector::SpaceOf(Tracee& t) {
  if (t.pin.space() == nullptr) {
    // Its first stop came before its parent's clone event. Share the slots of any task with the
    // same address space (kcmp); the parent is not reliably known here (CLONE_PARENT).
    for (auto& [tid, other] : tracees_) {
      if (tid == t.tid || other.pin.space() == nullptr) continue;
      if (syscall(SYS_kcmp, t.tid, tid, KCMP_VM, 0, 0) == 0) {
        t.pin.Reset(other.pin.space());
        break;
      }
    }
    if (t.pin.space() == nullptr) {
      // An address space of its own (a fork's copy): its region is checked directly.
      auto space = std::make_shared<PinSpace>();
      space->mapped = RegionIntact(t.tid);
      t.pin.Reset(std::move(space));
    }
  }
  PinSpace* space = t.pin.space().get();
  if (space->mem_fd < 0) {
    space->mem_fd = open(fmt::format("/proc/{}/mem", t.tid).c_str(), O_RDWR | O_CLOEXEC);
    if (space->mem_fd >= 0) BoundMemFds(t.pin.space());
  }
  return space;
}

void PinInjector::BoundMemFds(const std::shared_ptr<PinSpace>& opened) {
  // At most max_mem_fds_ address spaces keep their /proc/PID/mem open; the oldest is closed
  // (and opened again on its next pinned call), so a large tree cannot exhaust descriptors.
  mem_fd_order_.push_back(opened);
  if (mem_fd_order_.size() <= max_mem_fds_) return;
  std::erase_if(mem_fd_order_, [](const std::weak_ptr<PinSpace>& w) {
    auto s = w.lock();
    return s == nullptr || s->mem_fd < 0;
  });
  while (mem_fd_order_.size() > max_mem_fds_) {
    if (auto oldest = mem_fd_order_.front().lock(); oldest != nullptr && oldest->mem_fd >= 0) {
      close(oldest->mem_fd);
      oldest->mem_fd = -1;
    }
    mem_fd_order_.pop_front();
  }
}

int PinInjector::StealSlot(Tracee& t) {
  for (auto& [tid, other] : tracees_) {
    if (tid == t.tid || other.pin.space() != t.pin.space() || other.pin.held() < 0) continue;
    if (!SlotIdle(tid, PinSpace::Address(other.pin.held()))) continue;
    int slot = other.pin.Forfeit();
    other.pinned_in_flight = false;
    t.pin.Adopt(slot);
    return slot;
  }
  return -1;
}

void PinInjector::NewSpace(Tracee& t, bool map) {
  t.retired.clear();
  t.pinned_in_flight = false;
  t.pin.Reset(std::make_shared<PinSpace>());
  if (map) t.inject = Tracee::Inject::kExecExit;
}

void PinInjector::OnSignal(Tracee& t) {
  if (!t.pinned_in_flight) return;
  user_regs_struct r{};
  long ret = ptrace(PTRACE_GETREGS, t.tid, nullptr, &r) == 0 ? static_cast<long>(r.rax) : 0;
  if (IsRestart(ret) && static_cast<long>(r.orig_rax) == t.pinned_nr) {
    auto space = t.pin.space();
    t.retired.push_back(std::move(t.pin));
    if (t.retired.size() > 4) t.retired.erase(t.retired.begin());
    t.pin = PinSlot();
    t.pin.Reset(std::move(space));
  }
  t.pinned_in_flight = false;
}

std::optional<std::string> PinInjector::Step(Tracee& t) {
  using I = Tracee::Inject;
  PinSpace* space = t.pin.space().get();
  switch (t.inject) {
    case I::kExecExit: {
      // At execve's exit the new program has not run yet. Put a `syscall` instruction at its
      // entry point, make the registers an mmap of the region, and step through that call.
      space = SpaceOf(t);
      if (space == nullptr || space->mem_fd < 0) {
        return fmt::format("/proc/{}/mem cannot be opened: {}", t.tid, std::strerror(errno));
      }
      if (ptrace(PTRACE_GETREGS, t.tid, nullptr, &t.saved) != 0) {
        Abandon(t);
        return std::nullopt;
      }
      const std::uint16_t syscall_insn = 0x050f;  // 0f 05, little-endian
      if (pread(space->mem_fd, &t.saved_text, 2, static_cast<off_t>(t.saved.rip)) != 2 ||
          pwrite(space->mem_fd, &syscall_insn, 2, static_cast<off_t>(t.saved.rip)) != 2) {
        return fmt::format("its entry point cannot be written through /proc/PID/mem ({})",
                           std::strerror(errno));
      }
      user_regs_struct r = t.saved;
      r.rax = SYS_mmap;
      r.rdi = kPinBase;
      r.rsi = kPinEnd - kPinBase;
      r.rdx = PROT_READ;
      r.r10 = PinMmapFlags();
      r.r8 = ~0ULL;
      r.r9 = 0;
      if (ptrace(PTRACE_SETREGS, t.tid, nullptr, &r) != 0) {
        Abandon(t);
        return std::nullopt;
      }
      t.inject = I::kMmapEntry;
      ptrace(PTRACE_SYSCALL, t.tid, nullptr, nullptr);
      return std::nullopt;
    }
    case I::kMmapEntry: {
      user_regs_struct r{};
      if (ptrace(PTRACE_GETREGS, t.tid, nullptr, &r) != 0) {
        Abandon(t);
        return std::nullopt;
      }
      if (r.orig_rax != SYS_mmap || r.rdi != kPinBase) {
        return "the injected mmap was not the call that entered";
      }
      t.inject = I::kMmapExit;
      ptrace(PTRACE_SYSCALL, t.tid, nullptr, nullptr);
      return std::nullopt;
    }
    case I::kMmapExit: {
      user_regs_struct r{};
      if (space == nullptr || ptrace(PTRACE_GETREGS, t.tid, nullptr, &r) != 0) {
        Abandon(t);
        return std::nullopt;
      }
      // The descriptor may have been closed since the entry stop (BoundMemFds): SpaceOf opens
      // it again. The program's first instruction must come back, or it must not run.
      space = SpaceOf(t);
      if (space->mem_fd < 0 ||
          pwrite(space->mem_fd, &t.saved_text, 2, static_cast<off_t>(t.saved.rip)) != 2) {
        return fmt::format("its entry point could not be restored through /proc/PID/mem ({})",
                           std::strerror(errno));
      }
      ptrace(PTRACE_SETREGS, t.tid, nullptr, &t.saved);
      space->mapped = r.rax == kPinBase;
      if (!space->mapped) {
        auto err = static_cast<int>(-static_cast<long long>(r.rax));
        return err == EEXIST ? "the program itself maps memory there"
                             : fmt::format(
                                   "mmap failed with {} (a seccomp filter the tracee "
                                   "stacked before exec?)",
                                   policy::ErrnoName(err));
      }
      t.inject = I::kNone;
      ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
      return std::nullopt;
    }
    case I::kNone:
    case I::kSendmmsgExit:  // handled by the supervisor (FinishSendmmsg)
    case I::kBindExit:      // FinishBind
    case I::kConnectExit:   // FinishConnect
    case I::kHeldExit:      // FinishHeld
    case I::kAnchored:      // StepAnchored
    case I::kLiveExit:      // FinishLive
      ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace tracer
