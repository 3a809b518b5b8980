// The whole tree is followed and behaves exactly as it would without tracejail.
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "harness.h"

using harness::Run;
using harness::RunNative;
using harness::Sample;

TEST_CASE("a shell pipeline behaves as without tracejail", "[tree]") {
  harness::TempDir dir;
  dir.File("a", "alpha\nbeta\ngamma\nbeta2\n");
  std::vector<std::string> cmd{"/bin/sh", "-c", "cat a | grep b; echo status=$?"};
  auto native = RunNative(cmd, dir.path());
  auto traced = Run(cmd, {.cwd = dir.path()});
  CHECK(traced.out == native.out);
  CHECK(traced.out == "beta\nbeta2\nstatus=0\n");
  CHECK(traced.status == native.status);
  CHECK(traced.events.empty());
}

TEST_CASE("50 threads all opening files", "[tree][threads]") {
  auto r = Run({Sample("threads_open"), "50", "/etc/hostname"});
  CHECK(r.status == 0);
  CHECK(r.out == "THREADS OK 1000\n");
  CHECK(r.events.empty());
}

TEST_CASE("exec by a non-leader thread", "[tree][threads]") {
  auto r = Run({Sample("thread_exec")});
  CHECK(r.status == 0);
  CHECK(r.out == "exec from thread\n");
}

TEST_CASE("a fork+exec chain 5 deep", "[tree]") {
  auto r = Run({Sample("fork_chain"), "5"});
  CHECK(r.status == 5);
  for (int level = 5; level >= 0; --level) {
    CHECK(r.out.find("LEVEL " + std::to_string(level) + " ") != std::string::npos);
  }
}

TEST_CASE("a program that stops itself with SIGSTOP and is continued", "[tree][signals]") {
  auto native = RunNative({Sample("self_stop")});
  auto r = Run({Sample("self_stop")});
  CHECK(r.status == 0);
  CHECK(r.out == native.out);
  CHECK(r.out == "STOPPED\nCONTINUED\nCHILD EXIT 7\n");
}

TEST_CASE("a program killed by SIGSEGV exits with 139", "[tree][signals]") {
  auto r = Run({Sample("segv")});
  CHECK(r.status == 139);
  CHECK(r.out == "about to crash\n");
}

TEST_CASE("signals reach the tracee's handlers", "[tree][signals]") {
  std::vector<std::string> cmd{"/bin/sh", "-c",
                               "trap 'echo got USR1' USR1; kill -USR1 $$; echo done"};
  auto r = Run(cmd);
  CHECK(r.out == "got USR1\ndone\n");
  CHECK(r.status == 0);
}

TEST_CASE("exit statuses pass through", "[tree]") {
  CHECK(Run({"/bin/sh", "-c", "exit 42"}).status == 42);
  CHECK(Run({"/bin/sh", "-c", "kill -TERM $$"}).status == 128 + SIGTERM);
}

TEST_CASE("what the command leaves running is killed when it exits", "[tree]") {
  harness::TempDir dir;
  std::string pidfile = dir.path() + "/daemon.pid";
  auto r = Run({Sample("daemonize"), pidfile});
  CHECK(r.status == 0);
  CHECK(r.out == "DAEMONIZED\n");
  std::ifstream in(pidfile);
  pid_t pid = 0;
  in >> pid;
  REQUIRE(pid > 0);
  // tracejail returned only after reaping every tracee, so the daemon no longer exists.
  CHECK(kill(pid, 0) == -1);
  CHECK(errno == ESRCH);
}

TEST_CASE("if tracejail dies, the traced tree dies with it", "[tree][failclosed]") {
  int out[2];
  REQUIRE(pipe(out) == 0);
  pid_t tj = fork();
  REQUIRE(tj >= 0);
  if (tj == 0) {
    dup2(out[1], 1);
    close(out[0]);
    execl(harness::Tracejail().c_str(), "tracejail", "run", "--", "/bin/sh", "-c",
          "echo $$; exec sleep 300", static_cast<char*>(nullptr));
    _exit(1);
  }
  close(out[1]);
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  pid_t tracee = std::stoi(line);
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, tracee, 0));
  REQUIRE(pidfd >= 0);
  kill(tj, SIGKILL);
  waitpid(tj, nullptr, 0);
  // PTRACE_O_EXITKILL: the tracee gets SIGKILL when its tracer exits. A pidfd becomes readable
  // when its process has terminated (it may linger as a zombie until init reaps it); the sleep
  // would otherwise run for 300 s and the poll would time out.
  pollfd p{pidfd, POLLIN, 0};
  REQUIRE(poll(&p, 1, 30000) == 1);
  std::ifstream stat("/proc/" + std::to_string(tracee) + "/stat");
  std::string pid_field, comm, state;
  if (stat >> pid_field >> comm >> state) CHECK(state == "Z");
  close(pidfd);
  close(out[0]);
  // What the killed run could not remove (its work dir, its cgroup) the next run sweeps.
  REQUIRE(Run({"/bin/true"}).status == 0);
  std::string prefix = "tracejail-" + std::to_string(tj) + "-";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/tmp", ec)) {
    INFO(entry.path());
    CHECK_FALSE(entry.path().filename().string().starts_with(prefix));
  }
  for (const char* hierarchy : {"/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(hierarchy, ec)) {
      INFO(entry.path());
      CHECK_FALSE(entry.path().filename().string().starts_with(prefix));
    }
  }
}

TEST_CASE("the events file records the process tree: start, exec with argv, exit", "[tree]") {
  auto r = Run({"/bin/sh", "-c", "/bin/true; exit 3"});
  CHECK(r.status == 3);
  CHECK(r.log_closed);
  std::vector<std::string> kinds;
  for (const auto& e : r.lifecycle) kinds.push_back(e["type"]);
  // sh starts and execs; true starts (fork or vfork), execs, exits; sh exits with 3.
  REQUIRE(kinds.size() == 6);
  CHECK(kinds[0] == "process_start");
  CHECK(r.lifecycle[1]["args"]["argv"] ==
        nlohmann::json::array({"/bin/sh", "-c", "/bin/true; exit 3"}));
  auto exec_true = std::find_if(r.lifecycle.begin(), r.lifecycle.end(), [](const auto& e) {
    return e["type"] == "process_exec" && e["args"]["exe"] == "/usr/bin/true";
  });
  REQUIRE(exec_true != r.lifecycle.end());
  CHECK((*exec_true)["args"]["argv"] == nlohmann::json::array({"/bin/true"}));
  CHECK(r.lifecycle.back()["type"] == "process_exit");
  CHECK(r.lifecycle.back()["args"]["exit_code"] == 3);
}

TEST_CASE("shell redirections to /dev/null work under the default policy", "[tree]") {
  auto r = Run({"/bin/sh", "-c", "echo hidden > /dev/null; echo shown 2>/dev/null"});
  CHECK(r.status == 0);
  CHECK(r.out == "shown\n");
  CHECK(r.events.empty());
}
