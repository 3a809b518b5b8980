// tracer/landlock.h, the planner: policies loaded from small JSON texts, planned against an
// in-memory directory tree. Landlock grants a right on a path and everything beneath it, so the
// checks ask which grants cover a path for a right.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "policy/loader.h"
#include "tracer/landlock.h"

namespace {

namespace ll = tracer::landlock;
using Catch::Matchers::Contains;
using tracer::LandlockPlan;

constexpr std::uint64_t kRead = ll::kReadFile | ll::kReadDir;
constexpr std::uint64_t kAbi1 = (ll::kMakeSym << 1) - 1;  // bits 0..12
constexpr std::uint64_t kAllRights = kAbi1 | ll::kRefer | ll::kTruncate;

// A directory tree in memory: directory -> entries. A path that is an entry but not a key is a
// file. `interpreters` is what the kernel would open to run a file (PT_INTERP or #!).
struct FakeFs {
  std::map<std::string, std::vector<std::string>> dirs{
      {"/", {"bin", "etc", "home", "proc", "usr", "work"}},
      {"/bin", {"sh"}},
      {"/etc", {"hosts", "passwd", "shadow", "ssh"}},
      {"/etc/ssh", {"ssh_config"}},
      {"/home", {"alice", "bob"}},
      {"/home/alice", {"notes.txt"}},
      {"/home/bob", {"todo.txt"}},
      {"/proc", {"1", "self", "sys"}},
      {"/proc/1", {"mem", "status"}},
      {"/usr", {"bin", "lib"}},
      {"/usr/bin", {"env", "python3"}},
      {"/usr/lib", {"libc.so.6"}},
      {"/work", {"run.py", "src", "tool"}},
      {"/work/src", {"main.c"}},
  };
  std::map<std::string, std::string> interpreters{
      {"/work/run.py", "/usr/bin/python3"},                 // #!/usr/bin/python3
      {"/usr/bin/python3", "/lib64/ld-linux-x86-64.so.2"},  // PT_INTERP
      {"/bin/sh", "/lib64/ld-linux-x86-64.so.2"},
  };
  std::set<std::string> unlistable;         // directories whose listing fails
  mutable std::vector<std::string> listed;  // every directory the planner listed

  tracer::FsView View() const {
    tracer::FsView fs;
    fs.list = [this](const std::string& dir) -> std::optional<std::vector<std::string>> {
      listed.push_back(dir);
      if (unlistable.count(dir) != 0) return std::nullopt;
      auto it = dirs.find(dir);
      if (it == dirs.end()) return std::nullopt;
      return it->second;
    };
    fs.exists = [this](const std::string& path) { return Exists(path); };
    fs.interpreter = [this](const std::string& path) -> std::string {
      auto it = interpreters.find(path);
      return it == interpreters.end() ? std::string() : it->second;
    };
    return fs;
  }

  bool Exists(const std::string& path) const {
    if (dirs.count(path) != 0) return true;
    std::size_t slash = path.rfind('/');
    if (slash == std::string::npos) return false;
    std::string parent = slash == 0 ? "/" : path.substr(0, slash);
    auto it = dirs.find(parent);
    return it != dirs.end() && std::find(it->second.begin(), it->second.end(),
                                         path.substr(slash + 1)) != it->second.end();
  }

