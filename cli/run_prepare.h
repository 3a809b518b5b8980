// The second step of a run (cli/run_command.h): create what the run needs (the work dir, the
// final policy, isolation layers, the BPF filter, the events log and its sinks, the stream,
// output capture) and what the supervisor is told to watch. Members are destroyed in reverse
// order: the capture and log first, the work dir last.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/explain_view.h"
#include "cli/live.h"
#include "cli/run_plan.h"
#include "cli/stream_token.h"
#include "report/event_log.h"
#include "report/stream_server.h"
#include "tracer/isolation.h"
#include "tracer/launcher.h"
#include "tracer/output_capture.h"
#include "tracer/supervisor.h"

namespace cli {

struct PreparedRun {
  std::unique_ptr<tracer::WorkDir> workdir;
  std::optional<policy::Policy> policy;
  tracer::LaunchSpec spec;
  // What tracejail creates for a tcp stream (the token file, its directory), removed at the end.
  std::unique_ptr<StreamTokenFile> stream_token;
  tracer::PreparedIsolation isolation;
  std::unique_ptr<report::StreamServer> stream;
  std::shared_ptr<LiveTerminal> live;
  std::shared_ptr<ExplainView> explain;
  std::unique_ptr<report::EventLog> log;
  std::unique_ptr<tracer::OutputCapture> capture;
  tracer::Watch watch;
  base::UniqueFd collect_dir;  // --collect: the directory the copies go to

  std::string workdir_path() const { return workdir ? workdir->path() : ""; }
};

// The IPv4 and IPv6 addresses of this host's interfaces (a listener on 0.0.0.0 answers on all).
std::vector<policy::SocketAddress> LocalAddresses();

// The events log with its sinks (stream, --explain, --live) in `run.log`, when anything wants
// events (`observe` shares it). Throws RunFailure.
void OpenLog(const RunArgs& args, const RunPlan& plan, PreparedRun& run);

// Adds tracejail's output `path` (absolute, canonical) to what the tree may not touch. /dev/null
// is nobody's output: writing into it changes nothing, and a program that opens it (xargs for
// its children's stdin, a daemon) must not be denied because the events went there.
void ProtectOutput(const std::string& path, std::vector<std::string>& protected_paths);

// Fills `prepared` step by step (so what was created is released when a later step fails).
// Throws RunFailure.
void PrepareRun(const RunArgs& args, const RunPlan& plan, PreparedRun& prepared);

}  // namespace cli
