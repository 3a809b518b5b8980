#include "tracer/launcher.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace tracer {
namespace {

struct Pipe {
  UniqueFd read, write;
};

Pipe MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(fmt::format("pipe2: {}", std::strerror(errno)));
  }
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

[[noreturn]] void ChildFail(int fd, SpawnError::Stage stage) {
  int msg[2] = {stage, errno};
  ssize_t ignored = write(fd, msg, sizeof msg);
  (void)ignored;
  _exit(127);
}

// Runs in the child between fork and execve: async-signal-safe calls only.
[[noreturn]] void ChildMain(pid_t parent, int go_fd, int err_fd, const char* exe, char** argv,
                            char** envp, const sock_fprog* prog, int out_fd, int errout_fd) {
  if ((out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0) ||
      (errout_fd >= 0 && dup2(errout_fd, STDERR_FILENO) < 0)) {
    ChildFail(err_fd, SpawnError::kSetup);
  }
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (setpgid(0, 0) != 0) ChildFail(err_fd, SpawnError::kSetup);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(err_fd, SpawnError::kSetup);
  if (getppid() != parent) _exit(127);  // the tracer is already gone
  char go = 0;
  ssize_t n;
  do {
    n = read(go_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) _exit(127);  // the tracer failed to seize us: never run untraced
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ChildFail(err_fd, SpawnError::kNoNewPrivs);
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) != 0) {
    ChildFail(err_fd, SpawnError::kSeccomp);
  }
  execve(exe, argv, envp);
  ChildFail(err_fd, SpawnError::kExecve);
}

}  // namespace

long TraceOptions() {
  return PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
         PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
}

std::string SpawnError::Describe(const std::string& exe) const {
  switch (stage) {
    case kNoNewPrivs:
      return fmt::format("prctl(PR_SET_NO_NEW_PRIVS) failed: {}", std::strerror(error));
    case kSeccomp:
      return fmt::format(
          "loading the seccomp filter failed: {} (is seccomp enabled in this "
          "kernel?)",
          std::strerror(error));
    case kExecve:
      return fmt::format("cannot execute {}: {}", exe, std::strerror(error));
    default:
      return fmt::format("child setup failed: {}", std::strerror(error));
  }
}

Launched Launch(const LaunchSpec& spec) {
  Pipe go = MakePipe();
  Pipe err = MakePipe();
  std::vector<char*> argv = CStrings(spec.argv);
  std::vector<char*> envp = CStrings(spec.env);
  sock_fprog prog{static_cast<unsigned short>(spec.filter.size()),
                  const_cast<sock_filter*>(spec.filter.data())};
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    ChildMain(parent, go.read.get(), err.write.get(), spec.exe.c_str(), argv.data(), envp.data(),
              &prog, spec.stdout_fd, spec.stderr_fd);
  }
  go.read.Reset();
  err.write.Reset();
  if (ptrace(PTRACE_SEIZE, pid, nullptr, TraceOptions()) != 0) {
    int e = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    throw std::runtime_error(fmt::format(
        "ptrace(PTRACE_SEIZE) failed: {} (check /proc/sys/kernel/yama/ptrace_scope and that "
        "tracejail is not itself traced)",
        std::strerror(e)));
  }
  char ok = 1;
  if (write(go.write.get(), &ok, 1) != 1) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    throw std::runtime_error("could not release the child after seizing it");
  }
  return Launched{pid, std::move(err.read)};
}

std::optional<SpawnError> ReadSpawnError(int fd) {
  int msg[2];
  ssize_t n = read(fd, msg, sizeof msg);
  if (n != static_cast<ssize_t>(sizeof msg)) return std::nullopt;
  return SpawnError{msg[0], msg[1]};
}

}  // namespace tracer