  // Every path in the tree, directories and files.
  std::vector<std::string> AllPaths() const {
    std::vector<std::string> out{"/"};
    for (const auto& [dir, entries] : dirs) {
      for (const auto& e : entries) out.push_back(dir == "/" ? "/" + e : dir + "/" + e);
    }
    return out;
  }
};

policy::Policy Load(const std::string& text) {
  return policy::LoadPolicyText(text, "t.json", policy::DefaultVariables());
}

// True when `grant` is `path` or a directory above it (Landlock's "beneath").
bool Beneath(const std::string& path, const std::string& grant) {
  if (grant == "/") return true;
  return path == grant || (path.size() > grant.size() &&
                           path.compare(0, grant.size(), grant) == 0 && path[grant.size()] == '/');
}

// The grants that give any of `rights` on `path`.
std::vector<std::string> Covering(const LandlockPlan& plan, const std::string& path,
                                  std::uint64_t rights) {
  std::vector<std::string> out;
  for (const auto& g : plan.grants) {
    if ((g.rights & rights) != 0 && Beneath(path, g.path)) out.push_back(g.path);
  }
  return out;
}

bool Covers(const LandlockPlan& plan, const std::string& path, std::uint64_t rights) {
  return !Covering(plan, path, rights).empty();
}

// The rights granted on exactly `path` (0 when there is no such grant).
std::uint64_t RightsAt(const LandlockPlan& plan, const std::string& path) {
  for (const auto& g : plan.grants) {
    if (g.path == path) return g.rights;
  }
  return 0;
}

std::string Describe(const LandlockPlan& plan) {
  std::string out;
  for (const auto& g : plan.grants) out += g.path + "=" + std::to_string(g.rights) + " ";
  for (const auto& n : plan.notes) out += "[" + n + "] ";
  return out;
}

// Checks that hold for every plan: each path is granted once, and only handled rights.
void CheckWellFormed(const LandlockPlan& plan) {
  std::set<std::string> seen;
  for (const auto& g : plan.grants) {
    INFO(g.path);
    CHECK(seen.insert(g.path).second);
    CHECK(g.rights != 0);
    CHECK((g.rights & ~plan.handled) == 0);
  }
}

}  // namespace

TEST_CASE("Landlock plan: a literal deny is carved out by granting its siblings", "[landlock]") {
  FakeFs fake;
  policy::Policy p = Load(R"({"version": 1, "files": {"default": {"action": "allow"}, "rules": [
      {"path": "/etc/shadow", "access": ["read"], "action": "deny"}]}})");
  LandlockPlan plan = tracer::PlanLandlock(p, 3, fake.View());
  INFO(Describe(plan));
  CheckWellFormed(plan);
  CHECK(plan.handled == kAllRights);
  CHECK(plan.notes.empty());

  // Read: every sibling of /etc, and every entry of /etc but shadow, each granted whole.
  for (const char* top : {"/bin", "/home", "/proc", "/usr", "/work"}) {
    INFO(top);
    CHECK((RightsAt(plan, top) & kRead) == kRead);
  }
  for (const char* entry : {"/etc/hosts", "/etc/passwd", "/etc/ssh"}) {
    INFO(entry);
    CHECK((RightsAt(plan, entry) & kRead) == kRead);
  }
  CHECK(Covers(plan, "/etc/ssh/ssh_config", ll::kReadFile));
  CHECK(Covers(plan, "/home/alice/notes.txt", ll::kReadFile));
  // Nothing grants read on the denied file or on a directory above it.
  CHECK(Covering(plan, "/etc/shadow", kRead).empty());
  CHECK(Covering(plan, "/etc", kRead).empty());
  CHECK(Covering(plan, "/", kRead).empty());
  CHECK((RightsAt(plan, "/etc/shadow") & kRead) == 0);

  // The kinds the rule does not name are allowed by default: granted at "/" whole, so they
  // cover the denied file too.
  std::uint64_t root = RightsAt(plan, "/");
  CHECK((root & kRead) == 0);
  for (std::uint64_t right : {ll::kExecute, ll::kWriteFile, ll::kTruncate, ll::kMakeReg,
                              ll::kMakeDir, ll::kRemoveFile, ll::kRemoveDir, ll::kRefer}) {
    INFO(right);
    CHECK((root & right) == right);
  }
  CHECK(Covers(plan, "/etc/shadow", ll::kWriteFile));

  // Only /, /etc and the denied file's ancestors were split; /etc/ssh was not listed.
  CHECK(std::count(fake.listed.begin(), fake.listed.end(), "/") >= 1);
  CHECK(std::count(fake.listed.begin(), fake.listed.end(), "/etc") >= 1);
  CHECK(std::count(fake.listed.begin(), fake.listed.end(), "/etc/ssh") == 0);
  CHECK(std::count(fake.listed.begin(), fake.listed.end(), "/home") == 0);
}

