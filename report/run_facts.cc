#include "report/run_facts.h"

namespace report {
namespace {

RunStatus StatusOf(const RunFacts& r, bool spawn_failed) {
  if (spawn_failed || !r.internal_error.empty()) return RunStatus::kInternalError;
  if (r.detached) return RunStatus::kDetached;
  if (r.timed_out) return RunStatus::kTimedOut;
  if (r.killed_by_policy) return RunStatus::kKilledByPolicy;
  if (!r.limits_hit.empty()) return RunStatus::kLimitExceeded;
  if (r.term_signal != 0) return RunStatus::kKilledBySignal;
  return r.exit_code == 0 ? RunStatus::kOk : RunStatus::kRuntimeError;
}

}  // namespace

void FillResult(const RunFacts& r, bool spawn_failed, const ResourceUsage& usage,
                ExecutionResult& exec) {
  exec.wall_time_s = usage.wall_s;
  exec.cpu_user_s = usage.cpu_user_s;
  exec.cpu_system_s = usage.cpu_system_s;
  exec.peak_rss_bytes = usage.peak_rss_bytes;
  exec.peak_memory_bytes = r.peak_memory;
  exec.processes = r.processes;
  exec.syscalls_flagged = r.flagged;
  exec.syscalls_denied = r.denied;
  exec.syscalls_return_stops = r.return_stops;
  exec.files_dropped = r.dropped_files;
  exec.files_untracked = r.untracked_files;
  exec.collect_error = r.collect_error;
  exec.events = r.events;
  exec.scheduling = r.scheduling;
  exec.limits_hit = nlohmann::json::array();
  for (const auto& hit : r.limits_hit) {
    exec.limits_hit.push_back(
        {{"limit", policy::InfoOf(hit.kind).key}, {"observed", hit.observed}});
  }
  if (r.interrupted != 0) exec.interrupted = r.interrupted;
  if (r.term_signal != 0) exec.signal = r.term_signal;
  if (r.term_signal == 0 && !spawn_failed && r.internal_error.empty() && !r.detached) {
    exec.exit_code = r.exit_code;
  }
  exec.first_denials = r.first_denials;
  exec.killed_by = r.killed_by;
  exec.status = StatusOf(r, spawn_failed);
  if (!r.internal_error.empty()) exec.error = r.internal_error;
}

}  // namespace report
