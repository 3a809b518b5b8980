// `tracejail policy ...` (check, show, explain, compile, import-oci, export-oci) on real files,
// and the policies they describe taking effect under `tracejail run`: syscall rules decided in
// the kernel or by the tracer, OCI profiles, and the `tip` every denial carries.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness.h"

using harness::Run;
using harness::Sample;
using nlohmann::json;

namespace {

using CliResult = harness::Result;

// Runs `tracejail policy ARGS...`, collecting status, stdout and stderr.
CliResult PolicyCmd(const std::vector<std::string>& args) {
  std::vector<std::string> full{"policy"};
  full.insert(full.end(), args.begin(), args.end());
  return harness::Tool(full);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  std::string w;
  while (in >> w) words.push_back(w);
  return words;
}

bool HasWord(const std::string& text, const std::string& word) {
  for (const auto& w : Words(text)) {
    if (w == word) return true;
  }
  return false;
}

// The syscalls `policy compile` lists under its "Stop for the tracer: ..." headings (the indented
// lines below each heading).
std::set<std::string> TracerStops(const std::string& plan) {
  std::set<std::string> names;
  bool in_section = false;
  for (const auto& line : Lines(plan)) {
    if (line.empty()) {
      in_section = false;
    } else if (line[0] != ' ') {
      in_section = line.starts_with("Stop for the tracer");
    } else if (in_section) {
      for (const auto& w : Words(line)) names.insert(w.substr(0, w.find('(')));
    }
  }
  return names;
}

// The lines of `policy compile` that say what the kernel does ("... in the kernel ...").
std::vector<std::string> KernelLines(const std::string& plan) {
  std::vector<std::string> out;
  for (const auto& line : Lines(plan)) {
    if (line.find("in the kernel") != std::string::npos) out.push_back(line);
  }
  return out;
}

std::string Dump(const std::vector<json>& events) {
  std::string s;
  for (const auto& e : events) s += e.dump() + "\n";
  return s.empty() ? "(no events)" : s;
}

// The events of a run: records of decided calls (each has a "decision", docs/events.md).
std::vector<json> Decided(const harness::Result& r) {
  std::vector<json> out;
  for (const auto& e : r.events) {
    if (e.is_object() && e.contains("decision")) out.push_back(e);
  }
  return out;
}

// Those whose decision is not "allow": what enforce mode denied or killed.
std::vector<json> Denials(const harness::Result& r) {
  std::vector<json> out;
  for (const auto& e : Decided(r)) {
    if (e["decision"].value("action", "") != "allow") out.push_back(e);
  }
  return out;
}

// A policy file that extends `base` and adds the fragment of a denial's `tip`.
std::string PolicyFromTip(const harness::TempDir& dir, const std::string& name,
                          const std::string& base, const json& tip) {
  json doc = {{"version", 1}, {"name", name}, {"extends", base}};
  doc.update(tip);
  return dir.File(name + ".json", doc.dump(2));
}

const char* const kOciProfile = R"({
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 38,
  "architectures": ["SCMP_ARCH_X86_64"],
  "syscalls": [
    {
      "names": ["read", "write", "close", "mmap", "mprotect", "munmap", "brk", "pread64",
                "access", "execve", "arch_prctl", "set_tid_address", "openat", "newfstatat",
                "fstat", "set_robust_list", "prlimit64", "rseq", "exit_group", "exit",
                "getrandom", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "getpid",
                "gettid", "lseek", "futex", "uname", "getcwd", "ioctl", "fcntl"],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "names": ["ptrace"],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"caps": ["CAP_SYS_PTRACE"]}
    },
    {
      "names": ["frobnicate"],
      "action": "SCMP_ACT_ALLOW"
    }
  ]
})";

}  // namespace

// ---------------------------------------------------------------------------------------------
// policy check

