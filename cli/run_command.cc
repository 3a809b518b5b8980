#include "cli/run_command.h"

#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cerrno>
#include <cstdio>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/escape.h"
#include "cli/exit_codes.h"
#include "cli/run_plan.h"
#include "cli/run_prepare.h"
#include "policy/capabilities.h"
#include "report/output_file.h"
#include "report/run_facts.h"

namespace cli {
namespace {

void OnSignal(int sig) { tracer::Supervisor::RequestForward(sig); }

void InstallForwarding() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: waitpid returns EINTR and the loop forwards
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaction(sig, &sa, nullptr);
}

double Seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

double Seconds(const timespec& start, const timespec& end) {
  return static_cast<double>(end.tv_sec - start.tv_sec) +
         static_cast<double>(end.tv_nsec - start.tv_nsec) / 1e9;
}

int ExitStatusOf(const tracer::RunResult& r) {
  if (!r.internal_error.empty())
    return kExitInternal;  // never the command's: it may not have ended
  if (r.timed_out) return kExitTimedOut;
  if (r.killed_by_policy) return kExitKilledByPolicy;
  if (r.term_signal != 0) return 128 + r.term_signal;
  return r.exit_code;
}

// -v: what is about to run, how, and where its outputs go, before it starts.
void PrintPlan(const RunArgs& args, const RunPlan& plan, const PreparedRun& run) {
  const policy::Policy& p = *run.policy;
  std::string from = !args.policy_file.empty() ? "from " + base::EscapeBytes(args.policy_file)
                     : !args.level.empty()     ? "level " + args.level
                                               : "the default level";
  Error(fmt::format("plan: policy {} ({}), mode {}", base::DisplayText(p.name), from, args.mode));
  std::string argv;
  for (const std::string& a : run.spec.argv) argv += " " + base::EscapeBytes(a);
  Error(fmt::format("plan: command {}:{}", base::EscapeBytes(run.spec.exe), argv));
  Error(fmt::format("plan: starts in {}; work dir {}", base::EscapeBytes(run.spec.sandbox.chdir_to),
                    run.workdir ? base::EscapeBytes(run.workdir_path()) + " (removed afterwards)"
                                : std::string("none")));
  std::string limits;
  const nlohmann::json configured = policy::LimitsToJson(p.limits);
  for (const auto& [key, value] : configured.items()) {
    limits += fmt::format("{}{} {}", limits.empty() ? "" : ", ", key, value.get<std::string>());
  }
  Error("plan: limits " + limits);
  for (const auto& layer : run.isolation.LayersJson()) {
    std::string detail = base::DisplayText(layer.value("detail", ""));
    Error(fmt::format("plan: layer {}: {}{}", layer.value("layer", "?"), layer.value("state", "?"),
                      detail.empty() ? "" : " (" + detail + ")"));
  }
  Error("plan: outputs " + PlannedOutputs(args, plan));
}

// The record's own fields, known before the command starts.
void DescribeRun(const RunArgs& args, const PreparedRun& run, report::ExecutionResult& exec) {
  exec.execution_id = report::NewExecutionId();
  exec.command = args.command;
  exec.policy = run.policy->name;
  exec.mode = args.mode;
  exec.events_file = args.events_file;
  exec.limits = policy::LimitsToJson(run.policy->limits);
  exec.layers = run.isolation.LayersJson();
  exec.warnings = run.isolation.warnings;
}

struct Execution {
  tracer::RunResult result;
  report::ResourceUsage usage;
};

// The third step: the supervisor runs the command to its end. Captured output that went past
// its cap is a limit the supervisor records.
Execution Execute(const RunArgs& args, tracer::Mode mode, PreparedRun& run,
                  report::ExecutionResult& exec) {
  if (run.stream && args.stream_wait > 0) {
    if (!args.quiet) {
      Error(fmt::format("waiting for {} subscriber(s) on {}", args.stream_wait,
                        run.stream->Describe()));
    }
    run.stream->WaitForSubscribers(args.stream_wait);
  }
  // From here on a signal to tracejail is the run's (forwarded, then the tree is killed); until
  // here it ends tracejail before anything was started.
  InstallForwarding();
  Execution ran;
  timespec start{}, end{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  try {
    tracer::Supervisor supervisor(*run.policy, mode, run.log.get(), run.watch);
    supervisor.Run(run.spec, run.capture.get());
    if (tracer::OutputCapture* capture = run.capture.get()) {
      capture->Finish();
      exec.stdout_capture = capture->out();
      exec.stderr_capture = capture->err();
      for (const auto* c : {&capture->out(), &capture->err()}) {
        if (!c->truncated) continue;
        const char* stream = c == &capture->out() ? "stdout" : "stderr";
        supervisor.LimitExceeded(policy::LimitKind::kOutput,
                                 fmt::format("{} wrote {} bytes; the first {} were kept", stream,
                                             c->bytes, c->text.size()),
                                 {{"stream", stream}, {"bytes", c->bytes}});
      }
    }
    ran.result = supervisor.result();
  } catch (const std::exception& e) {
    throw RunFailure(kExitInternal, e.what());
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  ran.usage.wall_s = Seconds(start, end);
  // RUSAGE_CHILDREN covers every process of the tree: tracejail reaps orphans as a subreaper.
  rusage ru{};
  if (getrusage(RUSAGE_CHILDREN, &ru) == 0) {
    ran.usage.cpu_user_s = Seconds(ru.ru_utime);
    ran.usage.cpu_system_s = Seconds(ru.ru_stime);
    ran.usage.peak_rss_bytes = static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;
  }
  return ran;
}

// The events file's closing record; a log that failed makes the run an internal error.
void CloseLog(const RunArgs& args, PreparedRun& run, tracer::RunResult& result,
              report::ExecutionResult& exec) {
  report::EventLog& log = *run.log;
  report::LogEnd outcome;
  outcome.run_status = std::string(report::Name(exec.status));
  outcome.policy = run.policy->name;
  outcome.capabilities =
      run.spec.sandbox.restrict_caps
          ? report::Capabilities{.names = policy::CapNames(run.spec.sandbox.keep_caps)}
          : report::Capabilities{.inherit = true};
  if (!result.internal_error.empty()) outcome.internal_error = result.internal_error;
  if (exec.interrupted) {
    const char* abbrev = sigabbrev_np(*exec.interrupted);
    outcome.interrupted_by = abbrev ? fmt::format("SIG{}", abbrev) : "?";
  }
  log.Close(std::move(outcome));
  exec.event_records = log.written();
  if (!args.events_file.empty()) {
    exec.events_final_hash = log.final_hash();
    exec.events_chain = std::string(log.chain_name());
  }
  if (std::optional<std::string> failure = log.Failure()) {
    // Never "ok" with a partial record: the run's outcome is what tracejail could not keep.
    exec.events_lost = std::max<std::uint64_t>(log.lost(), 1);  // at least the one that failed
    exec.status = report::RunStatus::kInternalError;
    if (result.internal_error.empty()) {
      result.internal_error = "the events could not be recorded (" + *failure + ")";
    }
    exec.error = result.internal_error;
  }
}

void CloseStream(const RunArgs& args, report::StreamServer& stream, report::ExecutionResult& exec) {
  stream.Close();
  report::StreamStats stats = stream.Stats();
  exec.stream = {{"endpoint", stream.Describe()},
                 {"subscribers", stats.subscribers},
                 {"unauthenticated", stats.unauthenticated},
                 {"refused_full", stats.refused_full},
                 {"closed_stalled", stats.closed_stalled}};
  if (stats.closed_stalled > 0) {
    Error(fmt::format(
        "warning: {} stream subscriber(s) took nothing for {} s with a full queue and were "
        "closed; they lost the records after that (--stream-stall SECONDS gives them longer)",
        stats.closed_stalled, args.stream_stall));
  }
  if (stats.unauthenticated > 0) {
    Error(fmt::format(
        "warning: {} connection(s) to the stream were closed without a valid token (they got "
        "no events)",
        stats.unauthenticated));
  }
}

// The last step: the execution result, the closing record, what stderr says, the result file.
void Finish(const RunArgs& args, PreparedRun& run, Execution& ran, RunOutcome& out) {
  report::ExecutionResult& exec = out.exec;
  tracer::RunResult& result = ran.result;
  report::FillResult(result, result.spawn_error.has_value(), ran.usage, exec);
  if (run.log) CloseLog(args, run, result, exec);
  if (run.live) {
    // The trace is what was shown, not the record (that is the events file): a warning.
    if (std::optional<std::string> failed = run.live->Finish()) Error("warning: -o " + *failed);
  }
  if (run.stream) CloseStream(args, *run.stream, exec);
  if (run.explain) run.explain->Print(stderr);
  out.status = ExitStatusOf(result);
  if (result.spawn_error) {
    exec.error = result.spawn_error->Describe(run.spec);
    Error(exec.error);
    out.status = result.spawn_error->stage != tracer::SpawnError::kExecve ? kExitInternal
                 : result.spawn_error->error == ENOENT                    ? kExitNotFound
                                                                          : kExitNotExecutable;
  }
  if (!result.internal_error.empty()) {
    Error("internal error: " + result.internal_error +
          "; the process tree was killed and the run's outcome is unknown");
  }
  if (result.killed_by_policy) {
    const std::optional<report::DenialNote>& by = exec.killed_by;
    Error(!by ? "the process tree was killed by policy"
              : fmt::format("the process tree was killed by policy: {}{}",
                            base::DisplayText(by->message),
                            by->rule.empty() ? "" : "  <- " + base::DisplayText(by->rule)));
  }
  if (result.timed_out) Error("the process tree was killed: wall-clock timeout");
  if (!args.result_file.empty()) {
    // A command name or output that is not UTF-8 is written with U+FFFD, never an abort.
    std::string text =
        report::ToJson(exec).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (std::optional<std::string> failed = report::WriteOutput(args.result_file, text)) {
      throw RunFailure(kExitInternal, "result file: " + *failed);
    }
  }
  if (args.summary && !args.quiet) std::fputs(report::Summary(exec).c_str(), stderr);
}

}  // namespace

RunOutcome RunCommand(const RunArgs& args) {
  RunOutcome out;
  PreparedRun run;
  try {
    RunPlan plan = PlanRun(args);
    PrepareRun(args, plan, run);
    if (args.verbose) PrintPlan(args, plan, run);
    DescribeRun(args, run, out.exec);
    Execution ran = Execute(args, plan.mode, run, out.exec);
    out.ran = true;
    Finish(args, run, ran, out);
  } catch (const RunFailure& failure) {
    Error(failure.what());
    out.status = failure.status;
    out.error = failure.what();
  }
  out.workdir = run.workdir_path();  // removed with `run`, on return
  return out;
}

}  // namespace cli
