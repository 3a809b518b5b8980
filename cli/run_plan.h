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
#include "report/trace_set.h"
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
  bool live = false;  // --live, -o FILE or -e trace=SET: the live view is on
  report::LiveFilter live_filter = report::LiveFilter::kAll;
  report::TraceSet trace_set;  // -e trace=SET: which calls it shows
  report::StreamEndpoint stream_endpoint;
  bool tcp_stream = false;
  // Every file the child writes into the work dir before exec: exec's code, then each --file.
  std::vector<std::pair<std::string, std::string>> workdir_files;
};

// Throws RunFailure.
RunPlan PlanRun(const RunArgs& args);

// --live, -o, -e and the --stream options into `plan` (run and observe), checked before anything
// is loaded. Throws RunFailure (a usage error, with "did you mean" for an unknown -e name).
void CheckOutputs(const RunArgs& args, RunPlan& plan);

// -v's "plan: outputs ..." line (run, exec, learn, observe): the events and result files, the
// live view and what it shows, the stream; "summary only" when there is none.
std::string PlannedOutputs(const RunArgs& args, const RunPlan& plan);

// Loads the run's policy with `vars` and applies --cpu/--memory/... and --cap-add/--cap-drop.
// Throws RunFailure.
policy::Policy LoadRunPolicy(const RunArgs& args, const policy::Variables& vars);

// The command's environment: scrubbed (`clean`) or inherited, TMPDIR the work dir when there is
// one, then every --env.
std::vector<std::string> ChildEnvironment(const RunArgs& args, bool clean,
                                          const std::string& workdir);

}  // namespace cli
