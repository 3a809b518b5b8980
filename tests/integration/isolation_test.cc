// Each isolation level's layers, seen from inside by real programs: environment, work dir,
// namespaces, Landlock against a real time-of-check/time-of-use race, the user namespace and
// the read-only root; and a machine that cannot provide a layer (tracejail run as nobody).
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "harness.h"

namespace {

struct Levelled {
  harness::Result r;
  nlohmann::json result;
};

Levelled RunAt(const std::vector<std::string>& args, const std::vector<std::string>& command) {
  harness::TempDir dir;
  std::string result_file = dir.path() + "/result.json";
  harness::Options o;
  o.tracejail_args = args;
  o.tracejail_args.insert(o.tracejail_args.end(), {"--result", result_file});
  Levelled l;
  l.r = harness::Run(command, o);
  l.result = nlohmann::json::parse(harness::Slurp(result_file), nullptr, false);
  return l;
}

std::string State(const nlohmann::json& result, const std::string& layer) {
  if (!result.is_object()) return "no result";
  for (const auto& l : result["layers"]) {
    if (l["layer"] == layer) return l["state"];
  }
  return "absent";
}

std::string Python() { return "/usr/bin/python3"; }

}  // namespace

TEST_CASE("level none passes the environment through and keeps the caller's directory") {
  setenv("TJ_ISOLATION_MARK", "visible", 1);
  Levelled l = RunAt({"--level", "none"}, {"/bin/sh", "-c", "echo \"$TJ_ISOLATION_MARK\""});
  INFO(l.r.err);
  CHECK(l.r.out == "visible\n");
  CHECK(State(l.result, "environment") == "off");
  CHECK(State(l.result, "workdir") == "off");
  CHECK(State(l.result, "path_rules") == "off");
}

TEST_CASE("level basic scrubs the environment and gives a private work dir that goes away") {
  setenv("TJ_ISOLATION_MARK", "visible", 1);
  Levelled l = RunAt({"--level", "basic"}, {"/bin/sh", "-c",
                                            "echo \"[$TJ_ISOLATION_MARK]\"; echo \"$TMPDIR\"; "
                                            "touch \"$TMPDIR/made-here\" && echo made"});
  INFO(l.r.err);
  std::istringstream lines(l.r.out);
  std::string mark, tmpdir, made;
  std::getline(lines, mark);
  std::getline(lines, tmpdir);
  std::getline(lines, made);
  CHECK(mark == "[]");
  CHECK(tmpdir.starts_with("/tmp/tracejail-"));
  CHECK(made == "made");
  CHECK_FALSE(std::filesystem::exists(tmpdir));
  CHECK(State(l.result, "workdir") == "active");
  CHECK(State(l.result, "environment") == "active");
  CHECK(State(l.result, "cgroup") != "absent");
}

TEST_CASE("level standard enforces path and network rules in the tracer") {
  Levelled l = RunAt({"--level", "standard"}, {"/bin/true"});
  CHECK(State(l.result, "path_rules") == "active");
  CHECK(State(l.result, "network_rules") == "active");
  CHECK(State(l.result, "namespace:pid") == "absent");
}

TEST_CASE("level strict: PID, UTS, IPC, mount and network namespaces as seen from inside") {
  Levelled l = RunAt(
      {"--level", "strict"},
      {Python(), "-c",
       "import os, socket\n"
       "print(os.getpid())\n"
       "print(socket.gethostname())\n"
       "print(sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]))\n"
       "print(len([p for p in os.listdir('/proc') if p.isdigit()]))\n"});
  INFO(l.r.err);
  for (const char* ns : {"namespace:pid", "namespace:ipc", "namespace:uts", "namespace:mount",
                         "namespace:net", "landlock", "cgroup"}) {
    INFO(ns);
    CHECK(State(l.result, ns) == "active");
  }
  // PID 1 is tracejail's init in the namespace; the command is PID 2 and sees only the two.
  CHECK(l.r.out == "2\ntracejail\n['lo']\n2\n");
}

