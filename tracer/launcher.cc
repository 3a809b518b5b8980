#include "tracer/launcher.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "policy/capabilities.h"

namespace tracer {
namespace {

struct Pipe {
  base::UniqueFd read, write;
};

Pipe MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(fmt::format("pipe2: {}", std::strerror(errno)));
  }
  return {base::UniqueFd(fds[0]), base::UniqueFd(fds[1])};
}

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

[[noreturn]] void ChildFail(int fd, SpawnError::Stage stage, int index = -1) {
  int msg[3] = {stage, errno, index};
  ssize_t ignored = write(fd, msg, sizeof msg);
  (void)ignored;
  _exit(127);
}

// Everything the child needs, prepared by the parent: the child only reads it.
struct ChildPlan {
  pid_t parent;
  int go_fd, err_fd;
  const char* exe;
  char** argv;
  char** envp;
  const sock_fprog* prog;
  int out_fd, errout_fd;
  const Sandbox* sandbox;
  std::vector<landlock_path_beneath_attr>* landlock_rules;  // parent_fd filled in by the child
};

void ApplyMounts(const ChildPlan& c) {
  const Sandbox& sb = *c.sandbox;
  if ((sb.clone_flags & CLONE_NEWNS) == 0) return;
  // Nothing done here may propagate back to the host's mounts.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    ChildFail(c.err_fd, SpawnError::kMount, 0);
  }
  // An unprivileged caller's mount point that it cannot reach (another user's 0700 directory
  // above it) is out of the command's reach too: the command is the same user, without
  // capabilities after execve.
  const bool rootless = (sb.clone_flags & CLONE_NEWUSER) != 0 && sb.inner_uid != 0;
  int step = 1;
  for (const auto& [target, keep] : sb.read_only_mounts) {
    if (mount(target.c_str(), target.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | keep,
              nullptr) != 0 &&
        errno != ENOENT && !(rootless && errno == EACCES)) {
      ChildFail(c.err_fd, SpawnError::kMount, step);
    }
    ++step;
  }
  if (!sb.tmpfs_dir.empty() && mount("tracejail", sb.tmpfs_dir.c_str(), "tmpfs",
                                     MS_NOSUID | MS_NODEV, sb.tmpfs_options.c_str()) != 0) {
    ChildFail(c.err_fd, SpawnError::kMount, -2);
  }
  if (sb.mount_proc &&
      mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    ChildFail(c.err_fd, SpawnError::kMount, -3);
  }
}

// Capabilities are an isolation layer (docs/isolation.md): every set is cut to what the level
// keeps. CAP_SYS_PTRACE leaves at every level: it lets a root program ptrace, and read the
// memory and descriptors of, any process (tracejail and its ancestors included), and nothing in
// a traced tree needs it. The bounding set goes first (dropping needs CAP_SETPCAP, which may
// itself be dropped next). With NO_NEW_PRIVS set next, no execve brings a capability back: root
// gets (inheritable | bounding) & old permitted on exec.
void DropCapabilities(const ChildPlan& c) {
  const Sandbox& sb = *c.sandbox;
  std::uint64_t keep = sb.restrict_caps ? sb.keep_caps : ~std::uint64_t{0};
  keep &= ~(std::uint64_t{1} << CAP_SYS_PTRACE);
  for (int cap = 0; cap < 64; ++cap) {
    if ((keep & (std::uint64_t{1} << cap)) != 0) continue;
    // EINVAL past the kernel's last capability; EPERM without CAP_SETPCAP (an unprivileged
    // caller, whose exec grants nothing anyway: capset below still empties its sets).
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno == EINVAL) break;
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, cap, 0, 0);
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (syscall(SYS_capget, &header, data) != 0) ChildFail(c.err_fd, SpawnError::kCapabilities);
  for (unsigned word = 0; word < _LINUX_CAPABILITY_U32S_3; ++word) {
    auto mask = static_cast<std::uint32_t>(keep >> (32 * word));
    data[word].effective &= mask;
    data[word].permitted &= mask;
    data[word].inheritable &= mask;
  }
  if (syscall(SYS_capset, &header, data) != 0) ChildFail(c.err_fd, SpawnError::kCapabilities);
  // Check, never assume: a capability still in the bounding set would come back on exec.
  for (int cap = 0; cap < 64; ++cap) {
    if ((keep & (std::uint64_t{1} << cap)) != 0) continue;
    int in = static_cast<int>(prctl(PR_CAPBSET_READ, cap, 0, 0, 0));
    if (in < 0) break;  // past the last capability
    // Root, and any caller in a user namespace it made (it holds CAP_SETPCAP there), can drop
    // every capability: one left means the drop failed.
    if (in == 1 && (geteuid() == 0 || (sb.clone_flags & CLONE_NEWUSER) != 0)) {
      errno = EPERM;
      ChildFail(c.err_fd, SpawnError::kCapabilities, cap);
    }
  }
}