TEST_CASE("policy check accepts a good file and prints its extends chain", "[policy-cli]") {
  harness::TempDir dir;
  std::string b = dir.File("b.json", R"({"version": 1, "name": "b", "extends": "standard"})");
  std::string a = dir.File("a.json", R"({
    "version": 1, "name": "a", "extends": "b.json",
    "files": {"rules": [{"path": "${WORKDIR}/**", "access": ["read", "write"], "action": "allow"}]}
  })");
  auto r = PolicyCmd({"check", a});
  INFO("stderr: " << r.err);
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  REQUIRE_THAT(r.out, Catch::StartsWith(a + ": ok"));
  // The chain, base first: basic -> standard -> b.json -> a.json.
  auto basic = r.out.find("basic");
  auto standard = r.out.find("standard");
  auto b_pos = r.out.find("b.json");
  auto a_pos = r.out.rfind("a.json");
  REQUIRE(basic != std::string::npos);
  REQUIRE(standard != std::string::npos);
  REQUIRE(b_pos != std::string::npos);
  CHECK(basic < standard);
  CHECK(standard < b_pos);
  CHECK(b_pos < a_pos);
  CHECK_THAT(r.out, Catch::Contains(" -> "));

  // The chained policy works: python runs under it.
  auto run = Run({"python3", "-c", "print(1)"}, {.tracejail_args = {"--policy", a}});
  CHECK(run.status == 0);
  CHECK(run.out == "1\n");
}

TEST_CASE("policy check: a misspelt key gets a suggestion and exits 121", "[policy-cli]") {
  harness::TempDir dir;
  std::string p = dir.File("typo.json",
                           "{\n"
                           "  \"version\": 1,\n"
                           "  \"extends\": \"standard\",\n"
                           "  \"files\": {\n"
                           "    \"rules\": [\n"
                           "      {\"path\": \"/tmp/x\", \"acess\": [\"read\"], \"action\": "
                           "\"deny\"}\n"
                           "    ]\n"
                           "  }\n"
                           "}\n");
  auto r = PolicyCmd({"check", p});
  CHECK(r.status == 121);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("unknown key \"acess\" (did you mean \"access\"?)"));
  CHECK_THAT(r.err, Catch::Contains(p + ":6:"));
  CHECK_THAT(r.err, Catch::Contains("#/files/rules/0/acess"));
}

// The brief for these tests: the error names the line and column of the bad key itself.
TEST_CASE("policy check: a misspelt key's error points at the key", "[policy-cli]") {
  harness::TempDir dir;
  // Line 6; the key "acess" starts at column 26, its value at column 35.
  std::string p = dir.File("typo.json",
                           "{\n"
                           "  \"version\": 1,\n"
                           "  \"extends\": \"standard\",\n"
                           "  \"files\": {\n"
                           "    \"rules\": [\n"
                           "      {\"path\": \"/tmp/x\", \"acess\": [\"read\"], \"action\": "
                           "\"deny\"}\n"
                           "    ]\n"
                           "  }\n"
                           "}\n");
  auto r = PolicyCmd({"check", p});
  CHECK(r.status == 121);
  CHECK_THAT(r.err, Catch::StartsWith(p + ":6:26: "));
}

TEST_CASE("policy check: an unknown syscall name gets a suggestion", "[policy-cli]") {
  harness::TempDir dir;
  std::string p = dir.File("sys.json", R"({
  "version": 1,
  "syscalls": {"rules": [{"names": ["ptrase"], "action": "deny"}]}
})");
  auto r = PolicyCmd({"check", p});
  CHECK(r.status == 121);
  CHECK_THAT(r.err, Catch::Contains("\"ptrase\""));
  CHECK_THAT(r.err, Catch::Contains("(did you mean \"ptrace\"?)"));
  CHECK_THAT(r.err, Catch::Contains(p + ":3:"));
  CHECK_THAT(r.err, Catch::Contains("#/syscalls/rules/0/names/0"));
}

