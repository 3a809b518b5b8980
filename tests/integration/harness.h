// Runs the real tracejail binary on real sample programs and collects what it did: exit
// status, stdout, stderr and the events file. Everything here is synchronous: the harness waits
// for process exit, never for time.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace harness {

struct Result {
  int status = -1;  // exit code, or 128+signal like a shell
  std::string out;
  std::string err;
  std::vector<nlohmann::json> events;     // decisions: without lifecycle and log_end records
  std::vector<nlohmann::json> lifecycle;  // process_start / process_exec / process_exit
  bool log_closed = false;                // the events file ended with its log_end record

  // Events whose type is `type` (and, when given, whose syscall name is `syscall`).
  std::vector<nlohmann::json> Events(const std::string& type,
                                     const std::string& syscall = "") const;
};

struct Options {
  std::vector<std::string> tracejail_args;  // before "--"
  std::string cwd;                          // empty: the test's cwd
  bool events = true;                       // pass --events to a temp file and parse it
  // Every occurrence as its own record (--raw-events), so tests can count them; false: repeats
  // folded as by default (report/event_log.h).
  bool raw_events = true;
  bool summary = false;  // false: pass --no-summary (stderr is the command's)
};

Result Run(const std::vector<std::string>& command, const Options& options = {});

// Runs `tracejail ARGS...` for a subcommand other than `run` (policy, report, verify, stats),
// stdin from /dev/null, in `cwd` when given.
Result Tool(const std::vector<std::string>& args, const std::string& cwd = "");

// Runs `command` without tracejail (the baseline for "behaves exactly as without tracejail").
Result RunNative(const std::vector<std::string>& command, const std::string& cwd = "");

std::string Sample(const std::string& name);  // absolute path of a built sample
std::string Slurp(const std::string& path);   // a whole file, or "" when unreadable
std::string Tracejail();

// In a forked child: replaces it with `tracejail ARGS...` (exit 202 if exec fails). For tests
// that drive tracejail themselves (signals, pipes) instead of through Run.
[[noreturn]] void ExecTracejail(const std::vector<std::string>& args);

// A private temporary directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name, const std::string& content) const;  // writes it

 private:
  std::string path_;
};

// A TCP (or UDP) socket bound on 127.0.0.1 with an ephemeral port.
class LoopbackListener {
 public:
  explicit LoopbackListener(bool udp = false);
  ~LoopbackListener();
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;
  int port() const { return port_; }
  // True when a connection (TCP) or a datagram (UDP) has arrived; does not block.
  bool Received();

 private:
  int fd_ = -1;
  int port_ = 0;
  bool udp_ = false;
};

// Prints the marker CTest counts as a skip (tests/CMakeLists.txt).
void Skip(const std::string& reason);

}  // namespace harness
