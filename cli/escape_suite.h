// The escape suite's samples as `tracejail selftest` sees them (samples/escapes/README.md):
// each source file's header block, and how one run of a sample is judged. Pure: no processes.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cli {

// The levels the selftest runs, weakest first: a sample covered at one level must be stopped at it
// and at every level after it.
inline constexpr std::array<std::string_view, 4> kSelftestLevels = {"basic", "standard", "strict",
                                                                    "maximum"};

// The position of `level` in kSelftestLevels, or -1 for any other name.
int LevelRank(std::string_view level);

// Must a technique whose header says `covered` be stopped at `level`? (level at or above it)
bool CoveredAt(std::string_view covered, std::string_view level);

struct EscapeSample {
  std::string id, klass, title;
  std::string covered = "strict";    // the lowest level that must stop it (one of kSelftestLevels)
  std::vector<std::string> needs;    // secret listener decoy forbidden protected outside tty root
  std::string technique, defence;    // the header's paragraphs, joined into single lines
  std::string source;                // file name (path_symlink.c)
  std::vector<std::string> command;  // how to run it (filled by the caller)
};

// Parses the "tracejail-escape" block at the top of a C or Python source; nullopt when the file
// has none. `error` names the missing field when the block is incomplete.
std::optional<EscapeSample> ParseEscapeHeader(std::string_view source, std::string& error);

// What the selftest knows independently of what a sample says about itself.
struct Oracles {
  std::string_view secret_token;      // the secret's first line
  std::string_view forbidden_marker;  // printed only when the forbidden program ran
  std::string_view outside_token;     // only in the outside process's argv and environment
  unsigned listener_hits = 0;         // connections and datagrams that reached a denied listener
  std::string_view injected;          // bytes found in the terminal's input queue after the run
};

// How one run ended. `escaped` holds when any oracle says so: the sample's final line, the
// secret's token or the outside process's token in its output, the forbidden program's marker,
// the listener's count, or input pushed into the terminal.
struct SampleVerdict {
  bool escaped = false;
  bool error = false;      // no final ESCAPED:/BLOCKED: line: the sample itself failed
  std::string final_line;  // the last non-empty line of its output
  std::string why;         // which oracle fired, for an escape
};
SampleVerdict JudgeSample(std::string_view output, const Oracles& oracles);

}  // namespace cli
