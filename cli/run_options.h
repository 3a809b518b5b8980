// The command-line options `run` and `exec` share (policy, events, mode, environment, result,
// limits), declared once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/run_args.h"

namespace cli {

// --kill-grace: "2s", "500ms", "0"; nullopt when it is not a duration.
std::optional<double> ParseGrace(const std::string& text);

void AddRunOptions(CLI::App* cmd, RunArgs& args);

// The options every command that supervises or observes shares, each defined once here and
// bound to the command's own fields.
// -q/--quiet and -v/--verbose (run, exec, learn and observe).
void AddMessageOptions(CLI::App* cmd, bool& quiet, bool& verbose);
// -e trace=SET and --trace SET (run, exec, learn and observe; report/trace_set.h).
void AddTraceSetOptions(CLI::App* cmd, std::vector<std::string>& exprs);
// -o/--trace-file FILE (run, exec, observe); `short_o` false: --trace-file only (learn, whose -o
// is the draft).
void AddTraceFileOption(CLI::App* cmd, std::string& file, bool short_o = true);

}  // namespace cli
