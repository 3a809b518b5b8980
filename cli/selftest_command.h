// `tracejail selftest`: runs every program of the escape suite (samples/escapes/) under the
// policy levels basic, standard, strict and maximum, against what the policy denies (a secret
// file, a forbidden program, loopback and unix listeners, a protected directory it may only read)
// and a process outside the traced tree, with a pseudo-terminal as controlling terminal for the
// terminal techniques, and prints which technique was stopped by what. Exit 0 when no technique
// got through at a level its header says is covered.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace cli {

struct SelftestArgs {
  std::string level = "all";      // basic, standard, strict, maximum or all (the four)
  std::string samples;            // the built suite; default: beside this binary's build tree
  std::vector<std::string> only;  // technique ids
  bool json = false;
  bool explain = false;
  int timeout_s = 120;  // per sample
};

void AddSelftestOptions(CLI::App* cmd, SelftestArgs& args);
int Selftest(const SelftestArgs& args);

}  // namespace cli
