// The options of one supervised run, as `tracejail run` and `tracejail exec` parse them
// (cli/run_options.h) and RunCommand (cli/run_command.h) carries them out.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "policy/limits.h"

namespace cli {

struct RunArgs {
  std::string policy_file;
  std::string level;
  std::string events_file;
  bool raw_events = false;  // --raw-events: every occurrence in full, repeats not folded
  std::string events_key;   // --events-key FILE: the chain's links are HMACs under its bytes
  std::string mode = "enforce";
  std::vector<std::string> env;
  std::vector<std::string> keep_env;
  // --file NAME=FILE: FILE copied into the private work dir as NAME; the command starts there.
  std::vector<std::string> files;
  std::string result_file;
  bool hide_output = false;  // --hide-output: capture the command's output, do not pass it on
  bool quiet = false;        // -q: tracejail says only errors and warnings (no summary, notes)
  bool verbose = false;      // -v: the plan before the run, every denial noted in the summary
  bool summary = true;
  bool allow_degraded = false;
  std::map<policy::LimitKind, std::string> limit_flags;  // --cpu 2s, --memory 256MiB, ...
  std::string live;                                      // --live: "" (off), "all" or "denied"
  std::string trace_file;                // -o FILE: the live view goes there, not to stderr
  std::vector<std::string> trace_exprs;  // -e trace=SET: which calls the live view shows
  std::string stream;                    // --stream unix:PATH | tcp:ADDRESS:PORT
  bool explain = false;   // --explain: after the run, what was tried and what stopped it
  int stream_wait = 0;    // --stream-wait N: start the command once N subscribers are connected
  int stream_stall = 10;  // --stream-stall SECONDS: close a subscriber that took nothing so long
  // --stream-token-file FILE (tcp): the token's file, made there or read from it (stream_token.h)
  std::string stream_token_file;
  bool stream_allow_remote = false;  // --stream-allow-remote: tcp on a non-loopback address
  std::string same_cpu = "auto";     // --same-cpu: auto (tracer/same_cpu.h) or off
  std::string stack = "denials";     // --stack: off, denials or all (tracer/stack_unwinder.h)
  // --collect DIR: copies of the files the program left behind (tracer/artifact_tracker.h), at
  // most --collect-max bytes in all.
  std::string collect_dir;
  std::string collect_max = "256MiB";
  std::vector<std::string> cap_add, cap_drop;  // --cap-add / --cap-drop: names or ALL
  bool tty = false;               // --tty: keep the controlling terminal (interactive use)
  std::string kill_grace = "2s";  // --kill-grace: after a forwarded SIGINT/SIGTERM/SIGHUP
  std::vector<std::string> command;

  // For `exec`: always a private work dir, the command starts in it, output is captured, and
  // these files (name in the work dir, content) are written there by the child before exec.
  bool start_in_workdir = false;
  bool capture = false;
  // `exec`: the wall-clock timeout when the policy has none, or a preset's when it is longer
  // (milliseconds; 0: none). --timeout overrides it (cli/exec_command.cc).
  std::uint64_t default_timeout_ms = 0;
  std::vector<std::pair<std::string, std::string>> workdir_files;
};

}  // namespace cli
