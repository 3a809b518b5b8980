// `tracejail batch` with real traced tasks: each task's directory holds a verified record, bad
// lines and failed runs are told apart from programs that merely fail, a rerun skips what is
// complete and redoes what was cut short, shards are disjoint and merge into the whole
// manifest, and a SIGTERM ends the batch truthfully.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "harness.h"

namespace {

namespace fs = std::filesystem;

nlohmann::json ReadJson(const std::string& path) {
  std::string text = harness::Slurp(path);
  INFO(path);
  REQUIRE_FALSE(text.empty());
  return nlohmann::json::parse(text);
}

// id -> the task's entry in the summary.
std::map<std::string, nlohmann::json> ByTask(const nlohmann::json& summary) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& t : summary["tasks"]) out[t["id"].get<std::string>()] = t;
  return out;
}

std::string ExecutionId(const std::string& dir) {
  return ReadJson(dir + "/result.json")["execution_id"].get<std::string>();
}

// `n` quick tasks t0..t(n-1), each echoing its id.
std::string QuickManifest(const harness::TempDir& dir, int n) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    text += fmt::format(R"({{"id": "t{}", "command": ["/bin/echo", "task {}"]}})"
                        "\n",
                        i, i);
  }
  return dir.File("quick.jsonl", text);
}

}  // namespace

TEST_CASE(
    "batch: every task has a verified record, bad lines and runs that could not start "
    "fail, programs that fail do not",
    "[batch]") {
  harness::TempDir dir;
  std::string manifest = dir.File("m.jsonl",
                                  R"J({"id": "ok", "command": ["/bin/echo", "hello"]}
{"id": "shadow", "command": ["/bin/cat", "/etc/shadow"]}
{"id": "py", "lang": "python", "code": "print(open('data.txt').read())", "files": {"data.txt": "DATA from the manifest"}}
{"id": "exit3", "lang": "sh", "code": "echo hi; exit 3", "limits": {"timeout": "20s"}}
this line is not JSON
{"id": "nosuch", "command": ["/no/such/program"]}
{"id": "audit", "command": ["/bin/cat", "/etc/shadow"], "mode": "audit", "level": "standard"}
)J");
  std::string out = dir.path() + "/out";
  harness::Result r = harness::Tool({"batch", manifest, "--out", out, "--jobs", "2"});
  INFO(r.err);
  CHECK(r.status == 1);  // one invalid line, one run that could not start
  nlohmann::json summary = ReadJson(out + "/summary.json");
  CHECK(summary["tasks_total"] == 7);
  CHECK(summary["states"]["complete"] == 5);
  CHECK(summary["states"]["failed"] == 1);
  CHECK(summary["states"]["invalid"] == 1);
  auto tasks = ByTask(summary);
  CHECK(tasks["ok"]["status"] == "ok");
  CHECK(tasks["shadow"]["status"] == "runtime_error");
  CHECK(tasks["shadow"]["denials"] == 1);
  CHECK(tasks["exit3"]["status"] == "runtime_error");
  CHECK(tasks["exit3"]["exit_code"] == 3);
  CHECK(tasks["audit"]["status"] == "ok");  // audit mode allows, and records
  CHECK(tasks["audit"]["denials"] == 1);
  CHECK(tasks["line-5"]["state"] == "invalid");
  CHECK_THAT(tasks["line-5"]["why"].get<std::string>(), Catch::Contains("not JSON"));
  CHECK(tasks["nosuch"]["state"] == "failed");
  CHECK_THAT(tasks["nosuch"]["why"].get<std::string>(), Catch::Contains("no such file"));
  // The per-task files went into the work dir, and the program read them.
  nlohmann::json py = ReadJson(out + "/py/result.json");
  CHECK_THAT(py["stdout"]["text"].get<std::string>(), Catch::Contains("DATA from the manifest"));
  // Every complete task: its chain verifies, its reports exist, the index links them.
  std::string index = harness::Slurp(out + "/index.html");
  for (const char* id : {"ok", "shadow", "py", "exit3", "audit"}) {
    std::string task = out + "/" + id;
    harness::Result v = harness::Tool({"verify", task + "/events.jsonl"});
    CHECK(v.status == 0);
    CHECK_THAT(harness::Slurp(task + "/report.txt"), Catch::Contains("Risk"));
    CHECK(fs::file_size(task + "/report.html") > 0);
    CHECK_THAT(index, Catch::Contains(fmt::format("href=\"{}/report.html\"", id)));
  }
  CHECK_THAT(harness::Slurp(out + "/shadow/report.txt"), Catch::Contains("/etc/shadow"));
  // Not a terminal: one line per task, then the totals.
  CHECK_THAT(r.err, Catch::Contains("shadow: runtime_error, exit 1, 1 denial(s)"));
  CHECK_THAT(r.err, Catch::Contains("nosuch: FAILED"));
  CHECK_THAT(r.err, Catch::Contains("line-5: INVALID"));
  CHECK_THAT(r.err, Catch::Contains("7 task(s): 5 complete, 1 failed, 1 invalid"));
  // The summary's statistics are stats's, over the complete tasks.
  CHECK(summary["stats"]["runs"] == 5);
  CHECK(summary["stats"]["denials"] == 2);  // audit's would-be denial counts too
  bool credential_dumping = false;
  for (const auto& t : summary["stats"]["techniques"]) {
    credential_dumping = credential_dumping || t["id"] == "T1003.008";
  }
  CHECK(credential_dumping);
}