TEST_CASE("policy check: an unknown variable is an error", "[policy-cli]") {
  harness::TempDir dir;
  std::string near = dir.File("near.json", R"({
  "version": 1,
  "files": {"rules": [{"path": "${WORKDIRR}/x", "access": ["read"], "action": "deny"}]}
})");
  auto r = PolicyCmd({"check", near});
  CHECK(r.status == 121);
  CHECK_THAT(r.err, Catch::Contains("unknown variable ${WORKDIRR}"));
  CHECK_THAT(r.err, Catch::Contains("did you mean \"WORKDIR\"?"));
  CHECK_THAT(r.err, Catch::Contains(near + ":3:"));

  std::string far = dir.File("far.json", R"({
  "version": 1,
  "files": {"rules": [{"path": "${NO_SUCH_THING}/x", "access": ["read"], "action": "deny"}]}
})");
  r = PolicyCmd({"check", far});
  CHECK(r.status == 121);
  CHECK_THAT(r.err, Catch::Contains("unknown variable ${NO_SUCH_THING}"));
  CHECK_THAT(r.err, Catch::Contains("#/files/rules/0/path"));
  for (const char* known : {"CWD", "WORKDIR", "HOME", "TMPDIR", "COMMAND"}) {
    CHECK_THAT(r.err, Catch::Contains(known));
  }
}

TEST_CASE("policy check: a bad glob is an error", "[policy-cli]") {
  harness::TempDir dir;
  std::string p = dir.File("glob.json", R"({
  "version": 1,
  "files": {"rules": [{"path": "/tmp/[abc", "access": ["read"], "action": "deny"}]}
})");
  auto r = PolicyCmd({"check", p});
  CHECK(r.status == 121);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("/tmp/[abc"));
  CHECK_THAT(r.err, Catch::Contains(p + ":3:"));
  CHECK_THAT(r.err, Catch::Contains("#/files/rules/0/path"));
}

TEST_CASE("policy check: a bad CIDR is an error", "[policy-cli]") {
  harness::TempDir dir;
  for (const char* cidr : {"10.0.0.0/33", "10.0.0.300/8", "::1/129", "localhost/8"}) {
    std::string p = dir.File("cidr.json", fmt::format(R"({{
  "version": 1,
  "network": {{"rules": [{{"cidr": "{}", "action": "allow"}}]}}
}})",
                                                      cidr));
    auto r = PolicyCmd({"check", p});
    INFO("cidr " << cidr);
    CHECK(r.status == 121);
    CHECK_THAT(r.err, Catch::Contains(std::string("\"") + cidr + "\""));
    CHECK_THAT(r.err, Catch::Contains(p + ":3:"));
    CHECK_THAT(r.err, Catch::Contains("#/network/rules/0/cidr"));
  }
}

TEST_CASE("policy check: an extends cycle is an error naming the chain", "[policy-cli]") {
  harness::TempDir dir;
  std::string a = dir.File("a.json", R"({"version": 1, "extends": "b.json"})");
  std::string b = dir.File("b.json", R"({"version": 1, "extends": "a.json"})");
  auto r = PolicyCmd({"check", a});
  CHECK(r.status == 121);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("cycle"));
  CHECK_THAT(r.err, Catch::Contains("a.json"));
  CHECK_THAT(r.err, Catch::Contains("b.json"));
  // A cycle is as fatal for `run` as for `check`.
  auto run = Run({"/bin/true"}, {.tracejail_args = {"--policy", b}, .events = false});
  CHECK(run.status == 121);
  CHECK_THAT(run.err, Catch::Contains("cycle"));
}

TEST_CASE("policy check: several files, one bad, still exits 121", "[policy-cli]") {
  harness::TempDir dir;
  std::string good = dir.File("good.json", R"({"version": 1, "extends": "strict"})");
  std::string bad = dir.File("bad.json", R"({"version": 1, "extends": "stritc"})");
  auto r = PolicyCmd({"check", good, bad});
  CHECK(r.status == 121);
  CHECK_THAT(r.out, Catch::Contains(good + ": ok"));
  CHECK(r.out.find(bad + ": ok") == std::string::npos);
  CHECK_THAT(r.err, Catch::Contains("stritc"));
  CHECK_THAT(r.err, Catch::Contains("did you mean \"strict\"?"));
}

