// report/event.h ToJson and report/event_log.h EventLog: field layout, and that every event
// pushed from any thread is one parseable line in the file after Close().
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "report/event.h"
#include "report/event_log.h"

namespace {

using nlohmann::json;
using policy::Action;
using policy::EventType;
using policy::Severity;
using report::Event;

// A unique temporary file path, removed on scope exit.
struct TempFile {
  std::string path;
  TempFile() {
    char tmpl[] = "/tmp/tj_events_XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    path = tmpl;
  }
  ~TempFile() { std::remove(path.c_str()); }
};

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Event SampleEvent() {
  Event e;
  e.type = EventType::kPermissionDenied;
  e.severity = Severity::kMedium;
  e.seq = 7;
  e.time = 1700000000.25;
  e.pid = 100;
  e.tid = 101;
  e.exe = "/usr/bin/cat";
  e.syscall = report::SyscallRef{"openat", 257, "x86_64"};
  e.raw_args = {0xffffffffffffff9cULL, 0x7ffc0000, 0, 0, 0, 0};
  e.args = json{{"pathname", {{"raw", "/etc/shadow"}}}};
  e.action = Action::kDeny;
  e.error = EACCES;
  e.rule = "default#/files/rules/0";
  e.race_free = false;
  e.message = "openat /etc/shadow denied";
  return e;
}

}  // namespace

TEST_CASE("ToJson: every field of a syscall event", "[event]") {
  json j = report::ToJson(SampleEvent());
  CHECK(j["type"] == "permission_denied");
  CHECK(j["severity"] == "medium");
  CHECK(j["seq"] == 7);
  CHECK(j["time"].get<double>() == Approx(1700000000.25));
  CHECK(j["pid"] == 100);
  CHECK(j["tid"] == 101);
  CHECK(j["exe"] == "/usr/bin/cat");
  CHECK(j["syscall"] == json{{"name", "openat"}, {"nr", 257}, {"arch", "x86_64"}});
  REQUIRE(j["raw_args"].is_array());
  REQUIRE(j["raw_args"].size() == 6);
  CHECK(j["raw_args"][0].get<std::uint64_t>() == 0xffffffffffffff9cULL);
  CHECK(j["raw_args"][1].get<std::uint64_t>() == 0x7ffc0000u);
  CHECK(j["args"]["pathname"]["raw"] == "/etc/shadow");
  CHECK(j["decision"]["action"] == "deny");
  CHECK(j["decision"]["errno"] == "EACCES");
  CHECK(j["decision"]["rule"] == "default#/files/rules/0");
  CHECK_FALSE(j["decision"].contains("would"));
  CHECK_FALSE(j.contains("tip"));
  CHECK(j["race_free"] == false);
  CHECK(j["message"] == "openat /etc/shadow denied");
}

TEST_CASE("ToJson: optional fields appear only when set", "[event]") {
  SECTION("audit mode names what enforce would have done") {
    Event e = SampleEvent();
    e.action = Action::kAllow;
    e.would = Action::kKill;
    e.error = 0;
    json j = report::ToJson(e);
    CHECK(j["decision"]["action"] == "allow");
    CHECK(j["decision"]["would"] == "kill");
    CHECK_FALSE(j["decision"].contains("errno"));
  }
  SECTION("lifecycle event without a syscall") {
    Event e;
    e.type = EventType::kProcessExit;
    e.pid = 5;
    json j = report::ToJson(e);
    CHECK(j["type"] == "process_exit");
    CHECK(j["severity"] == "info");
    CHECK_FALSE(j.contains("syscall"));
    CHECK_FALSE(j.contains("raw_args"));
    CHECK(j["args"] == json::object());  // lifecycle details live in args; none here
    CHECK_FALSE(j.contains("message"));
    CHECK(j["decision"]["action"] == "allow");
    CHECK(j["race_free"] == false);
  }
  SECTION("a tip appears only when there is one") {
    Event e = SampleEvent();
    CHECK_FALSE(report::ToJson(e).contains("tip"));
    e.tip = json{{"files", {{"rules", json::array({{{"path", "/x"}, {"action", "allow"}}})}}}};
    json j = report::ToJson(e);
    REQUIRE(j.contains("tip"));
    CHECK(j["tip"] == e.tip);
  }
  SECTION("a syscall event with no decoded arguments has an empty args object") {
    Event e = SampleEvent();
    e.args = json();
    json j = report::ToJson(e);
    CHECK(j["args"] == json::object());
  }
  SECTION("errno names") {
    struct Case {
      int error;
      const char* name;
    };
    for (const Case& c : {Case{EPERM, "EPERM"}, Case{EAFNOSUPPORT, "EAFNOSUPPORT"},
                          Case{ENOSYS, "ENOSYS"}, Case{ELOOP, "ELOOP"}, Case{4095, "errno 4095"}}) {
      Event e = SampleEvent();
      e.error = c.error;
      CHECK(report::ToJson(e)["decision"]["errno"] == c.name);
    }
  }
  SECTION("event type names") {
    struct Case {
      EventType type;
      const char* name;
    };
    for (const Case& c : {Case{EventType::kEscapeAttempt, "escape_attempt"},
                          Case{EventType::kSyscallBlocked, "syscall_blocked"},
                          Case{EventType::kSyscallAllowed, "syscall_allowed"},
                          Case{EventType::kProcessStart, "process_start"},
                          Case{EventType::kProcessExec, "process_exec"},
                          Case{EventType::kTimeoutExceeded, "timeout_exceeded"}}) {
      Event e;
      e.type = c.type;
      CHECK(report::ToJson(e)["type"] == c.name);
    }
  }
}