TEST_CASE("Landlock plan: every path the policy allows to read is covered", "[landlock]") {
  // A property over the whole tree: the plan grants at least what the policy allows, and where
  // it carves a literal deny out exactly, nothing more.
  FakeFs fake;
  policy::Policy p = Load(R"({"version": 1, "files": {"default": {"action": "allow"}, "rules": [
      {"path": "/etc/shadow", "access": ["read"], "action": "deny"},
      {"path": "/etc/ssh", "access": ["read"], "action": "deny"},
      {"path": "/etc/ssh/ssh_config", "access": ["read"], "action": "allow"},
      {"path": "/usr/lib/libc.so.6", "access": ["read"], "action": "deny"}]}})");
  LandlockPlan plan = tracer::PlanLandlock(p, 3, fake.View());
  INFO(Describe(plan));
  CheckWellFormed(plan);
  for (const auto& path : fake.AllPaths()) {
    INFO(path);
    bool allowed = p.DecidePathAccess(path, policy::Access::kRead).action == policy::Action::kAllow;
    if (allowed && path != "/" && path != "/etc" && path != "/usr" && path != "/usr/lib") {
      CHECK(Covers(plan, path, ll::kReadFile));
    }
    if (!allowed) CHECK_FALSE(Covers(plan, path, kRead));
  }
  // The allow inside a denied directory is granted by itself.
  CHECK((RightsAt(plan, "/etc/ssh/ssh_config") & kRead) == kRead);
  CHECK_FALSE(Covers(plan, "/etc/ssh", kRead));
  CHECK(Covers(plan, "/usr/bin/python3", ll::kReadFile));
  CHECK_FALSE(Covers(plan, "/usr/lib/libc.so.6", ll::kReadFile));
}

TEST_CASE("Landlock plan: a wildcard deny excludes each entry it denies", "[landlock]") {
  FakeFs fake;
  SECTION("every entry of /home") {
    policy::Policy p = Load(R"({"version": 1, "files": {"default": {"action": "allow"},
        "rules": [{"path": "/home/*", "access": ["read"], "action": "deny"}]}})");
    LandlockPlan plan = tracer::PlanLandlock(p, 3, fake.View());
    INFO(Describe(plan));
    CheckWellFormed(plan);
    for (const char* home : {"/home/alice", "/home/bob", "/home/alice/notes.txt"}) {
      INFO(home);
      CHECK(Covering(plan, home, kRead).empty());
    }
    CHECK(Covering(plan, "/home", kRead).empty());
    CHECK(Covering(plan, "/", kRead).empty());
    for (const char* top : {"/bin", "/etc", "/proc", "/usr", "/work"}) {
      INFO(top);
      CHECK((RightsAt(plan, top) & kRead) == kRead);
    }
    CHECK(std::count(fake.listed.begin(), fake.listed.end(), "/home") >= 1);
  }
  SECTION("except one allowed by a more specific rule") {
    policy::Policy p = Load(R"({"version": 1, "files": {"default": {"action": "allow"},
        "rules": [{"path": "/home/*", "access": ["read"], "action": "deny"},
                  {"path": "/home/alice", "access": ["read"], "action": "allow"}]}})");
    LandlockPlan plan = tracer::PlanLandlock(p, 3, fake.View());
    INFO(Describe(plan));
    CheckWellFormed(plan);
    CHECK((RightsAt(plan, "/home/alice") & kRead) == kRead);
    CHECK(Covers(plan, "/home/alice/notes.txt", ll::kReadFile));
    CHECK(Covering(plan, "/home/bob", kRead).empty());
    CHECK(Covering(plan, "/home/bob/todo.txt", kRead).empty());
    CHECK(Covering(plan, "/home", kRead).empty());
  }
  SECTION("a deny deeper than the wildcard stays with the tracer") {
    policy::Policy p = Load(R"({"version": 1, "files": {"default": {"action": "allow"},
        "rules": [{"path": "/home/*/notes.txt", "access": ["read"], "action": "deny"}]}})");
    LandlockPlan plan = tracer::PlanLandlock(p, 3, fake.View());
    INFO(Describe(plan));
    // /home/alice itself is allowed, so nothing is excluded: read is granted at "/".
    CHECK((RightsAt(plan, "/") & kRead) == kRead);
  }
}

