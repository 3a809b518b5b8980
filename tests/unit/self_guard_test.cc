// SelfGuard: which calls reach tracejail or an ancestor of it (tracer/self_guard.h), and the
// targets the decoder names for it. A fake process table; no processes.
#include <signal.h>
#include <sys/ptrace.h>

#include <catch2/catch.hpp>
#include <map>

#include "fakes.h"
#include "syscalls/table.h"
#include "tracer/self_guard.h"

namespace {

// init (1) -> sshd (100) -> bash (200) -> tracejail (300, threads 301 and 302).
// An unrelated process 500 (parent 1). Groups: 1:1, 100:100, 200:200, 300:200, 500:500.
tracer::ProcessLookup Fake() {
  static const std::map<pid_t, pid_t> parent = {{1, 0}, {100, 1}, {200, 100}, {300, 200}, {500, 1}};
  static const std::map<pid_t, pid_t> tgid = {{301, 300}, {302, 300}};
  static const std::map<pid_t, pid_t> group = {
      {1, 1}, {100, 100}, {200, 200}, {300, 200}, {500, 500}};
  tracer::ProcessLookup l;
  l.tgid_of = [](pid_t tid) -> std::optional<pid_t> {
    if (auto it = tgid.find(tid); it != tgid.end()) return it->second;
    if (parent.contains(tid)) return tid;
    return std::nullopt;
  };
  l.parent_of = [](pid_t pid) -> std::optional<pid_t> {
    if (auto it = parent.find(pid); it != parent.end()) return it->second;
    return std::nullopt;
  };
  l.group_of = [](pid_t pid) -> std::optional<pid_t> {
    if (auto it = group.find(pid); it != group.end()) return it->second;
    return std::nullopt;
  };
  l.name_of = [](pid_t pid) { return "proc" + std::to_string(pid); };
  return l;
}

tracer::OutsideTargets Pids(std::vector<pid_t> pids) {
  tracer::OutsideTargets t;
  t.pids = std::move(pids);
  return t;
}

}  // namespace

TEST_CASE("SelfGuard: tracejail, its threads and its ancestors are protected", "[self]") {
  tracer::SelfGuard guard(300, Fake());
  CHECK(guard.Protected() == std::vector<pid_t>{300, 200, 100, 1});
  CHECK_THAT(guard.Check(Pids({300})), Catch::Contains("tracejail itself"));
  CHECK_THAT(guard.Check(Pids({302})), Catch::Contains("tracejail itself"));  // a thread
  CHECK_THAT(guard.Check(Pids({200})), Catch::Contains("ancestor of tracejail (proc200)"));
  CHECK_THAT(guard.Check(Pids({1})), Catch::Contains("ancestor"));
  CHECK(guard.Check(Pids({500})).empty());  // unrelated: the policy decides
  CHECK(guard.Check(Pids({999})).empty());  // gone
  CHECK_THAT(guard.Check(Pids({500, 100})), Catch::Contains("pid 100"));
  CHECK(guard.Check({}).empty());
}

TEST_CASE("SelfGuard: process groups and kill(-1)", "[self]") {
  tracer::SelfGuard guard(300, Fake());
  tracer::OutsideTargets group;
  group.group = 200;  // bash's group, which tracejail is in too
  CHECK_THAT(guard.Check(group), Catch::Contains("process group 200"));
  group.group = 500;
  CHECK(guard.Check(group).empty());
  tracer::OutsideTargets all;
  all.every_process = true;
  CHECK_THAT(guard.Check(all), Catch::Contains("kill(-1"));
}

TEST_CASE("SelfGuard: a parent chain that loops or never ends is cut", "[self]") {
  tracer::ProcessLookup l = Fake();
  l.parent_of = [](pid_t pid) -> std::optional<pid_t> { return pid == 7 ? 8 : 7; };
  tracer::SelfGuard guard(7, l);
  CHECK(guard.Protected() == std::vector<pid_t>{7, 8});
}

TEST_CASE("Decode names the processes outside the tree a call reaches", "[self][decode]") {
  using tjtest::FakeContext;
  auto run = [](const char* name, std::array<std::uint64_t, 6> args) {
    FakeContext ctx;
    tracer::DecodedCall out;
    tracer::Decode(*syscalls::FindRow(name), args, ctx, out);
    return out.outside;
  };
  auto neg = [](long v) { return static_cast<std::uint64_t>(v); };
  CHECK(run("kill", {1, SIGKILL}).pids == std::vector<pid_t>{1});
  CHECK(run("kill", {1, 0}).empty());           // a probe reaches nothing
  CHECK(run("kill", {4300, SIGKILL}).empty());  // inside the tree
  CHECK(run("kill", {neg(-1), SIGKILL}).every_process);
  CHECK(run("kill", {neg(-999), SIGKILL}).group == 999);
  CHECK(run("tgkill", {1, 1, SIGKILL}).pids == std::vector<pid_t>{1, 1});
  CHECK(run("pidfd_open", {1, 0}).pids == std::vector<pid_t>{1});
  CHECK(run("ptrace", {PTRACE_SEIZE, 1}).pids == std::vector<pid_t>{1});
  CHECK(run("ptrace", {PTRACE_TRACEME, 0}).empty());
  CHECK(run("process_vm_readv", {1, 0, 0, 0, 0, 0}).pids == std::vector<pid_t>{1});
  CHECK(run("setpgid", {0, 1}).group == 1);
}
