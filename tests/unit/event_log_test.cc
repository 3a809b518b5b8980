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

#include <condition_variable>
#include <mutex>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "report/event.h"
#include "report/event_log.h"
#include "report/hash_chain.h"
#include "temp_file.h"

namespace {

using nlohmann::json;
using policy::Action;
using policy::EventType;
using policy::Severity;
using report::Event;

using tjtest::ReadLines;
using tjtest::TempFile;

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
    if (seq != seqs.size()) ++field_failures;  // numbered in file order
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
      e.message += " " + std::to_string(i);  // distinct: none is folded
      log.Push(std::move(e));
    }
  }
  CHECK(ReadLines(file.path).size() == 100 + 1);  // and the closing log_end record
}

namespace {

std::uint64_t WeightOf(const json& j) {
  return j.contains("repeat") ? j["repeat"]["count"].get<std::uint64_t>() : 1;
}

}  // namespace

TEST_CASE("EventLog: repeats are folded into a counted record inside the chain", "[event_log]") {
  TempFile file;
  constexpr int kRepeats = 5000;
  {
    report::EventLog log(file.path);
    for (int i = 0; i < kRepeats; ++i) {
      Event e = SampleEvent();
      e.time = 1000.0 + i;
      e.pid = 100 + i % 7;  // the process does not make it another event
      log.Push(std::move(e));
      if (i % 1000 == 0) {
        Event other = SampleEvent();
        other.message = "openat /etc/gshadow denied";
        log.Push(std::move(other));
      }
    }
    Event start = SampleEvent();
    start.rule = "lifecycle";
    log.Push(start);
    log.Push(start);  // lifecycle records are never folded
    log.Close();
    CHECK(log.occurrences() == kRepeats + 5 + 2);
    CHECK(log.lost() == 0);
    CHECK(log.written() < 20);
  }
  std::ifstream in(file.path);
  report::VerifyResult v = report::VerifyChain(in);
  INFO(v.problems.size());
  CHECK(v.ok());
  std::vector<std::string> lines = ReadLines(file.path);
  std::map<std::string, std::uint64_t> per_message;
  std::uint64_t lifecycle = 0, seq = 0;
  std::size_t shadow_folds = 0;
  double last_fold_time = 0;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    json j = json::parse(lines[i]);
    CHECK(j["seq"] == ++seq);
    if (j["decision"]["rule"] == "lifecycle") {
      CHECK_FALSE(j.contains("repeat"));
      ++lifecycle;
      continue;
    }
    per_message[j["message"]] += WeightOf(j);
    if (j.contains("repeat") && j["message"] == "openat /etc/shadow denied") {
      // Repeats are folded per window of fold_window_s (report/event_log.cc, FlushFolds): a
      // slow writer (a sanitized build on a loaded machine) may need more than one window, and
      // then each window has its record. Every one points at the one written in full; the
      // last ends at the last occurrence.
      ++shadow_folds;
      CHECK(j["repeat"]["first_seq"] == 1);
      CHECK(j["repeat"]["first_time"].get<double>() >= 1001.0);
      last_fold_time = j["time"].get<double>();
    }
  }
  CHECK(shadow_folds >= 1);
  CHECK(last_fold_time == Approx(1000.0 + kRepeats - 1));
  CHECK(lifecycle == 2);
  CHECK(per_message["openat /etc/shadow denied"] == kRepeats);
  CHECK(per_message["openat /etc/gshadow denied"] == 5);
  json end = json::parse(lines.back());
  CHECK(end["events"] == kRepeats + 5 + 2);
  CHECK(end["records"] == lines.size() - 1);
}

TEST_CASE("EventLog: raw events keep every occurrence", "[event_log]") {
  TempFile file;
  report::EventLogOptions options;
  options.fold = false;
  {
    report::EventLog log(file.path, {}, options);
    for (int i = 0; i < 300; ++i) log.Push(SampleEvent());
  }
  CHECK(ReadLines(file.path).size() == 300 + 1);
}

TEST_CASE("EventLog: a failed write is reported and never looks complete", "[event_log]") {
  report::EventLogOptions options;
  options.fold = false;
  report::EventLog log("/dev/full", {}, options);
  for (int i = 0; i < 2000; ++i) log.Push(SampleEvent());
  log.Close();
  REQUIRE(log.Failure().has_value());
  CHECK_THAT(*log.Failure(), Catch::Contains("/dev/full"));
  CHECK_THAT(*log.Failure(), Catch::Contains("No space left"));
  CHECK(log.lost() > 0);
}

TEST_CASE("EventLog: the queue is bounded and a writer that stalls fails the log", "[event_log]") {
  report::EventLogOptions options;
  options.max_queued = 8;
  options.stall_limit_s = 0.2;
  options.fold = false;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::uint64_t seen = 0;
  // A sink that blocks until released: the writer takes nothing meanwhile.
  report::EventLog::Sink blocking = [&](const std::string&, const json&, bool) {
    std::unique_lock lock(mu);
    ++seen;
    cv.wait(lock, [&] { return release; });
  };
  report::EventLog log("", {blocking}, options);
  for (int i = 0; i < 100; ++i) log.Push(SampleEvent());  // returns: the stall fails the log
  CHECK(log.failed());
  REQUIRE(log.Failure().has_value());
  CHECK_THAT(*log.Failure(), Catch::Contains("took no record"));
  CHECK(log.peak_queued() <= options.max_queued);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  log.Close();
  CHECK(log.lost() > 0);
}

TEST_CASE("EventLog: a busy writer holds the queue to its bound without failing", "[event_log]") {
  report::EventLogOptions options;
  options.max_queued = 16;
  options.fold = false;
  TempFile file;
  report::EventLog log(file.path, {}, options);
  for (int i = 0; i < 20000; ++i) log.Push(SampleEvent());
  log.Close();
  CHECK_FALSE(log.failed());
  CHECK(log.peak_queued() <= 16);
  CHECK(log.written() == 20000);
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
