// What a traced syscall asks to do, in the policy's words. Filled by the tracer's decoder,
// judged by policy::Policy. Pure data: no ptrace, no kernel headers beyond socket families.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace policy {

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

struct PathAccess {
  std::string path;  // absolute, canonical (resolved by the tracer)
  Access access = Access::kNone;
  bool resolved = true;  // false when the tracer could not resolve it (e.g. unreadable cwd)
  // The call moves this name with everything beneath it (a rename's source): whatever the policy
  // denies below it would be allowed under the new name, so those denials apply too.
  bool carries_tree = false;
};

// A socket peer or local address. `ip` holds IPv4 in the first 4 bytes (family AF_INET) or the
// 16 bytes of IPv6; IPv4-mapped IPv6 is reported as AF_INET6 and matched as IPv4 by the policy.
struct SocketAddress {
  int family = 0;
  std::array<std::uint8_t, 16> ip{};
  std::uint16_t port = 0;
  std::string unix_path;  // AF_UNIX: the path, or the abstract name without its leading NUL
  bool abstract = false;
  bool unnamed = false;  // AF_UNIX with no name (autobind / socketpair peer)
};

enum class NetVerb : std::uint8_t { kSocket, kConnect, kBind, kSend, kListen, kAccept, kCount };

struct NetAccess {
  NetVerb verb = NetVerb::kSocket;
  int family = -1;  // -1: unknown (e.g. connect on an fd the tracer did not see created)
  int type = -1;
  int protocol = -1;
  std::optional<SocketAddress> addr;
  // AF_UNIX: the address is a socket the traced tree bound itself (the tracer saw the bind
  // succeed), not a daemon's outside the sandbox.
  bool own_socket = false;
};

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

struct Request {
  std::string_view syscall;  // name from the syscall table
  std::array<PathAccess, 2> paths{};
  int path_count = 0;
  std::optional<NetAccess> net;
  std::vector<NetAccess> more_net;  // sendmmsg: one per further destination
  Primitive primitive = Primitive::kNone;
};

}  // namespace policy
