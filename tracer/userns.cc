#include "tracer/userns.h"

#include <cerrno>
#include <charconv>
#include <fstream>

#include <fmt/format.h>

namespace tracer {
namespace {

std::optional<long> ReadLong(const char* path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text)) return std::nullopt;
  long v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

UserNsSysctls ReadUserNsSysctls() {
  return {ReadLong("/proc/sys/user/max_user_namespaces"),
          ReadLong("/proc/sys/kernel/unprivileged_userns_clone"),
          ReadLong("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")};
}

std::string UserNamespaceFix(const UserNsSysctls& s, int error) {
  // The switches in the order the kernel consults them: a count of 0 refuses everyone, then
  // Debian's and Ubuntu's switches for unprivileged callers.
  if (s.max_user_namespaces && *s.max_user_namespaces == 0) {
    return "User namespaces are disabled on this host (user.max_user_namespaces = 0): enable "
           "them with `sysctl -w user.max_user_namespaces=15000` as root";
  }
  if (s.unprivileged_userns_clone && *s.unprivileged_userns_clone == 0) {
    return "Unprivileged user namespaces are disabled on this host "
           "(kernel.unprivileged_userns_clone = 0): enable them with `sysctl -w "
           "kernel.unprivileged_userns_clone=1` as root";
  }
  if (s.apparmor_restrict && *s.apparmor_restrict != 0) {
    return "AppArmor restricts unprivileged user namespaces on this host "
           "(kernel.apparmor_restrict_unprivileged_userns = 1): allow them with `sysctl -w "
           "kernel.apparmor_restrict_unprivileged_userns=0` as root, or give tracejail an "
           "AppArmor profile with the `userns` permission";
  }
  if (error == ENOSPC) {
    return fmt::format(
        "This user has as many user namespaces as it may have (user.max_user_namespaces = {}, "
        "counted in each enclosing namespace): raise it with `sysctl -w "
        "user.max_user_namespaces=15000` as root",
        s.max_user_namespaces ? std::to_string(*s.max_user_namespaces) : "unknown");
  }
  if (error == EPERM) {
    return "User namespaces are refused here although no sysctl turns them off "
           "(user.max_user_namespaces, kernel.unprivileged_userns_clone, "
           "kernel.apparmor_restrict_unprivileged_userns): a seccomp filter of a container or a "
           "security module may forbid them; run tracejail as root, or where they are allowed";
  }
  return "Check the sysctls user.max_user_namespaces, kernel.unprivileged_userns_clone and "
         "kernel.apparmor_restrict_unprivileged_userns, or run tracejail as root";
}

}  // namespace tracer
