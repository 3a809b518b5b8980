// Forensic tools on real recordings: `tracejail diff` of two traced runs, `tracejail policy
// test` of a recording against two policies, and ATT&CK ids in the events of a real run.
#include <set>

#include <catch2/catch.hpp>

#include "harness.h"

using nlohmann::json;

namespace {

// Runs `command` under standard in audit mode (every flagged call recorded) into `events`.
harness::Result Record(const std::vector<std::string>& command, const std::string& events) {
  harness::Options o;
  o.events = false;
  o.tracejail_args = {"--mode", "audit", "--level", "standard", "--events", events};
  return harness::Run(command, o);
}

std::set<std::string> Set(const json& array) {
  std::set<std::string> out;
  for (const auto& v : array) out.insert(v.get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("diff: a run that opens an extra file and connects shows exactly that", "[diff]") {
  harness::TempDir dir;
  const std::string a_txt = dir.File("a.txt", "a\n"), b_txt = dir.File("b.txt", "b\n");
  harness::LoopbackListener listener;
  const std::string open_file = harness::Sample("open_file");
  const std::string connect = harness::Sample("connect_tcp");
  const std::string a = dir.path() + "/a.jsonl", b = dir.path() + "/b.jsonl";
  harness::Result ra = Record({"/bin/sh", "-c", open_file + " " + a_txt}, a);
  REQUIRE(ra.status == 0);
  harness::Result rb = Record({"/bin/sh", "-c",
                               open_file + " " + a_txt + " " + b_txt + " && " + connect +
                                   " 127.0.0.1 " + std::to_string(listener.port())},
                              b);
  INFO(rb.err);
  REQUIRE(rb.status == 0);
  REQUIRE(listener.Received());

  harness::Result d = harness::Tool({"diff", a, b, "--json"});
  INFO(d.out << d.err);
  CHECK(d.status == 1);
  const json j = json::parse(d.out);
  CHECK(j["schema_version"] == 1);
  CHECK(j["different"] == true);
  for (const char* section :
       {"files", "endpoints", "programs", "denials", "escapes", "exec_chain"}) {
    INFO(section);
    CHECK(j[section]["only_in_a"].empty());  // B did everything A did
  }
  // The extra file, and the extra program's image (execve names it with access exec).
  CHECK(Set(j["files"]["only_in_b"]) ==
        std::set<std::string>{b_txt + " (read)", connect + " (exec)"});
  const std::string endpoint = "127.0.0.1:" + std::to_string(listener.port()) + " (connect)";
  CHECK(Set(j["endpoints"]["only_in_b"]) == std::set<std::string>{endpoint});
  CHECK(Set(j["programs"]["only_in_b"]) == std::set<std::string>{connect});
  CHECK(Set(j["exec_chain"]["only_in_b"]) == std::set<std::string>{"dash -> connect_tcp"});
  CHECK(j["escapes"]["only_in_b"].empty());
  // standard denies inet connections: in audit mode, the would-be denial is new too.
  for (const auto& denial : j["denials"]["only_in_b"]) {
    CHECK(denial.get<std::string>().find("127.0.0.1:" + std::to_string(listener.port())) !=
          std::string::npos);
  }
  // One process more at least (dash may exec the last command in place).
  CHECK(j["processes"]["b"].get<int>() > j["processes"]["a"].get<int>());

  harness::Result text = harness::Tool({"diff", a, b});
  CHECK(text.status == 1);
  CHECK(text.out.starts_with("--- " + a + "\n+++ " + b + "\n"));
  // Each section's lines are sorted: the exec'd sample's path may come before the file.
  const std::size_t files = text.out.find("files:\n");
  REQUIRE(files != std::string::npos);
  CHECK(text.out.find("\n+ " + b_txt + " (read)\n", files) != std::string::npos);
  CHECK(text.out.find("+ " + endpoint + "\n") != std::string::npos);
}

TEST_CASE("diff: the same program twice is no difference and bad input is refused", "[diff]") {
  harness::TempDir dir;
  const std::string a_txt = dir.File("a.txt", "a\n");
  const std::string a = dir.path() + "/a.jsonl", b = dir.path() + "/b.jsonl";
  REQUIRE(Record({harness::Sample("open_file"), a_txt}, a).status == 0);
  REQUIRE(Record({harness::Sample("open_file"), a_txt}, b).status == 0);
  harness::Result same = harness::Tool({"diff", a, b});
  INFO(same.out << same.err);
  CHECK(same.status == 0);
  CHECK(same.out.empty());
  CHECK(harness::Tool({"diff", a, b, "--json"}).status == 0);

  const std::string corrupt = dir.File("corrupt.jsonl", harness::Slurp(a) + "{\"type\": 7}\n");
  harness::Result bad = harness::Tool({"diff", a, corrupt});
  CHECK(bad.status == 118);
  CHECK(bad.err.find("corrupt.jsonl") != std::string::npos);
  CHECK(bad.err.find("not a whole events file") != std::string::npos);
  harness::Result missing = harness::Tool({"diff", a, dir.path() + "/nothing.jsonl"});
  CHECK(missing.status == 120);
  CHECK(missing.err.find("cannot read") != std::string::npos);
  CHECK(harness::Tool({"diff", a}).status == 120);  // usage
}

TEST_CASE("policy test: a recording against a policy that allows it and one that does not",
          "[policy-test]") {
  harness::TempDir dir;
  const std::string secret = dir.File("secret.txt", "s\n");
  const std::string rec = dir.path() + "/rec.jsonl";
  harness::Result r = Record({harness::Sample("open_file"), secret}, rec);
  INFO(r.err);
  REQUIRE(r.status == 0);  // audit: nothing denied

  // The policy it was recorded under allows everything it did.
  harness::Result ok = harness::Tool({"policy", "test", "standard", rec});
  INFO(ok.out << ok.err);
  CHECK(ok.status == 0);
  CHECK(ok.out.find(" 0 denied, 0 killed") != std::string::npos);

  const std::string deny = dir.File("deny.json", R"({"version": 1, "extends": "standard",
    "files": {"rules": [{"path": ")" + secret + R"(", "access": ["read"], "action": "deny"}]}})");
  harness::Result denied = harness::Tool({"policy", "test", deny, rec});
  INFO(denied.out << denied.err);
  CHECK(denied.status == 1);
  CHECK(denied.out.find("deny  openat " + secret + " (read)") != std::string::npos);
  CHECK(denied.out.find("to allow it, add to the policy: {\"files\":{\"rules\":[{\"access\":"
                        "[\"read\"],\"action\":\"allow\",\"path\":\"" +
                        secret + "\"}]}}") != std::string::npos);

  harness::Result j = harness::Tool({"policy", "test", deny, rec, "--json"});
  REQUIRE(j.status == 1);
  const json out = json::parse(j.out);
  CHECK(out["schema_version"] == 1);
  CHECK(out["audit_recording"] == true);
  CHECK(out["denied"] == 1);
  CHECK(out["killed"] == 0);
  CHECK(out["allowed"].get<int>() + 1 == out["calls"].get<int>());
  int denials = 0;
  for (const auto& v : out["verdicts"]) {
    if (v["action"] != "deny") continue;
    ++denials;
    CHECK(v["target"] == secret + " (read)");
    CHECK(v["recorded"] == "allow");
    CHECK(v["tip"]["files"]["rules"][0]["path"] == secret);
  }
  CHECK(denials == 1);

  CHECK(harness::Tool({"policy", "test", dir.path() + "/none.json", rec}).status == 121);
  CHECK(harness::Tool({"policy", "test", "standard", dir.path() + "/none.jsonl"}).status == 120);
  CHECK(harness::Tool({"policy", "test", "standard", rec, "--var", "novalue"}).status == 120);
}

TEST_CASE("attack: a real run's events carry ATT&CK ids", "[attack]") {
  harness::Options o;
  o.tracejail_args = {"--level", "standard"};
  harness::Result r = harness::Run({"/bin/sh", "-c", "cat /etc/shadow; unshare -U true"}, o);
  INFO(r.err);
  bool shadow = false, shell = false;
  for (const auto& e : r.events) {
    const std::string message = e.value("message", "");
    if (message.find("/etc/shadow") != std::string::npos) {
      REQUIRE(e.contains("attack"));
      const std::set<std::string> ids = Set(e["attack"]);
      shadow = ids.contains("T1003.008") && ids.contains("T1552.001");
    }
  }
  for (const auto& e : r.lifecycle) {
    if (e["type"] == "process_exec" && e.contains("attack") &&
        Set(e["attack"]).contains("T1059.004")) {
      shell = true;
    }
  }
  CHECK(shadow);
  CHECK(shell);
  const auto escapes = r.Events("escape_attempt", "unshare");
  if (escapes.empty()) {
    harness::Skip("unshare(1) did not call unshare here");
    return;
  }
  CHECK(Set(escapes.front()["attack"]).contains("T1611"));
}
