#include "report/result.h"

#include <array>
#include <random>

#include <fmt/format.h>

#include "base/escape.h"
#include "report/record.h"

namespace report {
namespace {

constexpr std::array<std::string_view, 8> kStatusNames{
    "ok",        "runtime_error",  "killed_by_signal", "killed_by_policy",
    "timed_out", "limit_exceeded", "internal_error",   "detached"};

nlohmann::json OutputJson(const CapturedOutput& o) {
  return {{"text", base::EscapeText(o.text)}, {"bytes", o.bytes}, {"truncated", o.truncated}};
}

std::string Signame(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

}  // namespace

std::string_view Name(RunStatus s) { return kStatusNames.at(static_cast<std::size_t>(s)); }

std::string NewExecutionId() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}{:08x}{:08x}", rd(), rd(), rd(), rd());
}

nlohmann::json ToJson(const ExecutionResult& r) {
  nlohmann::json j;
  j["schema_version"] = kSchemaVersion;
  j["execution_id"] = r.execution_id;
  nlohmann::json cmd = nlohmann::json::array();
  for (const auto& a : r.command) cmd.push_back(base::EscapeBytes(a));
  j["command"] = cmd;
  j["policy"] = r.policy;
  j["mode"] = r.mode;
  j["success"] = r.success();
  j["status"] = Name(r.status);
  j["exit_code"] = r.exit_code ? nlohmann::json(*r.exit_code) : nlohmann::json(nullptr);
  j["signal"] = r.signal ? nlohmann::json(Signame(*r.signal)) : nlohmann::json(nullptr);
  if (r.interrupted) j["interrupted_by"] = Signame(*r.interrupted);
  j["wall_time_s"] = r.wall_time_s;
  j["cpu_user_s"] = r.cpu_user_s;
  j["cpu_system_s"] = r.cpu_system_s;
  j["peak_rss_bytes"] = r.peak_rss_bytes;
  j["peak_memory_bytes"] =
      r.peak_memory_bytes ? nlohmann::json(*r.peak_memory_bytes) : nlohmann::json(nullptr);
  j["processes"] = r.processes;
  j["syscalls"] = {{"flagged", r.syscalls_flagged},
                   {"denied", r.syscalls_denied},
                   {"return_stops", r.syscalls_return_stops}};
  j["files"] = {{"dropped", r.files_dropped}, {"untracked", r.files_untracked}};
  if (!r.collect_error.empty()) j["files"]["collect_error"] = r.collect_error;
  j["events"] = r.events;
  if (!r.events_file.empty()) {
    j["events_file"] = base::EscapeBytes(r.events_file);
    j["event_records"] = r.event_records;
    j["events_lost"] = r.events_lost;
    if (!r.events_final_hash.empty()) {
      j["events_chain"] = {{"final_hash", r.events_final_hash},
                           {"algorithm", r.events_chain},
                           {"records", r.event_records + 1}};  // and the log_end record
    }
  }
  if (r.stdout_capture) j["stdout"] = OutputJson(*r.stdout_capture);
  if (r.stderr_capture) j["stderr"] = OutputJson(*r.stderr_capture);
  if (!r.error.empty()) j["error"] = r.error;
  if (!r.limits.is_null()) j["limits"] = r.limits;
  if (!r.layers.is_null()) j["layers"] = r.layers;
  if (!r.scheduling.is_null()) j["scheduling"] = r.scheduling;
  j["limits_hit"] = r.limits_hit.is_null() ? nlohmann::json::array() : r.limits_hit;
  if (!r.warnings.empty()) j["warnings"] = r.warnings;
  if (!r.stream.is_null()) j["stream"] = r.stream;
  auto note = [](const DenialNote& d) {
    return nlohmann::json{
        {"message", d.message}, {"rule", d.rule}, {"action", d.action}, {"tip", d.tip}};
  };
  if (!r.first_denials.empty()) {
    nlohmann::json& list = j["first_denials"] = nlohmann::json::array();
    for (std::size_t i = 0; i < r.first_denials.size() && i < kFirstDenials; ++i) {
      list.push_back(note(r.first_denials[i]));
    }
  }
  if (r.killed_by) j["killed_by"] = note(*r.killed_by);
  return j;
}

