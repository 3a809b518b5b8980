// The filter plan in audit mode (nothing denied in the kernel) and with layered syscall rules
// (an extending policy's allow must beat its base's deny, so the tracer decides).
#include <algorithm>

#include <catch2/catch.hpp>

#include "policy/loader.h"
#include "syscalls/table.h"
#include "tracer/seccomp_filter.h"

namespace {

policy::Policy Load(const std::string& text) {
  return policy::LoadPolicyText(text, "test.json", policy::DefaultVariables());
}

const tracer::KernelRule* RuleFor(const tracer::FilterPlan& plan, const std::string& name) {
  for (const auto& k : plan.kernel_rules) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("filter plan: audit mode turns kernel denials and a deny default into trace stops",
          "[plan]") {
  syscalls::SyscallIndex index;
  policy::Policy p = Load(R"({"version": 1, "extends": "standard", "syscalls": {
      "default": {"action": "deny", "errno": "EPERM"},
      "rules": [{"names": ["uname"], "action": "kill"}, {"names": ["getpid"], "action": "allow"}]}})");
  tracer::FilterPlan enforce = tracer::MakePlan(p, index);
  REQUIRE(RuleFor(enforce, "uname") != nullptr);
  CHECK(RuleFor(enforce, "uname")->action == policy::SyscallAction::kKill);
  CHECK(enforce.default_action == policy::SyscallAction::kDeny);

  tracer::FilterPlan audit = tracer::MakePlan(p, index, /*audit=*/true);
  REQUIRE(RuleFor(audit, "uname") != nullptr);
  CHECK(RuleFor(audit, "uname")->action == policy::SyscallAction::kTrace);
  CHECK(audit.default_action == policy::SyscallAction::kTrace);
  REQUIRE(RuleFor(audit, "getpid") != nullptr);
  CHECK(RuleFor(audit, "getpid")->action == policy::SyscallAction::kAllow);
  for (const auto& k : audit.kernel_rules) {
    INFO(k.name);
    CHECK(k.action != policy::SyscallAction::kDeny);
    CHECK(k.action != policy::SyscallAction::kKill);
  }
}

TEST_CASE("filter plan: rules for one syscall from two layers go to the tracer", "[plan]") {
  syscalls::SyscallIndex index;
  policy::Policy base = Load(R"({"version": 1, "extends": "standard",
      "syscalls": {"rules": [{"names": ["uname"], "action": "deny"}]}})");
  tracer::FilterPlan one = tracer::MakePlan(base, index);
  REQUIRE(RuleFor(one, "uname") != nullptr);
  CHECK(RuleFor(one, "uname")->action == policy::SyscallAction::kDeny);

  // The same rule plus an allow in a later layer (the shape a learnt draft has).
  policy::Policy layered = base;
  policy::SyscallRule allow = base.syscall_rules.front();
  allow.action = policy::SyscallAction::kAllow;
  allow.layer = base.syscall_rules.front().layer + 1;
  allow.id = "draft";
  layered.syscall_rules.push_back(allow);
  layered.Compile();
  tracer::FilterPlan two = tracer::MakePlan(layered, index);
  REQUIRE(RuleFor(two, "uname") != nullptr);
  CHECK(RuleFor(two, "uname")->action == policy::SyscallAction::kTrace);
  std::uint64_t args[6] = {};
  auto d = layered.DecideSyscall("uname", args);
  REQUIRE(d.has_value());
  CHECK(d->action == policy::Action::kAllow);
}

TEST_CASE("filter plan: with a denying default, allowed opens bring openat2 along", "[plan]") {
  // The tracer hands allowed opens to the kernel as openat2 (tracer/pin.h); the filter runs
  // again on the changed call, so openat2 must stop for the tracer, which applies the default
  // when the program calls openat2 itself.
  syscalls::SyscallIndex index;
  auto traced = [](const tracer::FilterPlan& plan, std::string_view name) {
    return std::any_of(plan.traced.begin(), plan.traced.end(),
                       [&](const syscalls::SyscallRow* r) { return r->name == name; });
  };
  policy::Policy opens = Load(R"({"version": 1, "extends": "standard", "syscalls": {
      "default": {"action": "deny", "errno": "ENOSYS"},
      "rules": [{"names": ["openat"], "action": "allow"}]}})");
  tracer::FilterPlan plan = tracer::MakePlan(opens, index);
  CHECK(traced(plan, "openat"));
  CHECK(traced(plan, "openat2"));
  CHECK(RuleFor(plan, "openat2") == nullptr);
  policy::Policy none = Load(R"({"version": 1, "extends": "standard", "syscalls": {
      "default": {"action": "deny", "errno": "ENOSYS"},
      "rules": [{"names": ["getpid"], "action": "allow"}]}})");
  CHECK_FALSE(traced(tracer::MakePlan(none, index), "openat2"));
}
