// The pin injector: each address space's pinned-argument region (tracer/pin.h) and its
// bookkeeping. After each exec it maps the region before the program's first instruction (a
// `syscall` written over the entry point, the mmap stepped through its entry and exit stops,
// everything restored); it finds a task's address space (shared by threads and CLONE_VM
// children, kcmp), opens its /proc/PID/mem (at most max_mem_fds() stay open), takes a slot from
// an idle task when a space has none left, and keeps the slot of a pinned call a signal
// interrupted (its restart re-reads it).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "tracer/pin.h"
#include "tracer/tracee.h"
#include "tracer/tracee_table.h"

namespace tracer {

// The injected mmap's flags: private, anonymous, and never over a mapping already there.
std::uint64_t PinMmapFlags();

class PinInjector {
 public:
  explicit PinInjector(TraceeTable& tracees);

  // Its address space (found, or new) with /proc/PID/mem opened on first use; mem_fd < 0 when
  // it cannot be opened (errno says why).
  PinSpace* SpaceOf(Tracee& t);
  // A child the fork/vfork/clone event showed: the parent's space, or (a fork) its own copy.
  void AdoptSpace(Tracee& child, Tracee& parent);
  // A slot of a task of the same space that is not in a call, or -1.
  int StealSlot(Tracee& t);

  // At the exec event: a new address space, no pinned call in flight. `map`: the region is to
  // be mapped from the exec's exit (t.inject = kExecExit; resume with PTRACE_SYSCALL).
  void NewSpace(Tracee& t, bool map);
  // A syscall-stop of the mapping (kExecExit, kMmapEntry, kMmapExit): steps it and resumes the
  // task. Returns why the region cannot be had (the process must be killed), or nullopt; a
  // task that cannot be steered is abandoned.
  std::optional<std::string> Step(Tracee& t);
  // A signal-delivery stop: a pinned call the signal interrupted will be restarted with its
  // registers still pointing at the slot, after a handler whose own calls must not overwrite
  // it: the slot is set aside.
  void OnSignal(Tracee& t);

  std::size_t max_mem_fds() const { return max_mem_fds_; }

 private:
  void BoundMemFds(const std::shared_ptr<PinSpace>& opened);

  TraceeTable& tracees_;
  // At most this many /proc/PID/mem descriptors stay open: 128, or a quarter of the soft
  // descriptor limit when that is lower.
  std::size_t max_mem_fds_ = 128;
  std::deque<std::weak_ptr<PinSpace>> mem_fd_order_;  // spaces in the order their fd opened
};

}  // namespace tracer
