// The command-line options `run` and `exec` share (policy, events, mode, environment, result,
// limits), declared once.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/run_args.h"

namespace cli {

// --kill-grace: "2s", "500ms", "0"; nullopt when it is not a duration.
std::optional<double> ParseGrace(const std::string& text);

void AddRunOptions(CLI::App* cmd, RunArgs& args);

}  // namespace cli
