// `tracejail diff A.jsonl B.jsonl [--json]`: what one run did that the other did not (files,
// endpoints, programs, denials, escape techniques, the process tree's shape), from the two
// events files alone (report/run_diff.h). Exits like diff(1): 0 when the runs did the same, 1
// when they differ.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace cli {

struct DiffArgs {
  std::string a, b;
  bool json = false;
};
void AddDiffOptions(CLI::App* cmd, DiffArgs& args);
int Diff(const DiffArgs& args);

}  // namespace cli
