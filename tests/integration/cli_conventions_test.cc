// The conventions strace, firejail and bwrap users expect (issue 18): -q quiets tracejail's own
// messages and never the command's output (--hide-output does that), -v says more, -o FILE takes
// the live trace, -e trace=SET chooses what it shows; exec always has a timeout and answers in
// JSON, errors included; every JSON document carries schema_version.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <regex>
#include <sstream>

#include "harness.h"

namespace {

// Lines of `text` that contain `needle`.
std::size_t CountLines(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) ++n;
  }
  return n;
}

harness::Result RunWith(std::vector<std::string> args, const std::vector<std::string>& command) {
  harness::Options o;
  o.events = false;
  o.summary = true;
  o.tracejail_args = std::move(args);
  return harness::Run(command, o);
}

const std::vector<std::string> kFiveDenials = {"/bin/cat",    "/etc/shadow", "/etc/shadow",
                                               "/etc/shadow", "/etc/shadow", "/etc/shadow"};

nlohmann::json ParseOut(const harness::Result& r) {
  return nlohmann::json::parse(r.out, nullptr, false);
}

void CheckSchema(const std::string& schema, const std::string& file) {
  const std::string data = TEST_DATA_DIR;
  auto check = harness::RunNative(
      {"/usr/bin/python3", data + "/check_schema.py", data + "/../../docs/schema/" + schema, file});
  INFO(schema << ": " << check.out << check.err);
  CHECK(check.status == 0);
}

}  // namespace

TEST_CASE("option -q quiets tracejail's summary and notes but never the command's output",
          "[cli]") {
  const std::vector<std::string> cmd = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"};
  harness::Result loud = RunWith({}, cmd);
  INFO(loud.err);
  CHECK_THAT(loud.err, Catch::Contains("tracejail: runtime_error (exit 3)"));
  for (const char* q : {"-q", "--quiet"}) {
    harness::Result r = RunWith({q}, cmd);
    INFO(q << ": " << r.err);
    CHECK(r.status == 3);
    CHECK(r.out == "out\n");  // before: --quiet swallowed this
    CHECK(r.err == "err\n");  // the command's stderr, and nothing of tracejail's
  }
  // Errors still print.
  harness::Result missing = RunWith({"-q"}, {"/nonexistent/program"});
  CHECK(missing.status == 127);
  CHECK(missing.err == "tracejail: /nonexistent/program: no such file\n");
  // -q and -v contradict each other.
  harness::Result both = RunWith({"-q", "-v"}, {"/bin/true"});
  CHECK(both.status == 120);
}

TEST_CASE("option --hide-output captures the command's output without passing it through",
          "[cli]") {
  harness::TempDir dir;
  std::string result = dir.path() + "/result.json";
  harness::Result r =
      RunWith({"--hide-output", "--no-summary", "--result", result}, {"/bin/echo", "hidden"});
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(r.out.empty());
  nlohmann::json doc = nlohmann::json::parse(harness::Slurp(result), nullptr, false);
  REQUIRE(doc.is_object());
  CHECK(doc["stdout"]["text"] == "hidden\n");
}

TEST_CASE("option -v prints the plan before the run and every denial in the summary", "[cli]") {
  harness::Result normal = RunWith({"--level", "standard"}, kFiveDenials);
  INFO(normal.err);
  CHECK(CountLines(normal.err, "openat") == 3);
  CHECK_THAT(normal.err, Catch::Contains("... and 2 more"));
  CHECK(CountLines(normal.err, "tracejail: plan:") == 0);

  harness::Result verbose = RunWith({"--level", "standard", "-v"}, kFiveDenials);
  INFO(verbose.err);
  CHECK(CountLines(verbose.err, "openat") == 5);
  CHECK_THAT(verbose.err, !Catch::Contains("more"));
  CHECK_THAT(verbose.err, Catch::Contains("tracejail: plan: policy standard (level standard)"));
  CHECK_THAT(verbose.err, Catch::Contains("tracejail: plan: limits "));
  CHECK_THAT(verbose.err, Catch::Contains("tracejail: plan: layer trace: active"));
  CHECK_THAT(verbose.err, Catch::Contains("tracejail: plan: command /bin/cat:"));
  // The plan comes before the command's own output.
  CHECK(verbose.err.find("tracejail: plan:") < verbose.err.find("cat: /etc/shadow"));
}

