// report/result.cc: the execution result. Its JSON is checked against the published schema
// (docs/schema/result.schema.json) by a small validator of the keywords that schema uses, for a
// bare result and for one with every optional part; every member the result writes must be one
// the schema documents. Tracee-controlled strings are escaped; the summary says what matters.
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "report/result.h"

namespace {

using nlohmann::json;

json LoadSchema() {
  std::ifstream in(std::string(TEST_DATA_DIR) + "/../../docs/schema/result.schema.json");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

bool HasType(const json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  FAIL("the schema uses a type this validator does not know: " << type);
  return false;
}

// The subset of JSON Schema 2020-12 that result.schema.json uses: type, enum, pattern, minimum,
// required, properties, items, $ref into $defs. Appends "pointer: problem" for each failure, and
// every member that `properties` does not list to `undocumented`.
void Validate(const json& root, const json& schema, const json& v, const std::string& at,
              std::vector<std::string>& errors, std::vector<std::string>& undocumented) {
  if (schema.contains("$ref")) {
    std::string ref = schema["$ref"];
    REQUIRE(ref.starts_with("#/$defs/"));
    Validate(root, root["$defs"][ref.substr(8)], v, at, errors, undocumented);
    return;
  }
  for (const auto& [key, value] : schema.items()) {
    static const std::set<std::string> kKnown{"$schema",  "$id",        "title",   "description",
                                              "type",     "enum",       "pattern", "minimum",
                                              "required", "properties", "items",   "$defs"};
    if (kKnown.count(key) == 0)
      FAIL("the schema uses a keyword this validator does not know: " << key);
  }
  if (schema.contains("type")) {
    std::vector<std::string> types;
    if (schema["type"].is_array()) {
      for (const auto& t : schema["type"]) types.push_back(t);
    } else {
      types.push_back(schema["type"]);
    }
    bool ok = false;
    for (const auto& t : types) ok = ok || HasType(v, t);
    if (!ok) errors.push_back(at + ": " + v.dump() + " is not " + schema["type"].dump());
  }
  if (schema.contains("enum") &&
      std::find(schema["enum"].begin(), schema["enum"].end(), v) == schema["enum"].end()) {
    errors.push_back(at + ": " + v.dump() + " is not one of " + schema["enum"].dump());
  }
  if (schema.contains("pattern") && v.is_string() &&
      !std::regex_search(v.get<std::string>(), std::regex(schema["pattern"].get<std::string>()))) {
    errors.push_back(at + ": " + v.dump() + " does not match " + schema["pattern"].dump());
  }
  if (schema.contains("minimum") && v.is_number() && v.get<double>() < schema["minimum"]) {
    errors.push_back(at + ": " + v.dump() + " is below the minimum");
  }
  if (v.is_object()) {
    for (const auto& name : schema.value("required", json::array())) {
      if (!v.contains(name)) errors.push_back(at + ": " + name.get<std::string>() + " is missing");
    }
    if (schema.contains("properties")) {
      for (const auto& [name, member] : v.items()) {
        if (!schema["properties"].contains(name)) {
          undocumented.push_back(at + "/" + name);
          continue;
        }
        Validate(root, schema["properties"][name], member, at + "/" + name, errors, undocumented);
      }
    }
  }
  if (v.is_array() && schema.contains("items")) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      Validate(root, schema["items"], v[i], at + "/" + std::to_string(i), errors, undocumented);
    }
  }
}

struct Checked {
  std::vector<std::string> errors, undocumented;
};

Checked Check(const json& doc) {
  json schema = LoadSchema();
  Checked c;
  Validate(schema, schema, doc, "#", c.errors, c.undocumented);
  return c;
}

report::ExecutionResult Full() {
  report::ExecutionResult r;
  r.execution_id = report::NewExecutionId();
  r.command = {"/usr/bin/python3", "-c", "print(1)"};
  r.policy = "standard";
  r.mode = "enforce";
  r.status = report::RunStatus::kLimitExceeded;
  r.signal = SIGXCPU;
  r.interrupted = SIGTERM;
  r.wall_time_s = 1.25;
  r.cpu_user_s = 0.5;
  r.cpu_system_s = 0.125;
  r.peak_rss_bytes = 12 << 20;
  r.peak_memory_bytes = 40 << 20;
  r.processes = 3;
  r.scheduling = {{"same_cpu", true}};
  r.syscalls_flagged = 120;
  r.syscalls_denied = 7;
  r.events = 300;
  r.event_records = 12;
  r.events_final_hash = std::string(64, 'a');
  r.events_chain = "sha256";
  r.events_lost = 0;
  r.events_file = "/tmp/ev.jsonl";
  r.stdout_capture = report::CapturedOutput{"out\n", 4, false};
  r.stderr_capture = report::CapturedOutput{"err", 1 << 20, true};
  r.error = "something failed";
  r.limits = {{"cpu", "2s"}};
  r.layers = json::array({{{"layer", "trace"}, {"state", "active"}, {"detail", ""}}});
  r.limits_hit = json::array({{{"limit", "cpu"}, {"observed", "SIGXCPU after 2.00s"}}});
  r.warnings = {"no usable cgroup"};
  r.stream = {{"endpoint", "unix:/run/x.sock"},
              {"subscribers", 1},
              {"unauthenticated", 0},
              {"refused_full", 0},
              {"closed_stalled", 0}};
  return r;
}

}  // namespace

