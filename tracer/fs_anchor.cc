#include "tracer/fs_anchor.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include <fmt/format.h>

#include "tracer/decode.h"

namespace tracer {

using syscalls::ArgOf;
using syscalls::Group;
using syscalls::Kind;
using syscalls::Role;
using syscalls::SyscallRow;
namespace {

// The last component of a path as written ("a/b/" -> "b", "a/." -> ".").
std::string_view LastComponent(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::size_t cut = path.find_last_of('/');
  return cut == std::string_view::npos ? path : path.substr(cut + 1);
}

constexpr std::size_t kMsghdrSize = 56;  // struct msghdr on x86-64

// connect or a send to a unix socket's path: anchored on the socket file itself.
AnchorPlan PlanSocketAnchor(const DecodedCall& call) {
  AnchorPlan plan;
  const SyscallRow& row = *call.row;
  if (call.unix_walk.empty() || call.unix_walk.front() != '/') {
    plan.why_not = "the socket path has no checked walk to anchor";
    return plan;
  }
  FsAnchor a;
  a.object = true;  // the kernel follows a final symlink to the socket
  a.open_path = call.unix_walk;
  if (int s = ArgOf(row, Role::kSockAddr); s >= 0) {
    a.arg = s;
    a.carrier = Carrier::kSockaddr;
  } else if (int m = ArgOf(row, Role::kMsgHdr); m >= 0 && call.msghdr_bytes.size() == kMsghdrSize) {
    a.arg = m;
    a.carrier = Carrier::kMsghdr;
    a.msghdr = call.msghdr_bytes;
  } else if (int v = ArgOf(row, Role::kMMsgHdr);
             v >= 0 && call.first_msg_named && call.msghdr_bytes.size() == kMsghdrSize) {
    a.arg = v;
    a.carrier = Carrier::kFirstMmsg;
    a.msghdr = call.msghdr_bytes;
    a.send_flags = call.args[3];
  } else {
    plan.why_not = "its unix socket address is not in its first message";
    return plan;
  }
  if (a.open_path.size() >= kMaxAnchoredPath) {
    plan.why_not = "the socket path is longer than PATH_MAX";
    return plan;
  }
  plan.anchors.push_back(std::move(a));
  return plan;
}

}  // namespace

AnchorPlan PlanAnchors(const DecodedCall& call) {
  AnchorPlan plan;
  if (call.row != nullptr && call.row->kind == Kind::kNet &&
      (call.row->verb == policy::NetVerb::kConnect || call.row->verb == policy::NetVerb::kSend) &&
      call.addr && call.addr->family == AF_UNIX && !call.addr->abstract && !call.addr->unnamed) {
    return PlanSocketAnchor(call);
  }
  if (call.row == nullptr || call.row->kind != Kind::kPaths ||
      (call.row->group != Group::kMutate && call.row->group != Group::kStat)) {
    return plan;
  }
  const SyscallRow& row = *call.row;
  for (int n = 0; n < call.request.path_count; ++n) {
    int arg = ArgOf(row, Role::kPath, n);
    if (arg < 0) break;  // a descriptor-based change (fchmod, ftruncate): nothing to walk
    if (call.args[static_cast<std::size_t>(arg)] == 0) continue;  // utimensat(fd, NULL)
    const DecodedPath& p = call.paths[static_cast<std::size_t>(n)];
    std::string walk = p.resolved.walk;
    while (walk.size() > 1 && walk.back() == '/') walk.pop_back();  // kept as `trailing_slash`
    if (walk.empty() || walk.front() != '/') {
      plan.anchors.clear();
      plan.why_not = p.resolved.unpinnable.empty() ? "the path has no checked walk to anchor"
                                                   : p.resolved.unpinnable;
      return plan;
    }
    FsAnchor a;
    a.arg = arg;
    a.trailing_slash = p.raw.size() > 1 && p.raw.back() == '/';
    std::size_t cut = walk.find_last_of('/');
    std::string name = walk.substr(cut + 1);
    std::string_view last = LastComponent(p.raw);
    const bool dots = last == "." || last == "..";
    // A call that makes or removes a name looks it up in its parent only (rename, link's new
    // name, unlink, rmdir, mkdir, mknod, symlink): a trailing slash stays a trailing slash there,
    // and a final "." or ".." is refused (EEXIST, EISDIR, EINVAL, ENOTEMPTY, EBUSY).
    const policy::Access made_or_removed = call.request.paths[static_cast<std::size_t>(n)].access &
                                           (policy::Access::kCreate | policy::Access::kDelete);
    if (!p.follow && dots && made_or_removed != policy::Access::kNone) {
      plan.anchors.clear();
      plan.inert =
          "the kernel refuses a final \".\" or \"..\" where a name is made or removed: the call "
          "acts on nothing";
      return plan;
    }
    if (!p.follow && dots) {
      // A lookup that does not follow a final symlink still ends in the directory "." or ".."
      // names (the decoder made a trailing slash follow): anchored on it, named ".../fd/N/.".
      a.object = true;
      a.dot = true;
      a.open_path = walk;
    } else if (p.follow || name.empty()) {
      // The object itself: its final symlink was resolved by the check (the kernel would follow
      // it), and a symlink put there since must not be followed. "/" has no directory above it.
      a.object = true;
      a.open_path = walk;
    } else {
      a.open_path = cut == 0 ? "/" : walk.substr(0, cut);
      a.name = std::move(name);
    }
    if (a.open_path.size() >= kMaxAnchoredPath ||
        AnchoredPath(999999, a).size() >= kMaxAnchoredPath) {
      plan.anchors.clear();
      plan.why_not = "the anchored path would be longer than PATH_MAX";
      return plan;
    }
    plan.anchors.push_back(std::move(a));
  }
  return plan;
}

OpenHowWords AnchorHow(const FsAnchor& anchor) {
  OpenHowWords how;
  how.flags = O_PATH | O_CLOEXEC | (anchor.object ? 0 : O_DIRECTORY);
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return how;
}

std::string AnchoredPath(int fd, const FsAnchor& anchor) {
  std::string path = fmt::format("/proc/thread-self/fd/{}", fd);
  if (!anchor.object) path += "/" + anchor.name;
  if (anchor.dot) {
    path += "/.";
  } else if (anchor.trailing_slash) {
    path += "/";
  }
  return path;
}

AnchoredArgs PlaceAnchored(const std::vector<FsAnchor>& anchors, const std::vector<int>& fds,
                           std::uint64_t base) {
  AnchoredArgs out;
  for (std::size_t i = 0; i < anchors.size() && i < fds.size(); ++i) {
    const FsAnchor& a = anchors[i];
    std::string path = AnchoredPath(fds[i], a);
    if (a.carrier == Carrier::kPath) {
      path.push_back('\0');
      out.registers.emplace_back(a.arg, AppendAligned(out.bytes, base, path));
      continue;
    }
    // A socket address: "/proc/thread-self/fd/N" (an object anchor) always fits in sun_path.
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::size_t n = std::min(path.size(), sizeof un.sun_path - 1);
    std::memcpy(un.sun_path, path.data(), n);
    const std::size_t len = offsetof(sockaddr_un, sun_path) + n + 1;
    const std::uint64_t addr_at =
        AppendAligned(out.bytes, base, std::string_view(reinterpret_cast<const char*>(&un), len));
    if (a.carrier == Carrier::kSockaddr) {
      out.registers.emplace_back(a.arg, addr_at);
      out.registers.emplace_back(a.arg + 1, len);
      continue;
    }
    std::string msg = a.msghdr;
    msg.resize(kMsghdrSize, '\0');
    const auto namelen = static_cast<std::uint32_t>(len);
    std::memcpy(msg.data(), &addr_at, sizeof addr_at);      // msg_name
    std::memcpy(msg.data() + 8, &namelen, sizeof namelen);  // msg_namelen
    out.registers.emplace_back(a.arg, AppendAligned(out.bytes, base, msg));
    if (a.carrier == Carrier::kFirstMmsg) {
      // sendmsg(fd, msg, flags): its first message only; the supervisor writes msg_len back.
      out.registers.emplace_back(a.arg + 1, a.send_flags);
      out.syscall = SYS_sendmsg;
    }
  }
  return out;
}

}  // namespace tracer
