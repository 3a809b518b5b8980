// tracer/launcher.cc with real children: a command that runs gets released, seized and execs;
// one that cannot start reports the step that failed (execve, chdir, setrlimit, the files, the
// filter, the descriptors) over the error pipe, and Describe says it in words that name what
// failed. The child is a real tracee: every stop it reports is continued, never waited out.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tracer/launcher.h"

namespace {

// One instruction: allow every syscall. The child is traced, but never stops for a syscall.
std::vector<sock_filter> AllowAll() {
  return {sock_filter{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW}};
}

tracer::LaunchSpec Spec(const std::string& exe, std::vector<std::string> argv) {
  tracer::LaunchSpec spec;
  spec.exe = exe;
  spec.argv = std::move(argv);
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.filter = AllowAll();
  return spec;
}

struct Outcome {
  std::optional<tracer::SpawnError> error;
  int status = 0;  // waitpid's, for the exit
  bool exec_stop = false;
};

// Launches, reads the child's report (EOF once it exec'd), then continues every stop until the
// child exits.
Outcome LaunchAndReap(const tracer::LaunchSpec& spec) {
  tracer::Launched l = tracer::Launch(spec);
  REQUIRE(l.pid > 0);
  Outcome o;
  o.error = tracer::ReadSpawnError(l.errors.get());
  for (;;) {
    int status = 0;
    pid_t w = waitpid(l.pid, &status, __WALL);
    if (w < 0 && errno == EINTR) continue;
    REQUIRE(w == l.pid);
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      o.status = status;
      break;
    }
    REQUIRE(WIFSTOPPED(status));
    int event = status >> 16;
    if (event == PTRACE_EVENT_EXEC) o.exec_stop = true;
    int sig = WSTOPSIG(status);
    // Event and group stops are continued with no signal; a signal stop passes its signal on.
    int deliver = (event != 0 || sig == SIGTRAP) ? 0 : sig;
    REQUIRE(ptrace(PTRACE_CONT, l.pid, nullptr, deliver) == 0);
  }
  return o;
}

}  // namespace

TEST_CASE("launcher: a command that starts reports nothing and runs traced to its end",
          "[launcher]") {
  Outcome o = LaunchAndReap(Spec("/bin/sh", {"sh", "-c", "exit 7"}));
  CHECK_FALSE(o.error);
  CHECK(o.exec_stop);  // seized before execve: the tracer saw it
  REQUIRE(WIFEXITED(o.status));
  CHECK(WEXITSTATUS(o.status) == 7);
}

TEST_CASE("launcher: the child's output goes where the spec says", "[launcher]") {
  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  tracer::LaunchSpec spec = Spec("/bin/sh", {"sh", "-c", "echo out; echo err >&2; pwd"});
  spec.stdout_fd = fds[1];
  spec.stderr_fd = fds[1];
  spec.sandbox.chdir_to = "/usr";
  Outcome o = LaunchAndReap(spec);
  close(fds[1]);
  std::string got;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    got.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  CHECK_FALSE(o.error);
  CHECK(got == "out\nerr\n/usr\n");
}

TEST_CASE("launcher: a command that does not exist reports execve and names it", "[launcher]") {
  tracer::LaunchSpec spec = Spec("/nonexistent/tool", {"tool"});
  Outcome o = LaunchAndReap(spec);
  REQUIRE(o.error);
  CHECK(o.error->stage == tracer::SpawnError::kExecve);
  CHECK(o.error->error == ENOENT);
  CHECK(o.error->Describe(spec) == "cannot execute /nonexistent/tool: No such file or directory");
  CHECK_FALSE(o.exec_stop);
  REQUIRE(WIFEXITED(o.status));
  CHECK(WEXITSTATUS(o.status) == 127);
}

