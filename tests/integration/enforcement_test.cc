// Decisions take effect: denied calls fail with the policy's errno and never reach their
// target; allowed calls behave as without tracejail; every denial is an event with its rule.
#include <stdlib.h>
#include <unistd.h>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "harness.h"

using harness::Run;
using harness::Sample;

namespace {

std::string DenyReadPolicy(const harness::TempDir& dir, const std::string& secret,
                           const std::string& action = "deny") {
  return dir.File("policy.json", fmt::format(R"({{
    "version": 1, "extends": "default",
    "files": {{"rules": [{{"path": "{}", "access": ["read"], "action": "{}"}}]}}
  }})",
                                             secret, action));
}

}  // namespace

TEST_CASE("a denied open returns the errno and the file is not read", "[files]") {
  harness::TempDir dir;
  std::string secret = dir.File("secret.txt", "the secret\n");
  std::string visible = dir.File("visible.txt", "hello\n");
  auto r = Run({Sample("open_file"), secret, visible},
               {.tracejail_args = {"--policy", DenyReadPolicy(dir, secret)}});
  CHECK(r.status == 1);  // one failure
  CHECK(r.out.find("DENIED " + secret + " EACCES") != std::string::npos);
  CHECK(r.out.find("OK " + visible + " 6") != std::string::npos);
  CHECK(r.out.find("the secret") == std::string::npos);
  auto denied = r.Events("permission_denied", "openat");
  REQUIRE(denied.size() == 1);
  const auto& e = denied[0];
  CHECK(e["args"]["pathname"]["resolved"] == secret);
  CHECK(e["args"]["pathname"]["access"] == "read");
  CHECK(e["args"]["flags"] == "O_RDONLY");
  CHECK(e["decision"]["action"] == "deny");
  CHECK(e["decision"]["errno"] == "EACCES");
  CHECK(e["decision"]["rule"].get<std::string>().find("#/files/rules/0") != std::string::npos);
  CHECK(e["syscall"]["arch"] == "x86_64");
  CHECK(e["syscall"]["nr"] == 257);
  CHECK(e["exe"] == Sample("open_file"));
  // Lifecycle events (process_start, process_exec) come first in the same sequence.
  REQUIRE(r.lifecycle.size() >= 2);
  CHECK(e["seq"].get<std::uint64_t>() > r.lifecycle[1]["seq"].get<std::uint64_t>());
  CHECK(e["pid"].get<int>() > 0);
  CHECK(e.contains("time"));
  CHECK(e["raw_args"].size() == 6);
}

TEST_CASE("a secret reached through a symlink is still denied", "[files]") {
  harness::TempDir dir;
  std::string secret = dir.File("secret.txt", "the secret\n");
  std::string policy = DenyReadPolicy(dir, secret);
  std::string link = dir.path() + "/innocent";
  REQUIRE(symlink(secret.c_str(), link.c_str()) == 0);
  auto r = Run({Sample("open_file"), link}, {.tracejail_args = {"--policy", policy}});
  CHECK(r.out.find("DENIED " + link + " EACCES") != std::string::npos);
  auto denied = r.Events("permission_denied", "openat");
  REQUIRE(denied.size() == 1);
  CHECK(denied[0]["args"]["pathname"]["raw"] == link);
  CHECK(denied[0]["args"]["pathname"]["resolved"] == secret);
}

TEST_CASE("writes outside the work areas are denied by the default policy", "[files]") {
  harness::TempDir dir;
  std::string target = "/etc/tracejail-should-not-exist";
  auto r = Run({Sample("open_file"), "-w", target, dir.path() + "/ok.txt"});
  CHECK(r.out.find("DENIED " + target + " EACCES") != std::string::npos);
  CHECK(r.out.find("OK " + dir.path() + "/ok.txt 8") != std::string::npos);
  CHECK(access(target.c_str(), F_OK) != 0);
  auto denied = r.Events("permission_denied", "openat");
  REQUIRE(denied.size() == 1);
  CHECK(denied[0]["args"]["pathname"]["access"] == "write|create");
}

