// Resolves a path as a given tracee thread would see it: relative paths against its cwd or a
// dirfd (read from /proc/PID/task/TID), "..", symlinks (at most 40, like the kernel), and the
// per-reader links /proc/self and /proc/thread-self (which would otherwise resolve to the
// tracer). Magic links to anonymous objects (pipe:[N], socket:[N], anon_inode:...) end
// resolution with that name. Components that do not exist are appended lexically.
//
// This resolution is advisory against races: the filesystem can change after it (see
// docs/security.md once written). When the tracee has mounts of its own (a private mount
// namespace), `view` makes every lookup go through /proc/PID/root, so the tracee's mounts (its
// tmpfs work dir, its /proc) are the ones examined.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace tracer {

struct ResolveResult {
  std::string path;  // absolute and canonical, or an anonymous object's name
  int error = 0;     // non-zero: the kernel would fail the call with this errno (ENOENT, ELOOP...)
};

struct ResolveView {
  std::string root;    // "/proc/PID/root" for a tracee with mounts of its own; "" otherwise
  pid_t self_pid = 0;  // what /proc/self names in the tracee's /proc (0: `pid`)
  pid_t self_tid = 0;  // likewise for /proc/thread-self (0: `tid`)
};

// dirfd: AT_FDCWD or an fd number of `tid`. follow_last: resolve a final symlink.
// empty_path_ok: AT_EMPTY_PATH semantics (an empty path names the dirfd itself).
ResolveResult ResolvePath(pid_t pid, pid_t tid, int dirfd, std::string_view path, bool follow_last,
                          bool empty_path_ok = false, const ResolveView* view = nullptr);

}  // namespace tracer
