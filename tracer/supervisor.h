// The tracer loop: one thread, the only one that issues ptrace requests. It follows the whole
// process tree (fork, vfork, clone, exec by any thread, group-stops, signals), decides every
// flagged syscall against the policy, enforces (allow, skip with an errno, kill the tree), and
// hands events to an EventLog. When the command's main process exits, everything it left is
// killed and reaped. No exceptions escape the loop; tracee failures (ESRCH) are normal.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/policy.h"
#include "report/event_log.h"
#include "tracer/launcher.h"
#include "tracer/output_capture.h"
#include "tracer/process_memory.h"
#include "tracer/syscall_table.h"

namespace tracer {

enum class Mode { kEnforce, kAudit };

struct RunResult {
  int exit_code = 0;    // the main process's exit status, when it exited
  int term_signal = 0;  // the signal that killed it, when it was killed
  bool killed_by_policy = false;
  std::optional<SpawnError> spawn_error;
  std::uint64_t flagged = 0;    // seccomp stops handled
  std::uint64_t denied = 0;     // calls denied (or, in audit mode, that would have been)
  std::uint64_t processes = 0;  // processes and threads seen
  std::uint64_t events = 0;
};

struct DecodedCall;

class Supervisor {
 public:
  Supervisor(const policy::Policy& policy, Mode mode, report::EventLog* log);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Launches `spec` and supervises it to the end. Throws only if the launch itself fails.
  // `capture`, when given, is started once the child exists.
  RunResult Run(const LaunchSpec& spec, OutputCapture* capture = nullptr);

  // Forwarded by the CLI's signal handler (async-signal-safe: sets a flag).
  static void RequestForward(int sig);

 private:
  struct Tracee {
    pid_t tid = 0;
    pid_t tgid = 0;   // 0 until known
    std::string exe;  // escaped, empty until needed
    std::unique_ptr<ProcessMemory> mem;
    std::vector<std::string> pending_argv;  // argv of an allowed execve, for the exec event
  };
  class Context;

  Tracee& Get(pid_t tid);
  pid_t TgidOf(Tracee& t);
  const std::string& ExeOf(Tracee& t);
  void HandleStop(pid_t tid, int status);
  void HandleExit(pid_t tid, int status);
  void HandleSeccomp(Tracee& t);
  void Enforce(Tracee& t, const policy::Decision& d);
  // `tip`: the policy fragment that would allow the call (kept for denials only).
  void Record(Tracee& t, const policy::Decision& d, nlohmann::json tip, const DecodedCall* call,
              long nr, std::uint32_t arch, const std::uint64_t* raw, const std::string& message);
  void Lifecycle(policy::EventType type, Tracee& t, nlohmann::json args, std::string message);
  void KillAll();
  void ForwardPendingSignals();

  const policy::Policy& policy_;
  Mode mode_;
  report::EventLog* log_;
  SyscallIndex index_;
  std::unordered_map<pid_t, Tracee> tracees_;
  pid_t main_pid_ = -1;
  bool killing_ = false;
  bool main_exec_seen_ = false;
  UniqueFd spawn_errors_;
  std::uint64_t seq_ = 0;
  RunResult result_;
};

}  // namespace tracer