TEST_CASE("result: a bare result has every required field with the schema's types", "[result]") {
  report::ExecutionResult r;
  r.execution_id = report::NewExecutionId();
  r.command = {"/bin/true"};
  r.policy = "standard";
  r.mode = "enforce";
  r.exit_code = 0;
  json j = report::ToJson(r);
  Checked c = Check(j);
  CHECK(c.errors == std::vector<std::string>{});
  CHECK(c.undocumented == std::vector<std::string>{});
  CHECK(j["success"] == true);
  CHECK(j["status"] == "ok");
  CHECK(j["exit_code"] == 0);
  CHECK(j["signal"].is_null());
  CHECK(j["peak_memory_bytes"].is_null());
  CHECK(j["limits_hit"] == json::array());
  // Without an events file, capture or stream, their members are absent, not empty.
  for (const char* absent :
       {"events_file", "event_records", "events_lost", "events_chain", "stdout", "stderr", "error",
        "limits", "layers", "scheduling", "warnings", "stream", "interrupted_by"}) {
    CAPTURE(absent);
    CHECK_FALSE(j.contains(absent));
  }
}

TEST_CASE("result: a result with every optional part follows the schema and documents it all",
          "[result]") {
  report::ExecutionResult r = Full();
  json j = report::ToJson(r);
  Checked c = Check(j);
  CHECK(c.errors == std::vector<std::string>{});
  // Every member tracejail writes is one a consumer can look up.
  CHECK(c.undocumented == std::vector<std::string>{});
  CHECK(j["success"] == false);
  CHECK(j["status"] == "limit_exceeded");
  CHECK(j["signal"] == "SIGXCPU");
  CHECK(j["interrupted_by"] == "SIGTERM");
  CHECK(j["syscalls"] == json{{"flagged", 120}, {"denied", 7}, {"return_stops", 0}});
  CHECK(j["stderr"] == json{{"text", "err"}, {"bytes", 1 << 20}, {"truncated", true}});
  // The chain counts the log_end record too.
  CHECK(j["events_chain"] ==
        json{{"final_hash", std::string(64, 'a')}, {"algorithm", "sha256"}, {"records", 13}});
  CHECK(j["stream"]["endpoint"] == "unix:/run/x.sock");
}

TEST_CASE("result: every status has its documented name and only ok is success", "[result]") {
  json schema = LoadSchema();
  const json& names = schema["properties"]["status"]["enum"];
  using S = report::RunStatus;
  const std::vector<S> all{S::kOk,       S::kRuntimeError,  S::kKilledBySignal, S::kKilledByPolicy,
                           S::kTimedOut, S::kLimitExceeded, S::kInternalError,  S::kDetached};
  REQUIRE(names.size() == all.size());
  std::set<std::string> seen;
  for (S s : all) {
    report::ExecutionResult r;
    r.status = s;
    json j = report::ToJson(r);
    std::string name = j["status"];
    CAPTURE(name);
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
    CHECK(seen.insert(name).second);
    CHECK(j["success"] == (s == S::kOk));
    CHECK(r.success() == (s == S::kOk));
  }
}

TEST_CASE("result: execution ids are 32 lowercase hex digits and differ", "[result]") {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    std::string id = report::NewExecutionId();
    CHECK(std::regex_match(id, std::regex("[0-9a-f]{32}")));
    ids.insert(id);
  }
  CHECK(ids.size() == 100);
}

TEST_CASE("result: tracee bytes in the command and output and file name are escaped",
          "[result][escape]") {
  report::ExecutionResult r = Full();
  r.command = {"/bin/sh", "-c", "printf '\x1b]0;owned\x07'", "\xff\xfe"};
  r.stdout_capture = report::CapturedOutput{"line 1\nline\t2\x1b[2J\xe2\x80\xae\xff", 20, false};
  r.events_file = "/tmp/ev\x1b[31m.jsonl";
  json j = report::ToJson(r);
  // Valid UTF-8 throughout: dump() would throw on a stray byte.
  std::string text;
  REQUIRE_NOTHROW(text = j.dump());
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find("\\u001b") == std::string::npos);  // escaped by tracejail, not left to JSON
  CHECK(j["command"][2] == "printf '\\x1b]0;owned\\x07'");
  CHECK(j["command"][3] == "\\xff\\xfe");
  // Captured output keeps its lines and tabs, nothing else that steers a terminal.
  CHECK(j["stdout"]["text"] == "line 1\nline\t2\\x1b[2J\\xe2\\x80\\xae\\xff");
  CHECK(j["events_file"] == "/tmp/ev\\x1b[31m.jsonl");
  CHECK(Check(j).errors == std::vector<std::string>{});
}

