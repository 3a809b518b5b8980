// The execution result of one run (status, exit code, usage, limits, what was lost), as JSON for
// `--result FILE` and as a one-screen summary for stderr.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace report {

// isolate's spirit: one word for how the run ended.
enum class RunStatus : std::uint8_t {
  kOk,              // exited with status 0
  kRuntimeError,    // exited with a non-zero status
  kKilledBySignal,  // died of a signal it was not sent by tracejail
  kKilledByPolicy,  // a kill rule ended the tree
  kTimedOut,        // the wall-clock limit ended the tree
  kLimitExceeded,   // a resource limit ended it
  kInternalError,   // tracejail could not run it
  kDetached,        // `observe` detached while it ran on (its end is not known)
};
std::string_view Name(RunStatus s);

struct CapturedOutput {
  std::string text;         // the first `cap` bytes, escaped when rendered
  std::uint64_t bytes = 0;  // everything the program wrote
  bool truncated = false;
};

// One of the first denials of a run, for the summary and the result: what was asked (the event's
// message: call, verdict, object), the rule, and the policy fragment that would allow it.
struct DenialNote {
  std::string message;  // tracee strings escaped (as in the event)
  std::string rule;
  std::string action;  // "deny", "kill", or in audit mode what enforce would have done
  nlohmann::json tip;  // null when there is none
};
// How many denials the result and the summary name (the events file has them all); with -v the
// summary names up to kVerboseDenials (the result still kFirstDenials).
inline constexpr std::size_t kFirstDenials = 3;
inline constexpr std::size_t kVerboseDenials = 1000;

struct ExecutionResult {
  std::string execution_id;  // 32 hex digits, random
  std::vector<std::string> command;
  std::string policy;
  std::string mode;
  RunStatus status = RunStatus::kOk;
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::optional<int> interrupted;  // the signal that asked tracejail to stop the run, if any
  double wall_time_s = 0;
  double cpu_user_s = 0;  // the whole tree (every reaped process)
  double cpu_system_s = 0;
  std::uint64_t peak_rss_bytes = 0;                // largest single process (rusage)
  std::optional<std::uint64_t> peak_memory_bytes;  // the whole tree, from its cgroup
  std::uint64_t processes = 0;                     // processes and threads seen
  nlohmann::json scheduling;                       // the same-CPU pin: tracer::SameCpu::Describe()
  std::uint64_t syscalls_flagged = 0;
  std::uint64_t syscalls_denied = 0;
  std::uint64_t syscalls_return_stops = 0;  // exit stops taken for the live view's results
  // Files the program created, changed or removed (file_dropped events); names past the
  // tracker's bounds; why --collect's index.json could not be written.
  std::uint64_t files_dropped = 0;
  std::uint64_t files_untracked = 0;
  std::string collect_error;
  std::uint64_t events = 0;
  std::uint64_t event_records = 0;  // the events file's records (repeats folded into one)
  // The chain's anchor: the link of the file's last line (`verify --expect`), and how the links
  // are made ("sha256", "hmac-sha256"). Empty when no events file was written.
  std::string events_final_hash, events_chain;
  std::uint64_t events_lost = 0;  // events that could not be recorded (then status internal_error)
  std::string events_file;
  std::optional<CapturedOutput> stdout_capture, stderr_capture;
  std::string error;          // kInternalError: what failed
  nlohmann::json limits;      // configured limits {"cpu": "2s", ...}; null when not recorded
  nlohmann::json layers;      // [{"layer", "state", "detail"}]: which isolation was active
  nlohmann::json limits_hit;  // [{"limit", "observed"}]
  // In the order they happened: at most kFirstDenials (kVerboseDenials with -v; the JSON keeps
  // the first kFirstDenials).
  std::vector<DenialNote> first_denials;
  std::optional<DenialNote> killed_by;  // kKilledByPolicy: the call whose kill rule ended it
  std::vector<std::string> warnings;
  // --stream: {"endpoint", "subscribers", "unauthenticated", "refused_full"}; null without one.
  nlohmann::json stream;

  bool success() const { return status == RunStatus::kOk; }
};

nlohmann::json ToJson(const ExecutionResult& r);

// A few lines for a terminal: status, times, counts, where the details are.
std::string Summary(const ExecutionResult& r);

std::string NewExecutionId();

}  // namespace report