// Issue 18: a file with five typos took five runs of `policy check`, one error each.
TEST_CASE("policy check: five typos are five errors in one run with their lines", "[policy-cli]") {
  harness::TempDir dir;
  std::string p =
      dir.File("typos.json",
               "{\n"
               "  \"version\": 1,\n"
               "  \"extends\": \"standard\",\n"
               "  \"files\": {\"rules\": [\n"
               "    {\"path\": \"/srv/a\", \"access\": [\"reed\"], \"action\": \"allow\"},\n"
               "    {\"path\": \"/srv/b\", \"access\": [\"write\"], \"action\": \"alow\"}\n"
               "  ]},\n"
               "  \"network\": {\"rules\": [{\"verbs\": [\"conect\"], \"action\": \"deny\"}]},\n"
               "  \"syscalls\": {\"rules\": [{\"names\": [\"ptrase\"], \"action\": \"deny\"}]},\n"
               "  \"isolation\": {\"landlok\": true}\n"
               "}\n");
  auto r = PolicyCmd({"check", p});
  CHECK(r.status == 121);
  CHECK(r.out.empty());
  auto lines = Lines(r.err);
  REQUIRE(lines.size() == 6);
  CHECK_THAT(lines[0], Catch::StartsWith(p + ":5:") && Catch::Contains("\"reed\""));
  CHECK_THAT(lines[1], Catch::StartsWith(p + ":6:") && Catch::Contains("\"alow\""));
  CHECK_THAT(lines[2], Catch::StartsWith(p + ":8:") && Catch::Contains("\"conect\""));
  CHECK_THAT(lines[3], Catch::StartsWith(p + ":9:") && Catch::Contains("did you mean \"ptrace\"?"));
  CHECK_THAT(lines[4], Catch::StartsWith(p + ":10:") && Catch::Contains("\"landlok\""));
  CHECK(lines[5] == p + ": 5 errors");

  // `run` refuses the same file with every error too, each line prefixed.
  auto run = Run({"/bin/true"}, {.tracejail_args = {"--policy", p}, .events = false});
  CHECK(run.status == 121);
  for (const char* word : {"reed", "alow", "conect", "ptrase", "landlok"}) {
    CHECK_THAT(run.err, Catch::Contains(std::string("tracejail: ") + p) && Catch::Contains(word));
  }
}

// ---------------------------------------------------------------------------------------------
// policy show / explain / compile

TEST_CASE("policy show list lists the five presets", "[policy-cli]") {
  auto r = PolicyCmd({"show", "list"});
  CHECK(r.status == 0);
  auto lines = Lines(r.out);
  REQUIRE(lines.size() == 5);
  std::vector<std::string> names;
  for (const auto& l : lines) names.push_back(Words(l).at(0));
  CHECK(names == std::vector<std::string>{"none", "basic", "standard", "strict", "maximum"});
  for (const auto& l : lines) CHECK(Words(l).size() > 1);  // each has a summary
}

TEST_CASE("policy show prints each preset as JSON", "[policy-cli]") {
  auto r = PolicyCmd({"show", "strict"});
  CHECK(r.status == 0);
  json doc = json::parse(r.out);
  CHECK(doc["name"] == "strict");
  CHECK(doc["version"] == 1);
  CHECK(doc["extends"] == "standard");

  for (const char* level : {"none", "basic", "standard", "maximum"}) {
    auto s = PolicyCmd({"show", level});
    CHECK(s.status == 0);
    CHECK(json::parse(s.out)["name"] == level);
  }
  auto unknown = PolicyCmd({"show", "lax"});
  CHECK(unknown.status != 0);
  CHECK_THAT(unknown.err, Catch::Contains("unknown level \"lax\""));
}

TEST_CASE("policy explain standard says /etc/shadow is denied", "[policy-cli]") {
  auto r = PolicyCmd({"explain", "standard"});
  CHECK(r.status == 0);
  bool shadow_denied = false;
  for (const auto& line : Lines(r.out)) {
    if (HasWord(line, "/etc/shadow") && line.find("deny") != std::string::npos) {
      shadow_denied = true;
    }
  }
  INFO(r.out);
  CHECK(shadow_denied);
}

