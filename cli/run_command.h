// One supervised run, shared by `tracejail run` and `tracejail exec`: policy, work dir,
// isolation layers, limits, the supervisor, captured output, the execution result.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/common.h"
#include "cli/run_args.h"
#include "report/result.h"

namespace cli {

struct RunOutcome {
  int status = 0;  // tracejail's exit status
  report::ExecutionResult exec;
  bool ran = false;     // false: nothing was started (usage, policy or setup error)
  std::string workdir;  // the run's private work dir (gone by now), or empty
};

RunOutcome RunCommand(const RunArgs& args);

// The key of a keyed events chain (--events-key, verify --key), and a stream token file
// (stream_token.h): a regular file of 1 to 4096 bytes that only its owner can read. nullopt
// with `why` otherwise.
std::optional<std::string> ReadKeyFile(const std::string& path, std::string& why);

void Error(const std::string& msg);  // "tracejail: msg" on stderr

}  // namespace cli
