// Runs the real tracejail binary on real sample programs and collects what it did: exit
// status, stdout, stderr and the events file. Everything here is synchronous: the harness waits
// for process exit, never for time.
#pragma once

#include <sys/types.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace harness {

struct Result {
  int status = -1;  // exit code, or 128+signal like a shell
  std::string out;
  std::string err;
  std::vector<nlohmann::json> events;  // decisions: without lifecycle and log_end records
  // process_start / process_exec / process_exit, and file_dropped at the end
  std::vector<nlohmann::json> lifecycle;
  bool log_closed = false;  // the events file ended with its log_end record

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
  // Run tracejail as this user (and its own group, no supplementary groups) instead of the
  // test's: the events file's directory is handed to it. -1: the test's user.
  int as_uid = -1;
  // Runs in the forked child before it changes user and execs (e.g. joins a cgroup); false
  // makes the child exit 203.
  std::function<bool()> in_child;
};

Result Run(const std::vector<std::string>& command, const Options& options = {});

// Runs `tracejail ARGS...` for a subcommand other than `run` (policy, report, verify, stats),
// stdin from /dev/null, in `cwd` when given.
Result Tool(const std::vector<std::string>& args, const std::string& cwd = "");

// Runs `command` without tracejail (the baseline for "behaves exactly as without tracejail").
Result RunNative(const std::vector<std::string>& command, const std::string& cwd = "");

// Headless Chromium on `url` with `args` (--screenshot=FILE, --dump-dom, --window-size=...),
// its profile under `scratch`: its stdout (the DOM with --dump-dom) and stderr, where page errors
// and console messages are logged as CONSOLE(...) lines.
Result HeadlessChromium(const std::string& url, const std::vector<std::string>& args,
                        const std::string& scratch);

std::string Sample(const std::string& name);  // absolute path of a built sample
std::string Slurp(const std::string& path);   // a whole file, or "" when unreadable
std::string Tracejail();

// The number of attempts a race test makes, as text for a sample's argv: `n`, or fewer when
// TRACEJAIL_RACE_ITERATIONS caps it (scripts/test.sh caps it for the sanitizer build, whose
// tracer is several times slower; the race is the same, tried fewer times).
std::string Iterations(int n);

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

// A directory standard does not let programs write, as a user's project would be: made under
// the test's working directory, else HOME, whichever is outside every temporary directory
// (the build tree may itself be under /tmp, as on CI). path() is empty when there is none: the
// test then skips. Removed with everything in it.
class ProjectDir {
 public:
  ProjectDir();
  ~ProjectDir();
  ProjectDir(const ProjectDir&) = delete;
  ProjectDir& operator=(const ProjectDir&) = delete;
  const std::string& path() const { return path_; }

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

// Whether the tests may use two CPUs or more; if not, skips with `why_needed` in the reason.
bool TwoCpus(const std::string& why_needed);

}  // namespace harness
