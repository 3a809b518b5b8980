// Reads an events file back into what a forensic report needs: risk with its reasons, what was
// denied and the rule that would allow it, resources touched, top syscalls, the process tree.
// Pure: works from the JSON Lines alone (the events file is enough to rebuild the report), one
// record at a time (Analyzer), so memory grows with what the report lists (distinct denials,
// files, endpoints, processes), not with the file.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/decision.h"
#include "report/artifacts.h"
#include "report/event_reader.h"
#include "report/output_file.h"
#include "report/record.h"

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
  std::string tip;                  // policy fragment that would allow it, compact JSON; "" if none
  std::uint64_t repeats = 1;        // identical denials folded into this one
  std::string technique;            // report/explain.h id, when the event shows one
  std::vector<std::string> attack;  // MITRE ATT&CK technique ids (report/attack.h)
  // Where the call came from, from its stack: the innermost Python frame ("main.py:2 in
  // <module>"), else the innermost native frame with a source line; "" when neither is known.
  std::string called_from;
};

// A stack's (Event::stack) `called_from` text, as above.
std::string CalledFrom(const nlohmann::json& stack);

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
  std::map<std::string, std::uint64_t> attack;  // ATT&CK technique id -> events showing it
  std::map<int, ProcessNode> processes;
  std::uint64_t records = 0;            // records read (log_end aside)
  std::uint64_t occurrences = 0;        // events they stand for (a folded record: its count)
  std::vector<TimelineEntry> timeline;  // the first kMaxTimeline records but log_end, in order
  // The capabilities the command held (from the log_end record): "CAP_CHOWN CAP_KILL", "none",
  // "inherited from the caller", or "" when the file does not say.
  std::string capabilities;
  std::string command;            // the first program executed, with its argv ("" if none)
  std::optional<double> started;  // the first record's time (seconds since the epoch)
  std::string policy;             // the policy's name, from the log_end record ("" if absent)
  // What ran (each distinct image or script once, with how many execs ran it) and what was left
  // behind (file_dropped), in the order first seen; at most kMaxArtifacts of each.
  std::vector<Artifact> executed;
  std::vector<Artifact> dropped;
  std::uint64_t artifacts_left_out = 0;  // past kMaxArtifacts
};

inline constexpr std::size_t kMaxArtifacts = 10000;

// The timeline draws one mark per record; past this many a picture shows nothing more.
inline constexpr std::size_t kMaxTimeline = 20000;

// Builds an Analysis from records given one at a time, in file order.
class Analyzer {
 public:
  Analyzer();
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  void Add(const Record& record);
  // A record as parsed JSON (tests, tools): read with ToRecord first; one that is not a record
  // is left out, as the reader leaves it out of a file.
  void Add(const nlohmann::json& record);
  Analysis Finish();  // once, after the last Add

 private:
  struct State;
  std::unique_ptr<State> s_;
};

Analysis Analyze(const std::vector<nlohmann::json>& events);
// The records of an events file (report/event_reader.h), streamed; `scan` says which lines were
// skipped.
Analysis AnalyzeFile(std::istream& in, EventsScan& scan);

// "read x2, write x1" with `times` as the multiplication sign ("x" or "×"); shared by renderers.
std::string CountsText(const std::map<std::string, std::uint64_t>& counts, std::string_view times);
// The `n` largest counts, largest first (ties keep name order).
std::vector<std::pair<std::string, std::uint64_t>> TopCounts(
    const std::map<std::string, std::uint64_t>& counts, std::size_t n);

// A denial's tip (compact JSON) as JsonForDisplay shows it.
std::string TipForDisplay(const std::string& tip);

// Each renderer appends to `out`, handing it to `spill` as it grows (report/output_file.h), or
// returns the whole text.
void RenderText(const Analysis& a, std::string& out, const Spill& spill);
std::string RenderText(const Analysis& a);
// A self-contained page; `warning`, when not empty, is shown in red under the risk (a chain
// that failed verification); otherwise `integrity` ("hash chain intact (N records)"), when given.
void RenderHtml(const Analysis& a, const std::string& title, const std::string& warning,
                std::string& out, const Spill& spill, const std::string& integrity = "");
std::string RenderHtml(const Analysis& a, const std::string& title,
                       const std::string& warning = "");
// SARIF 2.1.0, with `integrity` ("intact", "broken") as a run property.
void RenderSarif(const Analysis& a, std::string_view integrity, std::string& out,
                 const Spill& spill);
std::string RenderSarif(const Analysis& a, std::string_view integrity);

// `tracejail stats`: many runs at once, one Add per run, so only one run's analysis is held.
// Statistics across runs (`tracejail stats`, `tracejail batch`'s summary): risk, denials, event
// types, calls, ATT&CK techniques (how many runs show each), and outliers: the runs whose events
// or denials are far above the others' median (more than 3 times it and 20 more).
class RunStats {
 public:
  void Add(const std::string& file, const Analysis& a);
  nlohmann::json Json() const;

 private:
  std::uint64_t runs_ = 0, denials_ = 0;
  std::map<std::string, std::uint64_t> risks_, types_, syscalls_, denied_rules_, denied_files_;
  // ATT&CK technique id -> runs that show it, and the events that do.
  std::map<std::string, std::uint64_t> technique_runs_, technique_events_;
  nlohmann::json per_run_ = nlohmann::json::array();
};
nlohmann::json AggregateRuns(const std::vector<std::pair<std::string, Analysis>>& runs);
std::string RenderStatsText(const nlohmann::json& stats);
void RenderMarkdown(const Analysis& a, std::string& out, const Spill& spill);
std::string RenderMarkdown(const Analysis& a);
// The report as JSON text (dump(2) layout), written piece by piece; `extra` members are added at
// the top level, and `depth` indents it to nest inside another document.
void RenderJson(const Analysis& a, const nlohmann::json& extra, int depth, std::string& out,
                const Spill& spill);
std::string RenderJson(const Analysis& a, const nlohmann::json& extra = nlohmann::json::object(),
                       int depth = 0);

}  // namespace report
