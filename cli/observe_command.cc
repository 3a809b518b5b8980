#include "cli/observe_command.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/escape.h"
#include "cli/common.h"
#include "cli/exit_codes.h"
#include "cli/run_options.h"
#include "cli/run_plan.h"
#include "cli/run_prepare.h"
#include "policy/limits.h"
#include "policy/loader.h"
#include "report/event_log.h"
#include "report/output_file.h"
#include "report/result.h"
#include "report/run_facts.h"
#include "tracer/observer.h"

namespace cli {
namespace {

void OnSignal(int sig) { tracer::Observer::RequestStop(sig); }

// SIGINT, SIGTERM, SIGHUP, SIGQUIT end the observation, never the process observed.
void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: waitpid returns EINTR
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaction(sig, &sa, nullptr);
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

// The options `run` would have had, for what observe shares with it (policy loading, the log).
RunArgs AsRunArgs(const ObserveArgs& args) {
  RunArgs run;
  run.policy_file = args.policy_file;
  run.level = args.level;
  run.events_file = args.events_file;
  run.events_key = args.events_key;
  run.raw_events = args.raw_events;
  run.live = args.live;
  run.trace_file = args.trace_file;
  run.trace_exprs = args.trace_exprs;
  run.quiet = args.quiet;
  run.verbose = args.verbose;
  run.result_file = args.result_file;
  run.summary = args.summary;
  run.mode = args.enforce ? "enforce" : "audit";
  return run;
}

int StatusOf(const tracer::ObserveResult& r) {
  if (!r.internal_error.empty()) return kExitInternal;
  if (r.detached) return 0;  // let go, running: its end is not observe's to report
  if (r.killed_by_policy) return kExitKilledByPolicy;
  if (r.term_signal != 0) return 128 + r.term_signal;
  return r.exit_code;
}

// -v: what observe is about to do, before it starts.
void PrintObservePlan(const ObserveArgs& args, const RunPlan& plan, const policy::Policy& policy) {
  Error(fmt::format(
      "plan: policy {} ({}), {}", base::DisplayText(policy.name),
      args.policy_file.empty()
          ? "level " + (args.level.empty() ? std::string("standard") : args.level)
          : "file " + base::EscapeBytes(args.policy_file),
      args.enforce ? "enforcing at each call's entry (--enforce)" : "audit: nothing is enforced"));
  Error("plan: outputs " + PlannedOutputs(AsRunArgs(args), plan));
}

int AttachStatus(int error) {
  return error == ESRCH ? kExitNotFound : error == EPERM ? kExitNotExecutable : kExitInternal;
}

}  // namespace

void AddObserveOptions(CLI::App* cmd, ObserveArgs& args) {
  cmd->add_option("-p,--pid", args.pid,
                  "the process to observe (every thread, and the children it makes from now on)")
      ->required()
      ->check(CLI::PositiveNumber);
  auto* pol = cmd->add_option("--policy", args.policy_file, "policy JSON file");
  cmd->add_option("--level", args.level,
                  "preset to decide against: none, basic, standard (default), strict, maximum")
      ->excludes(pol);
  cmd->add_option("--events", args.events_file, "write events as JSON Lines to FILE");
  cmd->add_option("--events-key", args.events_key,
                  "chain the events file with HMAC-SHA-256 under the key in FILE (tracejail "
                  "verify --key)");
  cmd->add_flag("--raw-events", args.raw_events,
                "write every occurrence of a repeated event in full (default: repeats within a "
                "second are folded)");
  cmd->add_flag("--live{all}", args.live,
                "show each decision on the terminal as it happens (--live, or --live=denied)")
      ->check(CLI::IsMember({"all", "denied"}));
  AddTraceFileOption(cmd, args.trace_file);
  AddTraceSetOptions(cmd, args.trace_exprs);
  AddMessageOptions(cmd, args.quiet, args.verbose);
  cmd->add_option("--result", args.result_file, "write the result as JSON to FILE");
  cmd->add_flag("--summary,!--no-summary", args.summary,
                "print a summary to stderr at the end (default: on; -q turns it off)");
  cmd->add_option("--duration,--timeout", args.duration,
                  "stop observing after this long (30s, 5m, 1m30s) and detach: the process is "
                  "never killed, it runs on unobserved");
  cmd->add_flag("--enforce", args.enforce,
                "deny what the policy denies by skipping the call at its entry (it fails with "
                "the rule's errno; a kill rule kills the process and its children). Without it "
                "nothing is enforced and denials are recorded as \"would deny\". Best effort: "
                "see docs/observe.md");
  cmd->footer(
      "observe attaches with ptrace to a process tracejail did not start. No seccomp filter can "
      "be added to a running process from outside, so every syscall stops (slower than run), "
      "what the process did before is not seen, and descriptors it already holds were opened "
      "unchecked. Attaching needs ptrace permission: the same user and "
      "/proc/sys/kernel/yama/ptrace_scope 0, or root. Ctrl-C, SIGTERM or --duration detach and "
      "leave it running. See docs/observe.md.");
}

int Observe(const ObserveArgs& args) {
  RunArgs run_args = AsRunArgs(args);
  RunPlan plan;
  try {
    CheckOutputs(run_args, plan);  // --live, -o, -e: as run checks them
  } catch (const RunFailure& failure) {
    Error(failure.what());
    return failure.status;
  }
  tracer::ObserveOptions options;
  options.denial_notes = args.verbose ? report::kVerboseDenials : report::kFirstDenials;
  options.enforce = args.enforce;
  if (!args.duration.empty()) {
    policy::ParsedLimit d = policy::ParseLimitText(policy::LimitUnit::kMilliseconds, args.duration);
    if (!d.error.empty() || !d.value) {
      Error(fmt::format("--duration: {}", d.error.empty() ? "expected a duration" : d.error));
      return kExitUsage;
    }
    options.duration_s = static_cast<double>(*d.value) / 1000.0;
  }
  PreparedRun run;
  report::ExecutionResult exec;
  try {
    policy::Variables vars = policy::DefaultVariables();
    std::error_code ec;
    auto exe = std::filesystem::read_symlink(fmt::format("/proc/{}/exe", args.pid), ec);
    if (!ec) vars["COMMAND"] = exe.string();
    run.policy = LoadRunPolicy(run_args, vars);
    run.policy->local_addresses = LocalAddresses();
    OpenLog(run_args, plan, run);
  } catch (const RunFailure& failure) {
    Error(failure.what());
    return failure.status;
  } catch (const std::exception& e) {
    Error(e.what());
    return kExitInternal;
  }
  options.live_allowed = run.live != nullptr && plan.live_filter == report::LiveFilter::kAll;
  for (const std::string& output :
       {args.events_file, args.result_file, args.events_key, args.trace_file}) {
    ProtectOutput(output, options.protected_paths);
  }
  std::unique_ptr<tracer::EventLogSink> sink;
  if (run.log) sink = std::make_unique<tracer::EventLogSink>(*run.log);

  InstallStopHandlers();
  timespec start{}, end{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  tracer::ObserveResult result;
  try {
    tracer::Observer observer(*run.policy, sink.get(), options);
    try {
      observer.Attach(args.pid);
    } catch (const tracer::AttachError& e) {
      Error(e.what());
      if (run.log) {
        report::LogEnd outcome;
        outcome.run_status = "not_attached";
        outcome.internal_error = e.what();
        run.log->Close(std::move(outcome));
      }
      return AttachStatus(e.error);
    }
    const tracer::ObserveResult& attached = observer.result();
    if (args.verbose) PrintObservePlan(args, plan, *run.policy);
    if (!args.quiet) {
      Error(fmt::format(
          "observing process {} ({}), {} thread{}{}; {}: Ctrl-C stops observing and leaves it "
          "running",
          attached.pid, attached.exe, attached.threads, attached.threads == 1 ? "" : "s",
          options.duration_s > 0 ? fmt::format(" for {}", args.duration) : "",
          args.enforce ? "enforcing what it can (--enforce)" : "nothing is enforced"));
    }
    result = observer.Run();
  } catch (const std::exception& e) {
    Error(fmt::format("internal error: {}", e.what()));
    return kExitInternal;
  }
  clock_gettime(CLOCK_MONOTONIC, &end);

  exec.execution_id = report::NewExecutionId();
  exec.command = result.argv;
  exec.policy = run.policy->name;
  exec.mode = run_args.mode;
  exec.events_file = args.events_file;
  report::ResourceUsage usage;
  usage.wall_s = static_cast<double>(end.tv_sec - start.tv_sec) +
                 static_cast<double>(end.tv_nsec - start.tv_nsec) / 1e9;
  report::FillResult(result, false, usage, exec);
  if (run.log) {
    report::LogEnd outcome;
    outcome.run_status = std::string(report::Name(exec.status));
    outcome.policy = run.policy->name;
    if (!result.internal_error.empty()) outcome.internal_error = result.internal_error;
    if (result.interrupted != 0) outcome.interrupted_by = SignalName(result.interrupted);
    run.log->Close(std::move(outcome));
    exec.event_records = run.log->written();
    if (!args.events_file.empty()) {
      exec.events_final_hash = run.log->final_hash();
      exec.events_chain = std::string(run.log->chain_name());
    }
    if (std::optional<std::string> failure = run.log->Failure()) {
      exec.events_lost = std::max<std::uint64_t>(run.log->lost(), 1);
      exec.status = report::RunStatus::kInternalError;
      if (result.internal_error.empty()) {
        result.internal_error = "the events could not be recorded (" + *failure + ")";
      }
      exec.error = result.internal_error;
    }
  }
  if (run.live) {
    if (std::optional<std::string> failed = run.live->Finish()) Error("warning: -o " + *failed);
  }
  if (!result.internal_error.empty()) {
    Error("internal error: " + result.internal_error + "; every task was let go");
  }
  if (result.detached && !args.quiet) {
    Error(fmt::format("detached from process {}{} ({} task{} let go): it runs on, unobserved",
                      result.pid,
                      result.interrupted != 0 ? " on " + SignalName(result.interrupted)
                      : result.duration_over  ? " after " + args.duration
                                              : "",
                      result.left_running, result.left_running == 1 ? "" : "s"));
  } else if (result.left_running > 0 && !args.quiet) {
    Error(fmt::format("process {} ended; {} task{} it left running {} let go", result.pid,
                      result.left_running, result.left_running == 1 ? "" : "s",
                      result.left_running == 1 ? "was" : "were"));
  }
  if (result.killed_by_policy) Error("the process tree was killed by policy (--enforce)");
  if (!args.result_file.empty()) {
    std::string text =
        report::ToJson(exec).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (std::optional<std::string> failed = report::WriteOutput(args.result_file, text)) {
      Error("result file: " + *failed);
      return kExitInternal;
    }
  }
  if (args.summary && !args.quiet) std::fputs(report::Summary(exec).c_str(), stderr);
  return exec.status == report::RunStatus::kInternalError ? kExitInternal : StatusOf(result);
}

}  // namespace cli
