// What supervising one run found out (RunFacts: tracer::RunResult extends it), and how that
// becomes the execution result: the mapping from facts to a status, counts and limits, kept
// here so it is one pure function with its own tests rather than logic in the CLI.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "policy/limits.h"
#include "report/result.h"

namespace report {

struct LimitHit {
  policy::LimitKind kind;
  std::string observed;
};

struct RunFacts {
  int exit_code = 0;    // the main process's exit status, when it exited
  int term_signal = 0;  // the signal that killed it, when it was killed
  bool killed_by_policy = false;
  std::uint64_t flagged = 0;  // seccomp stops handled
  // syscall-exit stops taken only to show allowed calls' results (--live, -o); 0 without
  std::uint64_t return_stops = 0;
  std::uint64_t denied = 0;     // calls denied (or, in audit mode, that would have been)
  std::uint64_t processes = 0;  // processes and threads seen
  std::uint64_t events = 0;
  bool timed_out = false;
  std::vector<LimitHit> limits_hit;          // in the order they were seen
  std::optional<std::uint64_t> peak_memory;  // of the whole tree, from the cgroup
  nlohmann::json scheduling;                 // tracer::SameCpu::Describe()
  // tracejail itself failed while supervising (waitpid, an exception, a task lost): the tree
  // was killed and the run's outcome is unknown. Empty: no such failure.
  std::string internal_error;
  // `observe` let go of the process while it ran on (a signal, --duration): no exit status.
  bool detached = false;
  int interrupted = 0;  // the first SIGINT/SIGTERM/SIGHUP/SIGQUIT tracejail received, or 0
  // The first denials, kills included: kFirstDenials (Watch::denial_notes with -v).
  std::vector<DenialNote> first_denials;
  std::optional<DenialNote> killed_by;  // the call whose kill rule ended the tree
  // What the program left behind (file_dropped events, tracer/artifact_tracker.h): the files it
  // created, changed or removed; names left untracked past the bounds; why --collect's index
  // could not be written ("" when it was, or without --collect).
  std::uint64_t dropped_files = 0;
  std::uint64_t untracked_files = 0;
  std::string collect_error;
};

// Times of the whole run: wall clock, and the tree's CPU and largest process (RUSAGE_CHILDREN
// covers every process of the tree, since tracejail reaps orphans as a subreaper).
struct ResourceUsage {
  double wall_s = 0;
  double cpu_user_s = 0;
  double cpu_system_s = 0;
  std::uint64_t peak_rss_bytes = 0;
};

// Everything of `exec` but the captured output and the record's own fields: the status (one
// word, in order of precedence: internal error, timeout, kill by policy, limit, signal, exit
// status), exit code or signal, times and counts. `spawn_failed`: the command never started.
void FillResult(const RunFacts& facts, bool spawn_failed, const ResourceUsage& usage,
                ExecutionResult& exec);

}  // namespace report
