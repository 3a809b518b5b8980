// tracer/userns.cc: which sysctl a refused unshare(CLONE_NEWUSER) is blamed on, and the command
// that changes it.
#include <cerrno>

#include <catch2/catch.hpp>

#include "tracer/userns.h"

using tracer::UserNamespaceFix;
using tracer::UserNsSysctls;

TEST_CASE("userns: each switch that turns user namespaces off is named with its sysctl",
          "[userns]") {
  struct Case {
    UserNsSysctls sysctls;
    int error;
    const char* named;
    const char* command;
  };
  const Case cases[] = {
      {{0, std::nullopt, std::nullopt},
       ENOSPC,
       "user.max_user_namespaces = 0",
       "sysctl -w user.max_user_namespaces=15000"},
      // The count comes first: it refuses root too.
      {{0, 0, 1}, EPERM, "user.max_user_namespaces = 0", "sysctl -w user.max_user_namespaces"},
      {{15000, 0, std::nullopt},
       EPERM,
       "kernel.unprivileged_userns_clone = 0",
       "sysctl -w kernel.unprivileged_userns_clone=1"},
      {{15000, 1, 1},
       EACCES,
       "kernel.apparmor_restrict_unprivileged_userns = 1",
       "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"},
      {{15000, std::nullopt, std::nullopt},
       ENOSPC,
       "user.max_user_namespaces = 15000",
       "sysctl -w user.max_user_namespaces"},
  };
  for (const auto& c : cases) {
    std::string fix = UserNamespaceFix(c.sysctls, c.error);
    CAPTURE(fix);
    CHECK_THAT(fix, Catch::Contains(c.named));
    CHECK_THAT(fix, Catch::Contains(c.command));
  }
}

TEST_CASE("userns: a refusal no sysctl explains lists the sysctls it checked", "[userns]") {
  for (int error : {EPERM, EINVAL}) {
    std::string fix = UserNamespaceFix({15000, 1, 0}, error);
    CAPTURE(fix);
    for (const char* name : {"user.max_user_namespaces", "kernel.unprivileged_userns_clone",
                             "kernel.apparmor_restrict_unprivileged_userns"}) {
      CHECK_THAT(fix, Catch::Contains(name));
    }
    CHECK_THAT(fix, Catch::Contains("root"));
  }
}