TEST_CASE("option -o FILE writes the live trace there with mode 600 and not on stderr", "[cli]") {
  harness::TempDir dir;
  std::string trace = dir.File("trace.txt", "old content\n");
  chmod(trace.c_str(), 0644);
  harness::Result r =
      RunWith({"--level", "standard", "--no-summary", "-o", trace}, {"/bin/cat", "/etc/shadow"});
  INFO(r.err);
  CHECK(r.status == 1);
  std::string text = harness::Slurp(trace);
  INFO(text);
  CHECK_THAT(text, Catch::Contains("openat("));
  CHECK_THAT(text, Catch::Contains("\"/etc/shadow\""));
  CHECK_THAT(text, Catch::Contains("= DENIED EACCES"));
  CHECK_THAT(text, !Catch::Contains("old content"));
  CHECK(text.find('\x1b') == std::string::npos);  // no colours in a file
  CHECK_THAT(r.err, !Catch::Contains("openat("));
  struct stat st {};
  REQUIRE(stat(trace.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("option -o FILE that cannot be created fails before the command starts", "[cli]") {
  harness::Result r = RunWith({"-o", "/nonexistent-dir/trace.txt"}, {"/bin/echo", "ran"});
  CHECK(r.status == 125);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("cannot write /nonexistent-dir/trace.txt: No such file"));
}

TEST_CASE("option -e trace=SET shows only the chosen calls in the trace", "[cli]") {
  harness::TempDir dir;
  const std::vector<std::string> cmd = {"/bin/sh", "-c", "/bin/cat /etc/shadow; /bin/true"};
  auto trace = [&](const std::vector<std::string>& filter) {
    std::string file = dir.path() + "/trace.txt";
    std::vector<std::string> args = {"--level", "standard", "--no-summary", "-o", file};
    args.insert(args.end(), filter.begin(), filter.end());
    harness::Result r = RunWith(args, cmd);
    INFO(r.err);
    CHECK(r.status == 0);
    return harness::Slurp(file);
  };
  std::string all = trace({});
  INFO(all);
  CHECK(CountLines(all, " execve(") >= 2);
  CHECK(CountLines(all, " openat(") >= 1);

  std::string process = trace({"-e", "trace=%process"});
  INFO(process);
  CHECK(CountLines(process, " execve(") >= 2);
  CHECK(CountLines(process, " openat(") == 0);
  CHECK(CountLines(process, "+++ exec") >= 1);  // lifecycle lines are always shown

  std::string opens = trace({"-e", "trace=openat"});
  INFO(opens);
  CHECK(CountLines(opens, " openat(") >= 1);
  CHECK(CountLines(opens, " execve(") == 0);

  std::string not_file = trace({"--trace", "!%file"});
  INFO(not_file);
  CHECK(CountLines(not_file, " openat(") == 0);
  CHECK(CountLines(not_file, " execve(") == 0);  // execve takes a path: %file

  // What is shown, never what is enforced or recorded: the open is denied and counted either way.
  std::string file = dir.path() + "/net.txt";
  harness::Result net = RunWith({"--level", "standard", "-o", file, "-e", "trace=%network"}, cmd);
  INFO(net.err);
  CHECK(CountLines(harness::Slurp(file), " openat(") == 0);
  CHECK_THAT(net.err, Catch::Contains(", 1 denied"));
  CHECK_THAT(net.err, Catch::Contains("Permission denied"));
}

TEST_CASE("option -e with an unknown name or qualifier is a usage error with a suggestion",
          "[cli]") {
  harness::Result r = RunWith({"-e", "trace=opnat"}, {"/bin/true"});
  CHECK(r.status == 120);
  CHECK(r.err ==
        "tracejail: -e trace=opnat: unknown syscall or class \"opnat\": did you mean openat?\n");
  r = RunWith({"-e", "trace=%fiel"}, {"/bin/true"});
  CHECK(r.status == 120);
  CHECK_THAT(r.err, Catch::Contains("did you mean %file?"));
  r = RunWith({"-e", "signal=SIGINT"}, {"/bin/true"});
  CHECK(r.status == 120);
  CHECK_THAT(r.err, Catch::Contains("only trace="));
}

TEST_CASE("exec has a wall-clock timeout at every level unless --timeout says otherwise",
          "[cli][exec]") {
  for (const char* level : {"none", "basic", "standard", "strict", "maximum"}) {
    harness::Result r = harness::Tool(
        {"exec", "--lang", "sh", "--json", "--allow-degraded", "--level", level, "-c", "true"});
    INFO(level << ": " << r.err);
    nlohmann::json doc = ParseOut(r);
    REQUIRE(doc.is_object());
    CHECK(doc["result"]["limits"]["timeout"] == "1m");  // before: "off" at none..standard
  }
  harness::Result off = harness::Tool(
      {"exec", "--lang", "sh", "--json", "--level", "standard", "--timeout", "off", "-c", "true"});
  CHECK(ParseOut(off)["result"]["limits"]["timeout"] == "off");
  harness::Result shorter = harness::Tool(
      {"exec", "--lang", "sh", "--json", "--level", "standard", "--timeout", "5s", "-c", "true"});
  CHECK(ParseOut(shorter)["result"]["limits"]["timeout"] == "5s");
  // run keeps the level's own (standard has none).
  harness::TempDir dir;
  std::string result = dir.path() + "/result.json";
  RunWith({"--level", "standard", "--result", result}, {"/bin/true"});
  nlohmann::json doc = nlohmann::json::parse(harness::Slurp(result), nullptr, false);
  CHECK(doc["limits"]["timeout"] == "off");
}

TEST_CASE("exec's default timeout ends an endless loop as timed_out", "[cli][exec]") {
  // The default itself is a minute; a policy file without a timeout gets it, and its own
  // shorter timeout wins, which keeps this test short.
  harness::TempDir dir;
  std::string policy =
      dir.File("p.json", R"({"version": 1, "extends": "standard", "limits": {"timeout": "2s"}})");
  harness::Result r = harness::Tool(
      {"exec", "--lang", "sh", "--json", "--policy", policy, "-c", "while :; do :; done"});
  INFO(r.err);
  nlohmann::json doc = ParseOut(r);
  REQUIRE(doc.is_object());
  CHECK(r.status == 124);
  CHECK(doc["result"]["status"] == "timed_out");
  CHECK(doc["report"]["by_type"].contains("timeout_exceeded"));
}

TEST_CASE("exec --json answers usage errors in JSON with schema_version and exit 120",
          "[cli][exec]") {
  harness::TempDir dir;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"exec", "--json", "--lang", "sh", "--bogus", "-c", "true"},
           {"exec", "--json", "--lang"},
           {"exec", "--json", "--lang", "sh", "--level", "stict", "-c", "true"},
           {"exec", "--json", "--lang", "cobol", "-c", "true"},
           {"exec", "--json", "--lang", "sh"},
           {"exec", "--json", "--lang", "sh", "-e", "trace=opnat", "-c", "true"}}) {
    harness::Result r = harness::Tool(args);
    INFO(args.back() << " " << args.size() << ": " << r.out << r.err);
    CHECK(r.status == 120);
    nlohmann::json doc = ParseOut(r);
    REQUIRE(doc.is_object());
    CHECK(doc["schema_version"] == 1);
    CHECK(doc["error"] == "usage");
    CHECK(doc["exit_code"] == 120);
    CHECK_FALSE(doc["message"].get<std::string>().empty());
    CHECK_THAT(r.err, Catch::StartsWith("tracejail: "));  // and in words on stderr
    std::string file = dir.File("error.json", r.out);
    CheckSchema("exec.schema.json", file);
  }
  harness::Result level =
      harness::Tool({"exec", "--json", "--lang", "sh", "--level", "stict", "-c", "true"});
  CHECK_THAT(ParseOut(level)["message"].get<std::string>(), Catch::Contains("did you mean strict"));
  // Without --json, exec's stdout is the program's: errors stay on stderr.
  harness::Result text = harness::Tool({"exec", "--lang", "sh", "--bogus", "-c", "true"});
  CHECK(text.status == 120);
  CHECK(text.out.empty());
}

