// The first step of a run (cli/run_command.h): check the arguments, load the policy to learn
// what it asks for, and find the command. Nothing is created yet: a run that fails here has
// started nothing and left nothing behind.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "cli/run_args.h"
#include "policy/loader.h"
#include "policy/policy.h"
#include "report/live_view.h"
#include "report/stream_server.h"
#include "tracer/stop_decision.h"

namespace cli {

// A step of the run failed: `what()` is the message for stderr, `status` tracejail's exit
// status (cli/exit_codes.h).
class RunFailure : public std::runtime_error {
 public:
  RunFailure(int exit_status, const std::string& message)
      : std::runtime_error(message), status(exit_status) {}
  int status;
};

struct RunPlan {
  policy::Variables vars;  // ${COMMAND} set; ${WORKDIR} is the next step's
  bool wants_workdir = false;
  bool clean_environment = false;
  std::string exe;  // the command's absolute path
  tracer::Mode mode = tracer::Mode::kEnforce;
  report::LiveFilter live_filter = report::LiveFilter::kAll;
  report::StreamEndpoint stream_endpoint;
  bool tcp_stream = false;
};

// Throws RunFailure.
RunPlan PlanRun(const RunArgs& args);

// Loads the run's policy with `vars` and applies --cpu/--memory/... and --cap-add/--cap-drop.
// Throws RunFailure.
policy::Policy LoadRunPolicy(const RunArgs& args, const policy::Variables& vars);

// The command's environment: scrubbed (`clean`) or inherited, TMPDIR the work dir when there is
// one, then every --env.
std::vector<std::string> ChildEnvironment(const RunArgs& args, bool clean,
                                          const std::string& workdir);

}  // namespace cli
