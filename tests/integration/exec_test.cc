// `tracejail exec` and the seed's five cases at --level strict, each limit with a real program,
// and what is left behind afterwards (nothing: work dir, cgroup, processes).
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>
#include <sstream>

#include "harness.h"

namespace {

struct ExecRun {
  harness::Result r;
  nlohmann::json doc;                  // --json output: {"result", "report"}
  std::vector<nlohmann::json> events;  // every record of the events file
};

ExecRun Exec(const std::string& lang, const std::string& code,
             std::vector<std::string> extra = {}) {
  harness::TempDir dir;
  std::string events = dir.path() + "/events.jsonl";
  std::vector<std::string> args{"exec", "--lang", lang, "--json", "--events", events};
  if (std::find(extra.begin(), extra.end(), "--level") == extra.end() &&
      std::find(extra.begin(), extra.end(), "--policy") == extra.end()) {
    args.insert(args.end(), {"--level", "strict"});
  }
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), {"-c", code});
  ExecRun run;
  run.r = harness::Tool(args);
  run.doc = nlohmann::json::parse(run.r.out, nullptr, false);
  std::istringstream in(harness::Slurp(events));
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) run.events.push_back(j);
  }
  return run;
}

std::string Context(const ExecRun& e) {
  return "status " + std::to_string(e.r.status) + "; stderr: " + e.r.err +
         "; stdout: " + e.r.out.substr(0, 4000);
}

std::vector<nlohmann::json> OfType(const ExecRun& e, const std::string& type) {
  std::vector<nlohmann::json> out;
  for (const auto& ev : e.events) {
    if (ev.value("type", "") == type) out.push_back(ev);
  }
  return out;
}

const nlohmann::json* Layer(const ExecRun& e, const std::string& name) {
  if (!e.doc.is_object()) return nullptr;
  for (const auto& l : e.doc["result"]["layers"]) {
    if (l["layer"] == name) return &l;
  }
  return nullptr;
}

bool CgroupActive(const ExecRun& e) {
  const nlohmann::json* l = Layer(e, "cgroup");
  return l != nullptr && (*l)["state"] == "active";
}

// Work dir and cgroup directories named in the result's layers, and the pids of the tree.
void CheckNothingLeft(const ExecRun& e) {
  std::regex path_re("(/[^ ,:]*tracejail-[A-Za-z0-9-]+)");
  for (const char* name : {"workdir", "cgroup"}) {
    const nlohmann::json* l = Layer(e, name);
    if (l == nullptr) continue;
    std::string detail = (*l)["detail"];
    for (std::sregex_iterator it(detail.begin(), detail.end(), path_re), end; it != end; ++it) {
      std::string path = (*it)[1];
      INFO(name << " left behind: " << path);
      CHECK_FALSE(std::filesystem::exists(path));
    }
  }
  for (const auto& ev : e.events) {
    if (ev.value("type", "") != "process_start") continue;
    int pid = ev.value("pid", 0);
    INFO("process " << pid << " is still alive");
    CHECK((pid > 0 && kill(pid, 0) != 0));
  }
}

}  // namespace

TEST_CASE("seed case 1: print('Hello, World!') succeeds with its output and no events") {
  ExecRun e = Exec("python", "print('Hello, World!')");
  INFO(Context(e));
  REQUIRE(e.doc.is_object());
  CHECK(e.r.status == 0);
  CHECK(e.doc["result"]["status"] == "ok");
  CHECK(e.doc["result"]["stdout"]["text"] == "Hello, World!\n");
  for (const auto& ev : e.events) {
    std::string type = ev.value("type", "");
    INFO("unexpected event " << ev.dump());
    CHECK((type.starts_with("process_") || type == "log_end"));
  }
  CHECK(e.doc["report"]["risk"] == "low");
  CheckNothingLeft(e);
}

TEST_CASE("seed case 2: os.system('ls') is blocked at the shell's exec and Python goes on") {
  ExecRun e = Exec("python", "import os\nrc = os.system('ls')\nprint('after', rc != 0)");
  INFO(Context(e));
  REQUIRE(e.doc.is_object());
  CHECK(e.r.status == 0);
  CHECK(e.doc["result"]["stdout"]["text"] == "after True\n");
  auto blocked = OfType(e, "syscall_blocked");
  REQUIRE(blocked.size() == 1);
  CHECK(blocked[0]["syscall"]["name"] == "execve");
  CHECK(blocked[0]["args"]["pathname"]["raw"] == "/bin/sh");
  CHECK(blocked[0]["args"]["argv"] == nlohmann::json::array({"sh", "-c", "ls"}));
  CHECK(blocked[0]["decision"]["action"] == "deny");
  // Its stack says which line of the code called os.system (tracer/python_frames.h).
  const nlohmann::json& python = blocked[0]["stack"]["python"];
  INFO(blocked[0]["stack"].dump(2));
  REQUIRE(python.size() == 1);
  CHECK(python[0]["file"].get<std::string>().ends_with("/main.py"));  // Python makes it absolute
  CHECK(python[0]["line"] == 2);
  CHECK(python[0]["function"] == "<module>");
  // ... and so does the report: "line 2 of your code called os.system".
  REQUIRE(e.doc["report"]["denials"].size() == 1);
  CHECK(e.doc["report"]["denials"][0]["called_from"].get<std::string>().ends_with(
      "/main.py:2 in <module>"));
  CheckNothingLeft(e);
}

