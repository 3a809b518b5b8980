// `tracejail diff A.jsonl B.jsonl`: what one run did that the other did not. Each events file
// is folded into a RunProfile (sets of what the run touched, with no pids or times, so two runs
// of the same program compare equal), and two profiles are compared set by set. Pure: works on
// the typed records of the one reader (report/event_reader.h). docs/diff.md.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "report/record.h"

namespace report {

// What one run's events file says it did. Strings are as recorded (tracee bytes already
// escaped by the writer); renderers pass them through DisplayText.
struct RunProfile {
  std::set<std::string> files;       // "/etc/passwd (read)": resolved path and access
  std::set<std::string> endpoints;   // "127.0.0.1:80 (connect)", "unix:/run/x (connect)"
  std::set<std::string> programs;    // executed images, "/usr/bin/cat"
  std::set<std::string> denials;     // "deny openat /etc/shadow (read) <- RULE"
  std::set<std::string> escapes;     // escape techniques: "tracer-attack (ptrace)"
  std::set<std::string> exec_chain;  // parent -> child program names: "dash -> cat"
  std::set<std::string> dropped;     // files left behind: "/tmp/x (created, sha256 ab12...)"
  std::uint64_t processes = 0;       // processes started (threads aside)
};

// Folds records, one at a time in file order, into a RunProfile.
class RunProfiler {
 public:
  void Add(const Record& record);
  RunProfile Finish() { return std::move(p_); }

 private:
  RunProfile p_;
  std::map<int, int> parent_;           // pid -> parent pid
  std::map<int, std::string> program_;  // pid -> program it runs now (base name)
};

struct SetDiff {
  std::string name;  // "files"
  std::vector<std::string> only_a, only_b;
};

struct RunDiff {
  std::vector<SetDiff> sections;  // every section, in a fixed order (empty ones too)
  std::uint64_t processes_a = 0, processes_b = 0;
  bool different() const;
};

RunDiff DiffRuns(const RunProfile& a, const RunProfile& b);

// "--- A\n+++ B\n" then, for each section with differences, its name and "+ x" (only in B) and
// "- x" (only in A) lines; tracee text passed through DisplayText. Empty when no differences.
std::string RenderDiffText(const RunDiff& d, std::string_view a_name, std::string_view b_name);
// {"schema_version", "a", "b", "different", "processes": {"a", "b"}, and per section
// {"only_in_a": [...], "only_in_b": [...]}}.
nlohmann::json DiffJson(const RunDiff& d, std::string_view a_name, std::string_view b_name);

}  // namespace report
