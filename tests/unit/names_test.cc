// policy/names.h and policy/decision.h: name <-> value tables round-trip.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "policy/decision.h"
#include "policy/names.h"
#include "policy/policy.h"

TEST_CASE("Names: errno names round-trip", "[names]") {
  struct Case {
    const char* name;
    int value;
  };
  const Case cases[] = {
      {"EPERM", EPERM},
      {"ENOENT", ENOENT},
      {"EIO", EIO},
      {"E2BIG", E2BIG},
      {"EBADF", EBADF},
      {"EAGAIN", EAGAIN},
      {"ENOMEM", ENOMEM},
      {"EACCES", EACCES},
      {"EFAULT", EFAULT},
      {"EBUSY", EBUSY},
      {"EEXIST", EEXIST},
      {"EINVAL", EINVAL},
      {"EFBIG", EFBIG},
      {"ENOSPC", ENOSPC},
      {"EROFS", EROFS},
      {"ENOSYS", ENOSYS},
      {"EOPNOTSUPP", EOPNOTSUPP},
      {"EAFNOSUPPORT", EAFNOSUPPORT},
      {"EADDRNOTAVAIL", EADDRNOTAVAIL},
      {"ENETUNREACH", ENETUNREACH},
      {"ECONNREFUSED", ECONNREFUSED},
      {"EHOSTUNREACH", EHOSTUNREACH},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    CHECK(policy::ErrnoFromName(c.name) == c.value);
    CHECK(policy::ErrnoName(c.value) == c.name);
  }
  CHECK(policy::ErrnoName(999) == "errno 999");
  CHECK(policy::ErrnoName(0) == "errno 0");
  CHECK_FALSE(policy::ErrnoFromName("eacces"));  // names are case-sensitive
  CHECK_FALSE(policy::ErrnoFromName("EACCES "));
  CHECK_FALSE(policy::ErrnoFromName(""));
  CHECK_FALSE(policy::ErrnoFromName("13"));
}

TEST_CASE("Names: socket families round-trip", "[names]") {
  struct Case {
    const char* name;
    int value;
  };
  const Case cases[] = {{"unspec", AF_UNSPEC},       {"unix", AF_UNIX},       {"inet", AF_INET},
                        {"inet6", AF_INET6},         {"netlink", AF_NETLINK}, {"packet", AF_PACKET},
                        {"bluetooth", AF_BLUETOOTH}, {"vsock", AF_VSOCK},     {"alg", AF_ALG}};
  for (const auto& c : cases) {
    CAPTURE(c.name);
    CHECK(policy::FamilyFromName(c.name) == c.value);
    CHECK(policy::FamilyName(c.value) == c.name);
  }
  CHECK(policy::FamilyName(AF_CAN) == "family " + std::to_string(AF_CAN));
  CHECK_FALSE(policy::FamilyFromName("AF_INET"));
  CHECK_FALSE(policy::FamilyFromName("local"));
}

TEST_CASE("Names: verbs round-trip", "[names]") {
  using policy::NetVerb;
  const std::pair<NetVerb, const char*> cases[] = {
      {NetVerb::kSocket, "socket"}, {NetVerb::kConnect, "connect"}, {NetVerb::kBind, "bind"},
      {NetVerb::kSend, "send"},     {NetVerb::kListen, "listen"},   {NetVerb::kAccept, "accept"}};
  for (const auto& [verb, name] : cases) {
    CAPTURE(name);
    CHECK(policy::Name(verb) == name);
    CHECK(policy::VerbFromName(name) == verb);
  }
  CHECK_FALSE(policy::VerbFromName("sendto"));
}

TEST_CASE("Names: access kinds round-trip and combine", "[names]") {
  using policy::Access;
  std::set<std::string> seen;
  for (const auto& [bit, name] : policy::kAccessNames) {
    CAPTURE(name);
    CHECK(policy::AccessFromName(name) == bit);
    CHECK(policy::AccessNames(bit) == name);
    // Exactly one bit.
    auto v = static_cast<unsigned>(bit);
    CHECK(v != 0);
    CHECK((v & (v - 1)) == 0);
    CHECK(seen.insert(std::string(name)).second);
  }
  CHECK(policy::AccessNames(Access::kRead | Access::kWrite) == "read|write");
  CHECK(policy::AccessNames(Access::kWrite | Access::kRead) == "read|write");
  CHECK(policy::AccessNames(Access::kCreate | Access::kDelete | Access::kWrite) ==
        "write|create|delete");
  CHECK(policy::AccessNames(Access::kNone) == "none");
  Access all = Access::kNone;
  std::string all_names;
  for (const auto& [bit, name] : policy::kAccessNames) {
    all = all | bit;
    all_names += (all_names.empty() ? "" : "|") + std::string(name);
  }
  CHECK(policy::AccessNames(all) == all_names);
  CHECK_FALSE(policy::AccessFromName("none"));
  CHECK_FALSE(policy::AccessFromName("read|write"));
}

