// Each escape sample tries one technique; each must be blocked and reported as escape_attempt.
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "harness.h"

using harness::Run;
using harness::Sample;

namespace {

void ExpectBlocked(const std::string& sample, const std::string& syscall,
                   const std::string& errno_name) {
  auto r = Run({Sample(sample)});
  INFO(sample << " stdout: " << r.out << " stderr: " << r.err);
  CHECK(r.out.find("ESCAPED") == std::string::npos);
  CHECK(r.out.find("BLOCKED") != std::string::npos);
  auto events = r.Events("escape_attempt", syscall);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["decision"]["action"] == "deny");
  CHECK(events[0]["decision"]["errno"] == errno_name);
  CHECK(events[0]["race_free"] == true);
}

}  // namespace

TEST_CASE("ptrace of the supervisor is denied", "[escape]") {
  ExpectBlocked("escape_ptrace", "ptrace", "EPERM");
}
TEST_CASE("io_uring_setup is denied", "[escape]") {
  ExpectBlocked("escape_io_uring", "io_uring_setup", "EPERM");
}
TEST_CASE("clone with CLONE_UNTRACED is denied", "[escape]") {
  ExpectBlocked("escape_clone_untraced", "clone", "EPERM");
}
TEST_CASE("killing the supervisor is denied", "[escape]") {
  ExpectBlocked("escape_kill_parent", "kill", "EPERM");
}
TEST_CASE("a seccomp filter with a user-notification listener is denied", "[escape]") {
  ExpectBlocked("escape_seccomp_listener", "seccomp", "EPERM");
}
TEST_CASE("x32 syscalls are denied as a foreign ABI", "[escape][abi]") {
  ExpectBlocked("escape_x32", "getpid", "ENOSYS");
  auto r = Run({Sample("escape_x32")});
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0]["syscall"]["arch"] == "x32");
}

TEST_CASE("i386 int $0x80 syscalls are denied as a foreign ABI", "[escape][abi]") {
  auto native = harness::RunNative({Sample("escape_int80")});
  if (native.status == 128 + SIGSEGV) {
    harness::Skip("this kernel has no IA-32 emulation (int $0x80 faults natively)");
    return;
  }
  ExpectBlocked("escape_int80", "getpid", "ENOSYS");
}

TEST_CASE("aliases of a denied file are resolved and denied", "[escape][paths]") {
  auto r = Run({Sample("escape_proc_self_root"), "/etc/shadow"});
  CHECK(r.out.find("ESCAPED") == std::string::npos);
  CHECK(r.out.find("BLOCKED") != std::string::npos);
  auto denied = r.Events("permission_denied", "openat");
  CHECK(denied.size() == 5);
  for (const auto& e : denied) CHECK(e["args"]["pathname"]["resolved"] == "/etc/shadow");
}

TEST_CASE("every exec'd program has the read-only pinned-argument region", "[escape][pin]") {
  auto r = Run({"/bin/cat", "/proc/self/maps"});
  CHECK(r.status == 0);
  CHECK(r.out.find("00010000-00400000 r--p 00000000 00:00 0") != std::string::npos);
  auto native = harness::RunNative({"/bin/cat", "/proc/self/maps"});
  CHECK(native.out.find("00010000-00400000") == std::string::npos);
}

TEST_CASE("allowed opens are pinned and walked with symlinks forbidden at every level",
          "[escape][pin]") {
  harness::TempDir dir;
  dir.File("watched.txt", "watched");
  for (const std::string level : {"basic", "standard", "strict"}) {
    CAPTURE(level);
    std::string policy =
        dir.File("p-" + level + ".json", R"({"version": 1, "extends": ")" + level +
                                             R"(", "files": {"rules": [{"id": "watch",
          "path": ")" + dir.path() + R"(/watched.txt", "access": ["read"], "action": "allow",
          "event": "suspicious_behavior", "severity": "low"}]}})");
    harness::Options o;
    o.tracejail_args = {"--policy", policy};
    o.cwd = dir.path();
    auto r = Run({"/bin/cat", "watched.txt"}, o);
    CHECK(r.out == "watched");
    auto events = r.Events("suspicious_behavior", "openat");
    REQUIRE(events.size() == 1);
    CHECK(events[0]["args"]["pathname"]["raw"] == "watched.txt");  // relative, as written
    CHECK(events[0]["race"]["arguments"] == "pinned");
    CHECK_THAT(events[0]["race"]["filesystem"].get<std::string>(),
               Catch::Contains("RESOLVE_NO_SYMLINKS"));
    CHECK(events[0]["race_free"] == true);
  }
}

TEST_CASE("the dynamic loader cannot run a program whose exec is denied", "[escape][loader]") {
  harness::TempDir dir;
  std::string policy = dir.File("p.json", R"({"version": 1, "extends": "standard", "files": {
      "rules": [{"id": "no-id", "path": "/usr/bin/id", "access": ["exec"], "action": "deny"}]}})");
  std::string loader = "/lib64/ld-linux-x86-64.so.2";
  harness::Options o;
  o.tracejail_args = {"--policy", policy};
  auto r = Run({"/bin/sh", "-c",
                loader + " /usr/bin/id -u; echo status=$?; " + loader +
                    " --library-path /usr/lib /usr/bin/id -u; " + loader +
                    " /bin/echo allowed-program-runs"},
               o);
  INFO(r.out << r.err);
  CHECK(r.out.find("status=137") != std::string::npos);  // killed before it ran
  CHECK(r.out.find("allowed-program-runs") != std::string::npos);
  auto events = r.Events("permission_denied");
  REQUIRE(events.size() == 2);
  for (const auto& e : events) {
    CHECK(e["decision"]["action"] == "kill");
    CHECK(e["args"]["pathname"]["resolved"] == "/usr/bin/id");
    CHECK(e["race_free"] == true);
  }
}

TEST_CASE("sendmmsg with destinations is pinned: one message per call, none lost",
          "[escape][pin]") {
  harness::TempDir dir;
  std::string policy = dir.File("p.json", R"({"version": 1, "extends": "standard", "network": {
      "rules": [{"id": "lo", "cidr": "127.0.0.1/32", "verbs": ["connect", "send", "bind"],
                 "action": "allow"}]}})");
  harness::Options o;
  o.tracejail_args = {"--policy", policy};
  auto r = Run({Sample("sendmmsg_udp")}, o);
  INFO(r.out << r.err);
  CHECK(r.out.find("sendmmsg -> 1, msg_len[0]=5") != std::string::npos);
  CHECK(r.out.find("got 5 first") != std::string::npos);
  CHECK(r.out.find("got 7 second!") != std::string::npos);
  auto native = harness::RunNative({Sample("sendmmsg_udp")});
  CHECK(native.out.find("got 7 second!") != std::string::npos);
}

TEST_CASE("pinning leaves NULL path arguments alone (futimens is utimensat(fd, NULL))",
          "[escape][pin]") {
  harness::TempDir dir;
  harness::Options o;
  o.cwd = dir.path();
  auto r = Run({"/usr/bin/python3", "-c",
                "import os\nfd = os.open('f', os.O_CREAT | os.O_WRONLY)\nos.utime(fd, (7, 7))\n"
                "print(int(os.stat('f').st_mtime))"},
               o);
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(r.out == "7\n");
}
