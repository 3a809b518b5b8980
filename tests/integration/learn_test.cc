// Learn mode on real programs: a Python script that imports, reads, writes in its work dir and
// talks to a loopback server; a shell script of coreutils; a gcc compile. The learnt draft must
// be tight: the same program under it in enforce mode has zero denials, and variants that read
// a secret key, write outside the work dir, connect elsewhere or run another tool are denied.
// A file whose name looks like a pattern ("**") is learnt as that file alone.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "harness.h"

namespace {

std::string Python() { return "/usr/bin/python3"; }

harness::Result Learn(const std::string& draft, const std::vector<std::string>& extra,
                      const std::vector<std::string>& command, const std::string& cwd = "") {
  std::vector<std::string> args{"learn", "-o", draft};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("--");
  args.insert(args.end(), command.begin(), command.end());
  return harness::Tool(args, cwd);
}

harness::Result Enforce(const std::string& draft, const std::vector<std::string>& command,
                        const std::string& cwd = "") {
  harness::Options o;
  o.tracejail_args = {"--policy", draft};
  o.cwd = cwd;
  return harness::Run(command, o);
}

std::size_t Denials(const harness::Result& r) {
  std::size_t n = 0;
  for (const auto& e : r.events) {
    std::string action = e["decision"].value("action", "");
    if (action == "deny" || action == "kill") ++n;
  }
  return n;
}

std::string DenialsText(const harness::Result& r) {
  std::string out;
  for (const auto& e : r.events) out += e.value("message", "") + "\n";
  return out;
}

// A fake home with a secret key, so the variant can try to read it.
struct FakeHome {
  harness::TempDir dir;
  std::string old;
  FakeHome() {
    old = getenv("HOME") ? getenv("HOME") : "";
    std::filesystem::create_directories(dir.path() + "/.ssh");
    dir.File(".ssh/id_rsa", "-----BEGIN KEY-----\n");
    setenv("HOME", dir.path().c_str(), 1);
  }
  ~FakeHome() { setenv("HOME", old.c_str(), 1); }
};

}  // namespace

TEST_CASE("learn: a Python client's draft allows its runs and denies its variants") {
  FakeHome home;
  harness::TempDir dir;
  harness::LoopbackListener server;
  std::string data = dir.File("input.csv", "a,b\n1,2\n");
  std::string script = dir.File("client.py", R"(import json, email, decimal, socket, sys, os
mode = sys.argv[2]
open(sys.argv[3]).read()
open(os.path.join(os.environ['TMPDIR'], 'out.json'), 'w').write(json.dumps({'ok': 1}))
port = int(sys.argv[1])
if mode == 'secret':
    open(os.path.expanduser('~/.ssh/id_rsa')).read()
if mode == 'outside':
    open('/var/local/tj-learn-written-outside', 'w').write('x')
if mode == 'elsewhere':
    port = int(sys.argv[4])
s = socket.create_connection(('127.0.0.1', port))
s.close()
print('done')
)");
  std::string draft = dir.path() + "/draft.json";
  std::string port = std::to_string(server.port());
  harness::Result learnt =
      Learn(draft, {"--runs", "2"}, {Python(), script, port, "plain", data, "0"});
  INFO(learnt.err);
  REQUIRE(learnt.status == 0);
  auto doc = nlohmann::json::parse(harness::Slurp(draft));
  INFO(doc.dump(2));
  CHECK(doc["extends"] == "standard");
  CHECK_THAT(doc["description"].get<std::string>(), Catch::Contains("from 2 run(s)"));
  REQUIRE(doc["network"]["rules"].size() == 1);
  CHECK(doc["network"]["rules"][0]["cidr"] == "127.0.0.1/32");
  CHECK(doc["network"]["rules"][0]["ports"] == port);
  CHECK_THAT(doc["network"]["rules"][0]["notes"].get<std::string>(),
             Catch::Contains("in 2 of 2 run(s)"));

  harness::Result again = Enforce(draft, {Python(), script, port, "plain", data, "0"});
  INFO(again.err << DenialsText(again));
  CHECK(again.status == 0);
  CHECK(again.out == "done\n");
  CHECK(Denials(again) == 0);

  harness::Result secret = Enforce(draft, {Python(), script, port, "secret", data, "0"});
  CHECK(secret.status != 0);
  CHECK_THAT(DenialsText(secret), Catch::Contains(".ssh/id_rsa"));

  harness::Result outside = Enforce(draft, {Python(), script, port, "outside", data, "0"});
  CHECK(outside.status != 0);
  CHECK_THAT(DenialsText(outside), Catch::Contains("written-outside"));
  CHECK_FALSE(std::filesystem::exists("/var/local/tj-learn-written-outside"));
  std::filesystem::remove("/var/local/tj-learn-written-outside");

  harness::LoopbackListener other;
  harness::Result elsewhere =
      Enforce(draft, {Python(), script, port, "elsewhere", data, std::to_string(other.port())});
  CHECK(elsewhere.status != 0);
  CHECK_FALSE(other.Received());
  CHECK_THAT(DenialsText(elsewhere), Catch::Contains(std::to_string(other.port())));
}

