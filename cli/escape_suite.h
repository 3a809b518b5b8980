// The escape suite's samples as `tracejail selftest` sees them (samples/escapes/README.md):
// each source file's header block, and how one run of a sample is judged. Pure: no processes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cli {

struct EscapeSample {
  std::string id, klass, title;
  std::string covered = "strict";    // the lowest level that must stop it: standard or strict
  std::vector<std::string> needs;    // secret, listener, decoy, forbidden, root
  std::string technique, defence;    // the header's paragraphs, joined into single lines
  std::string source;                // file name (path_symlink.c)
  std::vector<std::string> command;  // how to run it (filled by the caller)
};

// Parses the "tracejail-escape" block at the top of a C or Python source; nullopt when the file
// has none. `error` names the missing field when the block is incomplete.
std::optional<EscapeSample> ParseEscapeHeader(std::string_view source, std::string& error);

// How one run ended. `escaped` holds when any oracle says so: the sample's final line, the
// secret's token in its output, the forbidden program's marker, or the listener's count.
struct SampleVerdict {
  bool escaped = false;
  bool error = false;      // no final ESCAPED:/BLOCKED: line: the sample itself failed
  std::string final_line;  // the last non-empty line of its output
  std::string why;         // which oracle fired, for an escape
};
SampleVerdict JudgeSample(std::string_view output, std::string_view token,
                          std::string_view forbidden_marker, unsigned listener_hits);

}  // namespace cli
