// Which file a bound unix socket was created as, asked of the kernel (sock_diag,
// UNIX_DIAG_VFS): the device and inode of the socket file its bind made. A bind names its
// socket file by a path the kernel walks, and a symlink or directory swapped between the
// check and the walk could put it elsewhere; this is how the supervisor finds out
// (docs/security.md, "Unix socket bind").
#pragma once

#include <cstdint>
#include <optional>

#include "tracer/exec_image.h"

namespace tracer {

// `sock` is tracejail's own descriptor of the socket (pidfd_getfd). nullopt when the kernel
// does not say (not a unix socket, not bound to a path, or the socket belongs to another
// network namespace than tracejail's).
std::optional<FileId> BoundSocketFile(int sock);

// The device number as sock_diag reports it (the kernel's s_dev: major in the high 12 bits,
// minor in the low 20), as stat() reports it.
dev_t DevFromKernel(std::uint32_t s_dev);

}  // namespace tracer