void ApplyLandlock(const ChildPlan& c) {
  const Sandbox& sb = *c.sandbox;
  if (sb.landlock_handled == 0) return;
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = sb.landlock_handled;
  long ruleset = syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (ruleset < 0) ChildFail(c.err_fd, SpawnError::kLandlock, -1);
  for (std::size_t i = 0; i < sb.landlock_grants.size(); ++i) {
    const auto& grant = sb.landlock_grants[i];
    int fd = open(grant.first.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) continue;  // gone since the plan was made: nothing to grant
    struct stat st {};
    landlock_path_beneath_attr& rule = (*c.landlock_rules)[i];
    rule.parent_fd = fd;
    rule.allowed_access = grant.second & sb.landlock_handled;
    if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) {
      rule.allowed_access &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                             LANDLOCK_ACCESS_FS_READ_FILE | (1ULL << 14) /* TRUNCATE */;
    }
    if (rule.allowed_access != 0 &&
        syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
      ChildFail(c.err_fd, SpawnError::kLandlock, static_cast<int>(i));
    }
    close(fd);
  }
  if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
    ChildFail(c.err_fd, SpawnError::kLandlock, -2);
  }
  close(static_cast<int>(ruleset));
}

// PID 1 of a new PID namespace ignores every signal it has no handler for, SIGXCPU and SIGXFSZ
// included, so the command must not be PID 1. This process stays as the namespace's init: it
// starts the command (already filtered and traced, like any child), reaps orphans, and exits
// with the command's status; the namespace dies with it.
void RunAsInit(const ChildPlan& c) {
  pid_t cmd = static_cast<pid_t>(syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (cmd < 0) ChildFail(c.err_fd, SpawnError::kSetup);
  if (cmd == 0) return;  // the command: back to execve
  close(c.err_fd);
  for (;;) {
    int status = 0;
    pid_t w = static_cast<pid_t>(syscall(SYS_wait4, -1, &status, 0, nullptr));
    if (w == cmd) _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    if (w < 0 && errno != EINTR) _exit(125);
  }
}

// Runs in the child between fork and execve: async-signal-safe calls only.
[[noreturn]] void ChildMain(const ChildPlan& c) {
  const Sandbox& sb = *c.sandbox;
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (sb.new_session) {
    // No controlling terminal: the program cannot push input into the caller's terminal
    // (TIOCSTI) nor signal its foreground job through it.
    if (setsid() < 0) ChildFail(c.err_fd, SpawnError::kSetup);
  } else {
    if (setpgid(0, 0) != 0) ChildFail(c.err_fd, SpawnError::kSetup);
    // --tty: the command's group becomes the terminal's foreground group, so it may read it
    // (SIGTTOU is blocked for the call: a background group may not change it otherwise).
    if (isatty(STDIN_FILENO) == 1 && tcgetsid(STDIN_FILENO) == getsid(0)) {
      sigset_t ttou, old;
      sigemptyset(&ttou);
      sigaddset(&ttou, SIGTTOU);
      sigprocmask(SIG_BLOCK, &ttou, &old);
      tcsetpgrp(STDIN_FILENO, getpid());
      sigprocmask(SIG_SETMASK, &old, nullptr);
    }
  }
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(c.err_fd, SpawnError::kSetup);
  // In a new PID namespace the parent is invisible (getppid() is 0); the go pipe still tells.
  if ((sb.clone_flags & CLONE_NEWPID) == 0 && getppid() != c.parent) _exit(127);
  char go = 0;
  ssize_t n;
  do {
    n = read(c.go_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) _exit(127);  // the tracer failed to seize us: never run untraced
  // Steps that can fail on what the caller handed over come after the seize: a child that
  // failed and exited before it was seized would leave the tracer only EPERM from
  // PTRACE_SEIZE, not the reason.
  if ((c.out_fd >= 0 && dup2(c.out_fd, STDOUT_FILENO) < 0) ||
      (c.errout_fd >= 0 && dup2(c.errout_fd, STDERR_FILENO) < 0)) {
    ChildFail(c.err_fd, SpawnError::kSetup);
  }
  if ((sb.clone_flags & CLONE_NEWUSER) != 0) {
    // Raw syscalls: glibc's set*id wrappers synchronise every thread of the parent we were
    // copied from (and would wait for them forever).
    if ((!sb.deny_setgroups && syscall(SYS_setgroups, 0, nullptr) != 0) ||
        syscall(SYS_setresgid, sb.inner_gid, sb.inner_gid, sb.inner_gid) != 0 ||
        syscall(SYS_setresuid, sb.inner_uid, sb.inner_uid, sb.inner_uid) != 0) {
      ChildFail(c.err_fd, SpawnError::kIdentity);
    }
  }
  ApplyMounts(c);
  for (std::size_t i = 0; i < sb.files.size(); ++i) {
    const auto& [path, content] = sb.files[i];
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    std::size_t done = 0;
    while (fd >= 0 && done < content.size()) {
      ssize_t w = write(fd, content.data() + done, content.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      done += static_cast<std::size_t>(w);
    }
    if (fd < 0 || done != content.size() || close(fd) != 0) {
      ChildFail(c.err_fd, SpawnError::kFiles, static_cast<int>(i));
    }
  }
  if (!sb.hostname.empty() && sethostname(sb.hostname.data(), sb.hostname.size()) != 0) {
    ChildFail(c.err_fd, SpawnError::kHostname);
  }
  if (!sb.chdir_to.empty() && chdir(sb.chdir_to.c_str()) != 0) {
    ChildFail(c.err_fd, SpawnError::kChdir);
  }
  for (const auto& [resource, value] : sb.rlimits) {
    if (setrlimit(static_cast<__rlimit_resource>(resource), &value) != 0) {
      ChildFail(c.err_fd, SpawnError::kRlimit, resource);
    }
  }
  DropCapabilities(c);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ChildFail(c.err_fd, SpawnError::kNoNewPrivs);
  ApplyLandlock(c);
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, c.prog) != 0) {
    ChildFail(c.err_fd, SpawnError::kSeccomp);
  }
  if ((sb.clone_flags & CLONE_NEWPID) != 0) RunAsInit(c);
  execve(c.exe, c.argv, c.envp);
  ChildFail(c.err_fd, SpawnError::kExecve);
}

bool WriteProcFile(pid_t pid, const char* name, const std::string& value) {
  std::string path = fmt::format("/proc/{}/{}", pid, name);
  base::UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  return fd.valid() &&
         write(fd.get(), value.data(), value.size()) == static_cast<ssize_t>(value.size());
}

}  // namespace

