// Reads an events file back into what a forensic report needs: risk with its reasons, what was
// denied and the rule that would allow it, resources touched, top syscalls, the process tree.
// Pure: works from the JSON Lines alone (the events file is enough to rebuild the report).
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/decision.h"

namespace report {

enum class Risk : std::uint8_t { kLow, kMedium, kHigh, kCritical };
std::string_view Name(Risk r);

struct ResourceUse {
  std::map<std::string, std::uint64_t> kinds;  // access kind or verb -> count
  std::uint64_t denied = 0;
};

struct Denial {
  std::uint64_t seq = 0;
  std::string type;  // event type
  std::string severity;
  std::string syscall;
  std::string what;  // the event's message
  std::string rule;
  bool looks_like_escape = false;
  nlohmann::json tip;         // policy fragment that would allow it
  std::uint64_t repeats = 1;  // identical denials folded into this one
  std::string technique;      // report/explain.h id, when the event shows one
};

struct ProcessNode {
  int pid = 0;
  int parent = 0;
  std::vector<std::string> execs;  // "exe argv..." in order
  std::optional<int> exit_code;
  std::string signal;
};

struct TimelineEntry {
  double time = 0;
  int pid = 0;
  std::string type;
  std::string severity;
  std::string text;
};

struct Analysis {
  Risk risk = Risk::kLow;
  std::vector<std::string> reasons;
  std::map<std::string, std::uint64_t> by_type;
  std::map<std::string, ResourceUse> files;      // resolved path -> use
  std::map<std::string, ResourceUse> endpoints;  // "127.0.0.1:80", "unix:/run/x"
  std::map<std::string, std::uint64_t> syscalls;
  std::vector<Denial> denials;
  std::map<int, ProcessNode> processes;
  std::uint64_t records = 0;            // records read (log_end aside)
  std::uint64_t occurrences = 0;        // events they stand for (a folded record: its count)
  std::vector<TimelineEntry> timeline;  // every record but log_end, in file order
  // The capabilities the command held (from the log_end record): "CAP_CHOWN CAP_KILL", "none",
  // "inherited from the caller", or "" when the file does not say.
  std::string capabilities;
};

Analysis Analyze(const std::vector<nlohmann::json>& events);

// The records of an events file (report/event_reader.h); lines that are not records of the
// documented shape are skipped and counted in `bad`.
std::vector<nlohmann::json> ReadEvents(std::istream& in, std::size_t& bad);

// "read x2, write x1" with `times` as the multiplication sign ("x" or "×"); shared by renderers.
std::string CountsText(const std::map<std::string, std::uint64_t>& counts, std::string_view times);
// The `n` largest counts, largest first (ties keep name order).
std::vector<std::pair<std::string, std::uint64_t>> TopCounts(
    const std::map<std::string, std::uint64_t>& counts, std::size_t n);

std::string RenderText(const Analysis& a);
std::string RenderHtml(const Analysis& a, const std::string& title);  // self-contained page
nlohmann::json RenderSarif(const Analysis& a);                        // SARIF 2.1.0

// `tracejail stats`: many runs at once (the seed's statistics across executions).
nlohmann::json AggregateRuns(const std::vector<std::pair<std::string, Analysis>>& runs);
std::string RenderStatsText(const nlohmann::json& stats);
std::string RenderMarkdown(const Analysis& a);
nlohmann::json RenderJson(const Analysis& a);

}  // namespace report