TEST_CASE("Landlock plan: denials under /proc do not split it", "[landlock]") {
  FakeFs fake;
  SECTION("a literal deny inside /proc") {
    policy::Policy p = Load(R"({"version": 1, "files": {"default": {"action": "allow"},
        "rules": [{"path": "/proc/1/mem", "access": ["read"], "action": "deny"}]}})");
    LandlockPlan plan = tracer::PlanLandlock(p, 3, fake.View());
    INFO(Describe(plan));
    CheckWellFormed(plan);
    CHECK((RightsAt(plan, "/proc") & kRead) == kRead);  // whole
    CHECK(Covers(plan, "/proc/1/mem", ll::kReadFile));  // so the deny is the tracer's alone
    CHECK(Covering(plan, "/", kRead).empty());          // "/" itself was split
    for (const char* top : {"/bin", "/etc", "/home", "/usr", "/work"}) {
      INFO(top);
      CHECK((RightsAt(plan, top) & kRead) == kRead);
    }
    CHECK(RightsAt(plan, "/proc/1") == 0);
    CHECK(std::count(fake.listed.begin(), fake.listed.end(), "/proc") == 0);
    REQUIRE(plan.notes.size() == 1);
    CHECK_THAT(plan.notes[0], Contains("/proc"));
    CHECK_THAT(plan.notes[0], Contains("tracer only"));
  }
  SECTION("a literal deny of /proc's direct entry, for two kinds, gives one note") {
    policy::Policy p = Load(R"({"version": 1, "files": {"default": {"action": "allow"},
        "rules": [{"path": "/proc/sys", "access": ["read", "write"], "action": "deny"}]}})");
    LandlockPlan plan = tracer::PlanLandlock(p, 3, fake.View());
    INFO(Describe(plan));
    CHECK((RightsAt(plan, "/proc") & (kRead | ll::kWriteFile)) == (kRead | ll::kWriteFile));
    CHECK(plan.notes.size() == 1);
  }
  SECTION("a wildcard deny inside /proc is not expanded") {
    policy::Policy p = Load(R"({"version": 1, "files": {"default": {"action": "allow"},
        "rules": [{"path": "/proc/*/mem", "access": ["read"], "action": "deny"}]}})");
    LandlockPlan plan = tracer::PlanLandlock(p, 3, fake.View());
    INFO(Describe(plan));
    CHECK((RightsAt(plan, "/") & kRead) == kRead);
    CHECK(std::count(fake.listed.begin(), fake.listed.end(), "/proc") == 0);
  }
}

TEST_CASE("Landlock plan: a directory that cannot be listed is granted whole, with a note",
          "[landlock]") {
  FakeFs fake;
  fake.unlistable.insert("/etc");
  policy::Policy p = Load(R"({"version": 1, "files": {"default": {"action": "allow"}, "rules": [
      {"path": "/etc/shadow", "access": ["read"], "action": "deny"}]}})");
  LandlockPlan plan = tracer::PlanLandlock(p, 3, fake.View());
  INFO(Describe(plan));
  CheckWellFormed(plan);
  CHECK((RightsAt(plan, "/etc") & kRead) == kRead);
  CHECK(Covering(plan, "/", kRead).empty());
  REQUIRE(plan.notes.size() == 1);
  CHECK_THAT(plan.notes[0], Contains("/etc could not be split"));
}

