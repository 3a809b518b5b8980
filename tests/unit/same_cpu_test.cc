// The same-CPU pin's pure parts (tracer/same_cpu.h) and its filter rows (TraceAffinity).
#include <sys/syscall.h>

#include <catch2/catch.hpp>

#include "policy/loader.h"
#include "syscalls/table.h"
#include "tracer/same_cpu.h"
#include "tracer/seccomp_filter.h"

namespace {

policy::Policy Load(const std::string& text) {
  return policy::LoadPolicyText(text, "test.json", policy::DefaultVariables());
}

}  // namespace

TEST_CASE("ParseRunTime reads the time on the CPU of a schedstat line", "[same-cpu]") {
  CHECK(tracer::ParseRunTime("4510512 0 1\n") == 4510512u);
  CHECK(tracer::ParseRunTime("516911659 510442369 131") == 516911659u);
  CHECK_FALSE(tracer::ParseRunTime(""));
  CHECK_FALSE(tracer::ParseRunTime("12"));
  CHECK_FALSE(tracer::ParseRunTime(" 12 3"));
  CHECK_FALSE(tracer::ParseRunTime("12x 3"));
  CHECK_FALSE(tracer::ParseRunTime("99999999999999999999999 1 1"));  // out of range
}

TEST_CASE("BusyTasks: tasks that ran more than a fifth of the interval", "[same-cpu]") {
  // A tracee and its stops: one busy task, whatever it does.
  CHECK(tracer::BusyTasks({90'000'000}, 0.1) == 1);
  // A pipeline whose consumer barely runs, and a parent waiting for its child.
  CHECK(tracer::BusyTasks({80'000'000, 5'000'000, 0}, 0.1) == 1);
  // Two spinning threads sharing the CPU: parallel work.
  CHECK(tracer::BusyTasks({50'000'000, 49'000'000}, 0.1) == 2);
  CHECK(tracer::BusyTasks({20'000'000, 20'000'000}, 0.1) == 0);  // exactly a fifth: not more
  CHECK(tracer::BusyTasks({50'000'000, 50'000'000}, 0) == 0);    // no interval yet
  CHECK(tracer::BusyTasks({}, 0.1) == 0);
}

TEST_CASE("TraceAffinity stops the affinity calls only where the policy leaves them alone",
          "[same-cpu][plan]") {
  syscalls::SyscallIndex index;
  policy::Policy standard = Load(R"({"version": 1, "extends": "standard"})");
  tracer::FilterPlan plan = tracer::MakePlan(standard, index);
  CHECK(tracer::TraceAffinity(plan, standard).empty());
  CHECK(plan.affinity_traced == std::vector<int>{SYS_sched_getaffinity, SYS_sched_setaffinity});
  CHECK_FALSE(tracer::BuildFilter(plan, index).empty());  // libseccomp takes the rows

  // A deny default: stopping them would let the tracer run what the kernel must refuse.
  policy::Policy deny = Load(R"({"version": 1, "extends": "standard", "syscalls": {
      "default": {"action": "deny", "errno": "EPERM"}}})");
  tracer::FilterPlan deny_plan = tracer::MakePlan(deny, index);
  CHECK(tracer::TraceAffinity(deny_plan, deny) == "the policy's syscall default is not allow");
  CHECK(deny_plan.affinity_traced.empty());

  // A rule of the policy's own decides the call.
  policy::Policy ruled = Load(R"({"version": 1, "extends": "standard", "syscalls": {
      "rules": [{"names": ["sched_setaffinity"], "action": "deny", "errno": "EPERM"}]}})");
  tracer::FilterPlan ruled_plan = tracer::MakePlan(ruled, index);
  CHECK(tracer::TraceAffinity(ruled_plan, ruled) ==
        "the policy has a syscall rule for sched_setaffinity");
  CHECK(ruled_plan.affinity_traced.empty());
}