TEST_CASE("every JSON document tracejail writes carries schema_version", "[cli][exec]") {
  harness::TempDir dir;
  std::string events = dir.path() + "/ev.jsonl";
  std::string result = dir.path() + "/result.json";
  harness::Result exec = harness::Tool({"exec", "--lang", "sh", "--json", "--level", "standard",
                                        "--events", events, "-c", "cat /etc/shadow"});
  INFO(exec.err);
  nlohmann::json doc = ParseOut(exec);
  REQUIRE(doc.is_object());
  CHECK(doc["schema_version"] == 1);
  CHECK(exec.out.find("\"schema_version\"") < exec.out.find("\"result\""));  // the version first
  CHECK(doc["result"]["schema_version"] == 1);
  CHECK(doc["report"]["schema_version"] == 1);
  CheckSchema("exec.schema.json", dir.File("exec.json", exec.out));

  RunWith({"--no-summary", "--result", result}, {"/bin/true"});
  CHECK(nlohmann::json::parse(harness::Slurp(result), nullptr, false)["schema_version"] == 1);
  CheckSchema("result.schema.json", result);

  harness::Result report = harness::Tool({"report", events, "--format", "json"});
  CHECK(ParseOut(report)["schema_version"] == 1);
  harness::Result stats = harness::Tool({"stats", events, "--json"});
  CHECK(ParseOut(stats)["schema_version"] == 1);
}

namespace {

// The line of `text` that contains every one of `needles`, or "".
std::string LineWith(const std::string& text, const std::vector<std::string>& needles) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (std::all_of(needles.begin(), needles.end(),
                    [&](const std::string& n) { return line.find(n) != std::string::npos; })) {
      return line;
    }
  }
  return {};
}

