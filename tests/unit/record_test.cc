// report/record.h and report/event.h: the typed record model. Every kind of record goes from
// JSON and back byte for byte (the hash chain is of those bytes), the writer's lines are the
// documented ones, and FromJson refuses hostile records (a field of the wrong type, a missing
// required field, an unknown type or schema version) with a message naming what is wrong.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "policy/names.h"
#include "report/event.h"
#include "report/event_log.h"
#include "report/event_reader.h"
#include "report/hash_chain.h"
#include "report/record.h"
#include "temp_file.h"

namespace {

using nlohmann::json;
using policy::Action;
using policy::EventType;
using policy::Severity;
using report::Event;
using report::Record;

using tjtest::ReadLines;
using tjtest::TempFile;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// FromJson then ToJson of one line, as the line it gives back.
std::string RoundTrip(const std::string& line) {
  Record record;
  const std::string why = report::FromJson(json::parse(line), record);
  INFO(line);
  REQUIRE(why.empty());
  return Dump(report::ToJson(record));
}

Event Denial() {
  Event e;
  e.type = EventType::kPermissionDenied;
  e.severity = Severity::kMedium;
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

// One of every shape the writer gives an event.
std::vector<Event> EveryShape() {
  std::vector<Event> out;
  out.push_back(Denial());
  Event audit = Denial();
  audit.action = Action::kAllow;
  audit.would = Action::kKill;
  audit.error = 0;
  audit.type = EventType::kEscapeAttempt;
  audit.severity = Severity::kCritical;
  audit.primitive = "ptrace";
  audit.capability = "CAP_SYS_PTRACE";
  audit.tip = json{{"files", {{"rules", {{{"path", "/a\\*b"}, {"access", {"read"}}}}}}}};
  audit.race_free = true;
  audit.race = json{{"arguments", "pinned"}, {"filesystem", "not covered: no Landlock"}};
  audit.message = "ptrace PTRACE_ATTACH 1 \xe2\x80\xae";
  audit.attack = {"T1055.008", "T1562.001"};
  audit.time = 1795738623.1436002;
  out.push_back(audit);
  Event odd_errno = Denial();
  odd_errno.error = 999;  // "errno 999"
  out.push_back(odd_errno);
  Event libc_errno = Denial();
  libc_errno.error = ELOOP;
  out.push_back(libc_errno);
  Event start;
  start.type = EventType::kProcessStart;
  start.rule = "lifecycle";
  start.race_free = true;
  start.pid = 7;
  start.args = json{{"parent_pid", 6}, {"thread", false}, {"via", "fork"}};
  out.push_back(start);
  Event exec = start;
  exec.type = EventType::kProcessExec;
  exec.args = json{{"exe", "/bin/ls"}, {"argv", {"ls", "-l"}}};
  exec.message = "exec /bin/ls";
  out.push_back(exec);
  Event exit = start;
  exit.type = EventType::kProcessExit;
  exit.args = json{{"signal", "SIGKILL"}, {"thread", false}};
  out.push_back(exit);
  Event limit;
  limit.type = EventType::kResourceLimitExceeded;
  limit.severity = Severity::kMedium;
  limit.action = Action::kKill;
  limit.rule = "limits.memory";
  limit.race_free = true;
  limit.args = json{{"limit", "memory"},
                    {"configured", "256MiB"},
                    {"observed", "OOM kill"},
                    {"peak_bytes", 268435456}};
  out.push_back(limit);
  Event nothing;  // every optional field empty
  nothing.type = EventType::kSyscallAllowed;
  out.push_back(nothing);
  return out;
}

}  // namespace

TEST_CASE("records: every line of the fixture goes back to the same bytes", "[records]") {
  std::ifstream in(std::string(TEST_DATA_DIR) + "/events-fixture.jsonl", std::ios::binary);
  std::string line;
  std::size_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    CHECK(RoundTrip(line) == line);
  }
  CHECK(lines > 10);
}