TEST_CASE("learn: a coreutils shell script under strict learns exactly the tools it ran") {
  harness::TempDir dir;
  std::string script = dir.File("tools.sh", R"(echo hello > "$TMPDIR/a.txt"
wc -c "$TMPDIR/a.txt" > "$TMPDIR/b.txt"
sort "$TMPDIR/b.txt" | head -1 > /dev/null
if [ "$1" = more ]; then id -u; fi
echo ok
)");
  std::string draft = dir.path() + "/draft.json";
  harness::Result learnt = Learn(draft, {"--base", "strict"}, {"/bin/sh", script});
  INFO(learnt.err);
  REQUIRE(learnt.status == 0);
  auto doc = nlohmann::json::parse(harness::Slurp(draft));
  INFO(doc.dump(2));
  std::vector<std::string> paths;
  for (const auto& r : doc["files"]["rules"]) {
    CHECK(r["access"] == nlohmann::json::array({"exec"}));
    paths.push_back(r["path"]);
  }
  CHECK(paths == std::vector<std::string>{"/usr/bin/head", "/usr/bin/sort", "/usr/bin/wc"});

  harness::Result again = Enforce(draft, {"/bin/sh", script});
  INFO(again.err << DenialsText(again));
  CHECK(again.out == "ok\n");
  CHECK(Denials(again) == 0);

  harness::Result more = Enforce(draft, {"/bin/sh", script, "more"});
  CHECK_THAT(DenialsText(more), Catch::Contains("/usr/bin/id"));
}

// Issue 18: learn asked after the run whether each directory it saw made existed; the run had
// made them, so `learn -- mkdir newdir` drafted no rule and the same mkdir was then denied.
TEST_CASE("learn: mkdir of a new directory in a project is learnt and then allowed") {
  harness::ProjectDir project;
  if (project.path().empty()) {
    harness::Skip("no writable directory outside the temporary directories (cwd and HOME)");
    return;
  }
  harness::TempDir dir;
  std::string draft = dir.path() + "/draft.json";
  // The second mkdir finds the directory the first one made: that one is not a creation.
  harness::Result learnt =
      Learn(draft, {}, {"/bin/sh", "-c", "mkdir newdir && mkdir -p newdir"}, project.path());
  INFO(learnt.err);
  REQUIRE(learnt.status == 0);
  auto doc = nlohmann::json::parse(harness::Slurp(draft));
  INFO(doc.dump(2));
  REQUIRE(doc.contains("files"));
  REQUIRE(doc["files"]["rules"].size() == 1);
  CHECK(doc["files"]["rules"][0]["path"] == "${CWD}/newdir");  // run in the project
  CHECK(doc["files"]["rules"][0]["access"] == nlohmann::json::array({"create"}));

  std::filesystem::remove(project.path() + "/newdir");
  harness::Result again = Enforce(draft, {"/bin/mkdir", "newdir"}, project.path());
  INFO(again.err << DenialsText(again));
  CHECK(again.status == 0);
  CHECK(Denials(again) == 0);
  CHECK(std::filesystem::is_directory(project.path() + "/newdir"));
  // Only that name: another directory beside it stays denied.
  harness::Result other = Enforce(draft, {"/bin/mkdir", "otherdir"}, project.path());
  CHECK(other.status != 0);
  CHECK_FALSE(std::filesystem::exists(project.path() + "/otherdir"));
}

