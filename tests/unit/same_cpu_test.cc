// The same-CPU pin's pure parts (tracer/same_cpu.h) and its filter rows (TraceAffinity).
#include <sys/syscall.h>

#include <catch2/catch.hpp>

#include "policy/loader.h"
#include "tracer/same_cpu.h"
#include "tracer/seccomp_filter.h"
#include "tracer/syscall_table.h"

namespace {

policy::Policy Load(const std::string& text) {
  return policy::LoadPolicyText(text, "test.json", policy::DefaultVariables());
}

}  // namespace

TEST_CASE("ParseRunDelay reads the run-queue wait of a schedstat line", "[same-cpu]") {
  CHECK(tracer::ParseRunDelay("4510512 0 1\n") == 0u);
  CHECK(tracer::ParseRunDelay("516911659 510442369 131\n") == 510442369u);
  CHECK(tracer::ParseRunDelay("516911659 510442369 131") == 510442369u);
  CHECK_FALSE(tracer::ParseRunDelay(""));
  CHECK_FALSE(tracer::ParseRunDelay("12"));
  CHECK_FALSE(tracer::ParseRunDelay(" 12 3"));
  CHECK_FALSE(tracer::ParseRunDelay("12 x 3"));
  CHECK_FALSE(tracer::ParseRunDelay("12 3x 3"));
}

TEST_CASE("Contended: more than a tenth of the interval waiting for the CPU", "[same-cpu]") {
  CHECK_FALSE(tracer::Contended(0, 0.1));
  CHECK_FALSE(tracer::Contended(10'000'000, 0.1));  // exactly 10%
  CHECK(tracer::Contended(10'000'001, 0.1));
  CHECK(tracer::Contended(103'000'000, 0.107));
  CHECK_FALSE(tracer::Contended(1'000'000'000, 0));  // no interval yet
}

TEST_CASE("TraceAffinity stops the affinity calls only where the policy leaves them alone",
          "[same-cpu][plan]") {
  tracer::SyscallIndex index;
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
