// Whether an unprivileged caller may create a user namespace here, and which sysctl to change
// when it may not. An ordinary user gets the other namespaces (mount, pid, net, uts, ipc) only
// inside a user namespace of its own, as bwrap and nsjail do (docs/isolation.md, "Without
// root"). The advice is pure: it reads nothing but what it is given.
#pragma once

#include <optional>
#include <string>

namespace tracer {

// The host's switches for unprivileged user namespaces; nullopt where the file does not exist
// (or cannot be read).
struct UserNsSysctls {
  std::optional<long> max_user_namespaces;        // /proc/sys/user/max_user_namespaces
  std::optional<long> unprivileged_userns_clone;  // /proc/sys/kernel/unprivileged_userns_clone
  // /proc/sys/kernel/apparmor_restrict_unprivileged_userns (Ubuntu 23.10 and later)
  std::optional<long> apparmor_restrict;
};

UserNsSysctls ReadUserNsSysctls();

// What to change so that unshare(CLONE_NEWUSER), which failed with `error`, works: names the
// sysctl that is off (or the probable cause when none is), with the command that changes it.
std::string UserNamespaceFix(const UserNsSysctls& sysctls, int error);

}  // namespace tracer
