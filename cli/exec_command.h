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
// Usage errors and runs that never started print, with --json, one JSON document on stdout:
// {"schema_version": 1, "error": "usage", "message": "...", "exit_code": 120}
// (docs/schema/exec.schema.json); stderr says the same in words.
int Exec(ExecArgs& args);

// For a command line that did not parse: when it is `tracejail exec ... --json`, prints the usage
// error `message` as exec's JSON error document on stdout (the caller prints it on stderr).
void ExecJsonUsageError(int argc, char** argv, const std::string& message);

}  // namespace cli
