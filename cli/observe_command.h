// `tracejail observe -p PID`: attach to a running process and its future children, decode and
// decide what it does against a policy (audit: "would deny"; --enforce: denied calls are
// skipped), record the same events, live view and result as `run`, and let go of it unharmed on
// Ctrl-C/SIGTERM, after --duration, or when it ends (tracer/observer.h). docs/observe.md says
// what can and cannot be enforced after the fact.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace cli {

struct ObserveArgs {
  pid_t pid = 0;
  std::string policy_file;
  std::string level;
  std::string events_file;
  std::string events_key;
  bool raw_events = false;
  std::string live;                      // "" (off), "all" or "denied"
  std::string trace_file;                // -o FILE: the live view goes there, not to stderr
  std::vector<std::string> trace_exprs;  // -e trace=SET: which calls the live view shows
  bool quiet = false;                    // -q: tracejail says only errors and warnings
  bool verbose = false;                  // -v: the plan, and every denial in the summary
  std::string result_file;
  bool summary = true;
  std::string duration;  // "" (until the process ends or a signal), "30s", "5m"...
  bool enforce = false;
};

void AddObserveOptions(CLI::App* cmd, ObserveArgs& args);

// tracejail's exit status: the process's own when it ended while observed (128+N for signal N,
// 122 when --enforce killed it), 0 when it was let go running, 127 no such process, 126 attach
// not permitted (ptrace_scope, another tracer, another user), 120/121 usage or policy errors,
// 125 tracejail failed.
int Observe(const ObserveArgs& args);

}  // namespace cli