TEST_CASE("seed case 3: a 1 GB string under a 256 MiB memory limit is stopped and reported") {
  ExecRun e = Exec("python", "x = 'a' * 1000000000\nprint('allocated')", {"--memory", "256MiB"});
  INFO(Context(e));
  REQUIRE(e.doc.is_object());
  if (!CgroupActive(e)) {
    harness::Skip("no usable cgroup here: " + Context(e));
    return;
  }
  CHECK(e.doc["result"]["status"] == "limit_exceeded");
  CHECK(e.doc["result"]["stdout"]["text"] == "");
  auto hits = OfType(e, "resource_limit_exceeded");
  REQUIRE(hits.size() >= 1);
  CHECK(hits[0]["args"]["limit"] == "memory");
  CHECK(hits[0]["args"]["configured"] == "256MiB");
  CHECK(hits[0]["args"]["oom_kills"].get<int>() >= 1);
  CHECK(e.doc["result"]["peak_memory_bytes"].get<std::uint64_t>() <= 256ULL << 20);
  CHECK(e.doc["result"]["peak_memory_bytes"].get<std::uint64_t>() >= 200ULL << 20);
  CheckNothingLeft(e);
}

TEST_CASE("seed case 4a: while True under a 2 s CPU limit is stopped by SIGXCPU") {
  ExecRun e = Exec("python", "while True: pass", {"--cpu", "2s"});
  INFO(Context(e));
  REQUIRE(e.doc.is_object());
  CHECK(e.doc["result"]["status"] == "limit_exceeded");
  CHECK(e.doc["result"]["signal"] == "SIGXCPU");
  auto hits = OfType(e, "resource_limit_exceeded");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0]["args"]["limit"] == "cpu");
  CHECK(hits[0]["args"]["configured"] == "2s");
  // The state, not a measurement: the kernel's SIGXCPU ended it, and the event says how much
  // CPU time the supervisor read (a number; its exact value depends on the machine's load).
  CHECK(hits[0]["args"]["signal"] == "SIGXCPU");
  CHECK(hits[0]["args"]["cpu_s"].is_number());
  CheckNothingLeft(e);
}

TEST_CASE("seed case 4b: while True with the CPU limit off and a 3 s timeout times out") {
  ExecRun e = Exec("python", "while True: pass", {"--cpu", "off", "--timeout", "3s"});
  INFO(Context(e));
  REQUIRE(e.doc.is_object());
  CHECK(e.r.status == 124);
  CHECK(e.doc["result"]["status"] == "timed_out");
  auto hits = OfType(e, "timeout_exceeded");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0]["args"]["limit"] == "timeout");
  CHECK(hits[0]["args"]["configured"] == "3s");
  CHECK(hits[0]["args"]["elapsed_s"].is_number());
  CHECK(OfType(e, "resource_limit_exceeded").empty());
  CheckNothingLeft(e);
}

TEST_CASE("seed case 5: socket.socket() is denied with its family and type decoded") {
  ExecRun e = Exec("python", "import socket\ns = socket.socket()");
  INFO(Context(e));
  REQUIRE(e.doc.is_object());
  CHECK(e.doc["result"]["status"] == "runtime_error");  // PermissionError, uncaught
  CHECK_THAT(e.doc["result"]["stderr"]["text"].get<std::string>(),
             Catch::Contains("PermissionError"));
  std::vector<nlohmann::json> denied;
  for (const auto& ev : e.events) {
    if (ev.contains("syscall") && ev["syscall"]["name"] == "socket") denied.push_back(ev);
  }
  REQUIRE(denied.size() == 1);
  std::string type = denied[0]["type"];
  CHECK((type == "permission_denied" || type == "syscall_blocked"));
  CHECK(denied[0]["args"]["domain"] == "AF_INET");
  CHECK_THAT(denied[0]["args"]["type"].get<std::string>(), Catch::StartsWith("SOCK_STREAM"));
  CHECK(denied[0]["decision"]["action"] == "deny");
  CheckNothingLeft(e);
}

