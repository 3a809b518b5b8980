// The single source of truth for the syscalls tracejail looks at. One row per syscall: its
// group (which policy needs decide whether the run flags it), how it is judged (kind), the role
// of each argument (how it is decoded and rendered), path access kinds, escape primitive, and
// any in-kernel condition. Numbers come from libseccomp per architecture, never from here.
// To add a syscall: add one row (docs/adding-a-syscall.md).
#pragma once

#include <linux/sched.h>

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "syscalls/operation.h"

namespace syscalls {

enum class Role : std::uint8_t {
  kNone,
  kInt,  // signed integer
  kHex,  // unsigned integer shown in hex
  kFd,
  kDirFd,   // AT_FDCWD or fd; pairs with the next kPath
  kPath,    // NUL-terminated path, resolved
  kString,  // NUL-terminated string not resolved (a symlink's target)
  kOpenFlags,
  kMode,
  kAtFlags,
  kOpenHow,  // struct open_how * (openat2)
  kSockDomain,
  kSockType,
  kSockAddr,  // struct sockaddr *, length in the next kSockLen
  kSockLen,
  kMsgHdr,   // struct msghdr *
  kMMsgHdr,  // struct mmsghdr *, count in the next kInt
  kArgv,
  kEnvp,
  kCloneFlags,
  kPtraceRequest,
  kPid,
  kSignal,
  kPtr,  // pointer not decoded
  kSeccompOp,
  kPrctlOp,
  kFdPath,    // a descriptor whose file is the object the call changes (fchmod, fsetxattr, ...)
  kMsgFlags,  // send/recv MSG_* flags (shown in hex; MSG_FASTOPEN makes a send a connect too)
};

// Syscall classes for syscall rules: strace's %file, %network, ... and tracejail's %escape
// (syscalls/classes.h names them). Most memberships follow from a row's other columns
// (ClassesOf); a row's `classes` column adds the rest.
enum class Class : std::uint16_t {
  kNone = 0,
  kFile = 1 << 0,     // takes a file name: derived from a kPath argument
  kNetwork = 1 << 1,  // socket calls: derived from Group::kNet
  kProcess = 1 << 2,
  kSignal = 1 << 3,
  kIpc = 1 << 4,
  kMemory = 1 << 5,
  kCreds = 1 << 6,
  kClock = 1 << 7,
  kEscape = 1 << 8,  // derived from an unconditional escape primitive (Kind::kPrimitive)
  // takes a descriptor (a kFd, kDirFd or kFdPath argument of a call that is not a socket call:
  // strace counts those as %network only), or makes one (open, pipe, eventfd: the column)
  kDesc = 1 << 9,
};
constexpr Class operator|(Class a, Class b) {
  return static_cast<Class>(static_cast<std::uint16_t>(a) | static_cast<std::uint16_t>(b));
}
constexpr bool Has(Class set, Class c) {
  return (static_cast<std::uint16_t>(set) & static_cast<std::uint16_t>(c)) != 0;
}

// Which policy needs make a row flagged in a run (see policy::Policy::Needs*).
enum class Group : std::uint8_t {
  kOpen,     // opens: flagged when path rules exist
  kExec,     // always flagged
  kStat,     // metadata reads: flagged only when a rule decides metadata
  kMutate,   // filesystem changes: flagged when path rules exist
  kNet,      // flagged when network rules exist
  kProcess,  // escape primitives and tree checks: always flagged
  kPlain,    // classified and harmless to the policy: never flagged by the table (the policy's
             // syscall default and syscall rules still apply)
};

// How the tracer turns the decoded arguments into a policy::Request.
enum class Kind : std::uint8_t {
  kOpen,  // access from open flags
  kExec,
  kPaths,         // fixed access kinds from the row
  kNet,           // verb from the row
  kPrimitive,     // unconditional escape primitive
  kSignalTarget,  // kill family: the target pid/tid/pgid must be in the tree
  kPidfdSignal,   // pidfd_send_signal: the pidfd's process must be in the tree
  kClone,         // CLONE_UNTRACED / namespace flags
  kProcessVm,     // readv allowed inside the tree, writev never
  kSeccomp,       // filters with NEW_LISTENER
  kPrctl,         // PR_SET_SECCOMP: allowed (no listener possible), recorded in audit
  kPersonality,   // anything but a query
  kSetpgid,       // joining a group outside the tree
  kPinGuard,      // memory calls that could reach the pinned-argument region (tracer/pin.h)
  kPlain,         // never stops for the table's sake
  kPidTarget,     // every kPid argument must name the caller or a process of the tree
  kPriority,      // (which, who) of setpriority/ioprio_set: the target must be in the tree
  kCapget,        // capget: the header's pid must be in the tree
  kFcntl,         // F_SETOWN / F_SETOWN_EX: SIGIO and SIGURG go to the owner
  kIoctl,         // terminal injection, signal owners, file attribute changes
  kAdjtime,       // adjtimex / clock_adjtime: setting the clock (a read is harmless)
};

// clone(2) flags that create namespaces, and every flag that makes the filter stop clone for
// the tracer (shared by the table's BPF conditions and the decoder's check).
inline constexpr std::uint64_t kCloneNamespaceFlags = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID |
                                                      CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
                                                      CLONE_NEWCGROUP;
inline constexpr std::uint64_t kCloneFlaggedBits = CLONE_UNTRACED | kCloneNamespaceFlags;

// Whether a path's final symlink is followed: always, never, unless O_NOFOLLOW (or O_CREAT |
// O_EXCL), unless AT_SYMLINK_NOFOLLOW, only with AT_SYMLINK_FOLLOW, unless inotify's
// IN_DONT_FOLLOW (in its mask, argument 2), unless fanotify's FAN_MARK_DONT_FOLLOW (in its
// flags, argument 1).
enum class Follow : std::uint8_t {
  kYes,
  kNo,
  kOpenFlags,
  kAtNoFollow,
  kAtFollow,
  kInotifyMask,
  kFanotifyFlags,
};

struct Arg {
  Role role = Role::kNone;
  std::string_view name;
};

// Flag in the kernel only when one of the conditions holds: (args[arg] & mask) == value, or with
// kLess, args[arg] < value, or with kNotEq, args[arg] != value. A condition with and_prev holds
// only together with the one before.
struct KernelCond {
  enum class Op : std::uint8_t { kMaskedEq, kLess, kNotEq };
  std::uint8_t arg = 0;
  std::uint64_t mask = 0;
  std::uint64_t value = 0;
  Op op = Op::kMaskedEq;
  bool and_prev = false;
};

// An address range a memory call changes, for the pinned-argument guard (Kind::kPinGuard):
// [args[addr_arg], + args[len_arg]) (len_arg -1: the kernel picks the size, so any non-zero
// address below the region's end counts), only when flag_arg is -1 or args[flag_arg] has
// `flag`. The row's BPF conditions are made from the same ranges.
struct GuardedRange {
  std::int8_t addr_arg = -1;  // -1: no range
  std::int8_t len_arg = -1;
  std::int8_t flag_arg = -1;
  std::uint64_t flag = 0;
};

struct SyscallRow {
  std::string_view name;
  Group group;
  Kind kind;
  std::array<Arg, 6> args{};
  Access access = Access::kNone;   // first path
  Access access2 = Access::kNone;  // second path
  Follow follow = Follow::kYes;    // first path
  Follow follow2 = Follow::kNo;    // second path
  Primitive primitive = Primitive::kNone;
  NetVerb verb = NetVerb::kSocket;
  // The capability the kernel asks for (events name it when the call is denied), or "".
  std::string_view capability;
  bool null_path_is_fd = false;  // a NULL path argument means the dirfd itself (utimensat)
  std::array<KernelCond, 12> conds{};
  std::uint8_t cond_count = 0;           // 0: flag unconditionally
  int kernel_errno = 0;                  // non-zero: always fail in the kernel with this errno
  std::array<GuardedRange, 2> ranges{};  // Kind::kPinGuard: the ranges the call changes
  Class classes = Class::kNone;          // classes the other columns do not imply (see ClassesOf)
};

// The index of the `nth` argument (from 0) of `row` with `role`, or -1.
constexpr int ArgOf(const SyscallRow& row, Role role, int nth = 0) {
  for (std::size_t i = 0; i < row.args.size(); ++i) {
    if (row.args[i].role == role && nth-- == 0) return static_cast<int>(i);
  }
  return -1;
}

// Every class of `row`: its `classes` column with what its other columns imply.
constexpr Class ClassesOf(const SyscallRow& row) {
  Class out = row.classes;
  if (ArgOf(row, Role::kPath) >= 0) out = out | Class::kFile;
  if (row.group == Group::kNet) out = out | Class::kNetwork;
  if (row.group != Group::kNet && (ArgOf(row, Role::kFd) >= 0 || ArgOf(row, Role::kDirFd) >= 0 ||
                                   ArgOf(row, Role::kFdPath) >= 0)) {
    out = out | Class::kDesc;
  }
  if (row.kind == Kind::kPrimitive && row.primitive != Primitive::kNone) {
    out = out | Class::kEscape;
  }
  return out;
}

std::span<const SyscallRow> SyscallTable();
const SyscallRow* FindRow(std::string_view name);

// Per-architecture lookup from syscall number to row, built from libseccomp's name tables.
class SyscallIndex {
 public:
  SyscallIndex();  // native architecture
  const SyscallRow* Lookup(long nr) const;
  int Number(const SyscallRow& row) const;  // -1 when the architecture lacks it

 private:
  std::array<std::int16_t, 1024> by_nr_{};
  std::array<int, 512> nr_by_row_{};
};

}  // namespace syscalls
