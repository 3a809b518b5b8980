// report/live_view.cc: one strace-like line per event record for a terminal. The lines say the
// call, its arguments, the verdict and the rule; the filter keeps what `--live=denied` promises;
// and no record, however crafted, gets a control byte, a C1 control or a bidi override through
// to the terminal.
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "report/event.h"
#include "report/live_view.h"

namespace {

using nlohmann::json;

json Open(const std::string& action, const std::string& would = "") {
  json d = {{"action", action}, {"rule", "standard:9#/files/rules/0 (secrets)"}};
  if (action == "deny") d["errno"] = "EACCES";
  if (!would.empty()) d["would"] = would;
  return {{"type", "permission_denied"},
          {"pid", 1234},
          {"syscall", {{"name", "openat"}}},
          {"args",
           {{"dirfd", "AT_FDCWD"},
            {"pathname", {{"raw", "/etc/shadow"}, {"resolved", "/etc/shadow"}}},
            {"flags", "O_RDONLY"}}},
          {"decision", d}};
}

const report::LiveStyle kPlain{false};
const report::LiveStyle kColor{true};

}  // namespace

TEST_CASE("live_view: a denied open reads like strace with its verdict and rule", "[live_view]") {
  // Arguments in the call's order (the syscall table's), not the record's alphabetical one.
  CHECK(report::FormatLive(Open("deny"), kPlain) ==
        "[1234] openat(dirfd=\"AT_FDCWD\", pathname=\"/etc/shadow\", flags=\"O_RDONLY\") = DENIED "
        "EACCES  <- standard:9#/files/rules/0 (secrets)");
  CHECK(report::FormatLive(Open("kill"), kPlain).find(") = KILLED  <- standard:9") !=
        std::string::npos);
  json allowed = Open("allow");
  allowed["decision"].erase("rule");
  CHECK(report::FormatLive(allowed, kPlain).ends_with(") = allowed"));
}

TEST_CASE("live_view: audit mode says what would have happened", "[live_view]") {
  std::string line = report::FormatLive(Open("allow", "deny"), kPlain);
  CHECK(line.find(") = DENIED (audit: allowed)  <- ") != std::string::npos);
  line = report::FormatLive(Open("allow", "kill"), kPlain);
  CHECK(line.find(") = KILLED (audit: allowed)  <- ") != std::string::npos);
  CHECK(report::FormatLive(Open("allow", "allow"), kPlain).find(") = allowed  <- ") !=
        std::string::npos);
}

TEST_CASE("live_view: paths show where they resolved and addresses their family and port",
          "[live_view]") {
  json r = Open("deny");
  r["args"] = {{"pathname", {{"raw", "../secret"}, {"resolved", "/home/a/secret"}}}};
  CHECK(report::FormatLive(r, kPlain).find("pathname=\"../secret\" -> /home/a/secret)") !=
        std::string::npos);
  r["syscall"]["name"] = "connect";
  r["args"] = {{"fd", 3},
               {"addr", {{"family", "AF_INET"}, {"address", "10.0.0.1"}, {"port", 443}}}};
  CHECK(report::FormatLive(r, kPlain).find("connect(addr={AF_INET 10.0.0.1:443}, fd=3)") !=
        std::string::npos);
  r["args"] = {{"addr", {{"family", "AF_UNIX"}, {"path", "/run/docker.sock"}}}};
  CHECK(report::FormatLive(r, kPlain).find("connect(addr={AF_UNIX /run/docker.sock})") !=
        std::string::npos);
  // envp is long and left out; argv is not.
  r["syscall"]["name"] = "execve";
  r["args"] = {{"argv", {"ls", "-l"}}, {"envp", {"SECRET=1"}}};
  std::string line = report::FormatLive(r, kPlain);
  CHECK(line.find("execve(argv=[\"ls\",\"-l\"])") != std::string::npos);
  CHECK(line.find("SECRET") == std::string::npos);
}