TEST_CASE("records: every line the writer writes goes back to the same bytes", "[records]") {
  for (bool fold : {true, false}) {
    for (const char* key : {"", "k3y"}) {
      CAPTURE(fold, key);
      TempFile file;
      {
        report::EventLogOptions options;
        options.fold = fold;
        options.key = key;
        report::EventLog log(file.path, {}, options);
        for (const Event& e : EveryShape()) log.Push(e);
        for (int i = 0; i < 3; ++i) log.Push(Denial());  // folded into a repeat record
        report::LogEnd outcome;
        outcome.run_status = "internal_error";
        outcome.internal_error = "waitpid failed";
        outcome.interrupted_by = "SIGTERM";
        outcome.capabilities = report::Capabilities{.names = {"CAP_CHOWN", "CAP_KILL"}};
        outcome.policy = "standard";
        log.Close(outcome);
      }
      const std::vector<std::string> lines = ReadLines(file.path);
      REQUIRE(lines.size() >= EveryShape().size() + 2);
      bool repeat = false;
      for (const std::string& l : lines) {
        CHECK(RoundTrip(l) == l);
        repeat = repeat || l.find("\"repeat\"") != std::string::npos;
      }
      CHECK(repeat == fold);
      std::ifstream again(file.path, std::ios::binary);
      CHECK(report::VerifyChain(again, report::ChainHash(key)).ok());
    }
  }
}

TEST_CASE("records: the writer's bytes are the documented ones", "[records]") {
  TempFile file;
  {
    report::EventLogOptions options;
    options.fold = false;
    report::EventLog log(file.path, {}, options);
    log.Push(Denial());
    report::LogEnd outcome;
    outcome.run_status = "ok";
    outcome.capabilities = report::Capabilities{.inherit = true};
    log.Close(outcome);
  }
  const std::vector<std::string> lines = ReadLines(file.path);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] ==
        R"({"args":{"pathname":{"raw":"/etc/shadow"}},"attack":["T1211","T1003.008","T1552.001"],)"
        R"("decision":{"action":"deny","errno":"EACCES",)"
        R"("rule":"default#/files/rules/0"},"exe":"/usr/bin/cat","message":"openat /etc/shadow )"
        R"(denied","pid":100,"prev_hash":")" +
            std::string(64, '0') +
            R"(","race_free":false,"raw_args":[18446744073709551516,2147221504,0,0,0,0],"seq":1,)"
            R"("severity":"medium","syscall":{"arch":"x86_64","name":"openat","nr":257},"tid":101,)"
            R"("time":1700000000.25,"type":"permission_denied"})");
  CHECK(lines[1] == R"({"capabilities":"inherit","chain":"sha256","events":1,"prev_hash":")" +
                        report::Sha256Hex(lines[0]) +
                        R"(","records":1,"run_status":"ok","type":"log_end"})");
}

TEST_CASE("records: every kind goes to JSON and back", "[records]") {
  for (const Event& e : EveryShape()) {
    const std::string line = Dump(report::ToJson(e));
    CHECK(RoundTrip(line) == line);
  }
  report::LogEnd old;  // an older writer's: records and the link only
  old.records = 18;
  old.prev_hash = std::string(64, 'a');
  report::LogEnd full = old;
  full.events = 20;
  full.chain = "hmac-sha256";
  full.run_status = "ok";
  full.capabilities = report::Capabilities{.names = {}};
  full.policy = "standard";
  for (const Record& r : {Record(old), Record(full), Record(report::EventsDropped{.count = 3}),
                          Record(report::Refused{.reason = "wrong token"})}) {
    const std::string line = Dump(report::ToJson(r));
    CHECK(RoundTrip(line) == line);
  }
  Record read;
  REQUIRE(report::FromJson(json::parse(R"({"type":"events_dropped","count":5})"), read).empty());
  REQUIRE(std::holds_alternative<report::EventsDropped>(read));
  CHECK(std::get<report::EventsDropped>(read).count == 5);
  REQUIRE(
      report::FromJson(json::parse(R"({"type":"log_end","records":2,"schema":1})"), read).empty());
  CHECK(std::get<report::LogEnd>(read).records == 2);
  CHECK_FALSE(std::get<report::LogEnd>(read).policy.has_value());
  CHECK_FALSE(report::FromJson(json::parse(R"({"type":"log_end","records":2,"policy":7})"), read)
                  .empty());  // a policy that is not a name is refused
}