rlimit RaiseOwnFileLimit() {
  static const rlimit original = [] {
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) != 0) return rlimit{RLIM_INFINITY, RLIM_INFINITY};
    rlimit raised{r.rlim_max, r.rlim_max};
    setrlimit(RLIMIT_NOFILE, &raised);  // best effort: the supervisor copes with EMFILE too
    return r;
  }();
  return original;
}

long TraceOptions() {
  return PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
         PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL |
         PTRACE_O_TRACESYSGOOD;  // syscall-stops only while mapping the pin region
}

std::string SpawnError::Describe(const LaunchSpec& spec) const {
  const Sandbox& sb = spec.sandbox;
  std::string why = std::strerror(error);
  switch (stage) {
    case kNoNewPrivs:
      return fmt::format("prctl(PR_SET_NO_NEW_PRIVS) failed: {}", why);
    case kSeccomp:
      return fmt::format(
          "loading the seccomp filter failed: {} (is seccomp enabled in this "
          "kernel?)",
          why);
    case kExecve:
      return fmt::format("cannot execute {}: {}", spec.exe, why);
    case kIdentity:
      return sb.inner_uid == 0
                 ? fmt::format("becoming root inside the user namespace failed: {}", why)
                 : fmt::format("taking uid {} and gid {} inside the user namespace failed: {}",
                               sb.inner_uid, sb.inner_gid, why);
    case kMount: {
      std::string what =
          index == 0    ? "making / private"
          : index == -2 ? fmt::format("mounting the work dir's tmpfs on {}", sb.tmpfs_dir)
          : index == -3 ? "mounting a fresh /proc for the PID namespace"
          : index > 0 && static_cast<std::size_t>(index) <= sb.read_only_mounts.size()
              ? fmt::format("remounting {} read-only",
                            sb.read_only_mounts[static_cast<std::size_t>(index) - 1].first)
              : "a mount";
      return fmt::format(
          "{} failed: {} (the levels strict and maximum need a mount namespace; "
          "--level standard runs without one)",
          what, why);
    }
    case kHostname:
      return fmt::format("sethostname in the UTS namespace failed: {}", why);
    case kChdir:
      return fmt::format("cannot enter the working directory {}: {}", sb.chdir_to, why);
    case kRlimit:
      return fmt::format("setrlimit({}) failed: {}", index, why);
    case kFiles:
      return fmt::format("writing {} into the work dir failed: {}",
                         index >= 0 && static_cast<std::size_t>(index) < sb.files.size()
                             ? sb.files[static_cast<std::size_t>(index)].first
                             : "a file",
                         why);
    case kCapabilities:
      return index >= 0 ? fmt::format(
                              "capability {} could not be removed from the command's "
                              "bounding set (tracejail needs CAP_SETPCAP to drop it)",
                              policy::CapName(index))
                        : fmt::format("dropping the command's capabilities failed: {}", why);
    case kLandlock:
      return index >= 0 && static_cast<std::size_t>(index) < sb.landlock_grants.size()
                 ? fmt::format("Landlock rule for {} failed: {}",
                               sb.landlock_grants[static_cast<std::size_t>(index)].first, why)
                 : fmt::format("enabling Landlock failed: {}", why);
    default:
      return fmt::format("child setup failed: {}", why);
  }
}