TEST_CASE("result: the summary says how the run ended and what was lost", "[result]") {
  report::ExecutionResult r;
  r.status = report::RunStatus::kRuntimeError;
  r.exit_code = 3;
  r.wall_time_s = 1.5;
  r.peak_rss_bytes = 3 << 20;
  r.processes = 2;
  r.syscalls_flagged = 10;
  r.syscalls_denied = 1;
  std::string s = report::Summary(r);
  CHECK(s.starts_with("tracejail: runtime_error (exit 3) in 1.50s wall"));
  CHECK(s.find("peak RSS 3.0 MiB; 2 processes/threads") != std::string::npos);
  CHECK(s.find("10 flagged syscalls, 1 denied (run with --events FILE for details)") !=
        std::string::npos);

  r.status = report::RunStatus::kInternalError;
  r.signal = SIGKILL;
  r.peak_memory_bytes = 5 << 20;
  r.events_file = "/tmp/e\x1b.jsonl";
  r.events = 40;
  r.event_records = 30;
  r.events_lost = 2;
  r.error = "the events file could not be written";
  r.interrupted = SIGINT;
  r.limits_hit = json::array({{{"limit", "memory"}, {"observed", "OOM kill"}}});
  s = report::Summary(r);
  CHECK(s.starts_with("tracejail: internal_error (SIGKILL)"));
  CHECK(s.find("peak memory (tree) 5.0 MiB") != std::string::npos);
  CHECK(s.find("40 events in /tmp/e\\x1b.jsonl\n") != std::string::npos);  // escaped file name
  CHECK(s.find('\x1b') == std::string::npos);
  CHECK(s.find("2 event(s) LOST") != std::string::npos);
  CHECK(s.find("tracejail: memory limit: OOM kill\n") != std::string::npos);
  CHECK(s.find("interrupted by SIGINT") != std::string::npos);
  CHECK(s.find("tracejail: error: the events file could not be written\n") != std::string::npos);
  // Folded repeats are said only when nothing was lost (then the counts mean something else).
  r.events_lost = 0;
  CHECK(report::Summary(r).find("(30 records: repeats folded)") != std::string::npos);
}

TEST_CASE("result: the summary names the first denials with their rule and a tip", "[result]") {
  report::ExecutionResult r;
  r.status = report::RunStatus::kOk;
  r.exit_code = 0;
  r.syscalls_flagged = 20;
  r.syscalls_denied = 5;
  json tip = {
      {"files", {{"rules", json::array({{{"path", "/etc/shadow"}, {"action", "allow"}}})}}}};
  r.first_denials = {{"openat deny /etc/shadow (read)", "standard:9#/files/rules/0", "deny", tip},
                     {"connect deny 10.0.0.5:4444\x1b[2J", "standard:network", "deny", nullptr}};
  std::string s = report::Summary(r);
  CHECK(s.find("20 flagged syscalls, 5 denied:\n") != std::string::npos);
  CHECK(s.find("tracejail:   openat deny /etc/shadow (read)  <- standard:9#/files/rules/0\n") !=
        std::string::npos);
  CHECK(s.find("to allow it, add to the policy: {\"files\":{\"rules\":[{\"action\":\"allow\","
               "\"path\":\"/etc/shadow\"}]}}") != std::string::npos);
  CHECK(s.find("connect deny 10.0.0.5:4444\\x1b[2J  <- standard:network\n") != std::string::npos);
  CHECK(s.find('\x1b') == std::string::npos);  // a hostile message cannot drive the terminal
  CHECK(s.find("... and 3 more (run with --events FILE to see them all)") != std::string::npos);
  json j = report::ToJson(r);
  REQUIRE(j["first_denials"].size() == 2);
  CHECK(j["first_denials"][0]["tip"] == tip);
  CHECK(j["first_denials"][1]["tip"].is_null());
  CHECK_FALSE(j.contains("killed_by"));
  r.killed_by = r.first_denials[0];
  r.killed_by->action = "kill";
  CHECK(report::ToJson(r)["killed_by"]["action"] == "kill");
}

TEST_CASE("result: schema_version and at most three denials in the JSON however many were noted",
          "[result]") {
  report::ExecutionResult r;
  r.syscalls_denied = 5;
  for (int i = 0; i < 5; ++i) {
    r.first_denials.push_back({"openat deny /etc/shadow (read)", "rule", "deny", nullptr});
  }
  json j = report::ToJson(r);
  CHECK(j["schema_version"] == 1);
  CHECK(j["first_denials"].size() == report::kFirstDenials);
  // -v notes them all for the summary (tracer::Watch::denial_notes).
  std::string s = report::Summary(r);
  CHECK(std::count(s.begin(), s.end(), '\n') >= 7);
  CHECK(s.find("more") == std::string::npos);
}