TEST_CASE("a denied connect never reaches a loopback listener", "[network]") {
  harness::LoopbackListener listener;
  auto r = Run({Sample("connect_tcp"), "127.0.0.1", std::to_string(listener.port())});
  CHECK(r.status == 1);
  CHECK(r.out == "FAILED EACCES\n");
  CHECK_FALSE(listener.Received());
  auto denied = r.Events("permission_denied", "connect");
  REQUIRE(denied.size() == 1);
  CHECK(denied[0]["args"]["addr"]["family"] == "AF_INET");
  CHECK(denied[0]["args"]["addr"]["address"] == "127.0.0.1");
  CHECK(denied[0]["args"]["addr"]["port"] == listener.port());
}

TEST_CASE("the same connect succeeds in audit mode and is recorded as would-deny", "[network]") {
  harness::LoopbackListener listener;
  auto r = Run({Sample("connect_tcp"), "127.0.0.1", std::to_string(listener.port())},
               {.tracejail_args = {"--mode", "audit"}});
  CHECK(r.status == 0);
  CHECK(r.out == "CONNECTED\n");
  CHECK(listener.Received());
  auto events = r.Events("permission_denied", "connect");
  REQUIRE(events.size() == 1);
  CHECK(events[0]["decision"]["action"] == "allow");
  CHECK(events[0]["decision"]["would"] == "deny");
}

TEST_CASE("a policy rule can allow one loopback port", "[network]") {
  harness::LoopbackListener listener;
  harness::TempDir dir;
  std::string policy = dir.File("net.json", fmt::format(R"({{
    "version": 1, "extends": "default",
    "network": {{"rules": [{{"cidr": "127.0.0.0/8", "ports": "{}", "action": "allow"}}]}}
  }})",
                                                        listener.port()));
  auto r = Run({Sample("connect_tcp"), "127.0.0.1", std::to_string(listener.port())},
               {.tracejail_args = {"--policy", policy}});
  CHECK(r.out == "CONNECTED\n");
  CHECK(listener.Received());
  CHECK(r.events.empty());
}

TEST_CASE("a denied UDP sendto never reaches the receiver", "[network]") {
  harness::LoopbackListener receiver(/*udp=*/true);
  auto r = Run({Sample("connect_tcp"), "127.0.0.1", std::to_string(receiver.port()), "udp"});
  CHECK(r.out == "FAILED EACCES\n");
  CHECK_FALSE(receiver.Received());
  auto denied = r.Events("permission_denied", "sendto");
  REQUIRE(denied.size() == 1);
  CHECK(denied[0]["args"]["dest_addr"]["port"] == receiver.port());
}

TEST_CASE("a denied exec fails with the errno, records argv, and the shell goes on", "[exec]") {
  harness::TempDir dir;
  std::string policy = dir.File("noexec.json", R"({
    "version": 1, "extends": "default",
    "files": {"rules": [{"path": "/usr/bin/id", "access": ["exec"], "action": "deny"}]}
  })");
  auto r = Run({"/bin/sh", "-c", "id -u; echo after"}, {.tracejail_args = {"--policy", policy}});
  CHECK(r.out == "after\n");
  // dash tries each PATH entry; /bin/id is /usr/bin/id through the /bin symlink, so every
  // attempt that reaches the file is denied, whatever name it used.
  auto denied = r.Events("permission_denied", "execve");
  REQUIRE_FALSE(denied.empty());
  for (const auto& e : denied) {
    CHECK(e["args"]["pathname"]["resolved"] == "/usr/bin/id");
    CHECK(e["args"]["argv"] == nlohmann::json::array({"id", "-u"}));
  }
}

TEST_CASE("a kill rule ends the whole tree with the documented status", "[kill]") {
  harness::TempDir dir;
  std::string secret = dir.File("secret.txt", "x");
  std::string policy = DenyReadPolicy(dir, secret, "kill");
  // The shell's child opens the secret; the shell itself must die too.
  auto r = Run({"/bin/sh", "-c", fmt::format("{} {}; echo survived", Sample("open_file"), secret)},
               {.tracejail_args = {"--policy", policy}});
  CHECK(r.status == 122);
  CHECK(r.out.find("survived") == std::string::npos);
  CHECK(r.err.find("killed by policy") != std::string::npos);
  auto events = r.Events("permission_denied", "openat");
  REQUIRE(events.size() == 1);
  CHECK(events[0]["decision"]["action"] == "kill");
}

