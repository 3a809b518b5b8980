// report/trace_set.cc: strace's -e trace=SET for what the live view shows. Names, classes from
// the syscall table, "!" negation, all and none, several expressions, and errors that name the
// word that is wrong (the CLI adds "did you mean").
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "report/event_reader.h"
#include "report/trace_set.h"

namespace {

report::TraceSet Parse(std::vector<std::string> exprs) {
  report::ParsedTraceSet p = report::ParseTraceSet(exprs);
  INFO(p.error);
  REQUIRE(p.error.empty());
  return p.set;
}

std::string ErrorOf(std::vector<std::string> exprs) {
  report::ParsedTraceSet p = report::ParseTraceSet(exprs);
  CHECK(p.set.ShowsAll());  // a failed parse leaves nothing half-applied
  return p.error;
}

report::Record Call(const std::string& name) {
  nlohmann::json j = {{"type", "syscall_allowed"},
                      {"pid", 1},
                      {"syscall", {{"name", name}}},
                      {"decision", {{"action", "allow"}}}};
  std::string why;
  std::optional<report::Record> r = report::ToRecord(j, why);
  INFO(why);
  REQUIRE(r);
  return *r;
}

}  // namespace

TEST_CASE("trace set: no expression shows everything", "[trace_set]") {
  report::TraceSet all = Parse({});
  CHECK(all.ShowsAll());
  CHECK(all.Shows("openat"));
  CHECK(all.Shows("not-a-call"));
  CHECK(Parse({"trace=all"}).ShowsAll());
}

TEST_CASE("trace set: names show exactly those calls", "[trace_set]") {
  report::TraceSet s = Parse({"trace=openat,connect"});
  CHECK_FALSE(s.ShowsAll());
  CHECK(s.Shows("openat"));
  CHECK(s.Shows("connect"));
  CHECK_FALSE(s.Shows("open"));
  CHECK_FALSE(s.Shows("execve"));
  // trace is the default qualifier, as in strace
  CHECK(Parse({"execve"}).Shows("execve"));
  CHECK_FALSE(Parse({"execve"}).Shows("openat"));
}

TEST_CASE("trace set: classes come from the syscall table", "[trace_set]") {
  report::TraceSet file = Parse({"trace=%file"});
  CHECK(file.Shows("openat"));
  CHECK(file.Shows("unlinkat"));
  CHECK_FALSE(file.Shows("connect"));
  report::TraceSet net = Parse({"trace=%network"});
  CHECK(net.Shows("connect"));
  CHECK_FALSE(net.Shows("openat"));
  CHECK(Parse({"trace=%net"}).Shows("sendto"));
  CHECK(Parse({"trace=network"}).Shows("sendto"));  // strace's old spelling
  CHECK(Parse({"trace=%process"}).Shows("execve"));
  CHECK(Parse({"trace=%signal"}).Shows("kill"));
  CHECK(Parse({"trace=%ipc"}).Shows("shmget"));
  CHECK(Parse({"trace=%desc"}).Shows("read"));
  // strace's %desc has mmap and fstat (TD), not munmap or mprotect (no descriptor).
  CHECK(Parse({"trace=%desc"}).Shows("mmap"));
  CHECK(Parse({"trace=%desc"}).Shows("fstat"));
  CHECK_FALSE(Parse({"trace=%desc"}).Shows("munmap"));
  CHECK_FALSE(Parse({"trace=%desc"}).Shows("mprotect"));
  CHECK(Parse({"trace=%memory"}).Shows("mmap"));
  CHECK(Parse({"trace=%creds"}).Shows("setresuid"));
  CHECK(Parse({"trace=%escape"}).Shows("ptrace"));
  report::TraceSet mixed = Parse({"trace=%network,execve"});
  CHECK(mixed.Shows("execve"));
  CHECK(mixed.Shows("connect"));
  CHECK_FALSE(mixed.Shows("openat"));
}

TEST_CASE("trace set: ! shows every call but the set", "[trace_set]") {
  report::TraceSet s = Parse({"trace=!%memory"});
  CHECK_FALSE(s.Shows("mmap"));
  CHECK_FALSE(s.Shows("mprotect"));
  CHECK(s.Shows("openat"));
  CHECK(s.Shows("a-call-from-elsewhere"));  // not excluded, so shown
  CHECK_FALSE(Parse({"trace=!all"}).Shows("openat"));
  CHECK_FALSE(Parse({"trace=none"}).Shows("openat"));
  CHECK(Parse({"trace=!none"}).ShowsAll());
}

TEST_CASE("trace set: several expressions show what any of them shows", "[trace_set]") {
  report::TraceSet s = Parse({"trace=openat", "trace=connect"});
  CHECK(s.Shows("openat"));
  CHECK(s.Shows("connect"));
  CHECK_FALSE(s.Shows("execve"));
}

TEST_CASE("trace set: records that are not calls are always shown", "[trace_set]") {
  report::TraceSet s = Parse({"trace=connect"});
  CHECK(s.Shows(Call("connect")));
  CHECK_FALSE(s.Shows(Call("openat")));
  CHECK(s.Shows(report::Record(report::LogEnd{})));
  CHECK(s.Shows(report::Record(report::EventsDropped{3})));
  nlohmann::json exit = {{"type", "process_exit"}, {"pid", 1}, {"args", {{"exit_code", 0}}}};
  std::string why;
  std::optional<report::Record> r = report::ToRecord(exit, why);
  INFO(why);
  REQUIRE(r);
  CHECK(s.Shows(*r));
}

TEST_CASE("trace set: errors name the wrong word and the accepted forms", "[trace_set]") {
  report::ParsedTraceSet p = report::ParseTraceSet({"trace=openat,opne"});
  CHECK(p.unknown == "opne");
  CHECK_THAT(p.error, Catch::Contains("unknown syscall or class \"opne\""));
  CHECK_THAT(ErrorOf({"trace=%files"}), Catch::Contains("\"%files\""));
  CHECK_THAT(ErrorOf({"signal=SIGINT"}), Catch::Contains("only trace="));
  CHECK_THAT(ErrorOf({"trace="}), Catch::Contains("empty set"));
  CHECK_THAT(ErrorOf({"trace=!"}), Catch::Contains("empty set"));
  CHECK_THAT(ErrorOf({"trace=open,,close"}), Catch::Contains("empty name"));
  CHECK_THAT(ErrorOf({"trace=openat", "bogus"}), Catch::Contains("\"bogus\""));
  // a hostile word is escaped in the message
  CHECK(ErrorOf({"trace=\x1b[2J"}).find('\x1b') == std::string::npos);
}

TEST_CASE("trace set: the words offered for did you mean include classes and calls",
          "[trace_set]") {
  std::vector<std::string> words = report::TraceSetWords();
  auto has = [&](const std::string& w) {
    return std::find(words.begin(), words.end(), w) != words.end();
  };
  CHECK(has("all"));
  CHECK(has("%file"));
  CHECK(has("%desc"));
  CHECK(has("openat"));
}