// An existing file, a missing one beside it and a denied one, opened by cat: what each open
// line of the trace must say.
void CheckReturnValues(const std::string& trace, const std::string& present,
                       const std::string& missing) {
  INFO(trace);
  // An allowed open that succeeded: its descriptor, as strace shows it.
  std::string opened = LineWith(trace, {" openat(", "\"" + present + "\""});
  std::smatch fd;
  REQUIRE(std::regex_search(opened, fd, std::regex(R"(\) = (\d+)(  <- |$))")));
  CHECK(std::stoi(fd[1]) >= 0);
  // The arguments in the call's own order, not alphabetical.
  CHECK(opened.find("dirfd=") < opened.find("pathname="));
  CHECK(opened.find("pathname=") < opened.find("flags="));
  // An allowed open that failed in the kernel: -1 and the errno's name.
  std::string failed = LineWith(trace, {" openat(", "\"" + missing + "\""});
  CHECK_THAT(failed, Catch::Contains(") = -1 ENOENT (No such file or directory)"));
  // A denial is still a denial, with its rule.
  CHECK_THAT(LineWith(trace, {" openat(", "\"/etc/shadow\""}), Catch::Contains("= DENIED EACCES"));
  // The exec that started cat returned (the image was replaced): 0.
  CHECK_THAT(LineWith(trace, {" execve(", "cat"}), Catch::Contains(") = 0"));
}

}  // namespace

TEST_CASE("option --live shows the return value of allowed calls on stderr", "[cli][live]") {
  harness::TempDir dir;
  std::string present = dir.File("present.txt", "here\n");
  std::string missing = dir.path() + "/missing.txt";
  harness::Result r = RunWith({"--level", "standard", "--no-summary", "--live"},
                              {"/bin/cat", present, missing, "/etc/shadow"});
  INFO(r.err);
  CHECK(r.status == 1);  // cat: two files it could not read
  CHECK(r.out == "here\n");
  CheckReturnValues(r.err, present, missing);
}

TEST_CASE("option -o FILE shows the return value of allowed calls in the trace file",
          "[cli][live]") {
  harness::TempDir dir;
  std::string present = dir.File("present.txt", "here\n");
  std::string missing = dir.path() + "/missing.txt";
  std::string trace = dir.path() + "/trace.txt";
  std::string result = dir.path() + "/result.json";
  harness::Result r =
      RunWith({"--level", "standard", "--no-summary", "-o", trace, "--result", result},
              {"/bin/cat", present, missing, "/etc/shadow"});
  INFO(r.err);
  CHECK(r.status == 1);
  CheckReturnValues(harness::Slurp(trace), present, missing);
  // The exit stops were taken for the trace, and counted.
  auto json = nlohmann::json::parse(harness::Slurp(result), nullptr, false);
  REQUIRE(json.is_object());
  CHECK(json["syscalls"]["return_stops"].get<int>() > 0);
}

TEST_CASE("a run without the live view takes no exit stop for return values", "[cli][live]") {
  harness::TempDir dir;
  std::string present = dir.File("present.txt", "here\n");
  std::string result = dir.path() + "/result.json";
  // --live=denied shows no allowed call either: nothing to wait for.
  for (std::vector<std::string> extra :
       {std::vector<std::string>{}, std::vector<std::string>{"--live=denied"},
        std::vector<std::string>{"--events", dir.path() + "/e"}}) {
    std::vector<std::string> args = {"--level", "standard", "--no-summary", "--result", result};
    args.insert(args.end(), extra.begin(), extra.end());
    harness::Result r = RunWith(args, {"/bin/cat", present, "/etc/shadow"});
    INFO(r.err);
    CHECK(r.status == 1);
    auto json = nlohmann::json::parse(harness::Slurp(result), nullptr, false);
    REQUIRE(json.is_object());
    CHECK(json["syscalls"]["flagged"].get<int>() > 0);  // the opens were decided...
    CHECK(json["syscalls"]["return_stops"] == 0);       // ...and not waited for
  }
}

TEST_CASE("option --live still prints the line of a call whose exit never comes", "[cli][live]") {
  // cat blocks opening a FIFO nobody writes to; the run's timeout kills it in that open (5 s:
  // room for a slow machine, or a sanitized tracer, to bring cat to the open first).
  harness::TempDir dir;
  std::string fifo = dir.path() + "/fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  harness::Result r = RunWith({"--level", "standard", "--no-summary", "--live", "--timeout", "5s"},
                              {"/bin/cat", fifo});
  INFO(r.err);
  CHECK(r.status != 0);
  CHECK_THAT(LineWith(r.err, {" openat(", "\"" + fifo + "\""}), Catch::Contains(") = ?"));
}
