// report::FillResult: how what supervision found becomes the execution result.
#include <catch2/catch.hpp>

#include "report/run_facts.h"

namespace {

report::ExecutionResult Fill(const report::RunFacts& facts, bool spawn_failed = false) {
  report::ExecutionResult exec;
  report::ResourceUsage usage{
      .wall_s = 1.5, .cpu_user_s = 0.25, .cpu_system_s = 0.125, .peak_rss_bytes = 4096};
  report::FillResult(facts, spawn_failed, usage, exec);
  return exec;
}

}  // namespace

TEST_CASE("FillResult: one status in order of precedence", "[run_facts]") {
  using S = report::RunStatus;
  struct Case {
    const char* what;
    report::RunFacts facts;
    bool spawn_failed;
    S expected;
  };
  report::RunFacts limit;
  limit.limits_hit.push_back({policy::LimitKind::kMemory, "600 MiB"});
  report::RunFacts all = limit;
  all.internal_error = "waitpid failed";
  all.timed_out = all.killed_by_policy = true;
  all.term_signal = 9;
  report::RunFacts timeout_and_kill = limit;
  timeout_and_kill.timed_out = timeout_and_kill.killed_by_policy = true;
  report::RunFacts kill_and_limit = limit;
  kill_and_limit.killed_by_policy = true;
  report::RunFacts limit_and_signal = limit;
  limit_and_signal.term_signal = 24;
  report::RunFacts signal;
  signal.term_signal = 11;
  report::RunFacts failed;
  failed.exit_code = 3;
  report::RunFacts detached;
  detached.detached = true;
  const Case cases[] = {
      {"everything at once: the internal error wins", all, false, S::kInternalError},
      {"the command never started", {}, true, S::kInternalError},
      {"timeout before a kill by policy", timeout_and_kill, false, S::kTimedOut},
      {"kill by policy before a limit", kill_and_limit, false, S::kKilledByPolicy},
      {"a limit before the signal it sent", limit_and_signal, false, S::kLimitExceeded},
      {"a signal", signal, false, S::kKilledBySignal},
      {"a non-zero exit", failed, false, S::kRuntimeError},
      {"observe let go of a process that runs on", detached, false, S::kDetached},
      {"exit 0", {}, false, S::kOk},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    CHECK(Fill(c.facts, c.spawn_failed).status == c.expected);
  }
}

TEST_CASE("FillResult: exit code only when the command ended on its own", "[run_facts]") {
  report::RunFacts facts;
  facts.exit_code = 7;
  CHECK(Fill(facts).exit_code == 7);
  CHECK_FALSE(Fill(facts).signal.has_value());
  facts.term_signal = 9;
  CHECK_FALSE(Fill(facts).exit_code.has_value());
  CHECK(Fill(facts).signal == 9);
  report::RunFacts broken;
  broken.internal_error = "a task was lost";
  report::ExecutionResult exec = Fill(broken);
  CHECK_FALSE(exec.exit_code.has_value());  // tracejail does not know how it ended
  CHECK(exec.error == "a task was lost");
  CHECK_FALSE(Fill({}, true).exit_code.has_value());
}

TEST_CASE("FillResult: counts usage and limits are carried over", "[run_facts]") {
  report::RunFacts facts;
  facts.flagged = 10;
  facts.denied = 4;
  facts.processes = 3;
  facts.events = 5;
  facts.peak_memory = 1 << 20;
  facts.interrupted = 2;
  facts.limits_hit = {{policy::LimitKind::kMemory, "600 MiB"}, {policy::LimitKind::kCpu, "2s"}};
  report::ExecutionResult exec = Fill(facts);
  CHECK(exec.syscalls_flagged == 10);
  CHECK(exec.syscalls_denied == 4);
  CHECK(exec.processes == 3);
  CHECK(exec.events == 5);
  CHECK(exec.peak_memory_bytes == std::uint64_t{1} << 20);
  CHECK(exec.interrupted == 2);
  CHECK(exec.wall_time_s == 1.5);
  CHECK(exec.cpu_user_s == 0.25);
  CHECK(exec.cpu_system_s == 0.125);
  CHECK(exec.peak_rss_bytes == 4096);
  REQUIRE(exec.limits_hit.size() == 2);
  CHECK(exec.limits_hit[0]["limit"] == std::string(policy::InfoOf(policy::LimitKind::kMemory).key));
  CHECK(exec.limits_hit[0]["observed"] == "600 MiB");
  CHECK(exec.limits_hit[1]["limit"] == std::string(policy::InfoOf(policy::LimitKind::kCpu).key));
  CHECK(Fill({}).limits_hit.is_array());  // always a list, empty when nothing was hit
  CHECK_FALSE(Fill({}).interrupted.has_value());
}

TEST_CASE("FillResult: a process observe let go has no exit code", "[run_facts]") {
  report::RunFacts facts;
  facts.detached = true;
  facts.interrupted = 2;
  report::ExecutionResult exec = Fill(facts);
  CHECK(exec.status == report::RunStatus::kDetached);
  CHECK_FALSE(exec.exit_code.has_value());
  CHECK(exec.interrupted == 2);
}
