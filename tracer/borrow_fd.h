// tracejail's own copy of a tracee's descriptor.
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/unique_fd.h"

namespace tracer {

// A copy of descriptor `fd` of process `pid` (a thread-group leader) through pidfd_getfd
// (Linux 5.6+; allowed because tracejail is its tracer), or an invalid UniqueFd. The copy is
// the same open file: kcmp(KCMP_FILE) finds them equal.
inline base::UniqueFd BorrowFd(pid_t pid, int fd) {
  base::UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) return base::UniqueFd();
  return base::UniqueFd(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), fd, 0)));
}

}  // namespace tracer