TEST_CASE("Landlock plan: write allowed only in /work", "[landlock]") {
  FakeFs fake;
  policy::Policy p = Load(R"({"version": 1, "files": {"default": {"action": "allow"}, "rules": [
      {"path": "/", "access": ["write"], "action": "deny"},
      {"path": "/work", "access": ["write"], "action": "allow"}]}})");
  for (int abi : {1, 2, 3}) {
    INFO("ABI " << abi);
    LandlockPlan plan = tracer::PlanLandlock(p, abi, fake.View());
    INFO(Describe(plan));
    CheckWellFormed(plan);
    constexpr std::uint64_t kWrite = ll::kWriteFile | ll::kTruncate;
    for (const auto& g : plan.grants) {
      if ((g.rights & kWrite) == 0) continue;
      INFO(g.path);
      CHECK(Beneath(g.path, "/work"));
    }
    CHECK((RightsAt(plan, "/work") & ll::kWriteFile) == ll::kWriteFile);
    CHECK(((RightsAt(plan, "/work") & ll::kTruncate) != 0) == (abi >= 3));
    CHECK(Covers(plan, "/work/src/main.c", ll::kWriteFile));
    CHECK_FALSE(Covers(plan, "/etc/passwd", ll::kWriteFile));
    CHECK_FALSE(Covers(plan, "/", ll::kWriteFile));
    // The other kinds are still allowed everywhere.
    CHECK((RightsAt(plan, "/") & kRead) == kRead);
    CHECK((RightsAt(plan, "/") & ll::kMakeReg) == ll::kMakeReg);
    CHECK((RightsAt(plan, "/") & ll::kExecute) == ll::kExecute);
    CHECK(plan.notes.empty());
  }
}

TEST_CASE("Landlock plan: with a denying default only the allowed roots are granted",
          "[landlock]") {
  FakeFs fake;
  policy::Policy p = Load(R"({"version": 1, "files": {"default": {"action": "deny"}, "rules": [
      {"path": "/usr", "access": ["read"], "action": "allow"},
      {"path": "/work", "access": ["read", "write", "create", "delete"], "action": "allow"},
      {"path": "/work/src", "access": ["write"], "action": "deny"},
      {"path": "/nonexistent", "access": ["read"], "action": "allow"}]}})");
  LandlockPlan plan = tracer::PlanLandlock(p, 3, fake.View());
  INFO(Describe(plan));
  CheckWellFormed(plan);
  CHECK(RightsAt(plan, "/") == 0);
  CHECK((RightsAt(plan, "/usr") & kRead) == kRead);
  CHECK((RightsAt(plan, "/usr") & (ll::kWriteFile | ll::kMakeReg | ll::kExecute)) == 0);
  CHECK((RightsAt(plan, "/work") & kRead) == kRead);
  CHECK((RightsAt(plan, "/work") & ll::kMakeReg) == ll::kMakeReg);
  CHECK((RightsAt(plan, "/work") & ll::kRemoveFile) == ll::kRemoveFile);
  // /work is split for write around /work/src.
  CHECK((RightsAt(plan, "/work") & ll::kWriteFile) == 0);
  CHECK((RightsAt(plan, "/work/run.py") & ll::kWriteFile) == ll::kWriteFile);
  CHECK((RightsAt(plan, "/work/tool") & ll::kWriteFile) == ll::kWriteFile);
  CHECK_FALSE(Covers(plan, "/work/src/main.c", ll::kWriteFile));
  // Nothing for paths that do not exist, or are not allowed.
  CHECK(Covering(plan, "/nonexistent", kRead).empty());
  CHECK_FALSE(Covers(plan, "/etc/passwd", kRead));
  CHECK_FALSE(Covers(plan, "/bin/sh", ll::kExecute));
  for (const auto& g : plan.grants) {
    INFO(g.path);
    CHECK((Beneath(g.path, "/usr") || Beneath(g.path, "/work")));
  }
}

TEST_CASE("Landlock plan: exec of one file grants its interpreters too", "[landlock]") {
  FakeFs fake;
  policy::Policy p = Load(R"({"version": 1, "files": {"default": {"action": "allow"}, "rules": [
      {"path": "/", "access": ["exec"], "action": "deny"},
      {"path": "/work/run.py", "access": ["exec"], "action": "allow"}]}})");
  LandlockPlan plan = tracer::PlanLandlock(p, 3, fake.View());
  INFO(Describe(plan));
  CheckWellFormed(plan);
  // The script, its #! interpreter, and that interpreter's ELF interpreter.
  std::set<std::string> exec;
  for (const auto& g : plan.grants) {
    if ((g.rights & ll::kExecute) != 0) exec.insert(g.path);
  }
  CHECK(exec ==
        std::set<std::string>{"/work/run.py", "/usr/bin/python3", "/lib64/ld-linux-x86-64.so.2"});
  CHECK((RightsAt(plan, "/usr/bin/python3") & (ll::kExecute | ll::kReadFile)) ==
        (ll::kExecute | ll::kReadFile));
  CHECK((RightsAt(plan, "/lib64/ld-linux-x86-64.so.2") & (ll::kExecute | ll::kReadFile)) ==
        (ll::kExecute | ll::kReadFile));
  CHECK_FALSE(Covers(plan, "/bin/sh", ll::kExecute));
  CHECK_FALSE(Covers(plan, "/usr/bin/env", ll::kExecute));
  CHECK_FALSE(Covers(plan, "/work/tool", ll::kExecute));
  // Read is allowed by default: "/" still carries it, without execute.
  CHECK((RightsAt(plan, "/") & kRead) == kRead);
  CHECK((RightsAt(plan, "/") & ll::kExecute) == 0);
}

