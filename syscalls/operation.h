// The vocabulary the syscall table and the policy share: access kinds on files, socket verbs and
// escape primitives. It lies below both (policy/operation.h re-exports it into namespace policy,
// where the rest of a request is defined), so the table's columns can be written in it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace syscalls {

// Access kinds on a filesystem object; a bit set because one open can read and write.
enum class Access : std::uint16_t {
  kNone = 0,
  kRead = 1 << 0,
  kWrite = 1 << 1,
  kCreate = 1 << 2,
  kDelete = 1 << 3,
  kExec = 1 << 4,
  kMetadata = 1 << 5,
  kChmod = 1 << 6,
  kChown = 1 << 7,
};
constexpr Access operator|(Access a, Access b) {
  return static_cast<Access>(static_cast<std::uint16_t>(a) | static_cast<std::uint16_t>(b));
}
constexpr Access operator&(Access a, Access b) {
  return static_cast<Access>(static_cast<std::uint16_t>(a) & static_cast<std::uint16_t>(b));
}
constexpr bool Any(Access a) { return a != Access::kNone; }

// One name per single bit, in bit order; used by the loader, events and reports.
inline constexpr std::array<std::pair<Access, std::string_view>, 8> kAccessNames{{
    {Access::kRead, "read"},
    {Access::kWrite, "write"},
    {Access::kCreate, "create"},
    {Access::kDelete, "delete"},
    {Access::kExec, "exec"},
    {Access::kMetadata, "metadata"},
    {Access::kChmod, "chmod"},
    {Access::kChown, "chown"},
}};

enum class NetVerb : std::uint8_t { kSocket, kConnect, kBind, kSend, kListen, kAccept, kCount };

// Escape primitives: calls whose only use in an untrusted program is to leave or blind the
// sandbox. The tracer names the primitive; the policy decides what happens. Tree-relative checks
// (is the signal target ours?) are made by the tracer, which alone knows the tree.
enum class Primitive : std::uint8_t {
  kNone,
  kForeignAbi,       // i386 int 0x80 or x32 syscall from a 64-bit tracee
  kPtrace,           // ptrace of anything
  kProcessVmWrite,   // process_vm_writev
  kProcessVmRead,    // process_vm_readv aimed outside the traced tree
  kIoUring,          // io_uring_setup / enter / register
  kNamespace,        // unshare, setns, clone with namespace flags
  kCloneUntraced,    // clone with CLONE_UNTRACED
  kMount,            // mount family, pivot_root, chroot
  kModule,           // init_module, finit_module, delete_module
  kKexec,            // kexec_load, kexec_file_load
  kBpf,              // bpf
  kPerfEvent,        // perf_event_open
  kUserfaultfd,      // userfaultfd
  kKeyring,          // keyctl, add_key, request_key
  kPersonality,      // personality other than a query
  kSeccompListener,  // seccomp filter with NEW_LISTENER (filter stacking)
  kSignalOutside,    // kill/tgkill/pidfd aimed outside the traced tree
  kSetpgidOutside,   // joining a process group outside the traced tree
  kRawSocket,        // socket families that bypass address rules (packet, raw)
  kHandleOpen,       // open_by_handle_at: opens by inode, sidestepping paths
  kSystemAdmin,      // reboot, iopl/ioperm, swapon, clock setting, hostname, syslog
  kPinnedRegion,     // changing the read-only region where tracejail pins checked arguments
  kUnknownSyscall,   // a syscall number the table does not classify (newer than tracejail)
  kTerminal,         // TIOCSTI, TIOCLINUX and kin: typing into or taking over a terminal
  kFanotify,         // fanotify: filesystem-wide monitoring that hands out others' files
  kProcessOutside,   // observing or changing a process outside the tree (scheduling, limits,
                     // /proc entries, kcmp, capabilities)
  kPrivilegedFile,   // a set-user-ID or set-group-ID file, or file capabilities: a program that
                     // would run with privileges outside the sandbox, for anyone
  kCount,            // not a primitive: how many there are (names.cc checks its table against it)
};
inline constexpr std::size_t kPrimitiveCount = static_cast<std::size_t>(Primitive::kCount);

}  // namespace syscalls