TEST_CASE("EventLog: events pushed from several threads all reach the file", "[event_log]") {
  TempFile file;
  constexpr int kThreads = 6;
  constexpr int kPerThread = 500;
  constexpr int kTotal = kThreads * kPerThread;
  {
    report::EventLog log(file.path);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < kPerThread; ++i) {
          Event e = SampleEvent();
          e.seq = static_cast<std::uint64_t>(t * kPerThread + i + 1);
          e.pid = t;
          e.tid = i;
          e.type = t % 2 == 0 ? EventType::kPermissionDenied : EventType::kEscapeAttempt;
          if (t == 1) e.would = Action::kDeny;
          e.message = "thread " + std::to_string(t) + " event " + std::to_string(i);
          log.Push(std::move(e));
        }
      });
    }
    for (auto& th : threads) th.join();
    log.Close();
    CHECK(log.written() == static_cast<std::uint64_t>(kTotal));
    log.Close();  // idempotent
    CHECK(log.written() == static_cast<std::uint64_t>(kTotal));
  }

  std::string all = ReadAll(file.path);
  REQUIRE_FALSE(all.empty());
  CHECK(all.back() == '\n');
  std::vector<std::string> lines = ReadLines(file.path);
  REQUIRE(lines.size() == static_cast<std::size_t>(kTotal) + 1);
  json end = json::parse(lines.back());
  CHECK(end["type"] == "log_end");
  CHECK(end["records"] == kTotal);
  lines.pop_back();

  std::set<std::uint64_t> seqs;
  std::map<int, int> next_per_thread;  // per-thread order is preserved
  int parse_failures = 0;
  int field_failures = 0;
  for (const auto& line : lines) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      ++parse_failures;
      continue;
    }
    auto seq = j["seq"].get<std::uint64_t>();
    seqs.insert(seq);
    int t = j["pid"].get<int>();
    int i = j["tid"].get<int>();
    if (i != next_per_thread[t]) ++field_failures;
    next_per_thread[t] = i + 1;
    if (seq != static_cast<std::uint64_t>(t * kPerThread + i + 1)) ++field_failures;
    if (j["type"] != (t % 2 == 0 ? "permission_denied" : "escape_attempt")) ++field_failures;
    if (j["decision"]["errno"] != "EACCES") ++field_failures;
    if (j["decision"].contains("would") != (t == 1)) ++field_failures;
    if (t == 1 && j["decision"]["would"] != "deny") ++field_failures;
    if (j["message"] != "thread " + std::to_string(t) + " event " + std::to_string(i)) {
      ++field_failures;
    }
  }
  CHECK(parse_failures == 0);
  CHECK(field_failures == 0);
  REQUIRE(seqs.size() == static_cast<std::size_t>(kTotal));
  CHECK(*seqs.begin() == 1);
  CHECK(*seqs.rbegin() == static_cast<std::uint64_t>(kTotal));
  CHECK(next_per_thread.size() == static_cast<std::size_t>(kThreads));
}

TEST_CASE("EventLog: the destructor drains pending events", "[event_log]") {
  TempFile file;
  {
    report::EventLog log(file.path);
    for (int i = 0; i < 100; ++i) {
      Event e = SampleEvent();
      e.seq = static_cast<std::uint64_t>(i);
      log.Push(std::move(e));
    }
  }
  CHECK(ReadLines(file.path).size() == 100 + 1);  // and the closing log_end record
}

TEST_CASE("EventLog: opening truncates the file", "[event_log]") {
  TempFile file;
  {
    std::ofstream out(file.path);
    out << "stale line\nanother\n";
  }
  {
    report::EventLog log(file.path);
    log.Close();
    CHECK(log.written() == 0);
  }
  std::vector<std::string> lines = ReadLines(file.path);
  REQUIRE(lines.size() == 1);  // only the closing record of this (empty) log
  CHECK(json::parse(lines[0])["type"] == "log_end");
}

TEST_CASE("EventLog: an unopenable path throws naming the path", "[event_log]") {
  const std::string path = "/nonexistent-dir-for-tracejail-tests/events.jsonl";
  try {
    report::EventLog log(path);
    FAIL("EventLog opened " << path);
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Contains(path));
    CHECK_THAT(e.what(), Catch::Contains("No such file"));
  }
}

TEST_CASE("EventLog: a string that is not UTF-8 still gives a parseable line", "[event_log]") {
  TempFile file;
  {
    report::EventLog log(file.path);
    Event e = SampleEvent();
    e.message = "bad \xff\xfe bytes";  // not escaped: the writer's backstop must cope
    e.exe = "\xc3";
    log.Push(std::move(e));
    log.Close();
    CHECK(log.written() == 1);
  }
  std::vector<std::string> lines = ReadLines(file.path);
  REQUIRE(lines.size() == 2);  // the event and the closing log_end record
  json j = json::parse(lines[0], nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  CHECK_THAT(j["message"].get<std::string>(), Catch::StartsWith("bad "));
  CHECK(j["type"] == "permission_denied");
}
