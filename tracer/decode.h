// Turns one flagged syscall (row + raw arguments) into a policy::Request, reading pointer
// arguments through TraceeContext, and renders the decoded arguments for events. Pure with
// respect to ptrace: everything live sits behind TraceeContext, so tests use a fake.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "policy/operation.h"
#include "syscalls/table.h"
#include "tracer/memory.h"
#include "tracer/path_resolver.h"

namespace tracer {

inline constexpr std::size_t kMaxPath = 4096;        // PATH_MAX including the NUL
inline constexpr std::size_t kMaxArgvEntries = 256;  // argv/envp entries kept in events
inline constexpr std::size_t kMaxArgBytes = 4096;    // bytes kept per argv/envp entry
inline constexpr std::size_t kMaxMMsg = 1024;        // UIO_MAXIOV: sendmmsg's own limit

class TraceeContext {
 public:
  virtual ~TraceeContext() = default;
  virtual MemoryReader& Memory() = 0;
  virtual pid_t Pid() const = 0;
  virtual pid_t Tid() const = 0;
  // resolve: openat2's RESOLVE_* flags.
  virtual ResolveResult Resolve(int dirfd, std::string_view path, LastLink last, EmptyPath empty,
                                std::uint64_t resolve = 0) = 0;
  virtual bool InTree(pid_t pid_or_tid) const = 0;
  // Whether a /proc/PID the tracee names (in its own PID namespace) belongs to the tree.
  virtual bool ProcPidInTree(pid_t pid) const { return InTree(pid); }
  virtual bool GroupInTree(pid_t pgid) const = 0;
  virtual std::optional<pid_t> PidfdTarget(int fd) = 0;
  // SOCK_STREAM / SOCK_DGRAM / ... of the tracee's socket `fd`, when the policy has rules that
  // depend on it (WantsSocketType); nullopt when unknown.
  // What the tracee's descriptor `fd` is, as a terminal: not one, a terminal, or the terminal
  // tracejail was started from (its stdin, stdout, stderr or controlling terminal) when the
  // command was not given it (--tty).
  enum class Terminal : std::uint8_t { kNone, kTerminal, kCallers };
  virtual Terminal TerminalOf(int /*fd*/) { return Terminal::kNone; }
  // Whether the unix socket address (path resolved, or "@" and the abstract name) is one the
  // traced tree bound itself.
  virtual bool BoundByTree(const policy::SocketAddress& /*addr*/) const { return false; }
  // Whether pseudo-terminal /dev/pts/`index` is the tree's to open: its master is held by a
  // process of the tree, or it is a terminal tracejail was started from.
  virtual bool PtyIsOurs(int /*index*/) { return true; }
  // Whether the resolved path names something now, as the tracee sees the file system (its
  // mount namespace): true, false (ENOENT, ENOTDIR), or nullopt when that cannot be told.
  virtual std::optional<bool> Exists(const std::string& /*resolved*/) { return std::nullopt; }
  virtual bool WantsSocketType() const { return false; }
  virtual std::optional<int> SocketType(int /*fd*/) { return std::nullopt; }
};

struct DecodedPath {
  std::string raw;     // as passed (bytes, unescaped)
  bool follow = true;  // the kernel follows a final symlink (resolved.walk went through it)
  // With no path (AT_EMPTY_PATH, a NULL path, fchmod-like calls): the descriptor it names, or
  // AT_FDCWD for the working directory. -1 when the call has a path.
  int fd = -1;
  ResolveResult resolved;
  // For a name a call makes (mkdir, mknod, symlink, link, bind; not open's O_CREAT): whether
  // it existed when the call was decided, before the call ran. Learn mode leaves out "create"
  // for a name that existed: the kernel fails such a call with EEXIST whatever the policy says.
  std::optional<bool> existed;
};

struct StringList {
  std::vector<std::string> items;
  bool truncated = false;
  bool fault = false;
};

// Processes outside the traced tree that a call names (a signal's target, ptrace's, process
// memory, a pidfd's process, a /proc entry, a process group). The supervisor refuses a call
// that reaches tracejail or one of its ancestors at every level and in every mode.
struct OutsideTargets {
  std::vector<pid_t> pids;     // process or thread ids, as the tracee names them
  pid_t group = 0;             // a process group (kill(-pgid), setpgid)
  bool every_process = false;  // kill(-1)
  bool empty() const { return pids.empty() && group == 0 && !every_process; }
};

struct DecodedCall {
  const syscalls::SyscallRow* row = nullptr;
  std::array<std::uint64_t, 6> args{};
  policy::Request request;
  std::array<DecodedPath, 2> paths;
  std::uint64_t open_flags = 0;  // effective open flags (openat2: from struct open_how)
  std::optional<policy::SocketAddress> addr;
  // What argument pinning needs (tracer/pin.h): the bytes the decision was made on.
  std::string addr_bytes;    // the sockaddr as read (at most kMaxSockaddr bytes)
  std::string unix_pin;      // AF_UNIX with a relative path: the absolute path it resolved to
  std::string unix_walk;     // AF_UNIX path with every symlink resolved (ResolveResult::walk)
  std::string msghdr_bytes;  // sendmsg: the struct msghdr as read
  std::array<std::uint64_t, 3> how{};  // openat2: struct open_how's flags, mode, resolve
  bool multi_dest = false;             // sendmmsg with destinations
  bool first_msg_named = false;        // sendmmsg: its first message names its destination
  // Set by the supervisor once the call is allowed: whether its pointer arguments were pinned,
  // and if not entirely, what the decision still rests on that the tracee can change.
  bool pinned = false;
  std::string unpinned;
  // How the filesystem is kept from changing what the checked path names between the check
  // and the kernel's use (docs/security.md): empty when nothing does.
  std::string walk_guard;
  std::string walk_gap;  // when walk_guard is empty: why (else the generic reason applies)
  StringList argv, envp;
  // The kernel would fail this call whatever the policy says (bad pointer, bad fd): the tracer
  // denies it with this errno without consulting the policy or recording an event.
  int early_errno = 0;
  std::string note;             // why a tree check failed, for the event message
  std::string_view capability;  // overrides the row's capability (an ioctl request, mknod)
  OutsideTargets outside;
};

void Decode(const syscalls::SyscallRow& row, const std::array<std::uint64_t, 6>& args,
            TraceeContext& ctx, DecodedCall& out);

// Arguments by name with flags and enums spelled out and tracee strings escaped.
nlohmann::json RenderArgs(const DecodedCall& call, TraceeContext& ctx);

}  // namespace tracer