TEST_CASE("batch: a rerun skips complete tasks and redoes the ones cut short", "[batch]") {
  harness::TempDir dir;
  std::string manifest = QuickManifest(dir, 5);
  std::string out = dir.path() + "/out";
  harness::Result first = harness::Tool({"batch", manifest, "--out", out});
  INFO(first.err);
  REQUIRE(first.status == 0);
  std::map<std::string, std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids[fmt::format("t{}", i)] = ExecutionId(fmt::format("{}/t{}", out, i));
  // t1: its events cut short; t2: no result (as after a crash); t3: an edited record.
  std::string events = harness::Slurp(out + "/t1/events.jsonl");
  {
    std::ofstream cut(out + "/t1/events.jsonl", std::ios::binary | std::ios::trunc);
    cut << events.substr(0, events.size() / 2);
  }
  fs::remove(out + "/t2/result.json");
  std::string t3 = harness::Slurp(out + "/t3/events.jsonl");
  auto at = t3.find("task 3");
  if (at == std::string::npos) at = t3.find("\"pid\"");
  REQUIRE(at != std::string::npos);
  t3[at + 1] = t3[at + 1] == 'X' ? 'Y' : 'X';
  {
    std::ofstream edited(out + "/t3/events.jsonl", std::ios::binary | std::ios::trunc);
    edited << t3;
  }
  harness::Result second = harness::Tool({"batch", manifest, "--out", out});
  INFO(second.err);
  CHECK(second.status == 0);
  CHECK_THAT(second.err, Catch::Contains("2 task(s) already complete"));
  CHECK_THAT(second.err, Catch::Contains("t1: redone"));
  CHECK_THAT(second.err, Catch::Contains("t2: redone: no result.json"));
  CHECK_THAT(second.err, Catch::Contains("t3: redone: the events' hash chain does not verify"));
  for (int i = 0; i < 5; ++i) {
    std::string id = fmt::format("t{}", i);
    bool redone = i >= 1 && i <= 3;
    CHECK((ExecutionId(out + "/" + id) != ids[id]) == redone);
    CHECK(harness::Tool({"verify", out + "/" + id + "/events.jsonl"}).status == 0);
  }
  nlohmann::json summary = ReadJson(out + "/summary.json");
  CHECK(summary["states"]["complete"] == 5);
}

TEST_CASE("batch: shards are disjoint, cover the manifest, and merge into the whole", "[batch]") {
  harness::TempDir dir;
  constexpr int kTasks = 11;
  std::string manifest = QuickManifest(dir, kTasks);
  constexpr int kShards = 3;
  std::multiset<std::string> seen;
  std::vector<std::string> args = {"batch", manifest, "--out", dir.path() + "/merged", "--merge"};
  for (int k = 0; k < kShards; ++k) {
    std::string out = fmt::format("{}/shard{}", dir.path(), k);
    harness::Result r = harness::Tool(
        {"batch", manifest, "--out", out, "--shard", fmt::format("{}/{}", k, kShards)});
    INFO(r.err);
    REQUIRE(r.status == 0);
    nlohmann::json summary =
        ReadJson(fmt::format("{}/summary.shard-{}-of-{}.json", out, k, kShards));
    CHECK(summary["shard"] == fmt::format("{}/{}", k, kShards));
    for (const auto& t : summary["tasks"]) seen.insert(t["id"].get<std::string>());
    args.insert(args.end(), {"--from", out});
  }
  CHECK(seen.size() == kTasks);
  for (int i = 0; i < kTasks; ++i) CHECK(seen.count(fmt::format("t{}", i)) == 1);
  // Merged: every task's directory in one place, verified, one summary of the whole manifest.
  harness::Result merged = harness::Tool(args);
  INFO(merged.err);
  CHECK(merged.status == 0);
  nlohmann::json summary = ReadJson(dir.path() + "/merged/summary.json");
  CHECK(summary["states"]["complete"] == kTasks);
  CHECK(summary["stats"]["runs"] == kTasks);
  // stats reads the shards' directories as they are.
  harness::Result stats = harness::Tool(
      {"stats", "--json", dir.path() + "/shard0", dir.path() + "/shard1", dir.path() + "/shard2"});
  REQUIRE(stats.status == 0);
  CHECK(nlohmann::json::parse(stats.out)["runs"] == kTasks);
  // A merge that lacks a shard says which tasks are missing, and fails.
  harness::Result partial = harness::Tool({"batch", manifest, "--out", dir.path() + "/partial",
                                           "--merge", "--from", dir.path() + "/shard0"});
  CHECK(partial.status == 1);
  nlohmann::json p = ReadJson(dir.path() + "/partial/summary.json");
  CHECK(p["states"]["missing"] == kTasks - p["states"]["complete"].get<int>());
  CHECK(p["states"]["missing"] > 0);
}