TEST_CASE("Landlock plan: an interpreter loop ends", "[landlock]") {
  FakeFs fake;
  fake.interpreters = {{"/work/tool", "/work/a"}, {"/work/a", "/work/b"}, {"/work/b", "/work/a"}};
  policy::Policy p = Load(R"({"version": 1, "files": {"default": {"action": "allow"}, "rules": [
      {"path": "/", "access": ["exec"], "action": "deny"},
      {"path": "/work/tool", "access": ["exec"], "action": "allow"}]}})");
  LandlockPlan plan = tracer::PlanLandlock(p, 3, fake.View());
  INFO(Describe(plan));
  CheckWellFormed(plan);
  std::set<std::string> exec;
  for (const auto& g : plan.grants) {
    if ((g.rights & ll::kExecute) != 0) exec.insert(g.path);
  }
  CHECK(exec == std::set<std::string>{"/work/tool", "/work/a", "/work/b"});
}

TEST_CASE("Landlock plan: the handled rights follow the ABI", "[landlock]") {
  FakeFs fake;
  policy::Policy p = Load(R"({"version": 1, "files": {"default": {"action": "allow"}, "rules": [
      {"path": "/etc/shadow", "access": ["read", "write", "delete"], "action": "deny"}]}})");
  LandlockPlan abi1 = tracer::PlanLandlock(p, 1, fake.View());
  LandlockPlan abi2 = tracer::PlanLandlock(p, 2, fake.View());
  LandlockPlan abi3 = tracer::PlanLandlock(p, 3, fake.View());
  LandlockPlan abi4 = tracer::PlanLandlock(p, 4, fake.View());

  CHECK(abi1.handled == kAbi1);
  CHECK((abi1.handled & ll::kRefer) == 0);
  CHECK((abi1.handled & ll::kTruncate) == 0);
  CHECK((abi2.handled & ll::kRefer) == ll::kRefer);
  CHECK((abi2.handled & ll::kTruncate) == 0);
  CHECK(abi2.handled == (kAbi1 | ll::kRefer));
  CHECK(abi3.handled == kAllRights);
  CHECK((abi3.handled & ll::kRefer) == ll::kRefer);
  CHECK((abi3.handled & ll::kTruncate) == ll::kTruncate);
  CHECK(abi4.handled == kAllRights);  // rights past ABI 3 are not known

  for (const LandlockPlan* plan : {&abi1, &abi2, &abi3, &abi4}) {
    INFO(Describe(*plan));
    CheckWellFormed(*plan);
    // The same paths are granted whatever the ABI; only the bits differ.
    REQUIRE(plan->grants.size() == abi3.grants.size());
    for (std::size_t i = 0; i < plan->grants.size(); ++i) {
      CHECK(plan->grants[i].path == abi3.grants[i].path);
    }
    CHECK(Covering(*plan, "/etc/shadow", kRead | ll::kWriteFile | ll::kRemoveFile).empty());
    CHECK((RightsAt(*plan, "/etc/passwd") & (kRead | ll::kWriteFile)) == (kRead | ll::kWriteFile));
  }
  CHECK((RightsAt(abi1, "/etc/passwd") & (ll::kTruncate | ll::kRefer)) == 0);
  CHECK((RightsAt(abi2, "/etc/passwd") & ll::kTruncate) == 0);
  CHECK((RightsAt(abi3, "/etc/passwd") & ll::kTruncate) == ll::kTruncate);
  CHECK((RightsAt(abi3, "/") & ll::kMakeReg) == ll::kMakeReg);  // create is not denied
  CHECK((RightsAt(abi3, "/") & ll::kRefer) == ll::kRefer);      // create carries refer
}

