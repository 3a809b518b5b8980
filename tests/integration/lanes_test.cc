// Lanes (tracer/lanes.h, tracer/supervisor_lanes.cc): with TRACEJAIL_LANES set, one tracer
// thread per CPU, and tasks handed between them while parked in the kernel. With
// TRACEJAIL_LANES_HANDOVER=every a task that may move is handed over at every seccomp stop it
// may move at, so these runs go through the handover thousands of times: every call still runs
// once and is decided, nothing is lost, the run ends truthfully. Synchronised on the programs'
// own output and exit, never on time.
#include <signal.h>
#include <stdlib.h>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <fstream>

#include "harness.h"

namespace {

bool TwoCpus() { return harness::TwoCpus("there is one lane only"); }

struct LaneRun {
  harness::Result r;
  nlohmann::json scheduling;
};

// `command` under tracejail with lanes on (`handover`: "every" or "balance").
LaneRun RunInLanes(const std::vector<std::string>& command, const std::string& handover,
                   std::vector<std::string> args = {}) {
  harness::TempDir dir;
  std::string result = dir.path() + "/result.json";
  harness::Options o;
  o.tracejail_args = {"--result", result, "--same-cpu", "auto"};
  o.tracejail_args.insert(o.tracejail_args.end(), args.begin(), args.end());
  o.in_child = [handover] {
    return setenv("TRACEJAIL_LANES", "auto", 1) == 0 &&
           setenv("TRACEJAIL_LANES_HANDOVER", handover.c_str(), 1) == 0;
  };
  LaneRun run;
  run.r = harness::Run(command, o);
  auto doc = nlohmann::json::parse(harness::Slurp(result), nullptr, false);
  if (doc.is_object() && doc.contains("scheduling")) run.scheduling = doc["scheduling"];
  return run;
}

std::uint64_t Handovers(const LaneRun& run) {
  return run.scheduling.contains("handovers") ? run.scheduling["handovers"].get<std::uint64_t>()
                                              : 0;
}

}  // namespace

TEST_CASE("lanes: the result says how many lanes ran and how many tasks moved", "[lanes]") {
  if (!TwoCpus()) return;
  // A child (the main process never moves) making a few hundred flagged calls.
  LaneRun run =
      RunInLanes({"/bin/sh", "-c",
                  "for i in 1 2 3 4 5 6 7 8; do /bin/cat /etc/hostname > /dev/null; done; "
                  "echo DONE; exit 3"},
                 "every");
  CHECK(run.r.status == 3);
  CHECK(run.r.out == "DONE\n");
  INFO(run.scheduling.dump());
  REQUIRE(run.scheduling.contains("lanes"));
  CHECK(run.scheduling["lanes"].get<std::string>().find("lanes, a handover at every stop") !=
        std::string::npos);
  CHECK(Handovers(run) > 8);
}

TEST_CASE("lanes: a call handed over is decided by the lane it reaches", "[lanes]") {
  if (!TwoCpus()) return;
  harness::TempDir dir;
  std::string secret = dir.File("secret.txt", "the secret\n");
  std::string visible = dir.File("visible.txt", "hello\n");
  std::string policy = dir.File("policy.json", fmt::format(R"({{
    "version": 1, "extends": "default",
    "files": {{"rules": [{{"path": "{}", "access": ["read"], "action": "deny"}}]}}
  }})",
                                                           secret));
  // In a child of the shell, so that its calls move; "; exit" keeps the shell from exec'ing it.
  LaneRun run = RunInLanes(
      {"/bin/sh", "-c", harness::Sample("open_file") + " " + secret + " " + visible + "; exit $?"},
      "every", {"--policy", policy});
  CHECK(run.r.status == 1);
  CHECK(run.r.out.find("DENIED " + secret + " EACCES") != std::string::npos);
  CHECK(run.r.out.find("OK " + visible + " 6") != std::string::npos);
  CHECK(run.r.out.find("the secret") == std::string::npos);
  auto denied = run.r.Events("permission_denied", "openat");
  REQUIRE(denied.size() == 1);
  CHECK(denied[0]["args"]["pathname"]["resolved"] == secret);
  CHECK(Handovers(run) > 0);
}

