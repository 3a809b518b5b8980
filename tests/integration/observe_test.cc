// `tracejail observe -p PID`: a process started outside tracejail is attached to, what it does
// is decoded and recorded with the same events as `run` (open path, connect address, a child's
// exec with argv), nothing is enforced unless --enforce, and after Ctrl-C, --duration or its
// own end it runs on (or ends) exactly as it would have without tracejail.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>

#include "harness.h"
#include "observe_harness.h"

using harness::Driven;
using harness::Observing;
using harness::Records;

namespace {

std::string DenyReadPolicy(const harness::TempDir& dir, const std::string& secret) {
  return dir.File("policy.json", fmt::format(R"({{
    "version": 1, "extends": "default",
    "files": {{"rules": [{{"path": "{}", "access": ["read"], "action": "deny"}}]}}
  }})",
                                             secret));
}

const nlohmann::json* Find(const std::vector<nlohmann::json>& records, const std::string& type,
                           const std::string& syscall = "") {
  for (const auto& r : records) {
    if (r.value("type", "") != type) continue;
    if (!syscall.empty() && (!r.contains("syscall") || r["syscall"]["name"] != syscall)) continue;
    return &r;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("observe records what a running process does and leaves it running after Ctrl-C",
          "[observe]") {
  harness::TempDir dir;
  std::string secret = dir.File("secret.txt", "the secret\n");
  std::string events = dir.path() + "/events.jsonl";
  harness::LoopbackListener listener;
  Driven p({secret, std::to_string(listener.port()), "0", "/bin/sh", "-c", "exit 0"});
  REQUIRE(p.ready());
  Observing o({"observe", "-p", std::to_string(p.pid()), "--policy", DenyReadPolicy(dir, secret),
               "--events", events, "--no-summary"});
  INFO("tracejail's stderr: " << o.err());
  REQUIRE(o.attached());
  // Nothing is enforced: the open the policy denies succeeds, and so does the connect.
  CHECK(p.Do('o') == 'o');
  CHECK(p.Do('c') == 'c');
  CHECK(listener.Received());
  CHECK(p.Do('f') == 'f');
  CHECK(o.Stop(SIGINT) == 0);
  CHECK(o.err().find(fmt::format("detached from process {} on SIGINT", p.pid())) !=
        std::string::npos);
  // Let go: it still answers, and ends as it would have.
  CHECK(p.Do('o') == 'o');
  CHECK(p.Quit() == 7);

  auto records = Records(events);
  REQUIRE(!records.empty());
  const nlohmann::json* attached = Find(records, "process_start");
  REQUIRE(attached != nullptr);
  CHECK((*attached)["args"]["via"] == "attach");
  CHECK((*attached)["pid"] == p.pid());
  const nlohmann::json* open = Find(records, "permission_denied", "openat");
  REQUIRE(open != nullptr);
  CHECK((*open)["args"]["pathname"]["resolved"] == secret);
  CHECK((*open)["decision"]["action"] == "allow");
  CHECK((*open)["decision"]["would"] == "deny");
  const nlohmann::json* connect = Find(records, "permission_denied", "connect");
  REQUIRE(connect != nullptr);
  CHECK((*connect)["args"]["addr"]["address"] == "127.0.0.1");
  CHECK((*connect)["args"]["addr"]["port"] == listener.port());
  CHECK((*connect)["decision"]["would"] == "deny");
  // The child it forked is followed, and its exec recorded with its argv.
  auto exec = std::find_if(records.begin(), records.end(), [](const nlohmann::json& r) {
    return r.value("type", "") == "process_exec" &&
           r["args"]["argv"] == nlohmann::json::array({"/bin/sh", "-c", "exit 0"});
  });
  CHECK(exec != records.end());
  CHECK(records.back()["type"] == "log_end");
  CHECK(records.back()["run_status"] == "detached");
  CHECK(records.back()["interrupted_by"] == "SIGINT");
  auto verified = harness::Tool({"verify", events});
  INFO(verified.err);
  CHECK(verified.status == 0);
}

TEST_CASE("observe ends with the process's exit status when it exits while observed", "[observe]") {
  harness::TempDir dir;
  std::string result = dir.path() + "/result.json";
  Driven p({"/dev/null", "0", "0"});
  REQUIRE(p.ready());
  Observing o({"observe", "-p", std::to_string(p.pid()), "--result", result, "--no-summary"});
  INFO("tracejail's stderr: " << o.err());
  REQUIRE(o.attached());
  CHECK(p.Do('o') == 'o');
  // Its real parent (this test) still gets its exit status after the tracer saw it.
  CHECK(p.Quit() == 7);
  CHECK(o.Wait() == 7);
  auto json = nlohmann::json::parse(harness::Slurp(result), nullptr, false);
  REQUIRE(json.is_object());
  CHECK(json["status"] == "runtime_error");
  CHECK(json["exit_code"] == 7);
  CHECK(json["mode"] == "audit");
}

TEST_CASE("observe --duration detaches by itself and the process runs on", "[observe]") {
  Driven p({"/dev/null", "0", "2"});
  REQUIRE(p.ready());
  Observing o({"observe", "-p", std::to_string(p.pid()), "--duration", "100ms", "--no-summary"});
  INFO("tracejail's stderr: " << o.err());
  REQUIRE(o.attached());
  CHECK(o.Wait() == 0);
  CHECK(o.err().find("after 100ms") != std::string::npos);
  CHECK(p.Do('o') == 'o');
  CHECK(p.Quit() == 7);
}

TEST_CASE("observe --enforce denies a call by skipping it and stops when detached", "[observe]") {
  harness::TempDir dir;
  std::string secret = dir.File("secret.txt", "the secret\n");
  harness::LoopbackListener listener;
  Driven p({secret, std::to_string(listener.port()), "0"});
  REQUIRE(p.ready());
  Observing o({"observe", "-p", std::to_string(p.pid()), "--policy", DenyReadPolicy(dir, secret),
               "--enforce", "--no-summary"});
  INFO("tracejail's stderr: " << o.err());
  REQUIRE(o.attached());
  CHECK(p.Do('o') == 'O');  // EACCES
  CHECK(p.Do('c') == 'C');
  CHECK_FALSE(listener.Received());
  CHECK(o.Stop(SIGTERM) == 0);
  CHECK(p.Do('o') == 'o');  // no longer observed: nothing is denied
  CHECK(p.Quit() == 7);
}

TEST_CASE("observe of a process that does not exist says no such process", "[observe]") {
  pid_t gone = fork();
  if (gone == 0) _exit(0);
  REQUIRE(harness::WaitStatus(gone) == 0);
  auto r = harness::Tool({"observe", "-p", std::to_string(gone)});
  CHECK(r.status == 127);
  CHECK(r.err.find(fmt::format("no such process: {}", gone)) != std::string::npos);
}

TEST_CASE("observe refuses to attach to tracejail's own ancestors", "[observe]") {
  auto r = harness::Tool({"observe", "-p", std::to_string(getpid())});
  CHECK(r.status == 126);
  CHECK(r.err.find("ancestors") != std::string::npos);
}

TEST_CASE("observe -o FILE and -e trace=SET write the chosen calls of the live view to a file",
          "[observe][cli]") {
  harness::TempDir dir;
  std::string secret = dir.File("secret.txt", "the secret\n");
  std::string trace = dir.path() + "/trace.txt";
  harness::LoopbackListener listener;
  Driven p({secret, std::to_string(listener.port()), "0"});
  REQUIRE(p.ready());
  Observing o({"observe", "-p", std::to_string(p.pid()), "--policy", DenyReadPolicy(dir, secret),
               "-o", trace, "-e", "trace=openat", "--no-summary"});
  INFO("tracejail's stderr: " << o.err());
  REQUIRE(o.attached());
  CHECK(p.Do('o') == 'o');  // audit: nothing is enforced
  CHECK(p.Do('c') == 'c');
  CHECK(o.Stop(SIGINT) == 0);
  CHECK(p.Quit() == 7);
  std::string text = harness::Slurp(trace);
  INFO("trace: " << text);
  CHECK(text.find(" openat(") != std::string::npos);
  CHECK(text.find("\"" + secret + "\"") != std::string::npos);
  CHECK(text.find("DENIED EACCES (audit: allowed)") != std::string::npos);
  CHECK(text.find(" connect(") == std::string::npos);    // not in trace=openat
  CHECK(o.err().find(" openat(") == std::string::npos);  // in the file, not on stderr
  struct stat st {};
  REQUIRE(stat(trace.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("observe --trace SET on stderr and an unknown set is a usage error", "[observe][cli]") {
  Driven p({"/dev/null", "0", "0"});
  REQUIRE(p.ready());
  auto bad = harness::Tool({"observe", "-p", std::to_string(p.pid()), "-e", "trace=%flie"});
  CHECK(bad.status == 120);
  CHECK(bad.err.find("did you mean %file?") != std::string::npos);
  CHECK(p.Quit() == 7);
}

TEST_CASE("observe -q says nothing of its own and -v prints its plan", "[observe][cli]") {
  Driven p({"/dev/null", "0", "0"});
  REQUIRE(p.ready());
  {
    // -q: no "observing", no "detached", no summary (so no line to wait for: --duration ends it).
    Observing o({"observe", "-p", std::to_string(p.pid()), "-q", "--duration", "100ms"});
    CHECK(o.Wait() == 0);
    CHECK(o.err().empty());
  }
  {
    Observing o({"observe", "-p", std::to_string(p.pid()), "-v", "--duration", "100ms"});
    INFO("tracejail's stderr: " << o.err());
    CHECK(o.Wait() == 0);
    CHECK(o.err().find("tracejail: plan: policy") != std::string::npos);
    CHECK(o.err().find("observing process") != std::string::npos);
  }
  auto both = harness::Tool({"observe", "-p", std::to_string(p.pid()), "-q", "-v"});
  CHECK(both.status == 120);  // they exclude each other, as for run
  CHECK(p.Quit() == 7);
}
