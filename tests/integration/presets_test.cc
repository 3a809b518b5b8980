// Every preset does exactly what docs/policy.md promises for three ordinary workloads: a python3
// one-liner, `sh -c 'ls /'` and a gcc compile in the work dir. none, basic and standard run them
// unchanged; strict lets only the command itself be executed; maximum kills the tree on the
// first access an interpreter does not need.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"

using harness::Run;
using harness::RunNative;

namespace {

constexpr const char* kHelloC =
    "#include <stdio.h>\n"
    "int main(void) {\n"
    "  puts(\"hello from gcc\");\n"
    "  return 0;\n"
    "}\n";

std::vector<std::string> Levels() { return {"none", "basic", "standard", "strict", "maximum"}; }

// Runs `command` under `--level level` in `cwd` (so ${WORKDIR} is `cwd`).
harness::Result RunAt(const std::string& level, const std::vector<std::string>& command,
                      const std::string& cwd) {
  return Run(command, {.tracejail_args = {"--level", level}, .cwd = cwd});
}

// Events (records with a decision, docs/events.md) whose decision is not "allow": what enforce
// mode denied or killed.
std::vector<nlohmann::json> Denials(const harness::Result& r) {
  std::vector<nlohmann::json> out;
  for (const auto& e : r.events) {
    if (e.contains("decision") && e["decision"].value("action", "") != "allow") out.push_back(e);
  }
  return out;
}

std::string Dump(const std::vector<nlohmann::json>& events) {
  std::string s;
  for (const auto& e : events) s += e.dump() + "\n";
  return s.empty() ? "(no events)" : s;
}

std::string Basename(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

bool IsExecutableFile(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

void CheckPythonPrints1(const std::string& level) {
  harness::TempDir dir;
  auto r = RunAt(level, {"python3", "-c", "print(1)"}, dir.path());
  INFO("level " << level << "; stderr: " << r.err << "; events:\n" << Dump(r.events));
  CHECK(r.status == 0);
  CHECK(r.out == "1\n");
  CHECK(Denials(r).empty());
  CHECK(r.err.find("denied by policy") == std::string::npos);
}

void CheckLsRunsUnchanged(const std::string& level) {
  harness::TempDir dir;
  auto native = RunNative({"/bin/sh", "-c", "ls /"}, dir.path());
  REQUIRE(native.status == 0);
  REQUIRE_FALSE(native.out.empty());
  auto r = RunAt(level, {"sh", "-c", "ls /"}, dir.path());
  INFO("level " << level << "; stderr: " << r.err << "; events:\n" << Dump(r.events));
  CHECK(r.status == 0);
  CHECK(r.out == native.out);
  CHECK(r.out.find("usr\n") != std::string::npos);
  CHECK(Denials(r).empty());
}

void CheckGccBuildsAnExecutable(const std::string& level) {
  harness::TempDir dir;
  dir.File("hello.c", kHelloC);
  std::string exe = dir.path() + "/hello";
  auto r = RunAt(level, {"gcc", "-o", "hello", "hello.c"}, dir.path());
  INFO("level " << level << "; stderr: " << r.err << "; events:\n" << Dump(r.events));
  CHECK(r.status == 0);
  CHECK(Denials(r).empty());
  REQUIRE(IsExecutableFile(exe));
  auto hello = RunNative({exe});
  CHECK(hello.status == 0);
  CHECK(hello.out == "hello from gcc\n");
}

}  // namespace

TEST_CASE("every preset loads and runs /bin/true", "[presets]") {
  for (const auto& level : Levels()) {
    auto r = Run({"/bin/true"}, {.tracejail_args = {"--level", level}});
    INFO("level " << level << "; stderr: " << r.err << "; events:\n" << Dump(r.events));
    CHECK(r.status == 0);
    CHECK(r.err.empty());
  }
}

TEST_CASE("preset none: python3, sh -c 'ls /' and gcc run unchanged", "[presets]") {
  CheckPythonPrints1("none");
  CheckLsRunsUnchanged("none");
  CheckGccBuildsAnExecutable("none");
}

TEST_CASE("preset basic: python3, sh -c 'ls /' and gcc run unchanged", "[presets]") {
  CheckPythonPrints1("basic");
  CheckLsRunsUnchanged("basic");
  CheckGccBuildsAnExecutable("basic");
}

TEST_CASE("preset standard: python3, sh -c 'ls /' and gcc run unchanged", "[presets]") {
  CheckPythonPrints1("standard");
  CheckLsRunsUnchanged("standard");
  CheckGccBuildsAnExecutable("standard");
}

TEST_CASE("'default' is an alias of standard", "[presets]") {
  harness::TempDir dir;
  auto r = RunAt("default", {"python3", "-c", "print(1)"}, dir.path());
  CHECK(r.status == 0);
  CHECK(r.out == "1\n");
  CHECK(Denials(r).empty());
}

TEST_CASE("preset strict: python3 runs", "[presets][strict]") { CheckPythonPrints1("strict"); }

TEST_CASE("preset strict: the shell may not exec ls", "[presets][strict]") {
  harness::TempDir dir;
  auto r = RunAt("strict", {"sh", "-c", "ls /"}, dir.path());
  INFO("stderr: " << r.err << "; events:\n" << Dump(r.events));
  CHECK(r.status != 0);
  CHECK(r.out.empty());  // ls never ran
  CHECK_THAT(r.err, Catch::Contains("ls: Permission denied"));
  auto blocked = r.Events("syscall_blocked", "execve");
  REQUIRE_FALSE(blocked.empty());
  // dash tries each PATH entry; every attempt reaches /usr/bin/ls and is denied.
  for (const auto& e : blocked) {
    CHECK(e["args"]["pathname"]["resolved"] == "/usr/bin/ls");
    CHECK(e["args"]["pathname"]["access"] == "exec");
    CHECK(e["args"]["argv"] == nlohmann::json::array({"ls", "/"}));
    CHECK(e["decision"]["action"] == "deny");
    CHECK(e["decision"]["errno"] == "EACCES");
    CHECK_THAT(e["decision"]["rule"].get<std::string>(), Catch::Contains("strict"));
    CHECK(e["exe"] == "/usr/bin/dash");
  }
  CHECK(Denials(r).size() == blocked.size());
}

TEST_CASE("preset strict: gcc may not exec cc1, as or ld and builds nothing", "[presets][strict]") {
  harness::TempDir dir;
  dir.File("hello.c", kHelloC);
  auto r = RunAt("strict", {"gcc", "-o", "hello", "hello.c"}, dir.path());
  INFO("stderr: " << r.err << "; events:\n" << Dump(r.events));
  CHECK(r.status != 0);
  CHECK_THAT(r.err, Catch::Contains("cannot execute"));
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/hello"));
  auto blocked = r.Events("syscall_blocked", "execve");
  REQUIRE_FALSE(blocked.empty());
  for (const auto& e : blocked) {
    std::string tool = Basename(e["args"]["argv"][0].get<std::string>());
    INFO("blocked exec of " << e["args"]["pathname"].dump());
    CHECK((tool == "cc1" || tool == "as" || tool == "ld" || tool == "collect2"));
    CHECK(e["decision"]["action"] == "deny");
  }
  // The driver's first child is the compiler proper.
  CHECK(Basename(blocked[0]["args"]["pathname"]["resolved"].get<std::string>()) == "cc1");
  CHECK(Denials(r).size() == blocked.size());
}

TEST_CASE("preset strict: os.system's /bin/sh is blocked and python goes on", "[presets][strict]") {
  harness::TempDir dir;
  dir.File("marker.txt", "");  // what ls would print if it ran
  auto r =
      RunAt("strict", {"python3", "-c", "import os; os.system('ls'); print('after')"}, dir.path());
  INFO("stderr: " << r.err << "; events:\n" << Dump(r.events));
  CHECK(r.status == 0);
  CHECK(r.out == "after\n");
  CHECK(r.out.find("marker.txt") == std::string::npos);
  auto blocked = r.Events("syscall_blocked", "execve");
  REQUIRE(blocked.size() == 1);
  const auto& e = blocked[0];
  CHECK(e["args"]["pathname"]["raw"] == "/bin/sh");
  CHECK(e["args"]["pathname"]["resolved"] == "/usr/bin/dash");
  CHECK(e["args"]["argv"] == nlohmann::json::array({"sh", "-c", "ls"}));
  CHECK(e["decision"]["action"] == "deny");
  CHECK(e["severity"] == "high");
  CHECK(Denials(r).size() == 1);
}

TEST_CASE("preset strict: python's os.system exits normally", "[presets][strict]") {
  harness::TempDir dir;
  auto r = RunAt("strict", {"python3", "-c", "import os; os.system('ls')"}, dir.path());
  CHECK(r.status == 0);
  CHECK(r.out.empty());
  REQUIRE(r.Events("syscall_blocked", "execve").size() == 1);
}

TEST_CASE("preset strict: an inet socket is denied with its decoded arguments",
          "[presets][strict]") {
  harness::TempDir dir;
  auto r = RunAt("strict", {"python3", "-c", "import socket; s = socket.socket()"}, dir.path());
  INFO("stderr: " << r.err << "; events:\n" << Dump(r.events));
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("PermissionError"));
  auto denied = r.Events("permission_denied", "socket");
  REQUIRE(denied.size() == 1);
  const auto& e = denied[0];
  CHECK(e["args"]["domain"] == "AF_INET");
  CHECK(e["args"]["type"] == "SOCK_STREAM|SOCK_CLOEXEC");
  CHECK(e["decision"]["action"] == "deny");
  CHECK(e["race_free"] == true);
  CHECK(e["raw_args"][0] == 2);
  CHECK(Denials(r).size() == 1);
}

TEST_CASE("preset strict: unix sockets still work", "[presets][strict]") {
  harness::TempDir dir;
  auto r = RunAt("strict",
                 {"python3", "-c",
                  "import socket; a, b = socket.socketpair(); a.send(b'x'); print(b.recv(1))"},
                 dir.path());
  INFO("stderr: " << r.err << "; events:\n" << Dump(r.events));
  CHECK(r.status == 0);
  CHECK(r.out == "b'x'\n");
  CHECK(Denials(r).empty());
}

// docs/policy.md: maximum allows "only what an interpreter needs"; python3 is the interpreter.
// (glibc reads /usr/share/locale/locale.alias, a symlink to /etc/locale.alias, for LANG=C.UTF-8.)
TEST_CASE("preset maximum: python3 -c 'print(1)' runs", "[presets][maximum]") {
  CheckPythonPrints1("maximum");
}

TEST_CASE("preset maximum: sh -c 'ls /' is killed at the exec of ls", "[presets][maximum]") {
  harness::TempDir dir;
  auto r = RunAt("maximum", {"sh", "-c", "ls /; echo survived"}, dir.path());
  INFO("stderr: " << r.err << "; events:\n" << Dump(r.events));
  CHECK(r.status == 122);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("killed by policy"));
  auto denials = Denials(r);
  REQUIRE(denials.size() == 1);
  const auto& e = denials[0];
  CHECK(e["syscall"]["name"] == "execve");
  CHECK(e["args"]["pathname"]["resolved"] == "/usr/bin/ls");
  CHECK(e["args"]["argv"] == nlohmann::json::array({"ls", "/"}));
  CHECK(e["decision"]["action"] == "kill");
}

TEST_CASE("preset maximum: gcc is killed and builds nothing", "[presets][maximum]") {
  harness::TempDir dir;
  dir.File("hello.c", kHelloC);
  auto r = RunAt("maximum", {"gcc", "-o", "hello", "hello.c"}, dir.path());
  INFO("stderr: " << r.err << "; events:\n" << Dump(r.events));
  CHECK(r.status == 122);
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/hello"));
  auto denials = Denials(r);
  REQUIRE(denials.size() == 1);
  CHECK(denials[0]["decision"]["action"] == "kill");
}

TEST_CASE("an unknown level exits 120 and lists the levels", "[presets][cli]") {
  auto r = Run({"/bin/true"}, {.tracejail_args = {"--level", "stritc"}, .events = false});
  CHECK(r.status == 120);
  CHECK_THAT(r.err, Catch::Contains("unknown level \"stritc\": did you mean strict?"));
  for (const auto& level : Levels()) CHECK_THAT(r.err, Catch::Contains(level));
  CHECK(r.out.empty());
}