TEST_CASE("lanes: threads, forks, exec from a thread, signals and orphans, moved at every stop",
          "[lanes]") {
  if (!TwoCpus()) return;
  for (int i = 0; i < 20; ++i) {
    LaneRun run = RunInLanes({harness::Sample("stress_mix")}, "every");
    INFO("run " << i << ": " << run.r.err << " " << run.scheduling.dump());
    REQUIRE(run.r.out == "MIX 11\n");
    REQUIRE(run.r.status == 7);
    // How many moved depends on timing (most of its children share, or end at once; under a
    // sanitizer fewer reach a call in time): that the lanes ran is what is certain.
    REQUIRE_THAT(run.scheduling.value("lanes", ""),
                 Catch::EndsWith(" lanes, a handover at every stop"));
  }
}

TEST_CASE("lanes: what the command leaves running is killed, wherever it moved", "[lanes]") {
  if (!TwoCpus()) return;
  harness::TempDir dir;
  std::string pidfile = dir.path() + "/daemon.pid";
  LaneRun run = RunInLanes({harness::Sample("daemonize"), pidfile}, "every");
  CHECK(run.r.status == 0);
  CHECK(run.r.out == "DAEMONIZED\n");
  std::ifstream in(pidfile);
  pid_t pid = 0;
  in >> pid;
  REQUIRE(pid > 0);
  CHECK(kill(pid, 0) == -1);
  CHECK(Handovers(run) > 0);
}

TEST_CASE("lanes: a timeout ends a run whose tasks keep moving", "[lanes]") {
  if (!TwoCpus()) return;
  // A child loops on flagged calls forever; every one of them is handed over.
  LaneRun run =
      RunInLanes({"/bin/sh", "-c", "while :; do /bin/cat /etc/hostname > /dev/null; done; exit 0"},
                 "every", {"--timeout", "1s"});
  CHECK(run.r.status != 0);
  auto timeouts = run.r.Events("timeout_exceeded");
  CHECK(timeouts.size() == 1);
  CHECK(Handovers(run) > 0);
}

TEST_CASE("lanes: a bad TRACEJAIL_LANES is refused with what it takes", "[lanes]") {
  harness::Options o;
  o.events = false;
  o.summary = true;
  o.in_child = [] { return setenv("TRACEJAIL_LANES", "lots", 1) == 0; };
  harness::Result r = harness::Run({"/bin/true"}, o);
  CHECK(r.status != 0);
  CHECK(r.err.find("TRACEJAIL_LANES=\"lots\"") != std::string::npos);
  CHECK(r.err.find("\"auto\"") != std::string::npos);
}

TEST_CASE("lanes: a task with a seccomp filter of its own is never parked", "[lanes]") {
  if (!TwoCpus()) return;
  // Its filter fails rt_sigsuspend: parked, it would run on untraced and its opens would fail.
  LaneRun run = RunInLanes({harness::Sample("own_filter"), "/etc/hostname", "300"}, "every",
                           {"--level", "basic"});
  INFO(run.r.err << " " << run.scheduling.dump());
  CHECK(run.r.out == "OPENED 300 FAILED 0\n");
  CHECK(run.r.status == 0);
  // At most the one stop before its filter (the fork's child moves once, at its first call).
  CHECK(Handovers(run) <= 2);
}

TEST_CASE("lanes: two busy threads of one process get a second CPU", "[lanes]") {
  if (!TwoCpus()) return;
  // Threads share their memory, so they never move apart: two_cpus ends only once the pin is
  // given up for them.
  LaneRun run = RunInLanes({harness::Sample("two_cpus")}, "balance");
  INFO(run.r.err);
  REQUIRE(run.r.status == 0);
  CHECK_THAT(run.r.out, Catch::StartsWith("TWO CPUS "));
  CHECK_THAT(run.scheduling["why"].get<std::string>(), Catch::Contains("of one lane"));
}
