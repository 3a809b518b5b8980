// Learn mode's pure half: turns what audit-mode runs would have denied into a draft policy that
// extends the base, generalised where that is safe and never beyond what was seen otherwise.
//
// Input is the `tip` of every would-deny event (the smallest fragment that allows that call,
// computed by the policy itself), so learn understands exactly what the policy understands.
// A tip names a path as the pattern of exactly it (EscapeGlob); learn unescapes it and writes
// every name it keeps back escaped, so a file named "**", "[x]" or "${HOME}" is allowed as that
// name and nothing else. The only wildcards in a draft are the ones generalisation adds:
//   1. the run's work dir, home, temp dir and current dir become ${WORKDIR}, ${HOME}, ${TMPDIR},
//      ${CWD} (each run has its own work dir; the loader escapes the value it expands);
//   2. temporary-looking names become globs: "/tmp/tmpk3j2x9" -> "/tmp/tmp*", "confJ31A69" ->
//      "conf*", "cc5XkT8e.s" -> "cc*.s", pid-like numbers -> "*";
//   3. reads only: `threshold` or more distinct names read in one directory become "dir/**"
//      (the directory as escaped, then "/**");
//   4. writes, creates, deletes, execs, network endpoints and syscalls a syscall rule of the
//      base denied are kept exactly as seen.
// Each rule carries "notes" with how often it was needed, in how many runs, and one example.
// Escape primitives are never allowed by a draft: they are listed for review instead.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "policy/loader.h"
#include "report/event.h"

namespace report {

struct LearnOptions {
  std::string base = "standard";  // what the draft extends (preset or file)
  std::string command;            // for the header
  std::size_t read_dir_threshold = 4;
  std::string date;  // "2026-11-27"
  // Set when the base has a network namespace: its namespaces without "net". Learn runs then
  // run without it (in it, every connection fails whatever the policy says, and the program
  // stops at its first one), and a draft that learnt network rules sets these namespaces, since
  // in the base's network namespace the rules it learnt could never be used.
  std::optional<std::vector<std::string>> namespaces_without_net;
};

class Learner {
 public:
  // One audit-mode run at a time: BeginRun with the variables of that run (its own WORKDIR),
  // then Add each of its events, as they are read.
  void BeginRun(const policy::Variables& run_vars);
  void Add(const Event& event);
  // A whole run of records as parsed JSON (tests, tools): each read with ToRecord first; one
  // that is not an event record is left out.
  void AddRun(const std::vector<nlohmann::json>& events, const policy::Variables& run_vars);
  // A draft written earlier (tracejail policy merge): its rules count as observations.
  void AddDraft(const nlohmann::json& draft);

  nlohmann::json Draft(const LearnOptions& options) const;

  int runs() const { return runs_; }
  const std::vector<std::string>& escapes() const { return escape_notes_; }

 private:
  struct Seen {
    std::uint64_t count = 0;
    std::set<int> runs;  // which runs needed it
    std::string example;
  };
  void AddFile(const std::string& pattern, const std::string& access, std::uint64_t count, int run,
               const std::string& example);
  void AddNet(const nlohmann::json& rule, std::uint64_t count, int run, const std::string& example);

  int runs_ = 0;
  int run_ = -1;  // the run Add counts for (BeginRun)
  policy::Variables run_vars_;
  // pattern -> access kind -> seen
  std::map<std::string, std::map<std::string, Seen>> files_;
  std::map<std::string, Seen> net_;       // rule JSON (without notes) -> seen
  std::map<std::string, Seen> syscalls_;  // syscall name a syscall rule of the base denied
  std::set<std::string> families_;
  std::vector<std::string> escape_notes_;
};

// Step 2 alone, for tests: in a pattern of names ("/tmp/tmpk3j2x9", escaped where a name needs
// it), each name's temporary-looking part replaced by "*"; variables and wildcards stay.
std::string GlobTemporaryName(const std::string& pattern);

}  // namespace report
