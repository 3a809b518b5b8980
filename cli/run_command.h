// One supervised run, shared by `tracejail run`, `exec` and `learn`, in four steps:
//   plan     (run_plan.h)     check the arguments, load the policy, find the command
//   prepare  (run_prepare.h)  work dir, final policy, isolation, filter, events log and sinks
//   execute                   the supervisor runs the command to its end
//   result                    report::FillResult, the closing record, stderr, --result FILE
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
  std::string error;    // why, when nothing was started (also said on stderr)
  std::string workdir;  // the run's private work dir (gone by now), or empty
};

RunOutcome RunCommand(const RunArgs& args);

}  // namespace cli
