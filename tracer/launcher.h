// Starts the command as a seized tracee. The child, before execve: resets signal state, starts
// a new session (or, keeping the terminal, its own foreground process group), dies with its parent
// (PR_SET_PDEATHSIG), waits until the tracer has seized it, sets PR_SET_NO_NEW_PRIVS and loads the
// filter. Only async-signal-safe calls run between fork and execve; a failure there is sent to the
// parent over a CLOEXEC pipe.
//
// Must be called on the thread that will issue every later ptrace request.
#pragma once

#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>

#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"

namespace tracer {

// Isolation prepared in the parent (tracer/isolation.h), applied by the child before execve with
// async-signal-safe calls only. Everything here is optional; a default Sandbox changes nothing.
struct Sandbox {
  int clone_flags = 0;  // CLONE_NEW* namespaces the child is created in
  // CLONE_NEWUSER: what the parent writes to the child's uid_map / gid_map ("0 65534 1" for
  // root; "1000 1000 1" for an unprivileged caller, mapped to itself), and the ids the child
  // takes inside.
  std::string uid_map, gid_map;
  uid_t inner_uid = 0;
  gid_t inner_gid = 0;
  bool deny_setgroups = false;  // write "deny" to /proc/PID/setgroups first (unprivileged)
  // Mount namespace: every listed mount point is remounted read-only (flags: the MS_* flags it
  // must keep, such as MS_NOSUID), then the work dir gets a tmpfs, then /proc a fresh procfs.
  std::vector<std::pair<std::string, unsigned long>> read_only_mounts;
  std::string tmpfs_dir, tmpfs_options;  // "size=67108864,mode=0700"
  bool mount_proc = false;
  // Files the child creates (absolute path, content) once its mounts are in place: the code
  // `tracejail exec` runs, written into the work dir's tmpfs.
  std::vector<std::pair<std::string, std::string>> files;
  std::string hostname;  // CLONE_NEWUTS
  std::string chdir_to;  // the command's working directory ("" keeps tracejail's)
  std::vector<std::pair<int, rlimit>> rlimits;
  // Capabilities: with `restrict_caps`, every set (bounding, permitted, effective, inheritable,
  // ambient) is cut to `keep_caps`; without, to the caller's. CAP_SYS_PTRACE never stays.
  bool restrict_caps = false;
  std::uint64_t keep_caps = 0;
  // The command starts a new session with no controlling terminal (TIOCSTI and job-control
  // signals cannot reach the caller's terminal); false keeps the terminal (--tty), and the
  // command's process group becomes its foreground group.
  bool new_session = true;
  // Landlock: a ruleset handling `landlock_handled`, granting each path its rights.
  std::uint64_t landlock_handled = 0;
  std::vector<std::pair<std::string, std::uint64_t>> landlock_grants;
  // Runs in the parent once the child exists and before it is released (cgroup attach).
  // Returns an error message, or empty.
  std::function<std::string(pid_t)> before_release;
};

// Raises tracejail's soft RLIMIT_NOFILE to its hard limit, once (a tree of thousands of
// processes must not run the supervisor out of descriptors), and remembers the limit it was
// started with: the command gets that one back (PrepareIsolation), unless the policy sets
// open_files. Returns the original limit.
rlimit RaiseOwnFileLimit();

struct LaunchSpec {
  std::string exe;  // absolute or relative path, already checked to exist
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::vector<sock_filter> filter;
  int stdout_fd = -1;  // when set, becomes the child's stdout / stderr
  int stderr_fd = -1;
  Sandbox sandbox;
};

// What the child reports when it could not reach execve.
struct SpawnError {
  enum Stage : int {
    kNoNewPrivs = 1,
    kSeccomp,
    kExecve,
    kSetup,
    kIdentity,  // setgroups/setresgid/setresuid in the user namespace
    kMount,     // `detail` names the mount point
    kHostname,
    kChdir,
    kRlimit,
    kLandlock,
    kFiles,  // `index`: which file
    kCapabilities,
  };
  int stage = 0;
  int error = 0;
  int index = -1;  // kMount: which step (see Launch); kRlimit: which resource
  std::string Describe(const LaunchSpec& spec) const;
};

struct Launched {
  pid_t pid = -1;
  base::UniqueFd errors;  // read end; EOF once execve succeeded
  // In a new PID namespace `pid` is the namespace's init, and the command is its first child.
  bool init = false;
};

// Throws std::runtime_error when fork or PTRACE_SEIZE fails, or `before_release` reports an
// error (the child is killed and reaped).
Launched Launch(const LaunchSpec& spec);

// Reads the child's report after it exited before exec; nullopt when it sent none.
std::optional<SpawnError> ReadSpawnError(int fd);

// PTRACE_O_* options every tracee gets.
long TraceOptions();

}  // namespace tracer
