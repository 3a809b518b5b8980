// What `tracejail batch` keeps per task and across them: whether a task's directory holds a
// complete record (so a rerun skips it), the task's reports, and the batch's summary.json and
// index.html. No process is run here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/batch_manifest.h"
#include "report/analysis.h"

namespace cli {

// One task's outcome as the summary shows it.
struct TaskRecord {
  enum class State { kComplete, kFailed, kInvalid, kMissing };
  std::string id;
  std::size_t line = 0;
  State state = State::kMissing;
  std::string why;  // kFailed, kInvalid, kMissing: what is wrong
  // kComplete: from the result and the events.
  std::string status;  // the result's status ("ok", "runtime_error", ...)
  int exit_code = 0;
  double wall_time_s = 0;
  std::uint64_t denials = 0;
  std::uint64_t events = 0;
  std::string risk;
  bool skipped = false;  // complete before this run began: not run again
};
std::string_view Name(TaskRecord::State s);

// Whether `dir` (one task's: result.json, events.jsonl) is complete: the result parses, its run
// did not fail inside tracejail, and the events file's chain verifies and ends where the result
// says it does. Fills `record` (state kComplete, or kFailed with why) and, when complete,
// `analysis` with the events' analysis.
void CheckTaskDir(const std::string& dir, TaskRecord& record, report::Analysis& analysis);

// report.txt and report.html in `dir` from `analysis`; nullopt or what failed.
std::optional<std::string> WriteTaskReports(const std::string& dir,
                                            const report::Analysis& analysis);

// The batch's summary: counts by state and by status, the tasks, and `stats` (report::RunStats
// over the complete tasks' events).
nlohmann::json BatchSummary(const std::string& manifest, const std::string& shard,
                            const std::vector<TaskRecord>& tasks, const nlohmann::json& stats);

// index.html: the summary as one self-contained page, every task linked to its report.
std::string BatchIndexHtml(const nlohmann::json& summary);

}  // namespace cli