std::string Summary(const ExecutionResult& r) {
  std::string how;
  if (r.exit_code) how = fmt::format("exit {}", *r.exit_code);
  if (r.signal) how = Signame(*r.signal);
  std::string out = fmt::format(
      "tracejail: {} ({}) in {:.2f}s wall, {:.2f}s user, {:.2f}s sys; peak {} {:.1f} MiB; "
      "{} processes/threads\n",
      Name(r.status), how.empty() ? "-" : how, r.wall_time_s, r.cpu_user_s, r.cpu_system_s,
      r.peak_memory_bytes ? "memory (tree)" : "RSS",
      static_cast<double>(r.peak_memory_bytes.value_or(r.peak_rss_bytes)) / (1024.0 * 1024.0),
      r.processes);
  if (r.events_file.empty()) {
    out += fmt::format(
        "tracejail: {} flagged syscalls, {} denied{}\n", r.syscalls_flagged, r.syscalls_denied,
        r.syscalls_denied > 0 && r.first_denials.empty() ? " (run with --events FILE for details)"
        : r.syscalls_denied > 0                          ? ":"
                                                         : "");
  } else {
    out += fmt::format("tracejail: {} flagged syscalls, {} denied, {} events in {}{}\n",
                       r.syscalls_flagged, r.syscalls_denied, r.events,
                       base::EscapeBytes(r.events_file),
                       r.event_records < r.events && r.events_lost == 0
                           ? fmt::format(" ({} records: repeats folded)", r.event_records)
                           : "");
    if (r.events_lost > 0) {
      out += fmt::format("tracejail: {} event(s) LOST: the events file is incomplete\n",
                         r.events_lost);
    }
  }
  for (const DenialNote& d : r.first_denials) {
    out += fmt::format("tracejail:   {}{}\n", base::DisplayText(d.message),
                       d.rule.empty() ? "" : "  <- " + base::DisplayText(d.rule));
    if (!d.tip.is_null()) {
      out += fmt::format("tracejail:     to allow it, add to the policy: {}\n",
                         base::JsonForDisplay(d.tip));
    }
  }
  if (r.syscalls_denied > r.first_denials.size() && !r.first_denials.empty()) {
    out +=
        fmt::format("tracejail:   ... and {} more{}\n", r.syscalls_denied - r.first_denials.size(),
                    r.events_file.empty() ? " (run with --events FILE to see them all)" : "");
  }
  if (r.files_dropped > 0 || r.files_untracked > 0) {
    out += fmt::format(
        "tracejail: {} file(s) left behind (created, changed or removed){}{}\n", r.files_dropped,
        r.files_untracked > 0
            ? fmt::format(", {} more not tracked (past the bound)", r.files_untracked)
            : "",
        r.events_file.empty() ? "" : ": hashes in the file_dropped events");
  }
  if (!r.collect_error.empty()) out += "tracejail: --collect: " + r.collect_error + "\n";
  if (r.limits_hit.is_array()) {
    for (const auto& hit : r.limits_hit) {
      out += fmt::format("tracejail: {} limit: {}\n", hit.value("limit", "?"),
                         hit.value("observed", "?"));
    }
  }
  if (r.interrupted) {
    out += fmt::format("tracejail: interrupted by {}: {}\n", Signame(*r.interrupted),
                       r.status == RunStatus::kDetached
                           ? "stopped observing (the process was not signalled)"
                           : "forwarded to the command");
  }
  if (!r.error.empty()) out += "tracejail: error: " + r.error + "\n";
  return out;
}

}  // namespace report
