// Comparing two runs (report/run_diff.h): profiles without pids, set differences, rendering.
#include <catch2/catch.hpp>

#include "record_from_json.h"
#include "report/event_reader.h"
#include "report/run_diff.h"

using nlohmann::json;

namespace {

using test::R;

json Start(int pid, int parent) {
  return {{"type", "process_start"},
          {"pid", pid},
          {"args", {{"parent_pid", parent}, {"thread", false}, {"via", "fork"}}},
          {"decision", {{"action", "allow"}, {"rule", "lifecycle"}}}};
}

json Exec(int pid, std::string exe) {
  return {{"type", "process_exec"},
          {"pid", pid},
          {"args", {{"exe", exe}, {"argv", {exe}}}},
          {"decision", {{"action", "allow"}, {"rule", "lifecycle"}}}};
}

json Open(int pid, std::string path, std::string action = "allow") {
  return {{"type", action == "allow" ? "syscall_allowed" : "permission_denied"},
          {"pid", pid},
          {"syscall", {{"name", "openat"}}},
          {"args", {{"pathname", {{"raw", path}, {"resolved", path}, {"access", "read"}}}}},
          {"decision", {{"action", action}, {"rule", "p.json:3#/files/rules/0"}}}};
}

json Connect(int pid, std::string address, int port) {
  return {{"type", "syscall_allowed"},
          {"pid", pid},
          {"syscall", {{"name", "connect"}}},
          {"args", {{"addr", {{"family", "AF_INET"}, {"address", address}, {"port", port}}}}},
          {"decision", {{"action", "allow"}, {"rule", "p.json:9#/network/rules/0"}}}};
}

report::RunProfile Profile(const std::vector<json>& records) {
  report::RunProfiler p;
  for (const auto& j : records) p.Add(R(j));
  return p.Finish();
}

const report::SetDiff& Section(const report::RunDiff& d, std::string_view name) {
  for (const auto& s : d.sections) {
    if (s.name == name) return s;
  }
  FAIL("no section " << name);
  return d.sections.front();
}

}  // namespace

TEST_CASE("Diff: the same behaviour under other pids is no difference", "[diff]") {
  auto a = Profile({Start(10, 1), Exec(10, "/usr/bin/dash"), Start(11, 10),
                    Exec(11, "/usr/bin/cat"), Open(11, "/etc/hosts")});
  auto b = Profile({Start(20, 1), Exec(20, "/usr/bin/dash"), Start(27, 20),
                    Exec(27, "/usr/bin/cat"), Open(27, "/etc/hosts")});
  const report::RunDiff d = report::DiffRuns(a, b);
  CHECK_FALSE(d.different());
  CHECK(report::RenderDiffText(d, "a", "b").empty());
  CHECK(report::DiffJson(d, "a", "b")["different"] == false);
  CHECK(a.exec_chain == std::set<std::string>{"(tracejail) -> dash", "dash -> cat"});
}

TEST_CASE("Diff: files endpoints programs denials and the tree", "[diff]") {
  auto a = Profile({Start(10, 1), Exec(10, "/usr/bin/dash"), Open(10, "/etc/hosts"),
                    Open(10, "/etc/shadow", "deny")});
  auto b = Profile({Start(20, 1), Exec(20, "/usr/bin/dash"), Open(20, "/etc/hosts"),
                    Open(20, "/tmp/extra"), Start(21, 20), Exec(21, "/usr/bin/curl"),
                    Connect(21, "127.0.0.1", 4444)});
  const report::RunDiff d = report::DiffRuns(a, b);
  CHECK(d.different());
  CHECK(Section(d, "files").only_b == std::vector<std::string>{"/tmp/extra (read)"});
  CHECK(Section(d, "files").only_a == std::vector<std::string>{"/etc/shadow (read)"});
  CHECK(Section(d, "endpoints").only_b == std::vector<std::string>{"127.0.0.1:4444 (connect)"});
  CHECK(Section(d, "programs").only_b == std::vector<std::string>{"/usr/bin/curl"});
  CHECK(Section(d, "denials").only_a ==
        std::vector<std::string>{"deny openat /etc/shadow (read) <- p.json:3#/files/rules/0"});
  CHECK(Section(d, "exec_chain").only_b == std::vector<std::string>{"dash -> curl"});
  CHECK(d.processes_a == 1);
  CHECK(d.processes_b == 2);
  const std::string text = report::RenderDiffText(d, "A.jsonl", "B.jsonl");
  CHECK(text.starts_with("--- A.jsonl\n+++ B.jsonl\n"));
  CHECK(text.find("files:\n- /etc/shadow (read)\n+ /tmp/extra (read)\n") != std::string::npos);
  CHECK(text.find("processes:\n- 1\n+ 2\n") != std::string::npos);
  const json j = report::DiffJson(d, "A.jsonl", "B.jsonl");
  CHECK(j["schema_version"] == report::kSchemaVersion);
  CHECK(j["endpoints"]["only_in_b"] == json{"127.0.0.1:4444 (connect)"});
  CHECK(j["processes"] == json{{"a", 1}, {"b", 2}});
}

TEST_CASE("Diff: escape techniques and hostile text", "[diff]") {
  json escape = {
      {"type", "escape_attempt"},
      {"syscall", {{"name", "ptrace"}}},
      {"decision", {{"action", "deny"}, {"rule", "builtin:escapes"}, {"primitive", "ptrace"}}}};
  auto a = Profile({});
  auto b = Profile({escape, Open(5, "/tmp/\x1b[31mred")});
  const report::RunDiff d = report::DiffRuns(a, b);
  CHECK(Section(d, "escapes").only_b == std::vector<std::string>{"tracer-attack (ptrace)"});
  const std::string text = report::RenderDiffText(d, "a", "b");
  CHECK(text.find('\x1b') == std::string::npos);  // shown, not obeyed
}
