// The command-line options `run` and `exec` share (policy, events, mode, environment, result,
// limits), declared once.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/run_command.h"

namespace cli {

void AddRunOptions(CLI::App* cmd, RunArgs& args);

}  // namespace cli