TEST_CASE("Landlock plan: the strict preset", "[landlock]") {
  FakeFs fake;
  policy::Variables vars{{"CWD", "/work"},
                         {"WORKDIR", "/work"},
                         {"HOME", "/home/alice"},
                         {"TMPDIR", "/tmp"},
                         {"COMMAND", "/work/run.py"}};
  auto strict = policy::LoadPreset("strict", vars);
  REQUIRE(strict);
  LandlockPlan plan = tracer::PlanLandlock(*strict, 3, fake.View());
  INFO(Describe(plan));
  CheckWellFormed(plan);
  // Only the command executes, with its interpreters.
  std::set<std::string> exec;
  for (const auto& g : plan.grants) {
    if ((g.rights & ll::kExecute) != 0) exec.insert(g.path);
  }
  CHECK(exec ==
        std::set<std::string>{"/work/run.py", "/usr/bin/python3", "/lib64/ld-linux-x86-64.so.2"});
  // Secrets and other users' homes are not readable; the own home and the system are.
  CHECK(Covering(plan, "/etc/shadow", kRead).empty());
  CHECK(Covering(plan, "/home/bob/todo.txt", kRead).empty());
  CHECK(Covers(plan, "/home/alice/notes.txt", ll::kReadFile));
  CHECK(Covers(plan, "/etc/passwd", ll::kReadFile));
  CHECK(Covers(plan, "/usr/lib/libc.so.6", ll::kReadFile));
  // Writes only in the work dir (the temp dirs do not exist in this tree).
  for (const auto& g : plan.grants) {
    if ((g.rights & (ll::kWriteFile | ll::kMakeReg | ll::kRemoveFile)) == 0) continue;
    INFO(g.path);
    CHECK(Beneath(g.path, "/work"));
  }
  CHECK((RightsAt(plan, "/work") & (ll::kWriteFile | ll::kMakeReg | ll::kRemoveFile)) ==
        (ll::kWriteFile | ll::kMakeReg | ll::kRemoveFile));
}

// Regression: a wildcard allow ("/work/*.py") must be granted at its anchor directory even
// though the anchor itself is not allowed, or Landlock would refuse writes the policy allows.
TEST_CASE("Landlock plan: a wildcard allow is covered", "[landlock]") {
  FakeFs fake;
  policy::Policy p = Load(R"({"version": 1, "files": {"default": {"action": "allow"}, "rules": [
      {"path": "/", "access": ["write"], "action": "deny"},
      {"path": "/work/*.py", "access": ["write"], "action": "allow"}]}})");
  REQUIRE(p.DecidePathAccess("/work/run.py", policy::Access::kWrite).action ==
          policy::Action::kAllow);
  LandlockPlan plan = tracer::PlanLandlock(p, 3, fake.View());
  INFO(Describe(plan));
  CHECK(Covers(plan, "/work/run.py", ll::kWriteFile));
}

// Regression: at most kMaxGrants grants. A directory too big to split is granted whole, its
// denials are left to the tracer, and the plan says so.
TEST_CASE("Landlock plan: a split stays within kMaxGrants", "[landlock]") {
  FakeFs fake;
  std::vector<std::string> many;
  for (std::size_t i = 0; i < tracer::kMaxGrants + 100; ++i)
    many.push_back("f" + std::to_string(i));
  fake.dirs = {{"/", {"big"}}, {"/big", many}};
  policy::Policy p = Load(R"({"version": 1, "files": {"default": {"action": "allow"}, "rules": [
      {"path": "/big/f0", "access": ["read"], "action": "deny"}]}})");
  LandlockPlan plan = tracer::PlanLandlock(p, 3, fake.View());
  CHECK(plan.grants.size() <= tracer::kMaxGrants);
  bool noted = std::any_of(plan.notes.begin(), plan.notes.end(), [](const std::string& n) {
    return n.find("/big") != std::string::npos;
  });
  CHECK(noted);
}
