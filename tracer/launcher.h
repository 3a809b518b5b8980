// Starts the command as a seized tracee. The child, before execve: resets signal state, takes
// its own process group, dies with its parent (PR_SET_PDEATHSIG), waits until the tracer has
// seized it, sets PR_SET_NO_NEW_PRIVS and loads the filter. Only async-signal-safe calls run
// between fork and execve; a failure there is sent to the parent over a CLOEXEC pipe.
//
// Must be called on the thread that will issue every later ptrace request.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "tracer/unique_fd.h"

namespace tracer {

struct LaunchSpec {
  std::string exe;  // absolute or relative path, already checked to exist
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::vector<sock_filter> filter;
  int stdout_fd = -1;  // when set, becomes the child's stdout / stderr
  int stderr_fd = -1;
};

// What the child reports when it could not reach execve.
struct SpawnError {
  enum Stage : int { kNoNewPrivs = 1, kSeccomp, kExecve, kSetup };
  int stage = 0;
  int error = 0;
  std::string Describe(const std::string& exe) const;
};

struct Launched {
  pid_t pid = -1;
  UniqueFd errors;  // read end; EOF once execve succeeded
};

// Throws std::runtime_error when fork or PTRACE_SEIZE fails (the child is killed and reaped).
Launched Launch(const LaunchSpec& spec);

// Reads the child's report after it exited before exec; nullopt when it sent none.
std::optional<SpawnError> ReadSpawnError(int fd);

// PTRACE_O_* options every tracee gets.
long TraceOptions();

}  // namespace tracer
