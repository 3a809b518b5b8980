// What a traced syscall asks to do, in the policy's words. Filled by the tracer's decoder,
// judged by policy::Policy. Pure data: no ptrace, no kernel headers beyond socket families.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "syscalls/operation.h"

namespace policy {

// The shared vocabulary (syscalls/operation.h), in the policy's namespace.
using syscalls::Access;
using syscalls::Any;
using syscalls::kAccessNames;
using syscalls::kPrimitiveCount;
using syscalls::NetVerb;
using syscalls::Primitive;

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

struct Request {
  std::string_view syscall;  // name from the syscall table
  std::array<PathAccess, 2> paths{};
  int path_count = 0;
  std::optional<NetAccess> net;
  std::vector<NetAccess> more_net;  // sendmmsg: one per further destination
  Primitive primitive = Primitive::kNone;
};

}  // namespace policy