TEST_CASE("live_view: lifecycle and limit and drop records have their own lines", "[live_view]") {
  CHECK(report::FormatLive({{"type", "process_exec"},
                            {"pid", 7},
                            {"args", {{"exe", "/usr/bin/ls"}, {"argv", {"ls", "-l"}}}}},
                           kPlain) == "[7] +++ exec /usr/bin/ls [\"ls\",\"-l\"]");
  CHECK(
      report::FormatLive(
          {{"type", "process_start"}, {"pid", 8}, {"args", {{"parent_pid", 7}, {"thread", true}}}},
          kPlain) == "[8] +++ thread started by 7");
  CHECK(report::FormatLive({{"type", "process_exit"}, {"pid", 8}, {"args", {{"exit_code", 3}}}},
                           kPlain) == "[8] +++ exited with 3");
  CHECK(report::FormatLive(
            {{"type", "process_exit"}, {"pid", 8}, {"args", {{"signal", "SIGKILL"}}}}, kPlain) ==
        "[8] +++ killed by SIGKILL");
  CHECK(report::FormatLive({{"type", "resource_limit_exceeded"},
                            {"pid", 9},
                            {"args",
                             {{"limit", "memory"},
                              {"configured", "256MiB"},
                              {"observed", "OOM kill at a peak of 256MiB"}}}},
                           kPlain) ==
        "[9] !!! memory limit (256MiB): OOM kill at a peak of 256MiB");
  CHECK(report::FormatLive({{"type", "events_dropped"}, {"count", 12}}, kPlain) ==
        "tracejail: 12 event(s) dropped: this subscriber was too slow");
  CHECK(report::FormatLive({{"type", "log_end"}}, kPlain).empty());
  // Not a record at all: nothing, and no exception.
  CHECK(report::FormatLive(json::array({1, 2}), kPlain).empty());
  CHECK(report::FormatLive("text", kPlain).empty());
}

TEST_CASE("live_view: colours follow the verdict and always end in a reset", "[live_view]") {
  std::string denied = report::FormatLive(Open("deny"), kColor);
  CHECK(denied.starts_with("\x1b[1;31m"));
  CHECK(denied.ends_with("\x1b[0m"));
  CHECK(denied.substr(7, denied.size() - 11) == report::FormatLive(Open("deny"), kPlain));
  json escape = Open("deny");
  escape["type"] = "escape_attempt";
  CHECK(report::FormatLive(escape, kColor).starts_with("\x1b[1;35m"));
  CHECK(report::FormatLive(Open("allow"), kColor).starts_with("\x1b[2m"));
  CHECK(report::FormatLive({{"type", "events_dropped"}, {"count", 1}}, kColor)
            .starts_with("\x1b[33m"));
}

TEST_CASE("live_view: the denied filter keeps denials and kills and escapes and limits",
          "[live_view]") {
  using report::LiveFilter;
  CHECK(report::LiveWants(Open("deny"), LiveFilter::kDenied));
  CHECK(report::LiveWants(Open("kill"), LiveFilter::kDenied));
  CHECK(report::LiveWants(Open("allow", "deny"), LiveFilter::kDenied));  // audit
  CHECK_FALSE(report::LiveWants(Open("allow"), LiveFilter::kDenied));
  CHECK(report::LiveWants(Open("allow"), LiveFilter::kAll));
  for (const char* type : {"escape_attempt", "resource_limit_exceeded", "timeout_exceeded"}) {
    CAPTURE(type);
    CHECK(report::LiveWants({{"type", type}}, LiveFilter::kDenied));
  }
  CHECK_FALSE(report::LiveWants({{"type", "process_start"}}, LiveFilter::kDenied));
  CHECK(report::LiveWants({{"type", "process_start"}}, LiveFilter::kAll));
  // The end of the log is never shown; a drop notice always is.
  for (LiveFilter f : {LiveFilter::kAll, LiveFilter::kDenied}) {
    CHECK_FALSE(report::LiveWants({{"type", "log_end"}}, f));
    CHECK(report::LiveWants({{"type", "events_dropped"}, {"count", 1}}, f));
  }
}

TEST_CASE("live_view: hostile strings in any field cannot drive the terminal",
          "[live_view][escape]") {
  // Valid UTF-8, as every record is (the writer escapes tracee bytes; a stream line is parsed).
  const std::string evil = "x\x1b]0;pwned\x07\x1b[2J\xe2\x80\xae\xc2\x9b\r\n\x7f";
  json r = Open("deny");
  r["syscall"]["name"] = "open" + evil;
  r["args"] = {{"path", {{"raw", evil}, {"resolved", "/r" + evil}}},
               {"s", evil},
               {"addr", {{"family", evil}, {"address", evil}}},
               {"n", {{"nested", evil}}}};
  r["decision"]["rule"] = "rule" + evil;
  json exec = {{"type", "process_exec"}, {"pid", 1}, {"args", {{"exe", evil}, {"argv", {evil}}}}};
  json exit = {{"type", "process_exit"}, {"pid", 1}, {"args", {{"signal", evil}}}};
  json limit = {{"type", "timeout_exceeded"},
                {"pid", 1},
                {"args", {{"limit", evil}, {"configured", evil}, {"observed", evil}}}};
  // An errno is read back as a number: a record naming one the reader does not know is refused
  // whole (nothing shown), never shown as it came.
  json bad_errno = r;
  bad_errno["decision"]["errno"] = "E" + evil;
  CHECK(report::FormatLive(bad_errno, kPlain).empty());
  for (const json& record : {r, exec, exit, limit}) {
    std::string line = report::FormatLive(record, kPlain);
    CAPTURE(line);
    REQUIRE_FALSE(line.empty());
    for (char c : line) {
      auto u = static_cast<unsigned char>(c);
      CHECK((u >= 0x20 && u != 0x7f));  // no C0 control, no DEL, no newline
    }
    CHECK(line.find("\xe2\x80\xae") == std::string::npos);
    CHECK(line.find("\xc2\x9b") == std::string::npos);
    CHECK(line.find("\\x1b]0;pwned\\x07") != std::string::npos);  // visible, not hidden
    // With colour, the only escape sequences are the view's own.
    std::string colored = report::FormatLive(record, kColor);
    CHECK(std::count(colored.begin(), colored.end(), '\x1b') == 2);
  }
}

