// Anchored path calls: how an allowed path call other than an open or an exec (rename, link,
// unlink, mkdir, mknod, symlink, the chmod, chown, utime, xattr and truncate families, and the
// metadata reads: stat, access, readlink, chdir...) comes to act on exactly the object the
// policy decided on, whatever happens to the filesystem between the decision and the kernel's
// walk.
//
// The tracee itself opens an *anchor* for each checked path: the directory that holds its final
// name, or, for a call that follows a final symlink, the object itself. The anchor is opened by
// an injected openat2(AT_FDCWD, <the checked path with every symlink resolved>, {O_PATH |
// O_CLOEXEC, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS}): the kernel's walk can reach nothing
// but what was checked, and a symlink planted after the check fails it with ELOOP. The call then
// runs with its path replaced by "/proc/thread-self/fd/N/<final name>" (or ".../fd/N" for the
// object itself): a magic link is not a name another process can swap, it is the anchor's open
// file. The supervisor closes the anchors afterwards (docs/security.md, "Filesystem races").
//
// This header is pure: which anchors a decoded call needs and the paths it then gets. The
// supervisor owns the injection (tracer/supervisor.cc, StartAnchored and its steps).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tracer/pin.h"

namespace tracer {

struct DecodedCall;

// How the anchored path reaches the kernel.
enum class Carrier : std::uint8_t {
  kPath,       // a path argument
  kSockaddr,   // a struct sockaddr_un argument, its length in the next argument (connect, sendto)
  kMsghdr,     // the msg_name of the struct msghdr argument (sendmsg)
  kFirstMmsg,  // sendmmsg: the call becomes a sendmsg of its first message (as pinning does)
};

struct FsAnchor {
  int arg = -1;  // the argument register of the path it stands for
  Carrier carrier = Carrier::kPath;
  std::string msghdr;            // kMsghdr, kFirstMmsg: the struct msghdr as read (56 bytes)
  std::uint64_t send_flags = 0;  // kFirstMmsg: sendmmsg's flags argument
  std::string open_path;         // what the injected openat2 opens: absolute, without symlinks
  bool object = false;           // the object itself (a followed final name), else its directory
  std::string name;              // the final name under the directory; empty for the object
  bool trailing_slash = false;   // the path was written with one: the kernel's checks stay
  bool dot = false;  // the object is a directory named by a final "." or "..": ".../fd/N/."
};

struct AnchorPlan {
  std::vector<FsAnchor> anchors;  // one per path argument that names something
  // Why the call cannot be anchored (it then runs on its pinned absolute path, and its event
  // says it is not race-free), or "" when it can. Calls that are not anchored at all (opens,
  // execs, calls on descriptors) get an empty plan and an empty reason.
  std::string why_not;
  // Set instead of anchors when the kernel refuses the call whatever the filesystem holds (a
  // final "." or ".." where a name is made or removed): why it acts on nothing.
  std::string inert;
  bool needed() const { return !anchors.empty(); }
};

// Which calls are anchored: the path-carrying calls that change the filesystem (Group kMutate
// rows with path arguments), those that read metadata (Group kStat: stat, access, readlink,
// chdir, the xattr reads...; they stop only when a rule decides metadata), and connect and the
// sends to a unix socket's path (anchored on the socket file itself: the kernel follows a final
// symlink there, and "/proc/thread-self/fd/N" always fits in sun_path).
AnchorPlan PlanAnchors(const DecodedCall& call);

// The open_how (flags, mode, resolve) of an anchor's openat2.
OpenHowWords AnchorHow(const FsAnchor& anchor);

// The path the call gets once the anchor is open as descriptor `fd` of the calling thread.
std::string AnchoredPath(int fd, const FsAnchor& anchor);

// The re-issued call's arguments once anchor i is open as descriptor fds[i]: the bytes to write
// at `base` (the pin slot) and the argument registers that then point into them, and the call's
// number when it changes (sendmmsg becomes sendmsg), else -1. `args` are the call's own.
struct AnchoredArgs {
  std::string bytes;
  std::vector<std::pair<int, std::uint64_t>> registers;
  long syscall = -1;
};
AnchoredArgs PlaceAnchored(const std::vector<FsAnchor>& anchors, const std::vector<int>& fds,
                           std::uint64_t base);

// The longest AnchoredPath can be (PATH_MAX with its NUL).
inline constexpr std::size_t kMaxAnchoredPath = 4096;

}  // namespace tracer