// Issue 18: strict's network namespace failed every connection in the learn run, so the
// program stopped at its first connect and nothing after it was learnt.
TEST_CASE("learn: under strict every connection of the run is learnt and the draft allows them") {
  harness::TempDir dir;
  harness::LoopbackListener first, second;
  std::string script = dir.File("two.py", R"(import socket, sys
for port in sys.argv[1:]:
    socket.create_connection(('127.0.0.1', int(port))).close()
print('both')
)");
  std::string draft = dir.path() + "/draft.json";
  const std::string p1 = std::to_string(first.port()), p2 = std::to_string(second.port());
  harness::Result learnt = Learn(draft, {"--base", "strict"}, {Python(), script, p1, p2});
  INFO(learnt.err);
  REQUIRE(learnt.status == 0);
  CHECK_THAT(learnt.err, Catch::Contains("without the network namespace of strict"));
  auto doc = nlohmann::json::parse(harness::Slurp(draft));
  INFO(doc.dump(2));
  REQUIRE(doc["network"]["rules"].size() == 2);
  std::vector<std::string> ports;
  for (const auto& r : doc["network"]["rules"]) ports.push_back(r["ports"]);
  std::sort(ports.begin(), ports.end());
  std::vector<std::string> want{p1, p2};
  std::sort(want.begin(), want.end());
  CHECK(ports == want);
  // The draft keeps strict's other namespaces and leaves out its network namespace, saying so.
  const auto& ns = doc["isolation"]["namespaces"];
  CHECK(std::find(ns.begin(), ns.end(), "net") == ns.end());
  CHECK(std::find(ns.begin(), ns.end(), "pid") != ns.end());
  CHECK_THAT(doc["description"].get<std::string>(), Catch::Contains("network namespace"));

  harness::Result again = Enforce(draft, {Python(), script, p1, p2});
  INFO(again.err << DenialsText(again));
  CHECK(again.status == 0);
  CHECK(again.out == "both\n");
  CHECK(Denials(again) == 0);
  harness::LoopbackListener third;
  harness::Result elsewhere = Enforce(draft, {Python(), script, std::to_string(third.port())});
  CHECK(elsewhere.status != 0);
  CHECK_FALSE(third.Received());
}

// A strict learn that makes no connection keeps strict's network namespace in the draft.
TEST_CASE("learn: under strict a run without connections keeps the network namespace") {
  harness::TempDir dir;
  std::string draft = dir.path() + "/draft.json";
  harness::Result learnt = Learn(draft, {"--base", "strict"}, {"/bin/true"});
  INFO(learnt.err);
  REQUIRE(learnt.status == 0);
  auto doc = nlohmann::json::parse(harness::Slurp(draft));
  CHECK(doc["extends"] == "strict");
  CHECK_FALSE(doc.contains("isolation"));  // strict's namespaces, its network namespace too
}

