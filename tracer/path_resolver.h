// Resolves a path as a given tracee thread would see it: relative paths against its cwd or a
// dirfd (read from /proc/PID/task/TID), "..", symlinks (at most 40, like the kernel), and the
// per-reader links /proc/self and /proc/thread-self (which would otherwise resolve to the
// tracer). Magic links to anonymous objects (pipe:[N], socket:[N], anon_inode:...) end
// resolution with that name. Components that do not exist are appended lexically.
//
// This resolution is advisory against races: the filesystem can change after it (see
// docs/security.md, "Filesystem races"). When the tracee has mounts of its own (a private mount
// namespace), `view` makes every lookup go through /proc/PID/root, so the tracee's mounts (its
// tmpfs work dir, its /proc) are the ones examined.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace tracer {

struct ResolveResult {
  std::string path;  // absolute and canonical, or an anonymous object's name
  int error = 0;     // non-zero: the kernel would fail the call with this errno (ENOENT, ELOOP...)
  // What the kernel can be handed instead of the tracee's bytes (argument pinning): an absolute
  // path that names the same object from the root, with the final symlink (when it is followed)
  // left for the kernel to follow, so an exec'd script still sees the name it was run by.
  // Empty when there is none: AT_EMPTY_PATH, a walk through a /proc/PID magic link (fd/N, cwd,
  // root, ...), whose meaning another thread can change, or a result longer than PATH_MAX.
  std::string pin;
  // The same object with every symlink resolved, the final one too when it is followed: what an
  // open is handed to walk with RESOLVE_NO_SYMLINKS (a symlink planted or swapped after the
  // check then fails the walk with ELOOP). Set whenever `pin` is.
  std::string walk;
  std::string unpinnable;  // why `pin` is empty
  pid_t magic_pid = 0;     // the process whose /proc/PID magic link the walk went through, if any
};

struct ResolveView {
  std::string root;    // "/proc/PID/root" for a tracee with mounts of its own; "" otherwise
  pid_t self_pid = 0;  // what /proc/self names in the tracee's /proc (0: `pid`)
  pid_t self_tid = 0;  // likewise for /proc/thread-self (0: `tid`)
};

// The process a "/proc/PID/..." path names (PID as digits), or 0.
pid_t ProcPidOf(std::string_view path);

// Whether a final symlink is resolved (the call follows it) or names itself.
enum class LastLink : std::uint8_t { kFollow, kNoFollow };
// Whether an empty path names the dirfd itself (AT_EMPTY_PATH) or is ENOENT.
enum class EmptyPath : std::uint8_t { kRefuse, kNamesDirfd };

// dirfd: AT_FDCWD or an fd number of `tid`.
// resolve: openat2's RESOLVE_* flags (BENEATH, IN_ROOT, NO_SYMLINKS, NO_MAGICLINKS, NO_XDEV).
ResolveResult ResolvePath(pid_t pid, pid_t tid, int dirfd, std::string_view path,
                          LastLink last_link, EmptyPath empty = EmptyPath::kRefuse,
                          const ResolveView* view = nullptr, std::uint64_t resolve = 0);

}  // namespace tracer