TEST_CASE("live_view: the progress line counts decisions and denials and processes",
          "[live_view]") {
  CHECK(report::FormatProgress(12345, 3, 2) == "tracejail: 12345 decisions, 3 denied, 2 processes");
}

// The names of a record's arguments are shown escaped like their values: a crafted record (a
// stream peer that is not tracejail: `tracejail watch` checks each line's shape, not its
// argument names) cannot put an escape sequence on the terminal.
TEST_CASE("live_view: a hostile argument name cannot drive the terminal", "[live_view][escape]") {
  json r = Open("deny");
  r["args"] = {{"path\x1b]0;pwned\x07", "x"}};
  std::string line = report::FormatLive(r, kPlain);
  CHECK(line.find('\x1b') == std::string::npos);
  CHECK(line.find("path\\x1b]0;pwned\\x07=") != std::string::npos);
}

TEST_CASE("live_view: an allowed call shows its return value as strace does", "[live_view]") {
  json ok = Open("allow");
  ok["decision"]["rule"] = "";
  ok["return"] = 3;
  CHECK(report::FormatLive(ok, kPlain) ==
        "[1234] openat(dirfd=\"AT_FDCWD\", pathname=\"/etc/shadow\", flags=\"O_RDONLY\") = 3");
  ok["return"] = -2;
  CHECK_THAT(report::FormatLive(ok, kPlain),
             Catch::EndsWith(") = -1 ENOENT (No such file or directory)"));
  ok["return"] = nullptr;  // its exit never came
  CHECK_THAT(report::FormatLive(ok, kPlain), Catch::EndsWith(") = ?"));
  ok.erase("return");  // not traced (audit mode, a record from a file)
  CHECK_THAT(report::FormatLive(ok, kPlain), Catch::EndsWith(") = allowed"));
  // A denial keeps its verdict whatever else the record says.
  json denied = Open("deny");
  denied["return"] = 3;
  CHECK_THAT(report::FormatLive(denied, kPlain), Catch::Contains("= DENIED EACCES"));
  ok["return"] = "three";  // not an integer: not a record the view shows
  CHECK(report::FormatLive(ok, kPlain).empty());
}

TEST_CASE("live_view: return values of addresses and restarts and errors", "[live_view]") {
  using R = report::Event::Returned;
  CHECK(report::FormatReturn("read", R{0}) == "0");
  CHECK(report::FormatReturn("read", R{4096}) == "4096");
  CHECK(report::FormatReturn("mmap", R{0x7f0000001000}) == "0x7f0000001000");
  CHECK(report::FormatReturn("openat", R{-13}) == "-1 EACCES (Permission denied)");
  CHECK(report::FormatReturn("connect", R{-111}) == "-1 ECONNREFUSED (Connection refused)");
  CHECK(report::FormatReturn("read", R{-512}) ==
        "? ERESTARTSYS (To be restarted if SA_RESTART is set)");
  CHECK(report::FormatReturn("nanosleep", R{-516}) ==
        "? ERESTART_RESTARTBLOCK (Interrupted by signal)");
  CHECK(report::FormatReturn("exit_group", R{}) == "?");
  // Past the kernel's MAX_ERRNO a negative number is a value, not an error.
  CHECK(report::FormatReturn("lseek", R{-5000}) == "-5000");
}

TEST_CASE("live_view: the return value survives the record's JSON both ways", "[live_view]") {
  report::Event e;
  e.type = policy::EventType::kSyscallAllowed;
  e.syscall = report::SyscallRef{"openat", 257, "x86_64"};
  e.live_only = true;
  CHECK_FALSE(report::ToJson(e).contains("return"));  // untraced: no key, file lines unchanged
  e.returned = report::Event::Returned{5};
  json j = report::ToJson(e);
  CHECK(j["return"] == 5);
  report::Event back;
  REQUIRE(report::FromJson(j, back).empty());
  REQUIRE(back.returned);
  CHECK(back.returned->value == 5);
  e.returned = report::Event::Returned{};
  j = report::ToJson(e);
  CHECK(j["return"].is_null());
  REQUIRE(report::FromJson(j, back).empty());
  REQUIRE(back.returned);
  CHECK_FALSE(back.returned->value);
}