TEST_CASE("launcher: a file that cannot be executed reports why", "[launcher]") {
  // A script without any execute bit: even root may not run it.
  char tmpl[] = "/tmp/tj-launch-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  std::string script = dir + "/script.sh";
  {
    int fd = open(script.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    const std::string text = "#!/bin/sh\nexit 0\n";
    REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    close(fd);
  }
  tracer::LaunchSpec spec = Spec(script, {"script.sh"});
  Outcome o = LaunchAndReap(spec);
  std::filesystem::remove_all(dir);
  REQUIRE(o.error);
  CHECK(o.error->stage == tracer::SpawnError::kExecve);
  CHECK(o.error->error == EACCES);
  CHECK(o.error->Describe(spec) == "cannot execute " + spec.exe + ": Permission denied");
}

TEST_CASE("launcher: a working directory that does not exist reports chdir and names it",
          "[launcher]") {
  tracer::LaunchSpec spec = Spec("/bin/true", {"true"});
  spec.sandbox.chdir_to = "/nonexistent/dir";
  Outcome o = LaunchAndReap(spec);
  REQUIRE(o.error);
  CHECK(o.error->stage == tracer::SpawnError::kChdir);
  CHECK(o.error->Describe(spec) ==
        "cannot enter the working directory /nonexistent/dir: No such file or directory");
  CHECK_FALSE(o.exec_stop);
}

TEST_CASE("launcher: an impossible rlimit reports setrlimit and which resource", "[launcher]") {
  tracer::LaunchSpec spec = Spec("/bin/true", {"true"});
  spec.sandbox.rlimits.push_back({RLIMIT_CORE, rlimit{0, 0}});
  spec.sandbox.rlimits.push_back({RLIMIT_FSIZE, rlimit{200, 100}});  // soft above hard
  Outcome o = LaunchAndReap(spec);
  REQUIRE(o.error);
  CHECK(o.error->stage == tracer::SpawnError::kRlimit);
  CHECK(o.error->index == RLIMIT_FSIZE);
  CHECK(o.error->error == EINVAL);
  CHECK(o.error->Describe(spec) ==
        "setrlimit(" + std::to_string(RLIMIT_FSIZE) + ") failed: Invalid argument");
}

TEST_CASE("launcher: a file that cannot be written reports which file", "[launcher]") {
  tracer::LaunchSpec spec = Spec("/bin/true", {"true"});
  char tmpl[] = "/tmp/tj-launch-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  spec.sandbox.files = {{dir + "/ok.py", "print(1)\n"}, {dir + "/missing/x.py", "print(2)\n"}};
  Outcome o = LaunchAndReap(spec);
  REQUIRE(o.error);
  CHECK(o.error->stage == tracer::SpawnError::kFiles);
  CHECK(o.error->index == 1);
  CHECK(o.error->Describe(spec) ==
        "writing " + dir + "/missing/x.py into the work dir failed: No such file or directory");
  // The first was written whole before the second failed.
  CHECK(std::filesystem::file_size(dir + "/ok.py") == 9);
  // A file that already exists is never overwritten (O_EXCL), nor written through a symlink.
  spec.sandbox.files = {{dir + "/ok.py", "overwritten\n"}};
  Outcome again = LaunchAndReap(spec);
  REQUIRE(again.error);
  CHECK(again.error->stage == tracer::SpawnError::kFiles);
  CHECK(again.error->error == EEXIST);
  CHECK(std::filesystem::file_size(dir + "/ok.py") == 9);
  std::filesystem::remove_all(dir);
}

TEST_CASE("launcher: a filter the kernel refuses reports the seccomp step", "[launcher]") {
  tracer::LaunchSpec spec = Spec("/bin/true", {"true"});
  spec.filter.clear();  // an empty program is invalid
  Outcome o = LaunchAndReap(spec);
  REQUIRE(o.error);
  CHECK(o.error->stage == tracer::SpawnError::kSeccomp);
  CHECK(o.error->error == EINVAL);
  CHECK_THAT(o.error->Describe(spec), Catch::StartsWith("loading the seccomp filter failed: "
                                                        "Invalid argument"));
  CHECK_FALSE(o.exec_stop);  // it never ran untraced or unfiltered
}

TEST_CASE("launcher: a stdout that is not a descriptor fails setup before anything runs",
          "[launcher]") {
  // A number far above any descriptor this process has (the launcher's own pipes included).
  const int fd = 4000;
  REQUIRE(fcntl(fd, F_GETFD) == -1);
  tracer::LaunchSpec spec = Spec("/bin/true", {"true"});
  spec.stdout_fd = fd;
  Outcome o = LaunchAndReap(spec);
  REQUIRE(o.error);
  CHECK(o.error->stage == tracer::SpawnError::kSetup);
  CHECK(o.error->Describe(spec) == "child setup failed: Bad file descriptor");
}

TEST_CASE("launcher: a before_release error kills the child and reaches the caller", "[launcher]") {
  tracer::LaunchSpec spec = Spec("/bin/sleep", {"sleep", "1000"});
  pid_t seen = 0;
  spec.sandbox.before_release = [&seen](pid_t pid) {
    seen = pid;
    return std::string("cannot move the command into its cgroup: test");
  };
  try {
    tracer::Launch(spec);
    FAIL("launched");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "cannot move the command into its cgroup: test");
  }
  REQUIRE(seen > 0);
  // Killed and reaped: nothing of it is left to wait for.
  CHECK(waitpid(seen, nullptr, WNOHANG | __WALL) == -1);
  CHECK(errno == ECHILD);
}

TEST_CASE("launcher: every failure stage has words of its own", "[launcher]") {
  tracer::LaunchSpec spec = Spec("/bin/x", {"x"});
  spec.sandbox.read_only_mounts = {{"/usr", 0}};
  spec.sandbox.tmpfs_dir = "/w";
  spec.sandbox.landlock_grants = {{"/data", 1}};
  using S = tracer::SpawnError;
  struct Case {
    S error;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {{S::kNoNewPrivs, EPERM, -1}, "prctl(PR_SET_NO_NEW_PRIVS) failed"},
           {{S::kIdentity, EPERM, -1}, "becoming root inside the user namespace failed"},
           {{S::kMount, EPERM, 0}, "making / private failed"},
           {{S::kMount, EPERM, 1}, "remounting /usr read-only failed"},
           {{S::kMount, EPERM, 2}, "a mount failed"},  // beyond the list: no stray read
           {{S::kMount, EPERM, -2}, "mounting the work dir's tmpfs on /w failed"},
           {{S::kMount, EPERM, -3}, "mounting a fresh /proc for the PID namespace failed"},
           {{S::kHostname, EPERM, -1}, "sethostname in the UTS namespace failed"},
           {{S::kLandlock, EPERM, 0}, "Landlock rule for /data failed"},
           {{S::kLandlock, EPERM, 5}, "enabling Landlock failed"},
           {{S::kLandlock, EPERM, -2}, "enabling Landlock failed"},
           {{S::kFiles, EPERM, 3}, "writing a file into the work dir failed"},
           {{S::kCapabilities, EPERM, 21},
            "capability CAP_SYS_ADMIN could not be removed from the command's bounding set"},
           {{S::kCapabilities, EPERM, -1}, "dropping the command's capabilities failed"},
           {{99, EPERM, -1}, "child setup failed"},
       }) {
    std::string text = c.error.Describe(spec);
    CAPTURE(c.error.stage, c.error.index, text);
    CHECK_THAT(text, Catch::StartsWith(c.says));
  }
}