TEST_CASE("a fork bomb is held at the process limit and the whole tree dies at the timeout") {
  ExecRun e = Exec("python",
                   // A process whose fork is refused waits for the end instead of retrying,
                   // so the bomb reaches the limit without keeping both CPUs busy until the
                   // timeout (a loaded machine would otherwise slow it and its neighbours).
                   "import os, signal\n"
                   "while True:\n"
                   "    try:\n"
                   "        os.fork()\n"
                   "    except OSError:\n"
                   "        signal.pause()\n",
                   {"--processes", "20", "--timeout", "5s"});
  INFO(Context(e));
  REQUIRE(e.doc.is_object());
  if (!CgroupActive(e)) {
    harness::Skip("no usable cgroup here: " + Context(e));
    return;
  }
  CHECK(e.doc["result"]["status"] == "timed_out");
  auto hits = OfType(e, "resource_limit_exceeded");
  REQUIRE(hits.size() >= 1);
  CHECK(hits[0]["args"]["limit"] == "processes");
  CHECK(hits[0]["args"]["tasks"].get<int>() <= 20);
  CHECK(hits[0]["args"]["refused"].get<int>() >= 1);
  CHECK(e.doc["result"]["processes"].get<int>() <= 20);
  CheckNothingLeft(e);
}

TEST_CASE("writing past the disk limit gets ENOSPC and a disk event") {
  ExecRun e = Exec("python",
                   "try:\n"
                   "    open('big', 'wb').write(b'x' * (64 << 20))\n"
                   "except OSError as err:\n"
                   "    print(err.errno)\n",
                   {"--disk", "8MiB"});
  INFO(Context(e));
  REQUIRE(e.doc.is_object());
  const nlohmann::json* wd = Layer(e, "workdir");
  REQUIRE(wd != nullptr);
  if ((*wd)["state"] != "active" ||
      (*wd)["detail"].get<std::string>().find("tmpfs") == std::string::npos) {
    harness::Skip("no tmpfs work dir here: " + Context(e));
    return;
  }
  CHECK(e.doc["result"]["stdout"]["text"] == "28\n");  // ENOSPC
  CHECK(e.doc["result"]["status"] == "limit_exceeded");
  auto hits = OfType(e, "resource_limit_exceeded");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0]["args"]["limit"] == "disk");
  CHECK(hits[0]["args"]["configured"] == "8MiB");
  CheckNothingLeft(e);
}

TEST_CASE("a file past the file size limit gets EFBIG and a file_size event") {
  ExecRun e = Exec("python",
                   "try:\n"
                   "    open('big', 'wb').write(b'x' * (2 << 20))\n"
                   "except OSError as err:\n"
                   "    print(err.errno)\n",
                   {"--file-size", "1MiB"});
  INFO(Context(e));
  REQUIRE(e.doc.is_object());
  CHECK(e.doc["result"]["stdout"]["text"] == "27\n");  // EFBIG (Python ignores SIGXFSZ)
  auto hits = OfType(e, "resource_limit_exceeded");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0]["args"]["limit"] == "file_size");
  CHECK(hits[0]["args"]["signal"] == "SIGXFSZ");
  CheckNothingLeft(e);
}

TEST_CASE("output past the output limit is cut, counted and reported") {
  ExecRun e = Exec("sh", "i=0; while [ $i -lt 500 ]; do echo 0123456789; i=$((i+1)); done",
                   {"--output", "1KiB", "--level", "standard"});
  INFO(Context(e));
  REQUIRE(e.doc.is_object());
  CHECK(e.doc["result"]["stdout"]["bytes"] == 5500);
  CHECK(e.doc["result"]["stdout"]["text"].get<std::string>().size() == 1024);
  CHECK(e.doc["result"]["stdout"]["truncated"] == true);
  CHECK(e.doc["result"]["status"] == "limit_exceeded");
  auto hits = OfType(e, "resource_limit_exceeded");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0]["args"]["limit"] == "output");
  CHECK(hits[0]["args"]["stream"] == "stdout");
}

TEST_CASE("the open files limit makes the next open fail with EMFILE") {
  ExecRun e = Exec("python",
                   "import os\n"
                   "fds = []\n"
                   "try:\n"
                   "    for i in range(100):\n"
                   "        fds.append(os.open('/dev/null', os.O_RDONLY))\n"
                   "except OSError as err:\n"
                   "    print(err.errno, len(fds) < 32)\n",
                   {"--open-files", "32"});
  INFO(Context(e));
  REQUIRE(e.doc.is_object());
  CHECK(e.doc["result"]["stdout"]["text"] == "24 True\n");  // EMFILE
  CHECK(e.doc["result"]["limits"]["open_files"] == "32");
}

TEST_CASE("exec reads code from a file and from stdin, and rejects bad input clearly") {
  harness::TempDir dir;
  std::string file = dir.File("prog.sh", "echo from-file\n");
  harness::Result r = harness::Tool({"exec", "--lang", "sh", "--no-summary", file});
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(r.out == "from-file\n");
  harness::Result bad = harness::Tool({"exec", "--lang", "cobol", "-c", "x"});
  CHECK(bad.status == 120);
  harness::Result none = harness::Tool({"exec", "--lang", "sh"});
  CHECK(none.status == 120);
  CHECK_THAT(none.err, Catch::Contains("no code given"));
  harness::Result badlimit = harness::Tool({"exec", "--lang", "sh", "--memory", "lots", "-c", ":"});
  CHECK(badlimit.status == 120);
  CHECK_THAT(badlimit.err, Catch::Contains("--memory"));
}