TEST_CASE("learn: a gcc compile under strict, then the same compile enforced") {
  harness::TempDir dir;
  std::string src = dir.File("hello.c", "#include <stdio.h>\nint main(void){puts(\"hi\");}\n");
  std::string draft = dir.path() + "/draft.json";
  harness::Result learnt =
      Learn(draft, {"--base", "strict"}, {"/usr/bin/gcc", "-o", "hello", "hello.c"}, dir.path());
  INFO(learnt.err);
  REQUIRE(learnt.status == 0);
  std::filesystem::remove(dir.path() + "/hello");
  harness::Result again = Enforce(draft, {"/usr/bin/gcc", "-o", "hello", "hello.c"}, dir.path());
  INFO(again.err << DenialsText(again));
  CHECK(again.status == 0);
  CHECK(Denials(again) == 0);
  CHECK(harness::RunNative({dir.path() + "/hello"}).out == "hi\n");
}

TEST_CASE("policy merge: drafts of two runs make one draft that covers both") {
  harness::TempDir dir;
  harness::LoopbackListener a, b;
  std::string script = dir.File("c.py", R"(import socket, sys
socket.create_connection(('127.0.0.1', int(sys.argv[1]))).close()
)");
  std::string da = dir.path() + "/a.json", db = dir.path() + "/b.json";
  REQUIRE(Learn(da, {}, {Python(), script, std::to_string(a.port())}).status == 0);
  REQUIRE(Learn(db, {}, {Python(), script, std::to_string(b.port())}).status == 0);
  std::string merged = dir.path() + "/merged.json";
  harness::Result m = harness::Tool({"policy", "merge", da, db, "-o", merged});
  INFO(m.err);
  REQUIRE(m.status == 0);
  auto doc = nlohmann::json::parse(harness::Slurp(merged));
  INFO(doc.dump(2));
  CHECK_THAT(doc["description"].get<std::string>(), Catch::Contains("from 2 run(s)"));
  REQUIRE(doc["network"]["rules"].size() == 2);
  for (int port : {a.port(), b.port()}) {
    harness::Result r = Enforce(merged, {Python(), script, std::to_string(port)});
    INFO(r.err << DenialsText(r));
    CHECK(r.status == 0);
    CHECK(Denials(r) == 0);
  }
  harness::Result bad = harness::Tool({"policy", "merge", da, dir.path() + "/missing.json"});
  CHECK(bad.status == 121);
}

TEST_CASE(
    "learn: a syscall the base's syscall rules deny is learnt by name, and audit denies nothing") {
  harness::TempDir dir;
  std::string base = dir.File("base.json", R"({"version": 1, "extends": "standard",
    "syscalls": {"rules": [{"names": ["uname"], "action": "deny", "errno": "EPERM"}]}})");
  harness::Options audit;
  audit.tracejail_args = {"--policy", base, "--mode", "audit"};
  harness::Result audited = harness::Run({"/usr/bin/uname", "-s"}, audit);
  INFO(audited.err);
  CHECK(audited.out == "Linux\n");  // audit mode: the kernel does not deny it either
  CHECK(harness::Run({"/usr/bin/uname", "-s"},
                     [&] {
                       harness::Options o;
                       o.tracejail_args = {"--policy", base};
                       return o;
                     }())
            .status != 0);

  std::string draft = dir.path() + "/draft.json";
  harness::Result learnt = Learn(draft, {"--base", base}, {"/usr/bin/uname", "-s"});
  INFO(learnt.err);
  REQUIRE(learnt.status == 0);
  auto doc = nlohmann::json::parse(harness::Slurp(draft));
  INFO(doc.dump(2));
  REQUIRE(doc["syscalls"]["rules"].size() == 1);
  CHECK(doc["syscalls"]["rules"][0]["names"] == nlohmann::json::array({"uname"}));
  harness::Result again = Enforce(draft, {"/usr/bin/uname", "-s"});
  INFO(again.err);
  CHECK(again.status == 0);
  CHECK(again.out == "Linux\n");
}

