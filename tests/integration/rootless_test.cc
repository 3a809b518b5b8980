// tracejail run by an ordinary user (uid 65534 here; the tests run as root and give up their
// ids in the child that execs tracejail): strict makes a user namespace of its own and gets its
// other layers in it, the user is itself inside, and nothing the level denies becomes possible
// (docs/isolation.md, "Without root"). With user namespaces switched off the run fails closed.
//
// strict requires a cgroup. Where the test can, it delegates one to uid 65534 as systemd does
// for a user (a cgroup v1 memory and pids directory it owns, joined before the ids change), so
// strict runs as it is; elsewhere it passes --allow-degraded and checks that the cgroup is the
// only layer that degraded.
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "harness.h"

namespace {

constexpr int kNobody = 65534;

std::string Prober() { return harness::Sample("rootless_probe"); }

// Why uid 65534 cannot run the tests' programs (a build tree under a 0700 directory), or "".
std::string Unreachable() {
  if (geteuid() != 0) return "the tests do not run as root, so they cannot become uid 65534";
  for (const std::string& path : {harness::Tracejail(), Prober()}) {
    pid_t pid = fork();
    if (pid == 0) {
      _exit(setgroups(0, nullptr) == 0 && setresgid(kNobody, kNobody, kNobody) == 0 &&
                    setresuid(kNobody, kNobody, kNobody) == 0 && access(path.c_str(), X_OK) == 0
                ? 0
                : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return path + " is not executable by uid 65534 (a directory above it is not searchable)";
    }
  }
  return "";
}

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The test's cgroup v1 directory for `controller` (memory, pids), or nullopt.
std::optional<std::string> V1Dir(const std::string& controller) {
  std::ifstream mounts("/proc/self/mountinfo");
  std::string mount_point;
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, mp, opts, field;
    f >> id >> parent >> dev >> root >> mp >> opts;
    while (f >> field && field != "-") {
    }
    std::string fstype, source, super;
    f >> fstype >> source >> super;
    if (fstype == "cgroup" && root == "/" &&
        ("," + super + ",").find("," + controller + ",") != std::string::npos) {
      mount_point = mp;
    }
  }
  if (mount_point.empty()) return std::nullopt;
  std::ifstream self("/proc/self/cgroup");
  for (std::string line; std::getline(self, line);) {
    std::size_t a = line.find(':'), b = line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string list = "," + line.substr(a + 1, b - a - 1) + ",";
    if (list.find("," + controller + ",") != std::string::npos) {
      return mount_point + line.substr(b + 1);
    }
  }
  return std::nullopt;
}

// A memory and a pids cgroup (v1) owned by uid 65534, as systemd delegates one to a user;
// removed afterwards. Not made where tracejail would use cgroup v2 (the unified hierarchy
// offers memory and pids), nor where the test cannot make them.
class DelegatedCgroup {
 public:
  DelegatedCgroup() {
    std::ifstream self("/proc/self/cgroup");
    for (std::string line; std::getline(self, line);) {
      if (!line.starts_with("0::")) continue;
      for (const char* v2 : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
        std::string controllers =
            FirstLine(std::string(v2) + line.substr(3) + "/cgroup.controllers");
        if (controllers.find("memory") != std::string::npos &&
            controllers.find("pids") != std::string::npos) {
          why_not_ = "tracejail would use cgroup v2 here, which this test does not delegate";
          return;
        }
      }
    }
    std::string name = "tracejail-rootless-test-" + std::to_string(getpid());
    for (const char* controller : {"memory", "pids"}) {
      auto dir = V1Dir(controller);
      if (!dir) {
        why_not_ = std::string("no cgroup v1 ") + controller + " hierarchy";
        return;
      }
      std::string mine = *dir + "/" + name;
      if (mkdir(mine.c_str(), 0755) != 0) {
        why_not_ = "mkdir " + mine + ": " + std::strerror(errno);
        return;
      }
      dirs_.push_back(mine);
      for (const std::string& p : {mine, mine + "/cgroup.procs", mine + "/tasks"}) {
        if (chown(p.c_str(), kNobody, kNobody) != 0) {
          why_not_ = "chown " + p + ": " + std::strerror(errno);
          return;
        }
      }
    }
  }
  ~DelegatedCgroup() {
    for (const auto& d : dirs_) rmdir(d.c_str());
  }
  DelegatedCgroup(const DelegatedCgroup&) = delete;
  DelegatedCgroup& operator=(const DelegatedCgroup&) = delete;

  bool ok() const { return why_not_.empty(); }
  const std::string& why_not() const { return why_not_; }

