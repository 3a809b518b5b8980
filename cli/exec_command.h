// `tracejail exec`: the code-execution front door (run this code in this language). The
// code goes into a fresh work dir, the language's interpreter runs it under the policy, and the
// result and the security report come back, as one JSON document with --json.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/run_command.h"

namespace cli {

struct ExecArgs {
  RunArgs run;
  std::string lang;
  std::string code;    // -c CODE
  std::string source;  // FILE, or "-" for stdin
  bool json = false;
};

void AddExecOptions(CLI::App* cmd, ExecArgs& args);
int Exec(ExecArgs& args);

}  // namespace cli