TEST_CASE("records: errno names go back to their numbers", "[records]") {
  for (int err = 1; err < 140; ++err) {
    CAPTURE(err);
    CHECK(policy::ErrnoFromRecordedName(policy::ErrnoName(err)) == err);
  }
  CHECK(policy::ErrnoFromRecordedName("errno 999") == 999);
  CHECK_FALSE(policy::ErrnoFromRecordedName("errno 13"));  // written "EACCES"
  CHECK_FALSE(policy::ErrnoFromRecordedName("errno 0999"));
  CHECK_FALSE(policy::ErrnoFromRecordedName("EBOGUS"));
  CHECK_FALSE(policy::ErrnoFromRecordedName(""));
}

TEST_CASE("records: malformed records are refused with the field named", "[records][escape]") {
  const json good = report::ToJson(EveryShape()[1]);
  struct Case {
    std::string pointer;  // JSON pointer into the good record
    json value;           // nullptr with erase: the field removed
    bool erase;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"/type", 5, false, "\"type\" must be a string"},
      {"/type", "bogus_event", false, "\"type\" is \"bogus_event\""},
      {"/type", nullptr, true, "\"type\" is missing"},
      {"/severity", "extreme", false, "\"severity\" is \"extreme\""},
      {"/seq", -1, false, "\"seq\" must be a non-negative integer"},
      {"/seq", "1", false, "\"seq\" must be a non-negative integer"},
      {"/time", "now", false, "\"time\" must be a number"},
      {"/pid", "100", false, "\"pid\" must be an integer"},
      {"/pid", 4294967296LL, false, "\"pid\" is out of range"},
      {"/tid", 1.5, false, "\"tid\" must be an integer"},
      {"/exe", 5, false, "\"exe\" must be a string"},
      {"/syscall", "openat", false, "\"syscall\" must be an object"},
      {"/syscall/name", nullptr, true, "\"syscall.name\" is missing"},
      {"/syscall/nr", "257", false, "\"syscall.nr\" must be an integer"},
      {"/raw_args", json::array({1, 2}), false, "\"raw_args\" must be an array of 6"},
      {"/raw_args/0", -1, false, "\"raw_args\" must be an array of 6"},
      {"/args", json::array(), false, "\"args\" must be an object"},
      {"/decision", "deny", false, "\"decision\" must be an object"},
      {"/decision/action", nullptr, true, "\"decision.action\" is missing"},
      {"/decision/action", "maybe", false, "\"decision.action\" is \"maybe\""},
      {"/decision/would", 1, false, "\"decision.would\" must be a string"},
      {"/decision/errno", "ENOTANERRNO", false, "\"decision.errno\" is \"ENOTANERRNO\""},
      {"/decision/rule", json::array(), false, "\"decision.rule\" must be a string"},
      {"/tip", "allow it", false, "\"tip\" must be an object or null"},
      {"/race_free", "yes", false, "\"race_free\" must be true or false"},
      {"/race", 1, false, "\"race\" must be an object"},
      {"/message", 1, false, "\"message\" must be a string"},
      {"/repeat", json{{"first_seq", 1}}, false, "\"repeat.count\" is missing"},
      {"/repeat", json{{"count", 0}}, false, "\"repeat.count\" must be at least 1"},
      {"/repeat", json{{"count", 2}, {"first_time", "x"}}, false,
       "\"repeat.first_time\" must be a number"},
      {"/prev_hash", 1, false, "\"prev_hash\" must be a string"},
      {"/schema", 2, false, "schema version 2"},
      {"/schema", "1", false, "\"schema\" must be a non-negative integer"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.pointer, c.value.dump());
    json bad = good;
    const json::json_pointer at(c.pointer);
    if (c.erase) {
      bad.at(at.parent_pointer()).erase(at.back());
    } else {
      bad[at] = c.value;
    }
    bad = json::parse(bad.dump());  // numbers as a file gives them: 2 is unsigned there
    // FromJson alone, and the reader's ToRecord (shape check first): both refuse it.
    Record record;
    std::string why;
    REQUIRE_NOTHROW(why = report::FromJson(bad, record));
    CHECK_THAT(why, Catch::Contains(c.says));
    CHECK_FALSE(report::ToRecord(bad, why));
    CHECK_FALSE(why.empty());
  }
  const std::vector<std::pair<std::string, std::string>> other_kinds = {
      {R"({"type":"log_end"})", "\"records\" is missing"},
      {R"({"type":"log_end","records":"5"})", "\"records\" must be a non-negative integer"},
      {R"({"type":"log_end","records":5,"capabilities":"all"})", "\"capabilities\" must be"},
      {R"({"type":"log_end","records":5,"capabilities":[1]})", "\"capabilities\" must hold"},
      {R"({"type":"log_end","records":5,"chain":true})", "\"chain\" must be a string"},
      {R"({"type":"events_dropped"})", "\"count\" is missing"},
      {R"({"type":"refused","reason":5})", "\"reason\" must be a string"},
      {R"({"type":"process_startx"})", "\"type\" is \"process_startx\""},
      {R"({"type":"none"})", "\"type\" is \"none\""},
      {R"({"type":"log_end","records":1,"schema":3})", "schema version 3 is not one"},
      {R"([1,2])", "not a JSON object"},
      {R"("log_end")", "not a JSON object"},
  };
  for (const auto& [text, says] : other_kinds) {
    CAPTURE(text);
    Record record;
    std::string why;
    REQUIRE_NOTHROW(why = report::FromJson(json::parse(text), record));
    CHECK_THAT(why, Catch::Contains(says));
  }
}

