// Argument pinning: how an allowed decision comes to cover exactly what the kernel then reads.
//
// After every exec, tracejail maps a private read-only region at [kPinBase, kPinEnd) in the new
// address space (before the program's first instruction). When it allows a call whose decision
// rests on tracee memory (a path, a sockaddr, a msghdr, an open_how), it writes the checked
// bytes into the calling thread's slot of that region through /proc/PID/mem (which may write
// read-only pages; the tracee itself cannot) and points the argument register at the copy.
// No tracee thread can change a slot: the pages are read-only, and every call that could make
// them writable, unmap, move or replace them (a range starting below kPinEnd) stops for the
// tracer and is denied (Kind::kPinGuard, primitive pinned_region); writes to /proc/PID/mem,
// process_vm_writev, ptrace and userfaultfd are escape primitives. docs/security.md has the
// reasoning and what is left to the filesystem (Landlock at strict).
//
// This header is pure: the layout and what to write for a decoded call. The supervisor owns the
// live side (injecting the mmap, writing, setting registers).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "syscalls/pin_layout.h"

namespace tracer {

struct DecodedCall;

// What to do for one allowed call: the bytes to write at the slot, and the argument registers to
// point at them. `unpinned` names what the decision still rests on that the tracee can change,
// or is empty when nothing is left.
struct PinPlan {
  std::string bytes;                                     // written at the slot's start
  std::vector<std::pair<int, std::uint64_t>> registers;  // argument index -> new value
  std::string unpinned;
  // sendmmsg: the call becomes a sendmsg of its first message (the kernel writes msg_len back
  // into the vector, which a read-only copy cannot take); the supervisor restores its result and
  // registers at the syscall exit (one message sent, as sendmmsg may report).
  bool as_sendmsg = false;
  // The open family (open, openat, creat, openat2) becomes openat2 on the checked path with
  // every symlink resolved (ResolveResult::walk) and RESOLVE_NO_SYMLINKS |
  // RESOLVE_NO_MAGICLINKS: the kernel's walk can reach nothing but what was checked, and a
  // symlink planted or swapped after the check fails it with ELOOP. -1: the number stays.
  long syscall = -1;
  bool needed() const { return !bytes.empty(); }
};

// open(2)/openat(2)/creat(2)'s flags and mode as the kernel turns them into a struct open_how
// (fs/open.c build_open_how: unknown flag bits dropped, O_PATH keeping only the flags it
// takes, a mode only where a file may be created, O_LARGEFILE added on 64-bit), so that
// openat2, which refuses what open ignores, opens exactly what open would have.
struct OpenHowWords {
  std::uint64_t flags = 0, mode = 0, resolve = 0;
};
OpenHowWords OpenHowOf(std::uint64_t open_flags, std::uint64_t mode);

// `slot` is the address of the calling thread's slot.
PinPlan PlanPins(const DecodedCall& call, std::uint64_t slot);

// Appends `data` to `bytes` (which is written at `base`) at the next 8-byte boundary; returns
// the address it will have.
std::uint64_t AppendAligned(std::string& bytes, std::uint64_t base, std::string_view data);

// Slot allocation for one address space; threads and CLONE_VM children share it. A slot is
// held from a task's first pinned call until it exits or execs.
class PinSpace {
 public:
  // -1 when every slot is taken.
  int Acquire();
  void Release(int slot);
  static std::uint64_t Address(int slot) {
    return syscalls::kPinBase + static_cast<std::uint64_t>(slot) * syscalls::kPinSlotSize;
  }
  bool mapped = false;  // the region exists in this address space
  int mem_fd = -1;      // /proc/PID/mem of this address space, owned (closed by the destructor)
  ~PinSpace();

  // What the tracer last wrote at the start of `slot`. Nothing else can change a slot (the
  // tracee cannot write the region, the guards refuse whatever would remap or zero it), so a
  // call that pins the same bytes again (a loop over one file) needs no write. Only copies of up
  // to kShadowBytes are remembered, which bounds the memory at kShadowBytes per slot.
  static constexpr std::size_t kShadowBytes = 512;
  bool Holds(int slot, std::string_view bytes) const;
  void Wrote(int slot, std::string_view bytes);

 private:
  std::vector<int> free_;
  int next_ = 0;
  std::vector<std::string> shadow_;  // by slot; empty: unknown
};

// A task's hold on a slot of its address space's PinSpace; gives the slot back when it goes
// (the task exits, execs into a new address space, or is forgotten).
class PinSlot {
 public:
  PinSlot() = default;
  PinSlot(const PinSlot&) = delete;
  PinSlot& operator=(const PinSlot&) = delete;
  PinSlot(PinSlot&& other) noexcept { *this = std::move(other); }
  PinSlot& operator=(PinSlot&& other) noexcept;
  ~PinSlot() { Reset(); }

  void Reset(std::shared_ptr<PinSpace> space = nullptr);
  const std::shared_ptr<PinSpace>& space() const { return space_; }
  int Get();  // the slot, acquired on first use; -1 when the space has none left
  int held() const { return slot_; }  // -1 when none
  // Hands the slot over to another task of the same space (StealSlot), without releasing it.
  int Forfeit() {
    int s = slot_;
    slot_ = -1;
    return s;
  }
  void Adopt(int slot) { slot_ = slot; }

 private:
  std::shared_ptr<PinSpace> space_;
  int slot_ = -1;
};

}  // namespace tracer