TEST_CASE("policy compile standard: opens stop for the tracer, clone3 fails in the kernel",
          "[policy-cli]") {
  auto r = PolicyCmd({"compile", "standard"});
  INFO(r.out);
  CHECK(r.status == 0);
  auto stops = TracerStops(r.out);
  CHECK(stops.count("openat") == 1);
  CHECK(stops.count("execve") == 1);
  CHECK(stops.count("connect") == 1);
  CHECK(stops.count("uname") == 0);
  bool clone3_fails = false;
  for (const auto& line : KernelLines(r.out)) {
    if (line.starts_with("Fail in the kernel") && HasWord(line, "clone3")) clone3_fails = true;
  }
  CHECK(clone3_fails);
  // --dump is the default.
  auto dump = PolicyCmd({"compile", "standard", "--dump"});
  CHECK(dump.status == 0);
  CHECK(dump.out == r.out);
}

// ---------------------------------------------------------------------------------------------
// syscall rules

TEST_CASE("a syscall rule denies uname in the kernel", "[policy-cli][syscalls]") {
  harness::TempDir dir;
  std::string p = dir.File("uname.json", R"({
  "version": 1,
  "extends": "standard",
  "syscalls": {"rules": [{"names": ["uname"], "action": "deny", "errno": "EPERM"}]}
})");
  auto check = PolicyCmd({"check", p});
  CHECK(check.status == 0);
  CHECK_THAT(check.out, Catch::Contains("1 syscall rules"));

  auto native = harness::RunNative({"uname"});
  REQUIRE(native.status == 0);
  auto r = Run({"uname"}, {.tracejail_args = {"--policy", p}});
  CHECK(r.status != 0);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("Operation not permitted"));
  CHECK(Decided(r).empty());  // decided in the kernel: never seen, never recorded

  auto plan = PolicyCmd({"compile", p});
  INFO(plan.out);
  CHECK(plan.status == 0);
  CHECK(TracerStops(plan.out).count("uname") == 0);
  bool in_kernel = false;
  for (const auto& line : KernelLines(plan.out)) {
    if (line.find("uname") != std::string::npos && line.find("deny") != std::string::npos) {
      in_kernel = true;
      CHECK_THAT(line, Catch::Contains("uname.json"));
    }
  }
  CHECK(in_kernel);
}

namespace {

std::string SocketInetRule(const harness::TempDir& dir) {
  return dir.File("no-inet.json", R"({
  "version": 1,
  "extends": "standard",
  "syscalls": {"rules": [
    {"names": ["socket"], "action": "deny", "args": [{"index": 0, "op": "eq", "value": 2}]}
  ]}
})");
}

}  // namespace

TEST_CASE("a syscall rule with an argument condition on socket is applied by the tracer",
          "[policy-cli][syscalls]") {
  harness::TempDir dir;
  std::string p = SocketInetRule(dir);
  auto plan = PolicyCmd({"compile", p});
  CHECK(plan.status == 0);
  CHECK(TracerStops(plan.out).count("socket") == 1);

  auto r = Run({"python3", "-c", "import socket; s = socket.socket()"},
               {.tracejail_args = {"--policy", p}});
  INFO("stderr: " << r.err << "; events:\n" << Dump(Decided(r)));
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("PermissionError"));
  CHECK_THAT(r.err, Catch::Contains("Operation not permitted"));  // EPERM, the syscall default
  auto blocked = r.Events("syscall_blocked", "socket");
  REQUIRE(blocked.size() == 1);
  const auto& e = blocked[0];
  CHECK(e["decision"]["action"] == "deny");
  CHECK(e["decision"]["errno"] == "EPERM");
  CHECK_THAT(e["decision"]["rule"].get<std::string>(),
             Catch::Contains("no-inet.json") && Catch::Contains("#/syscalls/rules/0"));
  CHECK(e["raw_args"][0] == 2);
  CHECK(e["race_free"] == true);
  CHECK(Denials(r).size() == 1);

  auto unix_socket =
      Run({"python3", "-c", "import socket; s = socket.socket(socket.AF_UNIX); print('unix ok')"},
          {.tracejail_args = {"--policy", p}});
  CHECK(unix_socket.status == 0);
  CHECK(unix_socket.out == "unix ok\n");
  CHECK(Decided(unix_socket).empty());
}