TEST_CASE("batch: usage errors are said and nothing runs", "[batch]") {
  harness::TempDir dir;
  std::string manifest = QuickManifest(dir, 2);
  std::string out = dir.path() + "/out";
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  std::vector<Case> cases = {
      {{"batch", dir.path() + "/none.jsonl", "--out", out}, "cannot read the manifest"},
      {{"batch", dir.File("empty.jsonl", "\n\n"), "--out", out}, "holds no task"},
      {{"batch", manifest, "--out", out, "--shard", "3/3"}, "K/N"},
      {{"batch", manifest, "--out", out, "--from", dir.path()}, "--from goes with --merge"},
      {{"batch", manifest, "--out", dir.File("afile", "x")}, "cannot create the output"},
  };
  for (const auto& c : cases) {
    harness::Result r = harness::Tool(c.args);
    INFO(c.says << ": " << r.err);
    CHECK(r.status == 120);
    CHECK_THAT(r.err, Catch::Contains(c.says));
  }
  CHECK_FALSE(fs::exists(out + "/t0"));
}

TEST_CASE(
    "batch: while it runs no other batch writes its directory, and SIGTERM ends the running task "
    "and starts nothing new",
    "[batch]") {
  harness::TempDir dir;
  std::string fifo = dir.path() + "/started";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  // The first task says it has started through the FIFO, then waits to be ended.
  std::string manifest = dir.File(
      "m.jsonl",
      fmt::format(
          R"J({{"id": "long", "level": "none", "command": ["/bin/sh", "-c", "echo up > {}; exec sleep 600"]}}
{{"id": "next", "command": ["/bin/true"]}}
{{"id": "last", "command": ["/bin/true"]}}
)J",
          fifo));
  std::string out = dir.path() + "/out";
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDERR_FILENO);
    harness::ExecTracejail({"batch", manifest, "--out", out, "--jobs", "1"});
  }
  // Wait for the task's line, or for the batch to end without it (which fails the test instead
  // of hanging it).
  int started = open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  int batch = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  REQUIRE(started >= 0);
  REQUIRE(batch >= 0);
  std::string line;
  while (line.find('\n') == std::string::npos) {
    pollfd fds[2] = {{started, POLLIN, 0}, {batch, POLLIN, 0}};
    REQUIRE(poll(fds, 2, -1) > 0);
    if (fds[1].revents != 0) FAIL("the batch ended before its task started");
    char buf[64];
    ssize_t n = read(started, buf, sizeof buf);
    if (n > 0) {
      line.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 && (fds[0].revents & POLLHUP) != 0) {
      FAIL("the task closed the FIFO without its line: " << line);
    }
  }
  close(started);
  close(batch);
  CHECK(line == "up\n");
  // While it runs, no other batch may write the same directory: not the whole manifest again,
  // not a shard, not a merge. A different directory is fine.
  for (const auto& extra :
       std::vector<std::vector<std::string>>{{}, {"--shard", "0/2"}, {"--merge"}}) {
    std::vector<std::string> args = {"batch", manifest, "--out", out};
    args.insert(args.end(), extra.begin(), extra.end());
    harness::Result again = harness::Tool(args);
    INFO(again.err);
    CHECK(again.status == 120);
    CHECK_THAT(again.err, Catch::Contains("another tracejail batch is writing"));
  }
  REQUIRE(kill(pid, SIGTERM) == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 128 + SIGTERM);
  nlohmann::json summary = ReadJson(out + "/summary.json");
  auto tasks = ByTask(summary);
  // The running task ended with its record (killed, as tracejail run says it was); the others
  // never started.
  INFO(tasks["long"].dump());
  CHECK(tasks["long"]["state"] == "complete");
  CHECK(tasks["long"]["status"] != "ok");
  CHECK(tasks["next"]["state"] == "missing");
  CHECK(tasks["last"]["state"] == "missing");
  CHECK_THAT(tasks["next"]["why"].get<std::string>(), Catch::Contains("interrupted"));
  CHECK_FALSE(fs::exists(out + "/next"));
}

