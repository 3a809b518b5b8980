// The lanes' pure parts (tracer/lanes.h) and the filter check they rest on (ParkingAllowed).
#include <catch2/catch.hpp>

#include "policy/loader.h"
#include "syscalls/table.h"
#include "tracer/lanes.h"
#include "tracer/seccomp_filter.h"

namespace {

policy::Policy Load(const std::string& text) {
  return policy::LoadPolicyText(text, "test.json", policy::DefaultVariables());
}

}  // namespace

TEST_CASE("TRACEJAIL_LANES and TRACEJAIL_LANES_HANDOVER: what each value means", "[lanes]") {
  std::string error;
  auto unset = tracer::ParseLaneConfig(nullptr, nullptr, error);
  REQUIRE(unset);
  CHECK(unset->lanes == tracer::kMaxLanes);  // on by default: one per CPU
  CHECK_FALSE(unset->every_stop);
  CHECK(tracer::ParseLaneConfig("off", "", error)->lanes == 0);
  CHECK(tracer::ParseLaneConfig("", "balance", error)->lanes == tracer::kMaxLanes);
  CHECK(tracer::ParseLaneConfig("auto", nullptr, error)->lanes == tracer::kMaxLanes);
  CHECK(tracer::ParseLaneConfig("2", nullptr, error)->lanes == 2);
  CHECK(tracer::ParseLaneConfig("64", nullptr, error)->lanes == 64);
  CHECK(tracer::ParseLaneConfig("auto", "every", error)->every_stop);
  for (const char* bad : {"1", "0", "65", "-2", "2x", " 2", "yes", "99999999999999999999"}) {
    INFO(bad);
    error.clear();
    CHECK_FALSE(tracer::ParseLaneConfig(bad, nullptr, error));
    CHECK(error.find("TRACEJAIL_LANES=") == 0);
    CHECK(error.find("from 2 to 64") != std::string::npos);
  }
  error.clear();
  CHECK_FALSE(tracer::ParseLaneConfig("auto", "always", error));
  CHECK(error.find("TRACEJAIL_LANES_HANDOVER=\"always\"") == 0);
  // Hostile bytes are escaped, not printed raw.
  error.clear();
  CHECK_FALSE(tracer::ParseLaneConfig("\x1b[2J", nullptr, error));
  CHECK(error.find('\x1b') == std::string::npos);
}

TEST_CASE("PickLane moves a task only when that evens the lanes out", "[lanes]") {
  using V = std::vector<int>;
  CHECK(tracer::PickLane(V{2, 0}, 0) == std::optional<std::size_t>(1));
  CHECK(tracer::PickLane(V{0, 2}, 1) == std::optional<std::size_t>(0));
  CHECK_FALSE(tracer::PickLane(V{1, 0}, 0));  // alone in its lane: it stays beside it
  CHECK_FALSE(tracer::PickLane(V{2, 1}, 0));  // 1 and 2 would be no better than 2 and 1
  CHECK(tracer::PickLane(V{3, 1}, 0) == std::optional<std::size_t>(1));
  CHECK(tracer::PickLane(V{4, 3, 1, 2}, 0) == std::optional<std::size_t>(2));  // the least busy
  CHECK_FALSE(tracer::PickLane(V{2, 2, 2}, 1));
  CHECK_FALSE(tracer::PickLane(V{5}, 0));     // one lane
  CHECK_FALSE(tracer::PickLane(V{2, 0}, 7));  // no such lane
  CHECK_FALSE(tracer::PickLane(V{}, 0));
}

TEST_CASE("ParkingAllowed: lanes run only where the filter lets every rt_sigsuspend run",
          "[lanes][plan]") {
  syscalls::SyscallIndex index;
  for (const char* level : {"none", "basic", "standard", "strict", "maximum"}) {
    INFO(level);
    policy::Policy p = Load(std::string(R"({"version": 1, "extends": ")") + level + "\"}");
    CHECK(tracer::ParkingAllowed(tracer::MakePlan(p, index), p).empty());
    CHECK(tracer::ParkingAllowed(tracer::MakePlan(p, index, /*audit=*/true), p).empty());
  }
  // A parked task has no tracer: a call that failed or stopped would leave it running on the
  // parking registers.
  policy::Policy ruled = Load(R"({"version": 1, "extends": "standard", "syscalls": {
      "rules": [{"names": ["rt_sigsuspend"], "action": "deny", "errno": "EPERM"}]}})");
  CHECK(tracer::ParkingAllowed(tracer::MakePlan(ruled, index), ruled) ==
        "the policy has a syscall rule for rt_sigsuspend");
  policy::Policy deny = Load(R"({"version": 1, "extends": "standard", "syscalls": {
      "default": {"action": "deny", "errno": "EPERM"}}})");
  CHECK(tracer::ParkingAllowed(tracer::MakePlan(deny, index), deny) ==
        "the policy's syscall default is not allow");
}