  // In the forked child, still root: moves it into the delegated cgroups.
  bool Join() const {
    std::string pid = std::to_string(getpid());
    for (const auto& d : dirs_) {
      int fd = open((d + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
      bool written =
          fd >= 0 && write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
      if (fd >= 0) close(fd);
      if (!written) return false;
    }
    return true;
  }

 private:
  std::vector<std::string> dirs_;
  std::string why_not_;
};

struct Rootless {
  harness::Result r;
  nlohmann::json result;
  bool degraded_allowed = false;
};

// `tracejail run ARGS -- COMMAND` as uid 65534, with a result file, in the delegated cgroup
// (or with --allow-degraded where there is none).
Rootless RunRootless(const DelegatedCgroup& cg, std::vector<std::string> args,
                     const std::vector<std::string>& command) {
  harness::TempDir dir;
  REQUIRE(chown(dir.path().c_str(), kNobody, kNobody) == 0);
  std::string result_file = dir.path() + "/result.json";
  Rootless out;
  out.degraded_allowed = !cg.ok();
  if (out.degraded_allowed) args.push_back("--allow-degraded");
  args.insert(args.end(), {"--result", result_file});
  harness::Options o;
  o.tracejail_args = args;
  o.as_uid = kNobody;
  o.cwd = "/";
  if (cg.ok()) o.in_child = [&cg] { return cg.Join(); };
  out.r = harness::Run(command, o);
  out.result = nlohmann::json::parse(harness::Slurp(result_file), nullptr, false);
  return out;
}

std::string State(const nlohmann::json& result, const std::string& layer) {
  if (!result.is_object()) return "no result";
  for (const auto& l : result["layers"]) {
    if (l["layer"] == layer) return l["state"];
  }
  return "absent";
}

// Every layer the level asked for is there; only the cgroup may be degraded, and only when the
// test could not delegate one.
void CheckLayers(const Rootless& run, const std::vector<std::string>& namespaces) {
  INFO(run.result.dump(1));
  CHECK(State(run.result, "namespace:user") == "active");
  for (const auto& ns : namespaces) {
    CAPTURE(ns);
    CHECK(State(run.result, "namespace:" + ns) == "active");
  }
  CHECK(State(run.result, "identity") == "active");
  for (const auto& l : run.result.value("layers", nlohmann::json::array())) {
    if (l["state"] != "degraded") continue;
    CAPTURE(l.dump());
    CHECK(run.degraded_allowed);
    CHECK(l["layer"] == "cgroup");
  }
  if (!run.degraded_allowed) CHECK_THAT(State(run.result, "cgroup"), Catch::Equals("active"));
}

// The value of `key=` in the prober's output, or "absent".
std::string Fact(const std::string& out, const std::string& key) {
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(key + "=")) return line.substr(key.size() + 1);
  }
  return "absent";
}

// Skips (with the reason printed) unless uid 65534 can run tracejail and make user namespaces.
bool CanRunRootless() {
  if (std::string why = Unreachable(); !why.empty()) {
    harness::Skip(why);
    return false;
  }
  pid_t pid = fork();
  if (pid == 0) {
    _exit(setgroups(0, nullptr) == 0 && setresgid(kNobody, kNobody, kNobody) == 0 &&
                  setresuid(kNobody, kNobody, kNobody) == 0 && unshare(CLONE_NEWUSER) == 0
              ? 0
              : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    harness::Skip("unprivileged user namespaces are disabled on this machine");
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("rootless strict makes its own user namespace and the user is itself inside") {
  if (!CanRunRootless()) return;
  DelegatedCgroup cg;
  INFO("delegated cgroup: " << (cg.ok() ? "yes" : cg.why_not()));
  Rootless run = RunRootless(cg, {"--level", "strict"}, {"/usr/bin/id", "-u"});
  INFO(run.r.err);
  CHECK(run.r.status == 0);
  CHECK(run.r.out == std::to_string(kNobody) + "\n");
  CheckLayers(run, {"pid", "ipc", "uts", "mount", "net"});
}

TEST_CASE("rootless maximum gets its namespaces and a read-only root as the caller") {
  if (!CanRunRootless()) return;
  DelegatedCgroup cg;
  INFO("delegated cgroup: " << (cg.ok() ? "yes" : cg.why_not()));
  Rootless run =
      RunRootless(cg, {"--level", "maximum"},
                  {"/usr/bin/python3", "-c",
                   "import os\n"
                   "print(os.getuid(), os.getgid(), os.getcwd() == os.environ['TMPDIR'])\n"
                   "open('mine', 'w').write('x')\n"
                   "print(os.stat('mine').st_uid)\n"});
  INFO(run.r.err);
  CHECK(run.r.status == 0);
  CHECK(run.r.out == "65534 65534 True\n65534\n");
  CheckLayers(run, {"pid", "ipc", "uts", "mount", "net"});
  CHECK(State(run.result, "read_only_root") == "active");
  CHECK(State(run.result, "landlock") == "active");
}

TEST_CASE("rootless strict keeps the command in its namespaces and every escape still denied") {
  if (!CanRunRootless()) return;
  DelegatedCgroup cg;
  INFO("delegated cgroup: " << (cg.ok() ? "yes" : cg.why_not()));
  harness::LoopbackListener listener;
  Rootless run =
      RunRootless(cg, {"--level", "strict"}, {Prober(), std::to_string(listener.port())});
  INFO(run.r.err);
  INFO(run.r.out);
  CHECK(run.r.status == 0);
  CheckLayers(run, {"pid", "ipc", "uts", "mount", "net"});
  CHECK(Fact(run.r.out, "uid") == std::to_string(kNobody));
  CHECK(Fact(run.r.out, "gid") == std::to_string(kNobody));
  // Capabilities in its own user namespace do not survive execve, and the filter is on.
  CHECK(Fact(run.r.out, "CapEff") == "0000000000000000");
  CHECK(Fact(run.r.out, "CapPrm") == "0000000000000000");
  CHECK(Fact(run.r.out, "NoNewPrivs") == "1");
  CHECK(Fact(run.r.out, "Seccomp") == "2");
  // Its own network namespace: loopback only, and the host's listener is out of reach.
  CHECK(Fact(run.r.out, "interfaces") == "lo");
  CHECK(Fact(run.r.out, "connect") != "0");
  CHECK_FALSE(listener.Received());
  // Its private work dir ($TMPDIR) is a tmpfs of its own mount namespace.
  CHECK(Fact(run.r.out, "tmpdir_fs") == "tmpfs");
  CHECK(State(run.result, "workdir") == "active");
  // Every way out is denied and recorded.
  CHECK(Fact(run.r.out, "unshare_user") == "EPERM");
  CHECK(Fact(run.r.out, "unshare_mount") == "EPERM");
  CHECK(Fact(run.r.out, "mount_tmpfs") == "EPERM");
  CHECK(Fact(run.r.out, "setns_user") == "EPERM");
  for (const char* call : {"unshare", "mount", "setns"}) {
    CAPTURE(call);
    CHECK_FALSE(run.r.Events("escape_attempt", call).empty());
  }
}

TEST_CASE("rootless strict fails closed naming the sysctl when user namespaces are disabled") {
  if (!CanRunRootless()) return;
  DelegatedCgroup cg;
  INFO("delegated cgroup: " << (cg.ok() ? "yes" : cg.why_not()));
  harness::TempDir dir;
  REQUIRE(chmod(dir.path().c_str(), 0755) == 0);
  // Without a cgroup for it, strict would stop at the cgroup first: ask for the rest only.
  std::string policy = dir.File("p.json", R"({"version": 1, "extends": "strict",
    "isolation": {"cgroups": "preferred"}})");
  REQUIRE(chmod(policy.c_str(), 0644) == 0);
  std::vector<std::string> level = {"--level", "strict"};
  if (!cg.ok()) level = {"--policy", policy};
  // user.max_user_namespaces counts per user namespace: set to 0 in a namespace of the test's
  // own (ids 0-65535 mapped to themselves), it switches user namespaces off for tracejail
  // started there, and for nothing else on the machine; no global setting is touched.
  int ready[2], go[2];
  REQUIRE(pipe(ready) == 0);
  REQUIRE(pipe(go) == 0);
  harness::TempDir io;
  REQUIRE(chown(io.path().c_str(), kNobody, kNobody) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(ready[0]);
    close(go[1]);
    if (cg.ok() && !cg.Join()) _exit(210);
    if (unshare(CLONE_NEWUSER) != 0) _exit(211);
    char c = 1;
    if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1) _exit(212);
    int max = open("/proc/sys/user/max_user_namespaces", O_WRONLY | O_CLOEXEC);
    if (max < 0 || write(max, "0", 1) != 1) _exit(213);
    int out = open((io.path() + "/out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = open((io.path() + "/err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(214);
    if (setgroups(0, nullptr) != 0 || setresgid(kNobody, kNobody, kNobody) != 0 ||
        setresuid(kNobody, kNobody, kNobody) != 0 || chdir("/") != 0) {
      _exit(215);
    }
    std::vector<std::string> args{"run", "--no-summary"};
    args.insert(args.end(), level.begin(), level.end());
    args.insert(args.end(), {"--", "/usr/bin/id", "-u"});
    harness::ExecTracejail(args);
  }
  close(ready[1]);
  close(go[0]);
  char c = 0;
  bool mapped = read(ready[0], &c, 1) == 1;
  for (const char* map : {"uid_map", "gid_map"}) {
    std::ofstream f("/proc/" + std::to_string(pid) + "/" + map);
    f << "0 0 65536\n" << std::flush;
    mapped = mapped && f.good();
  }
  if (write(go[1], &c, 1) != 1) mapped = false;
  close(ready[0]);
  close(go[1]);
  int status = 0;
  waitpid(pid, &status, 0);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (!mapped || code == 211 || code == 213) {
    harness::Skip("cannot make a user namespace with user namespaces switched off in it here (" +
                  std::to_string(code) + ")");
    return;
  }
  std::string err = harness::Slurp(io.path() + "/err");
  INFO(err);
  CHECK(code == 119);
  CHECK(harness::Slurp(io.path() + "/out").empty());
  CHECK_THAT(err, Catch::Contains("namespace:user"));
  CHECK_THAT(err, Catch::Contains("user.max_user_namespaces"));
  CHECK_THAT(err, Catch::Contains("sysctl -w"));
}
