#include "tracer/unix_diag.h"

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

#include "base/unique_fd.h"

namespace tracer {

dev_t DevFromKernel(std::uint32_t s_dev) { return makedev(s_dev >> 20, s_dev & 0xfffff); }

std::optional<FileId> BoundSocketFile(int sock) {
  struct stat st {};
  if (sock < 0 || fstat(sock, &st) != 0 || !S_ISSOCK(st.st_mode)) return std::nullopt;
  base::UniqueFd nl(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!nl.valid()) return std::nullopt;
  struct {
    nlmsghdr nlh;
    unix_diag_req req;
  } msg{};
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST;
  msg.req.sdiag_family = AF_UNIX;
  msg.req.udiag_states = ~0u;
  msg.req.udiag_ino = static_cast<std::uint32_t>(st.st_ino);
  msg.req.udiag_show = UDIAG_SHOW_VFS;
  msg.req.udiag_cookie[0] = msg.req.udiag_cookie[1] = ~0u;  // INET_DIAG_NOCOOKIE
  if (send(nl.get(), &msg, sizeof msg, 0) != static_cast<ssize_t>(sizeof msg)) return std::nullopt;
  alignas(nlmsghdr) char buf[8192];
  ssize_t n = recv(nl.get(), buf, sizeof buf, 0);
  if (n < static_cast<ssize_t>(sizeof(nlmsghdr))) return std::nullopt;
  const auto* h = reinterpret_cast<const nlmsghdr*>(buf);
  if (!NLMSG_OK(h, static_cast<std::size_t>(n)) || h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
      h->nlmsg_len < NLMSG_LENGTH(sizeof(unix_diag_msg))) {
    return std::nullopt;  // NLMSG_ERROR: no such socket here
  }
  const auto* m = static_cast<const unix_diag_msg*>(NLMSG_DATA(h));
  if (m->udiag_ino != msg.req.udiag_ino) return std::nullopt;
  // The attributes follow the message; each is bounded by the reply's length.
  std::size_t at = NLMSG_LENGTH(sizeof(unix_diag_msg));
  at = NLMSG_ALIGN(at);
  while (at + sizeof(nlattr) <= h->nlmsg_len) {
    nlattr attr{};
    std::memcpy(&attr, buf + at, sizeof attr);
    if (attr.nla_len < sizeof attr || at + attr.nla_len > h->nlmsg_len) break;
    if (attr.nla_type == UNIX_DIAG_VFS && attr.nla_len >= sizeof attr + sizeof(unix_diag_vfs)) {
      unix_diag_vfs vfs{};
      std::memcpy(&vfs, buf + at + NLA_HDRLEN, sizeof vfs);
      return FileId{DevFromKernel(vfs.udiag_vfs_dev), vfs.udiag_vfs_ino};
    }
    at += NLA_ALIGN(attr.nla_len);
  }
  return std::nullopt;  // not bound to a path
}

}  // namespace tracer
