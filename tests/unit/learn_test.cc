// report/learn.h: audit-mode tips become a draft policy that extends the base; run-specific
// directories become variables, temporary names become globs, many reads in one directory become
// "dir/**" (writes never), escapes are listed but never allowed, and drafts merge.
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/path.h"
#include "policy/glob.h"
#include "policy/loader.h"
#include "policy/names.h"
#include "report/learn.h"

namespace {

using json = nlohmann::json;
using report::GlobTemporaryName;
using report::Learner;
using report::LearnOptions;

// The run variables of learn: WORKDIR and TMPDIR are both the run's private work dir.
const policy::Variables kRunVars{{"WORKDIR", "/tmp/tracejail-AbC123"},
                                 {"TMPDIR", "/tmp/tracejail-AbC123"},
                                 {"HOME", "/home/u"},
                                 {"CWD", "/srv/proj"},
                                 {"COMMAND", "/usr/bin/tool"}};

json Event(const std::string& message, const json& tip, const std::string& exe = "/usr/bin/cat") {
  return {{"type", "permission_denied"},
          {"message", message},
          {"exe", exe},
          {"decision", {{"action", "allow"}, {"would", "deny"}}},
          {"tip", tip}};
}

// The tip Policy::Tip gives for one path: the path escaped, a pattern of exactly it.
json FileTip(const std::string& path, const std::vector<std::string>& access) {
  return {{"files",
           {{"rules",
             {{{"path", policy::EscapeGlob(path)}, {"access", access}, {"action", "allow"}}}}}}};
}

json FileEvent(const std::string& path, const std::vector<std::string>& access) {
  std::string kinds;
  for (const auto& a : access) kinds += (kinds.empty() ? "" : ",") + a;
  return Event("openat deny " + path + " (" + kinds + ")", FileTip(path, access));
}

json ConnectTip(const std::string& cidr, const std::string& port) {
  return {{"network",
           {{"rules",
             {{{"verbs", {"connect"}}, {"cidr", cidr}, {"ports", port}, {"action", "allow"}}}}}}};
}

// The draft's file rules by path.
std::map<std::string, json> FileRules(const json& draft) {
  std::map<std::string, json> out;
  if (!draft.contains("files")) return out;
  for (const auto& r : draft["files"]["rules"]) {
    std::string path = r.at("path").get<std::string>();
    REQUIRE_FALSE(out.contains(path));  // one rule per pattern
    out[path] = r;
  }
  return out;
}

std::vector<std::string> AccessOf(const json& rule) {
  return rule.at("access").get<std::vector<std::string>>();
}

std::string NotesOf(const json& rule) { return rule.at("notes").get<std::string>(); }

std::string Needed(int count, int runs, int total) {
  return "needed " + std::to_string(count) + " time(s) in " + std::to_string(runs) + " of " +
         std::to_string(total) + " run(s); e.g. ";
}

LearnOptions Options() {
  LearnOptions o;
  o.base = "standard";
  o.command = "make -j4";
  o.date = "2026-11-27";
  return o;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// GlobTemporaryName

TEST_CASE("Learn: temporary-looking names become globs", "[learn]") {
  CHECK(GlobTemporaryName("/tmp/tmpk3j2x9") == "/tmp/tmp*");
  CHECK(GlobTemporaryName("/tmp/confJ31A69") == "/tmp/conf*");
  CHECK(GlobTemporaryName("/tmp/cc5XkT8e.s") == "/tmp/cc*.s");
  CHECK(GlobTemporaryName("/tmp/pip-build-a1b2c3") == "/tmp/pip-*");
  CHECK(GlobTemporaryName("/dev/shm/pymp-x8y7z6") == "/dev/shm/pymp-*");
  CHECK(GlobTemporaryName("/tmp/tracejail-XyZ789") == "/tmp/tracejail-*");
  // A pid under /proc, whatever its length.
  CHECK(GlobTemporaryName("/proc/1234/status") == "/proc/*/status");
  CHECK(GlobTemporaryName("/proc/12/status") == "/proc/*/status");
  // A long counter anywhere, alone or as an extension.
  CHECK(GlobTemporaryName("/var/log/app.12345") == "/var/log/app.*");
  CHECK(GlobTemporaryName("/var/spool/12345") == "/var/spool/*");
  // A name random from end to end (digits, upper and lower case) keeps its extension.
  CHECK(GlobTemporaryName("/tmp/aB3dE9fG.json") == "/tmp/*.json");
  // Only the temporary components change.
  CHECK(GlobTemporaryName("/tmp/tmpab12cd/file.txt") == "/tmp/tmp*/file.txt");
  CHECK(GlobTemporaryName("/proc/4321/task/4322/stat") == "/proc/*/task/*/stat");
}

TEST_CASE("Learn: ordinary names and short version numbers are kept", "[learn]") {
  for (const char* path : {
           "/etc/hostname",
           "/home/u/notes.txt",
           "/data/report2024.txt",
           "/usr/lib/gcc/x86_64-linux-gnu/12/cc1",  // "12" is a version, not a pid
           "/usr/lib/x86_64-linux-gnu/libc.so.6",
           "/usr/share/man/man1/ls.1",
           "/proc/self/fd/3",
           "/etc/tmpfiles.d",
           "/etc/config",
           "/usr/bin/python3",
           "/home/u/.bashrc",
           "/",
       }) {
    INFO(path);
    CHECK(GlobTemporaryName(path) == path);
  }
}

TEST_CASE("Learn: variables and already-glob components are left alone", "[learn]") {
  CHECK(GlobTemporaryName("${WORKDIR}/x") == "${WORKDIR}/x");
  CHECK(GlobTemporaryName("${WORKDIR}/tmpk3j2x9") == "${WORKDIR}/tmp*");
  CHECK(GlobTemporaryName("${HOME}/.cache/pip-a1b2c3/wheel") == "${HOME}/.cache/pip-*/wheel");
  CHECK(GlobTemporaryName("/srv/data/**") == "/srv/data/**");
  CHECK(GlobTemporaryName("/tmp/tmp*") == "/tmp/tmp*");
}

// Regression (fixed): a dotted version directory is globbed as if ".11" were a counter, although
// the code keeps short plain numbers ("gcc/12") because they are versions.
TEST_CASE("Learn: a dotted version directory is not globbed", "[learn]") {
  CHECK(GlobTemporaryName("/usr/lib/python3.11/json/__init__.py") ==
        "/usr/lib/python3.11/json/__init__.py");
  CHECK(GlobTemporaryName("/usr/lib/python3.11") == "/usr/lib/python3.11");
}

// Regression (fixed): "cc" + five characters with a digit counts as a gcc temporary, so gcc's own
// C++ compiler (next to "cc1", which is kept) becomes "cc*".
TEST_CASE("Learn: gcc's cc1plus is not taken for a temporary name", "[learn]") {
  CHECK(GlobTemporaryName("/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus") ==
        "/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus");
}

// Regression (fixed): a mixed-case name with a digit counts as random "from end to end".
TEST_CASE("Learn: ordinary mixed-case names with a digit are not globbed", "[learn]") {
  CHECK(GlobTemporaryName("/usr/lib/x86_64-linux-gnu/libQt5Core.so.5") ==
        "/usr/lib/x86_64-linux-gnu/libQt5Core.so.5");
}

// ---------------------------------------------------------------------------------------------
// Learner::AddRun and Draft

TEST_CASE("Learn: events without a tip are ignored", "[learn]") {
  Learner l;
  json no_tip = FileEvent("/etc/a", {"read"});
  no_tip.erase("tip");
  json null_tip = FileEvent("/etc/b", {"read"});
  null_tip["tip"] = nullptr;
  l.AddRun({no_tip, null_tip, json("not an event"), json::array(), FileEvent("/etc/c", {"read"})},
           kRunVars);
  json draft = l.Draft(Options());
  auto rules = FileRules(draft);
  REQUIRE(rules.size() == 1);
  CHECK(rules.contains("/etc/c"));
  CHECK_FALSE(draft.contains("network"));
  CHECK(l.runs() == 1);
  CHECK(l.escapes().empty());
}

TEST_CASE("Learn: the run's directories become variables", "[learn]") {
  Learner l;
  l.AddRun(
      {
          FileEvent("/tmp/tracejail-AbC123/out.o", {"write"}),
          FileEvent("/tmp/tracejail-AbC123", {"read"}),
          FileEvent("/home/u/.config/tool.ini", {"read"}),
          FileEvent("/srv/proj/src/main.c", {"read"}),
          FileEvent("/home/user2/x", {"read"}),    // shares a string prefix with HOME only
          FileEvent("/srv/project2/y", {"read"}),  // likewise with CWD
          FileEvent("/tmp/other", {"write"}),      // the real /tmp is not this run's TMPDIR
      },
      kRunVars);
  auto rules = FileRules(l.Draft(Options()));
  CHECK(rules.contains("${WORKDIR}/out.o"));  // WORKDIR wins over TMPDIR of equal value
  CHECK(rules.contains("${WORKDIR}"));
  CHECK(rules.contains("${HOME}/.config/tool.ini"));
  CHECK(rules.contains("${CWD}/src/main.c"));
  CHECK(rules.contains("/home/user2/x"));
  CHECK(rules.contains("/srv/project2/y"));
  CHECK(rules.contains("/tmp/other"));
  CHECK(rules.size() == 7);
  for (const auto& [path, rule] : rules) {
    INFO(path);
    CHECK(path.find("${TMPDIR}") == std::string::npos);
    CHECK(rule["id"] == "learnt");
    CHECK(rule["action"] == "allow");
  }
}

TEST_CASE("Learn: the longest variable wins, then globs apply below it", "[learn]") {
  policy::Variables vars{{"WORKDIR", "/home/u/proj/.tj-work"},
                         {"TMPDIR", "/tmp"},
                         {"HOME", "/home/u"},
                         {"CWD", "/home/u/proj"}};
  Learner l;
  l.AddRun(
      {
          FileEvent("/home/u/proj/.tj-work/a", {"write"}),
          FileEvent("/home/u/proj/b", {"write"}),
          FileEvent("/home/u/c", {"write"}),
          FileEvent("/tmp/tmpk3j2x9", {"write"}),
          FileEvent("/home/u/proj/confJ31A69/log", {"write"}),
      },
      vars);
  auto rules = FileRules(l.Draft(Options()));
  CHECK(rules.contains("${WORKDIR}/a"));
  CHECK(rules.contains("${CWD}/b"));
  CHECK(rules.contains("${HOME}/c"));
  CHECK(rules.contains("${TMPDIR}/tmp*"));
  CHECK(rules.contains("${CWD}/conf*/log"));
  CHECK(rules.size() == 5);
}

TEST_CASE("Learn: temporary names seen twice are one rule", "[learn]") {
  Learner l;
  l.AddRun({FileEvent("/tmp/cc5XkT8e.s", {"write"}), FileEvent("/tmp/ccQ2w3E4.s", {"write"}),
            FileEvent("/tmp/cc9ZzY8x.o", {"write"})},
           {});
  auto rules = FileRules(l.Draft(Options()));
  REQUIRE(rules.size() == 2);
  REQUIRE(rules.contains("/tmp/cc*.s"));
  REQUIRE(rules.contains("/tmp/cc*.o"));
  CHECK(NotesOf(rules["/tmp/cc*.s"]).starts_with(Needed(2, 1, 1)));
  CHECK(NotesOf(rules["/tmp/cc*.o"]).starts_with(Needed(1, 1, 1)));
}

TEST_CASE("Learn: many reads in one directory become dir/**", "[learn]") {
  Learner l;
  l.AddRun(
      {
          FileEvent("/usr/share/tool/a", {"read"}),
          FileEvent("/usr/share/tool/b", {"read"}),
          FileEvent("/usr/share/tool/b", {"read"}),  // same name twice: one name, two counts
          FileEvent("/usr/share/tool/c", {"read"}),
          FileEvent("/usr/share/tool/d", {"read"}),
          FileEvent("/usr/share/tool/sub/e", {"read"}),  // a subdirectory counts on its own
          FileEvent("/etc/x", {"read"}),
          FileEvent("/etc/y", {"read"}),
          FileEvent("/etc/z", {"read"}),
      },
      {});
  json draft = l.Draft(Options());
  auto rules = FileRules(draft);
  REQUIRE(rules.contains("/usr/share/tool/**"));
  const json& dir = rules["/usr/share/tool/**"];
  CHECK(AccessOf(dir) == std::vector<std::string>{"read"});
  CHECK(NotesOf(dir).starts_with(Needed(5, 1, 1)));
  CHECK(NotesOf(dir).find("openat deny /usr/share/tool/") != std::string::npos);
  for (const char* gone :
       {"/usr/share/tool/a", "/usr/share/tool/b", "/usr/share/tool/c", "/usr/share/tool/d"}) {
    INFO(gone);
    CHECK_FALSE(rules.contains(gone));
  }
  // Three reads stay below the threshold of 4.
  CHECK(rules.contains("/usr/share/tool/sub/e"));
  CHECK(rules.contains("/etc/x"));
  CHECK(rules.contains("/etc/y"));
  CHECK(rules.contains("/etc/z"));
  CHECK_FALSE(rules.contains("/etc/**"));
  CHECK(rules.size() == 5);

  SECTION("the threshold is an option") {
    LearnOptions o = Options();
    o.read_dir_threshold = 3;
    auto low = FileRules(l.Draft(o));
    CHECK(low.contains("/etc/**"));
    CHECK_FALSE(low.contains("/etc/x"));
    CHECK(low.contains("/usr/share/tool/**"));
    o.read_dir_threshold = 6;
    auto high = FileRules(l.Draft(o));
    CHECK_FALSE(high.contains("/usr/share/tool/**"));
    CHECK(high.contains("/usr/share/tool/a"));
    CHECK(high.size() == 8);
  }
}

TEST_CASE("Learn: reads directly under / are never collapsed", "[learn]") {
  Learner l;
  l.AddRun({FileEvent("/a", {"read"}), FileEvent("/b", {"read"}), FileEvent("/c", {"read"}),
            FileEvent("/d", {"read"}), FileEvent("/e", {"read"})},
           {});
  auto rules = FileRules(l.Draft(Options()));
  CHECK(rules.size() == 5);
  CHECK_FALSE(rules.contains("/**"));
  CHECK_FALSE(rules.contains("//**"));
}

TEST_CASE("Learn: writes, creates and deletes are never collapsed", "[learn]") {
  for (const std::string kind : {"write", "create", "delete", "exec"}) {
    INFO(kind);
    Learner l;
    std::vector<json> events;
    for (int i = 0; i < 10; ++i) {
      events.push_back(FileEvent("/srv/out/f" + std::to_string(i), {kind}));
    }
    l.AddRun(events, {});
    auto rules = FileRules(l.Draft(Options()));
    CHECK(rules.size() == 10);
    CHECK_FALSE(rules.contains("/srv/out/**"));
    REQUIRE(rules.contains("/srv/out/f7"));
    CHECK(AccessOf(rules["/srv/out/f7"]) == std::vector<std::string>{kind});
  }
}

TEST_CASE("Learn: a directory with reads and writes collapses only the reads", "[learn]") {
  Learner l;
  l.AddRun(
      {
          FileEvent("/srv/d/a", {"read"}),
          FileEvent("/srv/d/b", {"read"}),
          FileEvent("/srv/d/c", {"read"}),
          FileEvent("/srv/d/log", {"read", "write"}),  // read and written
          FileEvent("/srv/d/out", {"write"}),
      },
      {});
  auto rules = FileRules(l.Draft(Options()));
  REQUIRE(rules.contains("/srv/d/**"));
  CHECK(AccessOf(rules["/srv/d/**"]) == std::vector<std::string>{"read"});
  CHECK(NotesOf(rules["/srv/d/**"]).starts_with(Needed(4, 1, 1)));
  REQUIRE(rules.contains("/srv/d/log"));
  CHECK(AccessOf(rules["/srv/d/log"]) == std::vector<std::string>{"write"});
  CHECK(NotesOf(rules["/srv/d/log"]).starts_with(Needed(1, 1, 1)));
  REQUIRE(rules.contains("/srv/d/out"));
  CHECK(AccessOf(rules["/srv/d/out"]) == std::vector<std::string>{"write"});
  CHECK(rules.size() == 3);
}

TEST_CASE("Learn: one path needed for several kinds is one rule", "[learn]") {
  Learner l;
  l.AddRun(
      {
          FileEvent("/srv/state.db", {"read"}), FileEvent("/srv/state.db", {"write"}),
          FileEvent("/srv/state.db", {"read"}),
          FileEvent("/srv/new.db", {"create", "write"}),  // one tip, two kinds
      },
      {});
  auto rules = FileRules(l.Draft(Options()));
  REQUIRE(rules.size() == 2);
  CHECK(AccessOf(rules["/srv/state.db"]) == std::vector<std::string>{"read", "write"});
  CHECK(NotesOf(rules["/srv/state.db"]).starts_with(Needed(3, 1, 1)));
  CHECK(AccessOf(rules["/srv/new.db"]) == std::vector<std::string>{"create", "write"});
}

TEST_CASE("Learn: notes count uses, runs and give an example", "[learn]") {
  Learner l;
  l.AddRun({FileEvent("/etc/both", {"read"}), FileEvent("/etc/both", {"read"}),
            FileEvent("/etc/first", {"write"})},
           kRunVars);
  l.AddRun({FileEvent("/etc/both", {"read"}), FileEvent("/etc/second", {"write"}),
            FileEvent("/etc/second", {"write"}), FileEvent("/etc/second", {"write"})},
           kRunVars);
  CHECK(l.runs() == 2);
  auto rules = FileRules(l.Draft(Options()));
  REQUIRE(rules.size() == 3);
  CHECK(NotesOf(rules["/etc/both"]) ==
        Needed(3, 2, 2) + "openat deny /etc/both (read) by /usr/bin/cat");
  CHECK(NotesOf(rules["/etc/first"]) ==
        Needed(1, 1, 2) + "openat deny /etc/first (write) by /usr/bin/cat");
  CHECK(NotesOf(rules["/etc/second"]) ==
        Needed(3, 1, 2) + "openat deny /etc/second (write) by /usr/bin/cat");

  SECTION("an event without exe gives its message alone; long examples are cut") {
    Learner m;
    json e = FileEvent("/etc/noexe", {"read"});
    e.erase("exe");
    json long_msg = Event(std::string(1000, 'x'), FileTip("/etc/long", {"read"}));
    m.AddRun({e, long_msg}, {});
    auto r = FileRules(m.Draft(Options()));
    CHECK(NotesOf(r["/etc/noexe"]) == Needed(1, 1, 1) + "openat deny /etc/noexe (read)");
    CHECK(NotesOf(r["/etc/long"]) == Needed(1, 1, 1) + std::string(300, 'x'));
  }
}

TEST_CASE("Learn: a read collapsed across runs counts every run", "[learn]") {
  Learner l;
  l.AddRun({FileEvent("/opt/t/a", {"read"}), FileEvent("/opt/t/b", {"read"})}, {});
  l.AddRun({FileEvent("/opt/t/c", {"read"}), FileEvent("/opt/t/d", {"read"})}, {});
  l.AddRun({}, {});
  auto rules = FileRules(l.Draft(Options()));
  REQUIRE(rules.size() == 1);
  REQUIRE(rules.contains("/opt/t/**"));
  CHECK(NotesOf(rules["/opt/t/**"]).starts_with(Needed(4, 2, 3)));
}

TEST_CASE("Learn: network endpoints and families", "[learn]") {
  Learner l;
  l.AddRun(
      {Event("connect deny 127.0.0.1:8080", ConnectTip("127.0.0.1/32", "8080"), "/usr/bin/curl"),
       Event("connect deny 127.0.0.1:8080", ConnectTip("127.0.0.1/32", "8080"), "/usr/bin/curl"),
       Event("socket deny AF_PACKET",
             {{"network", {{"families", {"unix", "inet", "inet6", "netlink", "packet"}}}}})},
      kRunVars);
  l.AddRun({Event("connect deny 127.0.0.1:8080", ConnectTip("127.0.0.1/32", "8080")),
            Event("connect deny [::1]:53", ConnectTip("::1/128", "53"))},
           kRunVars);
  json draft = l.Draft(Options());
  CHECK_FALSE(draft.contains("files"));
  REQUIRE(draft.contains("network"));
  CHECK(draft["network"]["families"].get<std::vector<std::string>>() ==
        std::vector<std::string>{"inet", "inet6", "netlink", "packet", "unix"});
  const json& rules = draft["network"]["rules"];
  REQUIRE(rules.size() == 2);
  std::map<std::string, json> by_cidr;
  for (const auto& r : rules) by_cidr[r.at("cidr").get<std::string>()] = r;
  REQUIRE(by_cidr.contains("127.0.0.1/32"));
  REQUIRE(by_cidr.contains("::1/128"));
  const json& local = by_cidr["127.0.0.1/32"];
  CHECK(local["id"] == "learnt");
  CHECK(local["action"] == "allow");
  CHECK(local["ports"] == "8080");
  CHECK(local["verbs"] == json::array({"connect"}));
  CHECK(NotesOf(local) == Needed(3, 2, 2) + "connect deny 127.0.0.1:8080 by /usr/bin/curl");
  CHECK(NotesOf(by_cidr["::1/128"]).starts_with(Needed(1, 1, 2)));
  CHECK(by_cidr["::1/128"]["ports"] == "53");
}

TEST_CASE("Learn: escape attempts are listed, never allowed", "[learn]") {
  Learner l;
  json tip = {{"escapes", {{"ptrace", {{"action", "allow"}}}}}};
  l.AddRun({Event("ptrace deny PTRACE_ATTACH 1", tip, "/usr/bin/gdb"),
            Event("ptrace deny PTRACE_ATTACH 1", tip, "/usr/bin/gdb"),  // listed once
            FileEvent("/etc/x", {"read"})},
           kRunVars);
  REQUIRE(l.escapes().size() == 1);
  CHECK(l.escapes()[0] == "ptrace: ptrace deny PTRACE_ATTACH 1 by /usr/bin/gdb");
  json draft = l.Draft(Options());
  CHECK_FALSE(draft.contains("escapes"));
  CHECK(draft.contains("files"));
  std::string desc = draft["description"].get<std::string>();
  CHECK(desc.find("1 escape attempt(s) were seen and are NOT allowed here") != std::string::npos);
  CHECK(desc.find("[ptrace: ptrace deny PTRACE_ATTACH 1 by /usr/bin/gdb]") != std::string::npos);

  // The draft loaded on top of its base still denies ptrace as the base does.
  auto vars = policy::DefaultVariables();
  policy::Policy base = policy::LoadPolicyText(R"({"version":1,"extends":"standard"})", "b", vars);
  policy::Policy p = policy::LoadPolicyText(draft.dump(), "draft", vars);
  auto ptrace = static_cast<std::size_t>(policy::Primitive::kPtrace);
  CHECK(p.primitives.at(ptrace).verdict.action == base.primitives.at(ptrace).verdict.action);
  CHECK(p.primitives.at(ptrace).verdict.action != policy::Action::kAllow);
}

// A mkdir-like event as the tracer records it: the name's path argument says whether it existed
// when the call was decided.
json MakeEvent(const std::string& syscall, const std::string& path, bool existed,
               const std::vector<std::string>& access = {"create"}) {
  json e = FileEvent(path, access);
  e["syscall"] = {{"name", syscall}, {"nr", 83}, {"arch", "x86_64"}};
  std::string kinds;
  for (const auto& a : access) kinds += (kinds.empty() ? "" : "|") + a;
  e["args"] = {
      {"pathname", {{"raw", path}, {"resolved", path}, {"access", kinds}, {"exists", existed}}},
      {"mode", "0777"}};
  return e;
}

// Issue 18: learn asked the file system after the run whether a directory existed, so
// `learn -- mkdir newdir` found newdir (made by the run itself) and learnt nothing. What counts
// is what the tracer saw when the call was made.
TEST_CASE("Learn: creating a name that existed before the call is not learnt", "[learn]") {
  Learner l;
  l.AddRun(
      {
          MakeEvent("mkdir", "/var", true),                 // mkdir -p on an existing directory
          MakeEvent("mkdirat", "/srv/data/newdir", false),  // made by the run
          MakeEvent("symlinkat", "/srv/data/link", true),
          FileEvent("/var/cache/new", {"create"}),  // no argument detail: learnt
      },
      kRunVars);
  auto rules = FileRules(l.Draft(Options()));
  CHECK_FALSE(rules.contains("/var"));
  CHECK_FALSE(rules.contains("/srv/data/link"));
  REQUIRE(rules.contains("/srv/data/newdir"));
  CHECK(AccessOf(rules["/srv/data/newdir"]) == std::vector<std::string>{"create"});
  REQUIRE(rules.contains("/var/cache/new"));
  CHECK(rules.size() == 2);

  SECTION("other kinds on that directory are learnt") {
    l.AddRun(
        {FileEvent("/var", {"write"}), MakeEvent("mkdir", "/var", true, {"create", "metadata"})},
        kRunVars);
    auto more = FileRules(l.Draft(Options()));
    REQUIRE(more.contains("/var"));
    CHECK(AccessOf(more["/var"]) == std::vector<std::string>{"metadata", "write"});
  }
  SECTION("a call that replaces or opens an existing name still needs create") {
    Learner m;
    m.AddRun(
        {MakeEvent("renameat2", "/srv/data/out", true), MakeEvent("openat", "/srv/data/f", true)},
        kRunVars);
    auto r = FileRules(m.Draft(Options()));
    CHECK(r.contains("/srv/data/out"));
    CHECK(r.contains("/srv/data/f"));
  }
}

TEST_CASE("Learn: the draft has a header and loads", "[learn]") {
  Learner l;
  l.AddRun(
      {
          FileEvent("/tmp/tracejail-AbC123/build/out.o", {"create", "write"}),
          FileEvent("/home/u/.toolrc", {"read"}),
          FileEvent("/srv/proj/Makefile", {"read"}),
          FileEvent("/etc/tool/a.conf", {"read"}),
          FileEvent("/etc/tool/b.conf", {"read"}),
          FileEvent("/etc/tool/c.conf", {"read"}),
          FileEvent("/etc/tool/d.conf", {"read"}),
          FileEvent("/etc/learnt-test.conf", {"write"}),
          FileEvent("/tmp/tmpk3j2x9", {"write"}),
          Event("connect deny 127.0.0.1:8080", ConnectTip("127.0.0.1/32", "8080")),
          Event("socket deny AF_PACKET",
                {{"network", {{"families", {"unix", "inet", "inet6", "netlink", "packet"}}}}}),
      },
      kRunVars);
  l.AddRun({FileEvent("/etc/learnt-test.conf", {"write"})}, kRunVars);
  LearnOptions o = Options();
  json draft = l.Draft(o);

  CHECK(draft["version"] == 1);
  CHECK(draft["name"] == "learnt draft");
  CHECK(draft["extends"] == o.base);
  std::string desc = draft["description"].get<std::string>();
  CHECK(desc.starts_with("DRAFT learnt by tracejail from 2 run(s) of `make -j4` on 2026-11-27."));
  CHECK(desc.find("extends standard") != std::string::npos);
  CHECK(desc.find("escape") == std::string::npos);

  auto vars = policy::DefaultVariables();
  policy::Policy p;
  REQUIRE_NOTHROW(p = policy::LoadPolicyText(draft.dump(), "draft", vars));
  REQUIRE(p.chain.size() >= 2);
  CHECK(p.chain[p.chain.size() - 2] == "standard");  // standard itself extends basic
  CHECK(p.chain.back() == "draft");

  std::size_t learnt = 0;
  for (const auto& r : p.path_rules) learnt += r.id.find("(learnt)") != std::string::npos;
  CHECK(learnt == draft["files"]["rules"].size());
  std::size_t learnt_net = 0;
  for (const auto& r : p.net_rules) learnt_net += r.id.find("(learnt)") != std::string::npos;
  CHECK(learnt_net == 1);

  // What the base denied, the draft allows.
  policy::Policy base = policy::LoadPolicyText(R"({"version":1,"extends":"standard"})", "b", vars);
  REQUIRE(base.DecidePathAccess("/etc/learnt-test.conf", policy::Access::kWrite).action !=
          policy::Action::kAllow);
  CHECK(p.DecidePathAccess("/etc/learnt-test.conf", policy::Access::kWrite).action ==
        policy::Action::kAllow);
  CHECK(p.DecidePathAccess("/etc/tool/e.conf", policy::Access::kRead).action ==
        policy::Action::kAllow);
  CHECK(p.DecidePathAccess("/tmp/tmpZZ99zz", policy::Access::kWrite).action ==
        policy::Action::kAllow);
  CHECK(p.DecidePathAccess(vars.at("WORKDIR") + "/build/out.o", policy::Access::kWrite).action ==
        policy::Action::kAllow);

  SECTION("another base and no date") {
    LearnOptions other;
    other.base = "strict";
    other.command = "true";
    json d = l.Draft(other);
    CHECK(d["extends"] == "strict");
    CHECK(d["description"].get<std::string>().starts_with(
        "DRAFT learnt by tracejail from 2 run(s) of `true`. It extends strict"));
    policy::Policy q;
    REQUIRE_NOTHROW(q = policy::LoadPolicyText(d.dump(), "draft", vars));
    REQUIRE(q.chain.size() >= 2);
    CHECK(q.chain[q.chain.size() - 2] == "strict");
  }
}

TEST_CASE("Learn: an empty learner gives an empty draft that loads", "[learn]") {
  Learner l;
  json draft = l.Draft(Options());
  CHECK_FALSE(draft.contains("files"));
  CHECK_FALSE(draft.contains("network"));
  CHECK_FALSE(draft.contains("escapes"));
  CHECK(draft["description"].get<std::string>().find("from 0 run(s)") != std::string::npos);
  CHECK_NOTHROW(policy::LoadPolicyText(draft.dump(), "draft", policy::DefaultVariables()));
}

// ---------------------------------------------------------------------------------------------
// Learner::AddDraft

TEST_CASE("Learn: merging drafts adds runs and counts and re-collapses reads", "[learn]") {
  Learner a;
  a.AddRun({FileEvent("/srv/d/a", {"read"}), FileEvent("/srv/d/b", {"read"}),
            FileEvent("/srv/out", {"write"}), FileEvent("/srv/out", {"write"}),
            Event("connect deny 127.0.0.1:8080", ConnectTip("127.0.0.1/32", "8080"))},
           kRunVars);
  a.AddRun({FileEvent("/srv/d/a", {"read"}), FileEvent("/srv/out", {"write"})}, kRunVars);
  Learner b;
  b.AddRun(
      {FileEvent("/srv/d/c", {"read"}), FileEvent("/srv/d/d", {"read"}),
       FileEvent("/srv/out", {"write"}),
       Event("connect deny 127.0.0.1:8080", ConnectTip("127.0.0.1/32", "8080")),
       Event("socket deny AF_PACKET", {{"network", {{"families", {"inet", "packet", "unix"}}}}})},
      kRunVars);
  json draft_a = a.Draft(Options());
  json draft_b = b.Draft(Options());
  // Before merging, neither draft has enough reads in /srv/d.
  CHECK(FileRules(draft_a).contains("/srv/d/a"));
  CHECK_FALSE(FileRules(draft_a).contains("/srv/d/**"));
  CHECK_FALSE(FileRules(draft_b).contains("/srv/d/**"));

  Learner m;
  m.AddDraft(draft_a);
  m.AddDraft(draft_b);
  CHECK(m.runs() == 3);
  json merged = m.Draft(Options());
  CHECK(merged["description"].get<std::string>().starts_with(
      "DRAFT learnt by tracejail from 3 run(s)"));
  auto rules = FileRules(merged);
  REQUIRE(rules.size() == 2);
  REQUIRE(rules.contains("/srv/d/**"));
  CHECK(AccessOf(rules["/srv/d/**"]) == std::vector<std::string>{"read"});
  // a: 2 + 1 + 1 reads in 2 runs (of its own 2), b: 2 reads in 1 run.
  CHECK(NotesOf(rules["/srv/d/**"]).starts_with(Needed(5, 3, 3)));
  REQUIRE(rules.contains("/srv/out"));
  CHECK(NotesOf(rules["/srv/out"]).starts_with(Needed(4, 3, 3)));
  CHECK(NotesOf(rules["/srv/out"]).find("openat deny /srv/out (write) by /usr/bin/cat") !=
        std::string::npos);

  REQUIRE(merged.contains("network"));
  REQUIRE(merged["network"]["rules"].size() == 1);
  const json& net = merged["network"]["rules"][0];
  CHECK(net["cidr"] == "127.0.0.1/32");
  CHECK(net["id"] == "learnt");
  CHECK(NotesOf(net).starts_with(Needed(2, 2, 3)));
  CHECK(merged["network"]["families"].get<std::vector<std::string>>() ==
        std::vector<std::string>{"inet", "packet", "unix"});

  CHECK_NOTHROW(policy::LoadPolicyText(merged.dump(), "merged", policy::DefaultVariables()));

  SECTION("merging a merged draft again keeps its numbers") {
    Learner again;
    again.AddDraft(merged);
    CHECK(again.runs() == 3);
    auto r = FileRules(again.Draft(Options()));
    REQUIRE(r.contains("/srv/d/**"));
    CHECK(NotesOf(r["/srv/d/**"]).starts_with(Needed(5, 3, 3)));
    CHECK(NotesOf(r["/srv/out"]).starts_with(Needed(4, 3, 3)));
  }
  SECTION("a draft merges with a new run") {
    Learner mixed;
    mixed.AddDraft(draft_a);
    mixed.AddRun({FileEvent("/srv/out", {"write"})}, kRunVars);
    CHECK(mixed.runs() == 3);
    auto r = FileRules(mixed.Draft(Options()));
    CHECK(NotesOf(r["/srv/out"]).starts_with(Needed(4, 3, 3)));
    CHECK(NotesOf(r["/srv/d/b"]).starts_with(Needed(1, 1, 3)));
  }
}

TEST_CASE("Learn: a draft without a run count or notes counts as one observation", "[learn]") {
  json draft = {{"version", 1},
                {"extends", "standard"},
                {"files", {{"rules", {{{"path", "/srv/x"}, {"access", {"read"}}}}}}}};
  Learner m;
  m.AddDraft(draft);
  CHECK(m.runs() == 1);
  auto rules = FileRules(m.Draft(Options()));
  REQUIRE(rules.contains("/srv/x"));
  CHECK(NotesOf(rules["/srv/x"]) == Needed(1, 1, 1));
}

// Regression (fixed): a rule's notes give one count for all its access kinds, and AddDraft adds
// that count to every kind, so a read+write rule doubles its count on every merge.
TEST_CASE("Learn: merging keeps the count of a rule with several kinds", "[learn]") {
  Learner a;
  a.AddRun({FileEvent("/srv/state.db", {"read"}), FileEvent("/srv/state.db", {"write"})}, {});
  json draft = a.Draft(Options());
  REQUIRE(NotesOf(FileRules(draft)["/srv/state.db"]).starts_with(Needed(2, 1, 1)));
  Learner m;
  m.AddDraft(draft);
  auto rules = FileRules(m.Draft(Options()));
  REQUIRE(rules.contains("/srv/state.db"));
  CHECK(AccessOf(rules["/srv/state.db"]) == std::vector<std::string>{"read", "write"});
  // Gives "needed 4 time(s) in 1 of 1 run(s); e.g. ...".
  CHECK(NotesOf(rules["/srv/state.db"]).substr(0, Needed(2, 1, 1).size()) == Needed(2, 1, 1));
}

// Regression (fixed): escape attempts listed in a draft's description are lost when it is merged:
// AddDraft reads only rules, so the merged draft (and `policy merge`'s report) no longer lists
// them.
TEST_CASE("Learn: merging keeps the escape attempts listed for review", "[learn]") {
  Learner a;
  a.AddRun({Event("ptrace deny PTRACE_ATTACH 1", {{"escapes", {{"ptrace", {{"action", "allow"}}}}}},
                  "/usr/bin/gdb"),
            FileEvent("/etc/x", {"read"})},
           {});
  json draft = a.Draft(Options());
  REQUIRE(draft["description"].get<std::string>().find("ptrace") != std::string::npos);
  Learner m;
  m.AddDraft(draft);
  CHECK(m.escapes().size() == 1);
  CHECK(m.Draft(Options())["description"].get<std::string>().find("ptrace") != std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Literal means literal: a name seen is learnt as that name, never as a pattern.

namespace {

policy::Policy LoadDraft(const json& draft) {
  return policy::LoadPolicyText(draft.dump(), "draft", kRunVars);
}

policy::Policy StandardBase() {
  return policy::LoadPolicyText(R"({"version": 1, "extends": "standard"})", "base", kRunVars);
}

policy::Action Decide(const policy::Policy& p, const std::string& path, const std::string& kind) {
  return p.DecidePathAccess(path, *policy::AccessFromName(kind)).action;
}

}  // namespace

// The bug of issue 16: `learn -- cat '/home/**'` drafted "allow read /home/**", and the draft
// let cat read a file in another user's home that standard denies.
TEST_CASE("Learn: a file named ** under /home is learnt as that file only", "[learn][escape]") {
  Learner l;
  l.AddRun({FileEvent("/home/**", {"read"})}, kRunVars);
  json draft = l.Draft(Options());
  auto rules = FileRules(draft);
  REQUIRE(rules.size() == 1);
  REQUIRE(rules.contains(R"(/home/\*\*)"));
  policy::Policy base = StandardBase();
  policy::Policy p = LoadDraft(draft);
  CHECK(Decide(p, "/home/**", "read") == policy::Action::kAllow);
  for (const char* other : {"/home/other/secret", "/home/other", "/home/x", "/home/**x"}) {
    CAPTURE(other);
    REQUIRE(Decide(base, other, "read") != policy::Action::kAllow);
    CHECK(Decide(p, other, "read") != policy::Action::kAllow);
  }
}

// The bug of issue 16: a file named /etc/** touched during learn gave create+write on all of /etc.
TEST_CASE("Learn: a file named ** under /etc gives create and write on that file only",
          "[learn][escape]") {
  Learner l;
  l.AddRun({FileEvent("/etc/**", {"create", "write"})}, kRunVars);
  json draft = l.Draft(Options());
  auto rules = FileRules(draft);
  REQUIRE(rules.contains(R"(/etc/\*\*)"));
  CHECK(AccessOf(rules[R"(/etc/\*\*)"]) == std::vector<std::string>{"create", "write"});
  policy::Policy p = LoadDraft(draft);
  CHECK(Decide(p, "/etc/**", "write") == policy::Action::kAllow);
  for (const char* other : {"/etc/passwd", "/etc/new", "/etc/cron.d/job"}) {
    for (const char* kind : {"create", "write"}) {
      CAPTURE(other, kind);
      CHECK(Decide(p, other, kind) != policy::Action::kAllow);
    }
  }
}

// The bug of issue 16: a path with "[" or "${" made the draft fail to load (learn exit 125).
TEST_CASE("Learn: names with brackets and variable syntax give a draft that loads",
          "[learn][escape]") {
  Learner l;
  l.AddRun(
      {
          FileEvent("/srv/data/[x", {"write"}),
          FileEvent("/srv/data/${NOPE}", {"write"}),
          FileEvent("/srv/data/${HOME}", {"create"}),
          FileEvent("/srv/data/a\\b", {"write"}),
          FileEvent("/srv/data/}{?", {"write"}),
          FileEvent("/home/u/${HOME}/x", {"write"}),  // below HOME: the variable, then the name
          FileEvent("/home/u/a*b", {"write"}),        // likewise
          FileEvent("/tmp/tracejail-AbC123/[1]", {"write"}),
      },
      kRunVars);
  json draft = l.Draft(Options());
  auto rules = FileRules(draft);
  for (const char* pattern : {
           R"(/srv/data/\[x)",
           R"(/srv/data/\$\{NOPE\})",
           R"(/srv/data/\$\{HOME\})",
           R"(/srv/data/a\\b)",
           R"(/srv/data/\}\{\?)",
           R"(${HOME}/\$\{HOME\}/x)",
           R"(${HOME}/a\*b)",
           R"(${WORKDIR}/\[1\])",
       }) {
    CAPTURE(pattern);
    CHECK(rules.contains(pattern));
  }
  CHECK(rules.size() == 8);
  policy::Policy p;
  REQUIRE_NOTHROW(p = LoadDraft(draft));
  CHECK(Decide(p, "/srv/data/[x", "write") == policy::Action::kAllow);
  CHECK(Decide(p, "/srv/data/${HOME}", "create") == policy::Action::kAllow);
  CHECK(Decide(p, "/home/u/a*b", "write") == policy::Action::kAllow);
  CHECK(Decide(p, "/home/u/axb", "write") != policy::Action::kAllow);
  CHECK(Decide(p, "/srv/data/x", "write") != policy::Action::kAllow);
  CHECK(Decide(p, "/srv/data/${HOME}x", "create") != policy::Action::kAllow);
}

TEST_CASE("Learn: temporary names keep their literal parts escaped", "[learn][escape]") {
  CHECK(GlobTemporaryName(policy::EscapeGlob("/tmp/tmpk3j2x9.[1]")) == R"(/tmp/tmp*.\[1\])");
  CHECK(GlobTemporaryName(policy::EscapeGlob("/tmp/a*b.12345")) == R"(/tmp/a\*b.*)");
  CHECK(GlobTemporaryName(policy::EscapeGlob("/proc/1234/[x]")) == R"(/proc/*/\[x\])");
  // An escaped name is a name: it is globbed only if it looks temporary, and stays escaped.
  CHECK(GlobTemporaryName(R"(/srv/\*\*)") == R"(/srv/\*\*)");
  CHECK(GlobTemporaryName(R"(/srv/\${HOME}/x)") == R"(/srv/\$\{HOME\}/x)");
  CHECK(GlobTemporaryName(R"(${HOME}/\*)") == R"(${HOME}/\*)");
}

TEST_CASE("Learn: a read directory with metacharacters is collapsed under its escaped name",
          "[learn][escape]") {
  Learner l;
  l.AddRun({FileEvent("/home/d*[x]/a", {"read"}), FileEvent("/home/d*[x]/b", {"read"}),
            FileEvent("/home/d*[x]/c", {"read"}), FileEvent("/home/d*[x]/d", {"read"})},
           kRunVars);
  json draft = l.Draft(Options());
  auto rules = FileRules(draft);
  REQUIRE(rules.size() == 1);
  REQUIRE(rules.contains(R"(/home/d\*\[x\]/**)"));
  policy::Policy p = LoadDraft(draft);
  CHECK(Decide(p, "/home/d*[x]/e", "read") == policy::Action::kAllow);
  for (const char* other : {"/home/dx/e", "/home/dzzx/a", "/home/d/a", "/home/other/secret"}) {
    CAPTURE(other);
    CHECK(Decide(p, other, "read") != policy::Action::kAllow);
  }
}

TEST_CASE("Learn: a tip path that is not an exact pattern is not learnt", "[learn][escape]") {
  // Policy::Tip escapes every name: a wildcard or a bad escape in a tip cannot come from it, and
  // learning it could allow more than was seen.
  json raw = Event("openat deny", {{"files",
                                    {{"rules",
                                      {{{"path", "/home/*"}, {"access", {"read"}}},
                                       {{"path", R"(/srv/a\d)"}, {"access", {"read"}}},
                                       {{"path", R"(/srv/\*)"}, {"access", {"read"}}}}}}}});
  Learner l;
  l.AddRun({raw}, kRunVars);
  auto rules = FileRules(l.Draft(Options()));
  CHECK(rules.size() == 1);
  CHECK(rules.contains(R"(/srv/\*)"));
}

TEST_CASE("Learn: policy merge keeps names escaped and collapses escaped directories",
          "[learn][escape]") {
  Learner a;
  a.AddRun({FileEvent("/home/**", {"read"}), FileEvent("/opt/[t]/a", {"read"}),
            FileEvent("/opt/[t]/b", {"read"}), FileEvent("/etc/a*", {"write"})},
           kRunVars);
  Learner b;
  b.AddRun({FileEvent("/opt/[t]/c", {"read"}), FileEvent("/opt/[t]/d", {"read"})}, kRunVars);
  Learner m;
  m.AddDraft(a.Draft(Options()));
  m.AddDraft(b.Draft(Options()));
  json merged = m.Draft(Options());
  auto rules = FileRules(merged);
  CHECK(rules.contains(R"(/home/\*\*)"));
  CHECK(rules.contains(R"(/opt/\[t\]/**)"));
  CHECK(rules.contains(R"(/etc/a\*)"));
  CHECK(rules.size() == 3);
  policy::Policy p = LoadDraft(merged);
  CHECK(Decide(p, "/home/other/secret", "read") != policy::Action::kAllow);
  CHECK(Decide(p, "/etc/ab", "write") != policy::Action::kAllow);
  CHECK(Decide(p, "/etc/a*", "write") == policy::Action::kAllow);
}

namespace {

// A random name with at least one metacharacter, and no digits or capitals so that learn never
// takes it for a temporary name (the one generalisation allowed beside dir/**).
std::string MetaName(std::mt19937& rng) {
  static const std::string kMeta = "\\*?[]{}$";
  static const std::string kAll = "\\*?[]{}$!^-.ab";
  std::uniform_int_distribution<std::size_t> len(0, 5);
  std::uniform_int_distribution<std::size_t> meta(0, kMeta.size() - 1);
  std::uniform_int_distribution<std::size_t> any(0, kAll.size() - 1);
  std::string s(1, kMeta[meta(rng)]);
  for (std::size_t n = len(rng); n > 0; --n) {
    std::string c(1, kAll[any(rng)]);
    s = std::uniform_int_distribution<int>(0, 1)(rng) ? s + c : c + s;
  }
  return s;
}

struct Touched {
  std::string path;
  std::string kind;
};

// Paths that a too-wide draft would allow: the touched name's siblings, its parent's other
// children, what its unescaped text would match as a pattern, and unrelated random names.
std::vector<std::string> Probes(const std::vector<Touched>& touched, std::mt19937& rng) {
  std::vector<std::string> out{
      "/home/other/secret", "/home/other",         "/etc/passwd", "/etc/new",
      "/root/.bashrc",      "/home/u/.ssh/id_rsa", "/opt/x",      "/srv/x"};
  for (const auto& t : touched) {
    std::size_t slash = t.path.rfind('/');
    std::string parent = t.path.substr(0, slash);
    std::string name = t.path.substr(slash + 1);
    std::string plain = name;
    for (char& c : plain) {
      if (std::string_view("\\*?[]{}$").find(c) != std::string_view::npos) c = 'a';
    }
    for (const std::string& p :
         {parent + "/other", parent + "/other/secret", parent + "/" + plain,
          parent + "/" + plain + "/x", t.path + "x", parent + "/a", parent + "/" + MetaName(rng)}) {
      out.push_back(p);
    }
  }
  return out;
}

}  // namespace

// Property: whatever names were touched, the draft allows nothing the base denies except those
// paths (and what lies below them, as a literal rule says), and with dir/** only the directories
// in which `threshold` names were read.
TEST_CASE("Learn: a draft never allows a path that was not touched", "[learn][escape]") {
  std::mt19937 rng(16u);
  policy::Policy base = StandardBase();
  const std::vector<std::string> roots{"/home", "/home/u", "/etc", "/srv/proj", "/opt", "/root"};
  const std::vector<std::string> kinds{"read", "write", "create", "delete"};
  const std::vector<std::string> literal_looking{"/home/**",    "/home/*",       "/home/?",
                                                 "/home/[a-z]", "/home/${HOME}", "/etc/**",
                                                 "/etc/*",      "/home/u/**",    "/root/*"};
  auto pick = [&](const auto& v) -> const auto& {
    return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
  };
  for (int round = 0; round < 60; ++round) {
    std::vector<Touched> touched;
    std::vector<json> events;
    std::string dir = pick(roots) + "/" + MetaName(rng);  // a directory with many reads
    for (int n = std::uniform_int_distribution<int>(1, 12)(rng); n > 0; --n) {
      int shape = std::uniform_int_distribution<int>(0, 3)(rng);
      std::string path = shape == 0   ? pick(literal_looking)
                         : shape == 1 ? dir + "/" + MetaName(rng)
                                      : pick(roots) + "/" + MetaName(rng) +
                                            (shape == 3 ? "/" + MetaName(rng) : "");
      std::string kind = shape == 1 ? "read" : pick(kinds);
      touched.push_back({path, kind});
      events.push_back(FileEvent(path, {kind}));
    }
    Learner l;
    l.AddRun(events, kRunVars);
    std::vector<std::string> probes = Probes(touched, rng);
    for (std::size_t threshold : {std::size_t{1000}, std::size_t{4}}) {
      LearnOptions o = Options();
      o.read_dir_threshold = threshold;
      json draft = l.Draft(o);
      CAPTURE(round, threshold, draft.dump(1));
      policy::Policy p;
      REQUIRE_NOTHROW(p = LoadDraft(draft));
      // Directories where `threshold` or more distinct names were read.
      std::map<std::string, std::set<std::string>> reads;
      for (const auto& t : touched) {
        if (t.kind == "read") reads[t.path.substr(0, t.path.rfind('/'))].insert(t.path);
      }
      auto covered = [&](const std::string& probe, const std::string& kind) {
        for (const auto& t : touched) {
          if (t.kind == kind && base::PathHasPrefix(probe, t.path)) return true;
        }
        for (const auto& [d, names] : reads) {
          if (kind == "read" && names.size() >= threshold && base::PathHasPrefix(probe, d)) {
            return true;
          }
        }
        return false;
      };
      for (const auto& t : touched) {
        CAPTURE(t.path, t.kind);
        CHECK(Decide(p, t.path, t.kind) == policy::Action::kAllow);  // the draft does its job
      }
      for (const auto& probe : probes) {
        for (const auto& kind : kinds) {
          if (Decide(p, probe, kind) != policy::Action::kAllow) continue;
          if (Decide(base, probe, kind) == policy::Action::kAllow) continue;
          CAPTURE(probe, kind);
          CHECK(covered(probe, kind));
        }
      }
    }
  }
}