TEST_CASE("Names: every escape primitive has a unique name that round-trips", "[names]") {
  std::set<std::string> seen;
  for (std::size_t i = 1; i < policy::kPrimitiveCount; ++i) {
    auto prim = static_cast<policy::Primitive>(i);
    std::string name(policy::Name(prim));
    CAPTURE(i, name);
    CHECK(name != "?");
    CHECK(name != "none");
    CHECK_FALSE(name.empty());
    CHECK(policy::PrimitiveFromName(name) == prim);
    CHECK(seen.insert(name).second);
  }
  CHECK(policy::Name(policy::Primitive::kNone) == "none");
  CHECK(policy::Name(static_cast<policy::Primitive>(policy::kPrimitiveCount)) == "?");
  // Names the documentation uses.
  CHECK(policy::PrimitiveFromName("signal_outside_tree") == policy::Primitive::kSignalOutside);
  CHECK(policy::PrimitiveFromName("open_by_handle") == policy::Primitive::kHandleOpen);
  CHECK(policy::PrimitiveFromName("foreign_abi") == policy::Primitive::kForeignAbi);
  CHECK_FALSE(policy::PrimitiveFromName("teleport"));
}

TEST_CASE("Names: actions, event types and severities round-trip", "[names]") {
  using policy::Action;
  using policy::EventType;
  using policy::Severity;
  for (Action a : {Action::kAllow, Action::kDeny, Action::kKill}) {
    CHECK(policy::ActionFromName(policy::Name(a)) == a);
  }
  for (Severity s :
       {Severity::kInfo, Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical}) {
    CHECK(policy::SeverityFromName(policy::Name(s)) == s);
  }
  // The event types a policy may name.
  for (EventType t : {EventType::kSyscallBlocked, EventType::kEscapeAttempt,
                      EventType::kPermissionDenied, EventType::kSuspiciousBehavior,
                      EventType::kResourceLimitExceeded, EventType::kTimeoutExceeded}) {
    CAPTURE(policy::Name(t));
    CHECK(policy::EventTypeFromName(policy::Name(t)) == t);
  }
  // Lifecycle types are written by tracejail itself, never named by a policy.
  for (EventType t : {EventType::kNone, EventType::kSyscallAllowed, EventType::kProcessStart,
                      EventType::kProcessExec, EventType::kProcessExit}) {
    CAPTURE(policy::Name(t));
    CHECK_FALSE(policy::EventTypeFromName(policy::Name(t)));
  }
  CHECK(policy::Name(EventType::kProcessExit) == "process_exit");
  CHECK(policy::Name(Action::kKill) == "kill");
  CHECK(policy::Name(Severity::kCritical) == "critical");
  CHECK_FALSE(policy::ActionFromName("Allow"));
  CHECK_FALSE(policy::SeverityFromName("severe"));
}

TEST_CASE("Names: the Known* listings are complete and round-trip", "[names]") {
  SECTION("errnos") {
    auto names = policy::KnownErrnos();
    CHECK(names.size() == 22);
    for (const auto& n : names) {
      CAPTURE(n);
      auto v = policy::ErrnoFromName(n);
      REQUIRE(v);
      CHECK(policy::ErrnoName(*v) == n);
    }
  }
  SECTION("families") {
    auto names = policy::KnownFamilies();
    CHECK(std::find(names.begin(), names.end(), "inet6") != names.end());
    for (const auto& n : names) {
      CAPTURE(n);
      auto v = policy::FamilyFromName(n);
      REQUIRE(v);
      CHECK(policy::FamilyName(*v) == n);
    }
  }
  SECTION("primitives, without none") {
    auto names = policy::KnownPrimitives();
    CHECK(names.size() == policy::kPrimitiveCount - 1);
    CHECK(std::find(names.begin(), names.end(), "none") == names.end());
    for (std::size_t i = 1; i < policy::kPrimitiveCount; ++i) {
      std::string n(policy::Name(static_cast<policy::Primitive>(i)));
      CHECK(std::find(names.begin(), names.end(), n) != names.end());
    }
  }
  SECTION("event types a policy may name") {
    auto names = policy::KnownEventTypes();
    CHECK(names.size() == 6);
    for (const auto& n : names) CHECK(policy::EventTypeFromName(n));
  }
  SECTION("access kinds, in bit order") {
    auto names = policy::KnownAccessKinds();
    REQUIRE(names.size() == policy::kAccessNames.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      CHECK(names[i] == policy::kAccessNames[i].second);
    }
  }
}