namespace {

// A directory named after this process, removed with its contents on destruction. Not a
// harness::TempDir: learn takes mkdtemp's random name for a temporary one and writes it as a
// glob ("tracejail-*"), and this test needs the draft to name its directory exactly.
struct PlainDir {
  std::string path = "/tmp/tj-literal-globs-" + std::to_string(getpid());
  PlainDir() { std::filesystem::create_directories(path); }
  ~PlainDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::vector<std::string> DraftPaths(const nlohmann::json& doc) {
  std::vector<std::string> paths;
  if (!doc.contains("files")) return paths;
  for (const auto& r : doc["files"]["rules"]) paths.push_back(r["path"]);
  return paths;
}

}  // namespace

// Issue 16, literal means literal: `learn -- cat '/home/**'` drafted "allow read /home/**", and
// under that draft cat read a file in another user's home that standard denies. Here a directory
// of the test's own stands for /home: the base denies reading what is in it, as standard denies
// reading /home/*, and it holds a file literally named "**" and another user's secret.
TEST_CASE("learn: a file named ** is learnt as that file and its neighbours stay denied") {
  PlainDir dir;
  std::string homes = dir.path + "/homes";
  std::filesystem::create_directories(homes + "/other");
  std::ofstream(homes + "/**") << "stars\n";
  std::ofstream(homes + "/other/secret") << "tj-secret-token\n";
  harness::TempDir work;
  std::string base = work.File("base.json", R"({"version": 1, "extends": "standard",
    "files": {"rules": [{"path": ")" + homes + R"(/*", "access": ["read"], "action": "deny"}]}})");
  std::string draft = work.path() + "/draft.json";

  harness::Result learnt = Learn(draft, {"--base", base}, {"/bin/cat", homes + "/**"});
  INFO(learnt.err);
  REQUIRE(learnt.status == 0);
  auto doc = nlohmann::json::parse(harness::Slurp(draft));
  INFO(doc.dump(2));
  std::vector<std::string> paths = DraftPaths(doc);
  // The name escaped ("${TMPDIR}" may stand for /tmp), and no rule with "**" as a wildcard.
  CHECK(std::any_of(paths.begin(), paths.end(),
                    [](const std::string& p) { return p.ends_with("/homes/\\*\\*"); }));
  for (const auto& p : paths) CHECK(p.find("/homes/**") == std::string::npos);

  harness::Result own = Enforce(draft, {"/bin/cat", homes + "/**"});
  INFO(own.err << DenialsText(own));
  CHECK(own.status == 0);
  CHECK(own.out == "stars\n");
  CHECK(Denials(own) == 0);

  harness::Result other = Enforce(draft, {"/bin/cat", homes + "/other/secret"});
  INFO(other.err << DenialsText(other));
  CHECK(other.status != 0);
  CHECK(other.out.find("tj-secret-token") == std::string::npos);
  CHECK_THAT(DenialsText(other), Catch::Contains("other/secret"));
}

// The same on the real /home without touching it: the names cat is given do not exist, and a
// denial is recorded before the kernel would say ENOENT.
TEST_CASE("learn: cat of /home/** under standard drafts that name and no other home") {
  harness::TempDir work;
  std::string draft = work.path() + "/draft.json";
  harness::Result learnt = Learn(draft, {}, {"/bin/cat", "/home/**"});
  INFO(learnt.err);
  REQUIRE(learnt.status == 0);  // cat fails; the draft covers what it tried
  auto doc = nlohmann::json::parse(harness::Slurp(draft));
  INFO(doc.dump(2));
  std::vector<std::string> paths = DraftPaths(doc);
  CHECK(std::find(paths.begin(), paths.end(), "/home/\\*\\*") != paths.end());
  CHECK(std::find(paths.begin(), paths.end(), "/home/**") == paths.end());

  std::string elsewhere = "/home/tj-literal-globs-nobody-" + std::to_string(getpid());
  harness::Result other = Enforce(draft, {"/bin/cat", elsewhere});
  INFO(other.err << DenialsText(other));
  CHECK(other.status != 0);
  CHECK_THAT(DenialsText(other), Catch::Contains(elsewhere));
}
