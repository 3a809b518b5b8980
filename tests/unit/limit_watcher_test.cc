// tracer/limit_watcher.h: what the supervisor's tick and signal stops report, the clock given.
#include <signal.h>
#include <unistd.h>

#include <vector>

#include <catch2/catch.hpp>

#include "tracer/limit_watcher.h"

namespace {

using policy::LimitKind;
using tracer::LimitReport;
using tracer::LimitWatcher;

policy::Limits WithTimeout(std::uint64_t ms) {
  policy::Limits limits;
  limits.Set(LimitKind::kTimeout, ms);
  return limits;
}

}  // namespace

TEST_CASE("LimitWatcher reports the timeout once when it is reached", "[limit-watcher]") {
  LimitWatcher w(WithTimeout(1500), nullptr, "", 2.0);
  w.Start(100.0);
  CHECK_FALSE(w.CheckTimeout(101.4, 3));
  auto hit = w.CheckTimeout(101.5, 3);
  REQUIRE(hit);
  CHECK(hit->type == policy::EventType::kTimeoutExceeded);
  CHECK(hit->kind == LimitKind::kTimeout);
  CHECK(hit->observed == "still running after 1.5s: the whole tree (3 tasks) was killed");
  CHECK(hit->details["tasks"] == 3);
  CHECK(w.timed_out());
  CHECK_FALSE(w.CheckTimeout(200.0, 3));
}

TEST_CASE("LimitWatcher without a timeout never times out", "[limit-watcher]") {
  LimitWatcher w({}, nullptr, "", 2.0);
  w.Start(0);
  CHECK_FALSE(w.CheckTimeout(1e9, 1));
  CHECK_FALSE(w.timed_out());
}

TEST_CASE("LimitWatcher: the grace after a forwarded signal", "[limit-watcher]") {
  LimitWatcher w({}, nullptr, "", 2.0);
  CHECK_FALSE(w.GraceOver(1e9));  // no signal forwarded
  CHECK(w.StartGrace(10.0));
  CHECK_FALSE(w.GraceOver(11.9));
  CHECK(w.GraceOver(12.0));
  LimitWatcher none({}, nullptr, "", 0);
  CHECK_FALSE(none.StartGrace(10.0));  // no grace: the tree is killed at once
}

TEST_CASE("LimitWatcher reports SIGXCPU and SIGXFSZ once per task", "[limit-watcher]") {
  LimitWatcher w({}, nullptr, "", 2.0);
  tracer::Tracee t;
  t.tid = getpid();
  CHECK_FALSE(w.SignalLimit(t, SIGINT));
  auto fsize = w.SignalLimit(t, SIGXFSZ);
  REQUIRE(fsize);
  CHECK(fsize->kind == LimitKind::kFileSize);
  CHECK(fsize->observed == tracer::kFileSizeSignalObserved);
  CHECK(fsize->details["signal"] == "SIGXFSZ");
  CHECK_FALSE(w.SignalLimit(t, SIGXFSZ));
  auto cpu = w.SignalLimit(t, SIGXCPU);
  REQUIRE(cpu);
  CHECK(cpu->kind == LimitKind::kCpu);
  CHECK(cpu->observed.starts_with("SIGXCPU after "));
  CHECK(cpu->details.contains("cpu_s"));
  CHECK_FALSE(w.SignalLimit(t, SIGXCPU));
}

TEST_CASE("LimitWatcher without a cgroup or work dir sees no kernel limit", "[limit-watcher]") {
  LimitWatcher w({}, nullptr, "", 2.0);
  std::vector<LimitReport> seen;
  w.CheckKernel(seen);
  CHECK(seen.empty());
}