// docs/events.md: `args` holds the decoded arguments; docs/policy.md: every denial carries a tip.
TEST_CASE("a syscall rule's denial decodes its arguments and carries a tip",
          "[policy-cli][syscalls][tips]") {
  harness::TempDir dir;
  std::string p = SocketInetRule(dir);
  auto r = Run({"python3", "-c", "import socket; s = socket.socket()"},
               {.tracejail_args = {"--policy", p}});
  auto blocked = r.Events("syscall_blocked", "socket");
  REQUIRE(blocked.size() == 1);
  const auto& e = blocked[0];
  INFO(e.dump());
  CHECK(e["args"].value("domain", "") == "AF_INET");
  CHECK(e["args"].value("type", "") == "SOCK_STREAM|SOCK_CLOEXEC");
  REQUIRE(e.contains("tip"));
  REQUIRE(e["tip"].is_object());
  CHECK_FALSE(e["tip"].empty());
}

// ---------------------------------------------------------------------------------------------
// OCI

TEST_CASE("an OCI profile imports, checks, runs and round-trips", "[policy-cli][oci]") {
  harness::TempDir dir;
  std::string profile = dir.File("profile.json", kOciProfile);
  std::string imported = dir.path() + "/imported.json";

  auto imp = PolicyCmd({"import-oci", profile, "-o", imported});
  INFO("import stderr: " << imp.err);
  REQUIRE(imp.status == 0);
  CHECK(imp.out.empty());  // written to the file instead
  // Notes for what was skipped: the entry with "includes" and the unknown syscall name.
  CHECK_THAT(imp.err, Catch::Contains("note:"));
  CHECK_THAT(imp.err, Catch::Contains("syscalls[1] skipped") && Catch::Contains("CAP_SYS_PTRACE"));
  CHECK_THAT(imp.err, Catch::Contains("\"frobnicate\" skipped"));

  json policy = json::parse(harness::Slurp(imported));
  CHECK(policy["version"] == 1);
  CHECK(policy["extends"] == "basic");
  CHECK(policy["syscalls"]["default"]["action"] == "deny");
  CHECK(policy["syscalls"]["default"]["errno"] == "ENOSYS");
  std::string text = policy.dump();
  CHECK(text.find("frobnicate") == std::string::npos);
  CHECK(text.find("ptrace") == std::string::npos);

  auto check = PolicyCmd({"check", imported});
  CHECK(check.status == 0);
  CHECK_THAT(check.out, Catch::Contains(imported + ": ok"));

  auto t = Run({"/bin/true"}, {.tracejail_args = {"--policy", imported}});
  INFO("true stderr: " << t.err << "; events:\n" << Dump(Decided(t)));
  CHECK(t.status == 0);
  CHECK(t.err.empty());
  CHECK(Decided(t).empty());

  // The allowlist bites: mkdir is not on it and fails with the profile's errno (38, ENOSYS).
  std::string newdir = dir.path() + "/newdir";
  auto mk = Run({"/usr/bin/mkdir", newdir}, {.tracejail_args = {"--policy", imported}});
  CHECK(mk.status != 0);
  CHECK_THAT(mk.err, Catch::Contains("Function not implemented"));
  CHECK_FALSE(std::filesystem::exists(newdir));

  // Allowed opens reach the kernel as openat2 (race-free walks), so openat2 stops for the
  // tracer; called by the program itself it is not on the allowlist and gets the default.
  auto o2 = Run({harness::Sample("open_file"), "/etc/hostname", "-2", "/etc/hostname"},
                {.tracejail_args = {"--policy", imported}});
  INFO("open_file: " << o2.out << o2.err);
  CHECK_THAT(o2.out, Catch::StartsWith("OK /etc/hostname"));
  CHECK_THAT(o2.out, Catch::Contains("DENIED /etc/hostname ENOSYS"));

  auto exp = PolicyCmd({"export-oci", imported});
  INFO("export stderr: " << exp.err);
  REQUIRE(exp.status == 0);
  json exported = json::parse(exp.out);
  json original = json::parse(kOciProfile);
  CHECK(exported["defaultAction"] == original["defaultAction"]);
  CHECK(exported["defaultErrnoRet"] == original["defaultErrnoRet"]);
  std::set<std::string> allowed;
  std::set<std::string> mentioned;
  for (const auto& entry : exported["syscalls"]) {
    for (const auto& n : entry["names"]) {
      mentioned.insert(n.get<std::string>());
      if (entry["action"] == "SCMP_ACT_ALLOW") allowed.insert(n.get<std::string>());
    }
  }
  std::set<std::string> want;
  for (const auto& n : original["syscalls"][0]["names"]) want.insert(n.get<std::string>());
  CHECK(allowed == want);
  CHECK(mentioned.count("frobnicate") == 0);
  CHECK(allowed.count("ptrace") == 0);  // the includes-only entry did not come back as allowed
}