TEST_CASE("a protocol rule tells UDP from TCP on the same address", "[network]") {
  harness::LoopbackListener udp(/*udp=*/true);
  harness::LoopbackListener tcp;
  harness::TempDir dir;
  std::string policy = dir.File("udp.json", R"({
    "version": 1, "extends": "standard",
    "network": {"rules": [{"protocol": "udp", "cidr": "127.0.0.1/32", "verbs": ["connect", "send"],
                           "action": "allow"}]}
  })");
  auto sent = Run({Sample("connect_tcp"), "127.0.0.1", std::to_string(udp.port()), "udp"},
                  {.tracejail_args = {"--policy", policy}});
  CHECK(sent.out == "SENT\n");
  CHECK(udp.Received());
  auto refused = Run({Sample("connect_tcp"), "127.0.0.1", std::to_string(tcp.port())},
                     {.tracejail_args = {"--policy", policy}});
  CHECK(refused.out == "FAILED EACCES\n");
  CHECK_FALSE(tcp.Received());
}

TEST_CASE("the summary names the first denials and a pasteable tip without an events file",
          "[files][summary]") {
  harness::TempDir dir;
  std::string secret = dir.File("secret.txt", "x");
  auto r = Run({Sample("open_file"), secret},
               {.tracejail_args = {"--policy", DenyReadPolicy(dir, secret)},
                .events = false,
                .summary = true});
  CHECK(r.status == 1);
  CHECK(r.err.find(fmt::format("openat deny {} (read)", secret)) != std::string::npos);
  CHECK(r.err.find("  <- ") != std::string::npos);
  CHECK(r.err.find(fmt::format("to allow it, add to the policy: "
                               "{{\"files\":{{\"rules\":[{{\"access\":[\"read\"],"
                               "\"action\":\"allow\",\"path\":\"{}\"}}]}}}}",
                               secret)) != std::string::npos);
  CHECK(r.err.find("run with --events FILE for details") == std::string::npos);
}

TEST_CASE("a kill by policy names the call that caused it", "[kill][summary]") {
  harness::TempDir dir;
  std::string secret = dir.File("secret.txt", "x");
  auto r = Run({"/bin/sh", "-c", fmt::format("{} {}; echo survived", Sample("open_file"), secret)},
               {.tracejail_args = {"--policy", DenyReadPolicy(dir, secret, "kill")}});
  CHECK(r.status == 122);
  CHECK(r.err.find(fmt::format("killed by policy: openat kill {} (read)", secret)) !=
        std::string::npos);
}

TEST_CASE("as root with HOME=/root standard lets the command read root's own home",
          "[files][home]") {
  const char* home = std::getenv("HOME");
  if (geteuid() != 0 || home == nullptr || std::string(home) != "/root") {
    harness::Skip("needs root with HOME=/root (the case git hit: ~/.gitconfig denied)");
    return;
  }
  char name[] = "/root/.tracejail-own-home-XXXXXX";
  int fd = mkstemp(name);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, "mine\n", 5) == 5);
  close(fd);
  auto r = Run({"/bin/cat", name});
  unlink(name);
  CHECK(r.status == 0);
  CHECK(r.out == "mine\n");
  CHECK(r.Events("permission_denied", "openat").empty());
}

// README and `policy explain` say it: under standard the command starts in the caller's
// directory and may read it but not change it; the summary names the rule that would allow it.
TEST_CASE("under standard the current directory is readable not writable and the summary says how",
          "[files][summary][cwd]") {
  // A project directory outside every temporary directory standard lets programs write.
  harness::ProjectDir dir;
  const std::string& project = dir.path();
  if (project.empty()) {
    harness::Skip("no writable directory outside the temporary directories (cwd and HOME)");
    return;
  }
  { std::ofstream(project + "/in.txt") << "source\n"; }
  auto r = Run({"/bin/sh", "-c", "cat in.txt && echo built > out.txt"},
               {.cwd = project, .events = false, .summary = true});
  const bool created = std::filesystem::exists(project + "/out.txt");
  CHECK(r.out == "source\n");
  CHECK(r.status != 0);
  CHECK_FALSE(created);
  CHECK(r.err.find(fmt::format("deny {}/out.txt", project)) != std::string::npos);
  CHECK(r.err.find(fmt::format("\"path\":\"{}/out.txt\"", project)) != std::string::npos);
  auto explain = harness::Tool({"policy", "explain", "standard"});
  CHECK(explain.out.find("starts in the current directory") != std::string::npos);
}