TEST_CASE("records: FromJson never throws on a value of any type in any field", "[records]") {
  const std::vector<json> values = {nullptr,
                                    true,
                                    -1,
                                    1.5,
                                    "s",
                                    json::array(),
                                    json::object(),
                                    18446744073709551615ULL,
                                    json::array({1, "x"})};
  for (const Event& e : EveryShape()) {
    const json good = report::ToJson(e);
    for (const auto& [key, unused] : good.items()) {
      for (const json& v : values) {
        json bad = good;
        bad[key] = v;
        Record record;
        std::string why;
        CAPTURE(key, v.dump());
        REQUIRE_NOTHROW(why = report::FromJson(bad, record));
        std::string shape;
        REQUIRE_NOTHROW((void)report::ToRecord(bad, shape));
        if (why.empty()) REQUIRE_NOTHROW((void)report::ToJson(record));
      }
    }
  }
}

TEST_CASE("records: the reader names a newer schema version by line", "[records]") {
  std::istringstream in(R"({"type":"process_start","pid":1,"schema":1})"
                        "\n"
                        R"({"type":"process_start","pid":2,"schema":2})"
                        "\n"
                        R"({"type":"new_kind_of_record"})"
                        "\n");
  report::EventsRead read = report::ReadEventsFile(in);
  CHECK(read.records.size() == 1);
  REQUIRE(read.problems.size() == 2);
  CHECK(read.problems[0].line == 2);
  CHECK_THAT(read.problems[0].what, Catch::Contains("events schema version 2"));
  CHECK(read.problems[1].line == 3);
  CHECK_THAT(read.problems[1].what, Catch::Contains("new_kind_of_record"));
}