TEST_CASE("importing SCMP_ACT_NOTIFY is an error", "[policy-cli][oci]") {
  harness::TempDir dir;
  std::string profile = dir.File("notify.json", R"({
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [{"names": ["openat"], "action": "SCMP_ACT_NOTIFY"}]
})");
  auto r = PolicyCmd({"import-oci", profile});
  CHECK(r.status == 121);
  CHECK_THAT(r.err, Catch::Contains("SCMP_ACT_NOTIFY"));
  CHECK(r.out.empty());
}

// ---------------------------------------------------------------------------------------------
// tips

TEST_CASE("every denial in enforce mode carries a tip", "[policy-cli][tips]") {
  harness::TempDir dir;
  std::string secret = dir.File("secret.txt", "the secret\n");
  std::string deny_secret = dir.File("deny-secret.json", fmt::format(R"({{
  "version": 1, "extends": "standard",
  "files": {{"rules": [{{"path": "{}", "access": ["read"], "action": "deny"}}]}}
}})",
                                                                     secret));
  harness::LoopbackListener listener;
  std::vector<harness::Result> runs;
  runs.push_back(Run({Sample("open_file"), secret}, {.tracejail_args = {"--policy", deny_secret}}));
  runs.push_back(Run({Sample("connect_tcp"), "127.0.0.1", std::to_string(listener.port())}));
  runs.push_back(Run({Sample("escape_ptrace")}));
  runs.push_back(Run({"sh", "-c", "ls /"}, {.tracejail_args = {"--level", "strict"}}));
  runs.push_back(Run({"python3", "-c", "import socket; s = socket.socket()"},
                     {.tracejail_args = {"--level", "strict"}}));
  std::size_t denials = 0;
  for (const auto& r : runs) {
    CHECK_FALSE(Denials(r).empty());
    for (const auto& e : Denials(r)) {
      ++denials;
      INFO(e.dump());
      REQUIRE(e.contains("tip"));
      CHECK(e["tip"].is_object());
      CHECK_FALSE(e["tip"].empty());
    }
  }
  CHECK(denials >= runs.size());
  CHECK_FALSE(listener.Received());
}

