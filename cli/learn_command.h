// `tracejail learn` (audit runs -> a draft policy) and `tracejail policy merge` (drafts -> one).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/run_command.h"

namespace cli {

struct LearnArgs {
  RunArgs run;
  std::string base = "standard";
  std::string output;  // -o; stdout when empty
  int runs = 1;
};

void AddLearnOptions(CLI::App* cmd, LearnArgs& args);
int Learn(LearnArgs& args);

int MergeDrafts(const std::vector<std::string>& drafts, const std::string& output);

}  // namespace cli