Launched Launch(const LaunchSpec& spec) {
  Pipe go = MakePipe();
  Pipe err = MakePipe();
  std::vector<char*> argv = CStrings(spec.argv);
  std::vector<char*> envp = CStrings(spec.env);
  sock_fprog prog{static_cast<unsigned short>(spec.filter.size()),
                  const_cast<sock_filter*>(spec.filter.data())};
  std::vector<landlock_path_beneath_attr> landlock_rules(spec.sandbox.landlock_grants.size());
  ChildPlan plan{getpid(),       go.read.get(), err.write.get(), spec.exe.c_str(),
                 argv.data(),    envp.data(),   &prog,           spec.stdout_fd,
                 spec.stderr_fd, &spec.sandbox, &landlock_rules};
  pid_t pid = spec.sandbox.clone_flags == 0
                  ? fork()
                  : static_cast<pid_t>(syscall(SYS_clone, SIGCHLD | spec.sandbox.clone_flags,
                                               nullptr, nullptr, nullptr, nullptr));
  if (pid < 0) {
    throw std::runtime_error(
        spec.sandbox.clone_flags == 0
            ? fmt::format("fork: {}", std::strerror(errno))
            : fmt::format("clone with new namespaces failed: {} (user namespaces may be "
                          "disabled: see /proc/sys/user/max_user_namespaces)",
                          std::strerror(errno)));
  }
  if (pid == 0) ChildMain(plan);
  go.read.Reset();
  err.write.Reset();
  auto abandon = [&](const std::string& message) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, __WALL);
    throw std::runtime_error(message);
  };
  if (ptrace(PTRACE_SEIZE, pid, nullptr, TraceOptions()) != 0) {
    const int seize_errno = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, __WALL);
    // The child is gone and its end of the error pipe closed: a reason it gave before it
    // exited (a setup step that failed before the seize) is the truthful one.
    if (std::optional<SpawnError> failed = ReadSpawnError(err.read.get())) {
      throw std::runtime_error(failed->Describe(spec) + " (before it could be traced)");
    }
    throw std::runtime_error(fmt::format(
        "ptrace(PTRACE_SEIZE) failed: {} (check /proc/sys/kernel/yama/ptrace_scope and that "
        "tracejail is not itself traced)",
        std::strerror(seize_errno)));
  }
  const Sandbox& sb = spec.sandbox;
  if ((sb.clone_flags & CLONE_NEWUSER) != 0) {
    if ((sb.deny_setgroups && !WriteProcFile(pid, "setgroups", "deny")) ||
        !WriteProcFile(pid, "uid_map", sb.uid_map) || !WriteProcFile(pid, "gid_map", sb.gid_map)) {
      abandon(
          fmt::format("writing the user namespace's uid/gid map failed: {}", std::strerror(errno)));
    }
  }
  if (sb.before_release) {
    std::string e = sb.before_release(pid);
    if (!e.empty()) abandon(e);
  }
  char ok = 1;
  if (write(go.write.get(), &ok, 1) != 1) abandon("could not release the child after seizing it");
  return Launched{pid, std::move(err.read), (sb.clone_flags & CLONE_NEWPID) != 0};
}

std::optional<SpawnError> ReadSpawnError(int fd) {
  int msg[3];
  ssize_t n = read(fd, msg, sizeof msg);
  if (n != static_cast<ssize_t>(sizeof msg)) return std::nullopt;
  return SpawnError{msg[0], msg[1], msg[2]};
}

}  // namespace tracer
