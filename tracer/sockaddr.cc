#include "tracer/sockaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "base/escape.h"
#include "syscalls/xlat.h"

namespace tracer {

namespace xlat = syscalls::xlat;

std::optional<policy::SocketAddress> ParseSockaddr(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < sizeof(sa_family_t)) return std::nullopt;
  policy::SocketAddress a;
  sa_family_t family = 0;
  std::memcpy(&family, bytes.data(), sizeof family);
  a.family = family;
  if (family == AF_INET) {
    if (bytes.size() < sizeof(sockaddr_in)) return std::nullopt;
    sockaddr_in in{};
    std::memcpy(&in, bytes.data(), sizeof in);
    a.port = ntohs(in.sin_port);
    std::memcpy(a.ip.data(), &in.sin_addr, 4);
  } else if (family == AF_INET6) {
    // The kernel accepts the 24-byte RFC 2133 form without sin6_scope_id.
    constexpr std::size_t kRfc2133Len = 24;
    if (bytes.size() < kRfc2133Len) return std::nullopt;
    sockaddr_in6 in6{};
    std::memcpy(&in6, bytes.data(), std::min(bytes.size(), sizeof in6));
    a.port = ntohs(in6.sin6_port);
    std::memcpy(a.ip.data(), &in6.sin6_addr, 16);
  } else if (family == AF_UNIX) {
    auto path = bytes.subspan(sizeof(sa_family_t));
    if (path.empty()) {
      a.unnamed = true;
    } else if (path[0] == 0) {
      a.abstract = true;  // the name is every byte after the NUL, NULs included
      a.unix_path.assign(reinterpret_cast<const char*>(path.data()) + 1, path.size() - 1);
    } else {
      const void* nul = std::memchr(path.data(), 0, path.size());
      std::size_t len =
          nul ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - path.data())
              : path.size();
      a.unix_path.assign(reinterpret_cast<const char*>(path.data()), len);
    }
  }
  return a;
}

std::string AddressText(const policy::SocketAddress& addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  switch (addr.family) {
    case AF_INET:
      inet_ntop(AF_INET, addr.ip.data(), buf, sizeof buf);
      return fmt::format("{}:{}", buf, addr.port);
    case AF_INET6:
      inet_ntop(AF_INET6, addr.ip.data(), buf, sizeof buf);
      return fmt::format("[{}]:{}", buf, addr.port);
    case AF_UNIX:
      if (addr.unnamed) return "unix:(unnamed)";
      return (addr.abstract ? "unix:@" : "unix:") + base::EscapeBytes(addr.unix_path);
    default:
      return xlat::SocketFamily(static_cast<std::uint64_t>(addr.family));
  }
}

nlohmann::json AddressJson(const policy::SocketAddress& addr) {
  nlohmann::json j;
  j["family"] = xlat::SocketFamily(static_cast<std::uint64_t>(addr.family));
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.family == AF_INET || addr.family == AF_INET6) {
    inet_ntop(addr.family, addr.ip.data(), buf, sizeof buf);
    j["address"] = buf;
    j["port"] = addr.port;
  } else if (addr.family == AF_UNIX) {
    if (addr.unnamed) {
      j["unnamed"] = true;
    } else if (addr.abstract) {
      j["abstract"] = base::EscapeBytes(addr.unix_path);
    } else {
      j["path"] = base::EscapeBytes(addr.unix_path);
    }
  }
  return j;
}

}  // namespace tracer