TEST_CASE("a file read tip, pasted into an extending policy, allows the read",
          "[policy-cli][tips]") {
  harness::TempDir dir;
  std::filesystem::create_directory(dir.path() + "/vault");
  std::string secret = dir.File("vault/secret.txt", "the secret\n");
  std::string first = dir.File("first.json", fmt::format(R"({{
  "version": 1, "name": "first", "extends": "standard",
  "files": {{"rules": [{{"path": "{}/vault", "access": ["read"], "action": "deny"}}]}}
}})",
                                                         dir.path()));
  auto denied = Run({Sample("open_file"), secret}, {.tracejail_args = {"--policy", first}});
  CHECK(denied.out == "DENIED " + secret + " EACCES\n");
  auto events = denied.Events("permission_denied", "openat");
  REQUIRE(events.size() == 1);
  REQUIRE(events[0].contains("tip"));
  const json& tip = events[0]["tip"];
  INFO("tip: " << tip.dump());
  CHECK(tip.contains("files"));

  std::string second = PolicyFromTip(dir, "second", "first.json", tip);
  auto check = PolicyCmd({"check", second});
  CHECK(check.status == 0);
  auto allowed = Run({Sample("open_file"), secret}, {.tracejail_args = {"--policy", second}});
  INFO("events:\n" << Dump(Decided(allowed)));
  CHECK(allowed.status == 0);
  CHECK(allowed.out == "OK " + secret + " 11\n");
  CHECK(Decided(allowed).empty());
  // Only that file: its neighbour in the vault stays denied.
  std::string other = dir.File("vault/other.txt", "x");
  auto still = Run({Sample("open_file"), other}, {.tracejail_args = {"--policy", second}});
  CHECK(still.out == "DENIED " + other + " EACCES\n");
}

// The same, where the deny rule names the file exactly: the tip must still allow the read
// (docs/policy.md: "the smallest fragment that would allow it").
TEST_CASE("a tip allows a read denied by an exact-path rule", "[policy-cli][tips]") {
  harness::TempDir dir;
  std::string secret = dir.File("secret.txt", "the secret\n");
  std::string first = dir.File("first.json", fmt::format(R"({{
  "version": 1, "name": "first", "extends": "standard",
  "files": {{"rules": [{{"path": "{}", "access": ["read"], "action": "deny"}}]}}
}})",
                                                         secret));
  auto denied = Run({Sample("open_file"), secret}, {.tracejail_args = {"--policy", first}});
  CHECK(denied.out == "DENIED " + secret + " EACCES\n");
  auto events = denied.Events("permission_denied", "openat");
  REQUIRE(events.size() == 1);
  REQUIRE(events[0].contains("tip"));
  const json& tip = events[0]["tip"];
  INFO("tip: " << tip.dump());

  std::string second = PolicyFromTip(dir, "second", "first.json", tip);
  auto allowed = Run({Sample("open_file"), secret}, {.tracejail_args = {"--policy", second}});
  INFO("events:\n" << Dump(Decided(allowed)));
  CHECK(allowed.status == 0);
  CHECK(allowed.out == "OK " + secret + " 11\n");
  CHECK(Decided(allowed).empty());
}

TEST_CASE("a loopback connect tip, pasted into an extending policy, allows the connect",
          "[policy-cli][tips]") {
  harness::TempDir dir;
  harness::LoopbackListener listener;
  std::string port = std::to_string(listener.port());
  std::string first =
      dir.File("first.json", R"({"version": 1, "name": "first", "extends": "standard"})");
  auto denied =
      Run({Sample("connect_tcp"), "127.0.0.1", port}, {.tracejail_args = {"--policy", first}});
  CHECK(denied.status == 1);
  CHECK(denied.out == "FAILED EACCES\n");
  CHECK_FALSE(listener.Received());
  auto events = denied.Events("permission_denied", "connect");
  REQUIRE(events.size() == 1);
  REQUIRE(events[0].contains("tip"));
  const json& tip = events[0]["tip"];
  INFO("tip: " << tip.dump());
  CHECK(tip.contains("network"));

  std::string second = PolicyFromTip(dir, "second", first, tip);
  auto check = PolicyCmd({"check", second});
  CHECK(check.status == 0);
  auto allowed =
      Run({Sample("connect_tcp"), "127.0.0.1", port}, {.tracejail_args = {"--policy", second}});
  INFO("events:\n" << Dump(Decided(allowed)));
  CHECK(allowed.status == 0);
  CHECK(allowed.out == "CONNECTED\n");
  CHECK(listener.Received());
  CHECK(Decided(allowed).empty());
}