TEST_CASE("strict: a policy that allows inet sockets keeps the host network (no net namespace)") {
  harness::TempDir dir;
  std::string policy = dir.File("net.json", R"({"version": 1, "extends": "strict",
    "network": {"families": ["unix", "inet", "inet6"]}})");
  Levelled l = RunAt({"--policy", policy}, {"/bin/true"});
  INFO(l.r.err);
  CHECK(State(l.result, "namespace:net") == "off");
  CHECK(State(l.result, "namespace:pid") == "active");
}

TEST_CASE("strict: Landlock holds where the tracer loses a time-of-check/time-of-use race") {
  harness::TempDir dir;
  std::string decoy = dir.File("decoy.txt", "decoy\n");
  std::string secret = dir.File("secre.txt", "SECRET\n");
  std::string policy =
      // No CPU limit: the sample's flipper thread spins for the whole run, which under a
      // sanitizer build and a loaded machine can reach strict's 60 s before the opens finish.
      dir.File("p.json", R"({"version": 1, "extends": "strict", "limits": {"cpu": "off"},
                             "files": {"rules": [{"path": ")" +
                             secret + R"(", "access": ["read"], "action": "deny"}]}})");
  Levelled l = RunAt({"--policy", policy, "--no-summary"},
                     {harness::Sample("race_open"), decoy, secret, harness::Iterations(5000)});
  INFO(l.r.err);
  REQUIRE(State(l.result, "landlock") == "active");
  REQUIRE_THAT(l.r.out, Catch::StartsWith("RACE "));
  INFO(l.r.out);
  CHECK_THAT(l.r.out, Catch::Contains(" secret=0 "));
  CHECK_THAT(l.r.out, !Catch::Contains(" decoy=0 "));  // the race really ran
}

TEST_CASE(
    "level maximum: root inside a user namespace is nobody outside, and the root is read-only") {
  harness::TempDir dir;
  // Extends maximum but lets the tracer allow writes to /var/tmp: the read-only mount answers.
  std::string policy = dir.File("p.json", R"({"version": 1, "extends": "maximum",
    "files": {"rules": [{"path": "/var/tmp", "access": ["write", "create"], "action": "allow"}]},
    "isolation": {"landlock": false}})");
  Levelled l =
      RunAt({"--policy", policy}, {Python(), "-c",
                                   "import os\n"
                                   "print(os.getuid(), os.getcwd() == os.environ['TMPDIR'])\n"
                                   "open('mine', 'w').write('x')\n"
                                   "print(os.stat('mine').st_uid)\n"
                                   "try:\n"
                                   "    open('/var/tmp/tj-ro-test', 'w')\n"
                                   "except OSError as e:\n"
                                   "    print(e.errno)\n"});
  INFO(l.r.err);
  CHECK(State(l.result, "namespace:user") == "active");
  CHECK(State(l.result, "read_only_root") == "active");
  CHECK(l.r.out == "0 True\n0\n30\n");  // EROFS
  CHECK_FALSE(std::filesystem::exists("/var/tmp/tj-ro-test"));
}

TEST_CASE("a layer the machine cannot provide fails the run unless degrading is allowed") {
  // As nobody, tracejail cannot create a cgroup here (it gets its namespaces in a user namespace
  // of its own: tests/integration/rootless_test.cc).
  std::vector<std::string> base{
      "/usr/bin/setpriv",   "--reuid=65534", "--regid=65534", "--clear-groups",
      harness::Tracejail(), "run",           "--level",       "strict",
      "--no-summary"};
  std::vector<std::string> strict = base;
  strict.insert(strict.end(), {"--", "/bin/echo", "ran"});
  harness::Result refused = harness::RunNative(strict, "/");
  INFO(refused.err);
  if (refused.status == 0) {
    harness::Skip("unprivileged users can create cgroups here");
    return;
  }
  CHECK(refused.status == 119);
  CHECK_THAT(refused.err, Catch::Contains("cannot provide it"));
  CHECK_THAT(refused.err, Catch::Contains("--allow-degraded"));
  CHECK(refused.out.empty());
  std::vector<std::string> degraded = base;
  degraded.insert(degraded.end(), {"--allow-degraded", "--", "/bin/echo", "ran"});
  harness::Result r = harness::RunNative(degraded, "/");
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(r.out == "ran\n");
  CHECK_THAT(r.err, Catch::Contains("no usable cgroup"));
}
