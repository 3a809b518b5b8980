// Replaying a recording through a policy (report/policy_replay.h).
#include <catch2/catch.hpp>

#include "policy/loader.h"
#include "record_from_json.h"
#include "report/event_reader.h"
#include "report/policy_replay.h"

using nlohmann::json;

namespace {

using test::R;

policy::Policy Load(const std::string& text) {
  return policy::LoadPolicyText(text, "t.json", policy::DefaultVariables());
}

json Open(std::string path, std::string access = "read", std::string would = "") {
  json j = {{"type", would.empty() ? "syscall_allowed" : "permission_denied"},
            {"pid", 7},
            {"syscall", {{"name", "openat"}, {"nr", 257}, {"arch", "x86_64"}}},
            {"args", {{"pathname", {{"raw", path}, {"resolved", path}, {"access", access}}}}},
            {"decision", {{"action", "allow"}, {"rule", "standard:9#/files/rules/0"}}}};
  if (!would.empty()) j["decision"]["would"] = would;
  return j;
}

json Connect(std::string address, int port) {
  return {{"type", "syscall_allowed"},
          {"pid", 7},
          {"syscall", {{"name", "connect"}}},
          {"args", {{"addr", {{"family", "AF_INET"}, {"address", address}, {"port", port}}}}},
          {"decision", {{"action", "allow"}, {"rule", "x"}}}};
}

report::ReplayResult Replay(const policy::Policy& p, const std::vector<json>& records) {
  report::PolicyReplay replay(p);
  for (const auto& j : records) replay.Add(R(j));
  return replay.Finish();
}

constexpr const char* kDenyPasswd = R"({
  "version": 1, "name": "no-passwd", "extends": "none",
  "files": {"rules": [{"path": "/etc/passwd", "access": ["read"], "action": "deny"}]},
  "network": {"rules": [{"cidr": "10.0.0.0/8", "verbs": ["connect"], "action": "kill"}]}
})";

}  // namespace

TEST_CASE("Policy test: requests are rebuilt from recorded arguments", "[replay]") {
  std::string why;
  report::Event e;
  REQUIRE(report::FromJson(Open("/etc/x\\x0a", "read|write"), e).empty());
  auto req = report::RequestOf(e, why);
  REQUIRE(req);
  CHECK(req->syscall == "openat");
  REQUIRE(req->path_count == 1);
  CHECK(req->paths[0].path == "/etc/x\n");  // the writer's escape undone
  CHECK(req->paths[0].access == (policy::Access::kRead | policy::Access::kWrite));
  REQUIRE(report::FromJson(Connect("127.0.0.1", 80), e).empty());
  req = report::RequestOf(e, why);
  REQUIRE(req);
  REQUIRE(req->net);
  CHECK(req->net->verb == policy::NetVerb::kConnect);
  CHECK(req->net->addr->port == 80);
  CHECK(req->net->addr->ip[0] == 127);
  json exec = {{"type", "process_exec"},
               {"args", {{"exe", "/bin/true"}}},
               {"decision", {{"action", "allow"}, {"rule", "lifecycle"}}}};
  REQUIRE(report::FromJson(exec, e).empty());
  CHECK_FALSE(report::RequestOf(e, why));
}

TEST_CASE("Policy test: verdicts, counts and tips under another policy", "[replay]") {
  const policy::Policy p = Load(kDenyPasswd);
  const auto r = Replay(p, {Open("/etc/hosts"), Open("/etc/passwd"), Open("/etc/passwd"),
                            Connect("10.1.2.3", 443), Connect("127.0.0.1", 80)});
  CHECK(r.audit_recording);
  CHECK(r.calls == 5);
  CHECK(r.allowed == 2);
  CHECK(r.denied == 2);
  CHECK(r.killed == 1);
  CHECK(r.would_deny());
  REQUIRE(r.verdicts.size() == 4);
  const report::ReplayVerdict& passwd = r.verdicts[1];
  CHECK(passwd.action == policy::Action::kDeny);
  CHECK(passwd.count == 2);
  CHECK(passwd.target == "/etc/passwd (read)");
  CHECK(passwd.tip["files"]["rules"][0]["path"] == "/etc/passwd");
  CHECK(r.verdicts[2].action == policy::Action::kKill);
  const std::string text = report::RenderReplayText(r, "no-passwd", "rec.jsonl", false);
  CHECK(text.find("5 call(s): 2 allowed, 2 denied, 1 killed") != std::string::npos);
  CHECK(text.find("deny  openat /etc/passwd (read) (x2)") != std::string::npos);
  CHECK(text.find("to allow it, add to the policy:") != std::string::npos);
  CHECK(text.find("/etc/hosts") == std::string::npos);  // allowed: only with --all
  CHECK(report::RenderReplayText(r, "p", "f", true).find("/etc/hosts") != std::string::npos);
  const json j = report::ReplayJson(r, "no-passwd", "rec.jsonl");
  CHECK(j["denied"] == 2);
  CHECK(j["verdicts"][1]["recorded"] == "allow");
}

TEST_CASE("Policy test: everything allowed, guards and enforce-mode recordings", "[replay]") {
  const policy::Policy none = Load(R"({"version": 1, "name": "all", "extends": "none"})");
  auto r = Replay(none, {Open("/etc/passwd"), Open("/etc/shadow", "read", "deny")});
  CHECK_FALSE(r.would_deny());
  CHECK(r.allowed == 2);
  // tracejail's own guards decide the same under any policy.
  json self = {
      {"type", "escape_attempt"},
      {"syscall", {{"name", "kill"}}},
      {"args", {{"pid", 1}}},
      {"decision", {{"action", "deny"}, {"errno", "EPERM"}, {"rule", "builtin:tracejail-self"}}}};
  r = Replay(none, {self});
  CHECK(r.denied == 1);
  CHECK(r.verdicts.at(0).guard);
  CHECK_FALSE(r.audit_recording);
  CHECK(report::RenderReplayText(r, "p", "f", false).find("enforce-mode recording") !=
        std::string::npos);
}