TEST_CASE("run --file: files are copied into the work dir, where the command starts",
          "[batch][cli]") {
  harness::TempDir dir;
  std::string input = dir.File("input.txt", "from the host\n");
  harness::Options o;
  o.tracejail_args = {"--file", "in.txt=" + input, "--file", "second=" + input};
  harness::Result r = harness::Run({"/bin/sh", "-c", "cat in.txt second; pwd"}, o);
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Catch::StartsWith("from the host\nfrom the host\n/"));
  CHECK_THAT(r.out, !Catch::Contains(dir.path()));  // not the caller's directory
  struct Case {
    std::string spec;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{{"a/b=" + input, "one name in the work dir"},
                                         {"..=" + input, "one name in the work dir"},
                                         {"x=" + dir.path() + "/none", "cannot read"},
                                         {"x=" + dir.path(), "it is a directory"}}) {
    harness::Options bad;
    bad.tracejail_args = {"--file", c.spec};
    harness::Result e = harness::Run({"/bin/true"}, bad);
    INFO(c.spec << ": " << e.err);
    CHECK(e.status == 120);
    CHECK_THAT(e.err, Catch::Contains(c.says));
  }
  harness::Options twice;
  twice.tracejail_args = {"--file", "x=" + input, "--file", "x=" + input};
  harness::Result t = harness::Run({"/bin/true"}, twice);
  CHECK(t.status == 120);
  CHECK_THAT(t.err, Catch::Contains("already gets a file named x"));
  // exec's code file is one of the work dir's files: a --file cannot replace it.
  harness::Result code =
      harness::Tool({"exec", "--lang", "sh", "-c", "cat main.sh", "--file", "main.sh=" + input});
  CHECK(code.status == 120);
}

TEST_CASE("batch: index.html renders in headless Chromium, hostile text shown and inert",
          "[batch][html][chromium]") {
  if (access("/usr/bin/chromium", X_OK) != 0) {
    FAIL("chromium is not installed: scripts/install-deps.sh installs it");
  }
  harness::TempDir dir;
  // A bad line whose text reaches the page through its parse error, and a task that is fine.
  std::string manifest = dir.File("m.jsonl",
                                  "<script>document.title='owned'</script><img src=x "
                                  "onerror=alert(1)>\n"
                                  R"({"id": "fine", "command": ["/bin/cat", "/etc/shadow"]})"
                                  "\n"
                                  R"({"id": "<script>document.title='owned'</script>", )"
                                  R"("command": ["/bin/true"]})"
                                  "\n");
  std::string out = dir.path() + "/out";
  harness::Result r = harness::Tool({"batch", manifest, "--out", out});
  INFO(r.err);
  REQUIRE(r.status == 1);
  harness::Result chromium =
      harness::HeadlessChromium("file://" + out + "/index.html", {"--dump-dom"}, dir.path());
  INFO("chromium stderr: " << chromium.err);
  CHECK(chromium.status == 0);
  CHECK(chromium.err.find("CONSOLE") == std::string::npos);
  const std::string& dom = chromium.out;
  // The rendered document: the tasks' table with both rows, the hostile text as text.
  CHECK_THAT(dom, Catch::Contains("<table id=\"tasks\">"));
  CHECK_THAT(dom, Catch::Contains("<a href=\"fine/report.html\">report</a>"));
  CHECK_THAT(dom, Catch::Contains("line-1"));
  CHECK_THAT(dom, Catch::Contains("&lt;script&gt;document.title="));  // shown, as text
  CHECK_THAT(dom, !Catch::Contains("<script"));
  CHECK_THAT(dom, !Catch::Contains("<img"));
  CHECK_THAT(dom, !Catch::Contains("<title>owned"));  // the script never ran
  CHECK_THAT(dom, Catch::Contains("<title>tracejail batch:"));
}
