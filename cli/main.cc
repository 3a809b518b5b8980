// tracejail's command line: CLI11 wiring only; the work happens in tracer/, policy/, report/.
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/escape.h"
#include "base/version.h"
#include "cli/batch_command.h"
#include "cli/common.h"
#include "cli/diff_command.h"
#include "cli/exec_command.h"
#include "cli/exit_codes.h"
#include "cli/learn_command.h"
#include "cli/live.h"
#include "cli/observe_command.h"
#include "cli/policy_command.h"
#include "cli/report_command.h"
#include "cli/run_command.h"
#include "cli/run_options.h"
#include "cli/selftest_command.h"
#include "policy/loader.h"
#include "policy/presets.h"
#include "report/analysis.h"
#include "report/event_log.h"
#include "report/event_reader.h"
#include "report/hash_chain.h"
#include "report/result.h"
#include "tracer/launcher.h"
#include "tracer/supervisor.h"

using cli::Error;

namespace {

// A word as a shell would need it quoted, for a command line shown in a hint.
std::string ShellWord(const std::string& word) {
  bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](unsigned char c) {
    return std::isalnum(c) || std::strchr("_./=:,@%+-", c) != nullptr;
  });
  if (plain) return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// A parse error as one line (and a hint where one helps), exit status 120.
int UsageError(CLI::App& app, const CLI::ParseError& e, int argc, char** argv,
               std::initializer_list<CLI::App*> command_takers) {
  // `tracejail bogus`, `tracejail policy shwo`: CLI11 only says a subcommand is required.
  // The deepest command parsed, and its first word that is not an option, if it has commands.
  CLI::App* level = &app;
  std::string prefix;
  int from = 1;
  while (!level->get_subcommands().empty()) {
    level = level->get_subcommands().front();
    prefix += level->get_name() + " ";
    while (from < argc && level->get_name() != argv[from]) ++from;
    ++from;
  }
  std::vector<std::string> names;
  for (const CLI::App* sub : level->get_subcommands([](CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
  }
  for (int i = from; i < argc && !names.empty(); ++i) {
    std::string word = argv[i];
    if (word.starts_with("-")) continue;
    if (std::find(names.begin(), names.end(), word) != names.end()) break;
    std::string near = cli::Nearest(word, names);
    Error(near.empty() ? fmt::format("unknown command \"{}{}\" (commands: {})", prefix, word,
                                     fmt::join(names, ", "))
                       : fmt::format("unknown command \"{}{}\": did you mean {}{}?", prefix, word,
                                     prefix, near));
    std::fprintf(stderr, "Run with --help for usage.\n");
    return cli::kExitUsage;
  }
  Error(e.what());
  // `tracejail run ls -l`: without "--", the command's options are taken for tracejail's.
  for (CLI::App* cmd : command_takers) {
    const CLI::Option* command = cmd->get_option_no_throw("command");
    if (!*cmd || command == nullptr || command->count() == 0 || cmd->remaining().empty() ||
        dynamic_cast<const CLI::ExtrasError*>(&e) == nullptr) {
      continue;
    }
    // Where the subcommand, the command's first word and the first unexpected word are.
    auto find = [&](const std::string& wanted, int start) {
      for (int k = start; k < argc; ++k) {
        if (wanted == argv[k]) return k;
      }
      return argc;
    };
    int sub = find(cmd->get_name(), 1);
    int first = find(command->results().front(), sub + 1);
    int extra = find(cmd->remaining().front(), sub + 1);
    if (find("--", sub + 1) < argc || first >= argc || extra <= first) continue;
    std::string shown;
    for (int k = first; k < argc; ++k) shown += (shown.empty() ? "" : " ") + ShellWord(argv[k]);
    std::fprintf(stderr,
                 "Put -- before the command, so that its options are not taken for "
                 "tracejail's: tracejail %s [OPTIONS] -- %s\n",
                 cmd->get_name().c_str(), shown.c_str());
    return cli::kExitUsage;
  }
  std::fprintf(stderr, "Run with --help for usage.\n");
  return cli::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // A closed pipe on our stdout/stderr must not kill the supervisor before it cleans up (work
  // dir, cgroup, the tracee tree): writes fail with EPIPE instead. The child resets it.
  signal(SIGPIPE, SIG_IGN);
  // A large tree must not run the supervisor out of descriptors; the command gets the
  // caller's limit back.
  tracer::RaiseOwnFileLimit();
  CLI::App app{"tracejail: run a program under a syscall-tracing supervisor"};
  app.require_subcommand(1);
  app.set_version_flag("-V,--version", fmt::format("tracejail {}", base::kVersion));

  cli::RunArgs run;
  CLI::App* run_cmd = app.add_subcommand("run", "run a command under the policy");
  cli::AddRunOptions(run_cmd, run);
  run_cmd->add_option("command", run.command, "command and arguments (after --)");

  cli::ExecArgs exec;
  CLI::App* exec_cmd = app.add_subcommand(
      "exec", "run a snippet of code (python, sh, bash) in a fresh work dir under the policy");
  cli::AddExecOptions(exec_cmd, exec);

  cli::LearnArgs learn;
  CLI::App* learn_cmd = app.add_subcommand(
      "learn", "run a command in audit mode and write a draft policy of what it needed");
  cli::AddLearnOptions(learn_cmd, learn);

  cli::ObserveArgs observe;
  CLI::App* observe_cmd = app.add_subcommand(
      "observe",
      "attach to a running process (-p PID) and its future children: record and decode what it "
      "does against the policy, without enforcing it (see --enforce); Ctrl-C detaches");
  cli::AddObserveOptions(observe_cmd, observe);

  cli::SelftestArgs selftest;
  CLI::App* selftest_cmd = app.add_subcommand(
      "selftest",
      "run the escape suite (samples/escapes) under the basic, standard, strict and maximum "
      "levels and show what stopped each technique");
  cli::AddSelftestOptions(selftest_cmd, selftest);

  std::string watch_endpoint, watch_token_file;
  bool watch_denied = false;
  CLI::App* watch_cmd =
      app.add_subcommand("watch", "show the live view of a run started elsewhere with --stream");
  watch_cmd->add_option("endpoint", watch_endpoint, "unix:PATH or tcp:ADDRESS:PORT")->required();
  watch_cmd->add_flag("--denied", watch_denied, "only decisions that deny, escapes and limits");
  watch_cmd->add_option("--token-file", watch_token_file,
                        "a tcp stream's token (the file the run named on stderr, mode 600); "
                        "sent first as \"AUTH <token>\"");

  cli::VerifyArgs verify;
  CLI::App* verify_cmd =
      app.add_subcommand("verify", "check an events file's hash chain for tampering");
  cli::AddVerifyOptions(verify_cmd, verify);
  cli::ReportArgs report_args;
  CLI::App* report_cmd = app.add_subcommand("report", "a forensic report from an events file");
  cli::AddReportOptions(report_cmd, report_args);
  cli::StatsArgs stats;
  CLI::App* stats_cmd = app.add_subcommand("stats", "statistics across many runs' events files");
  cli::AddStatsOptions(stats_cmd, stats);

  cli::BatchArgs batch;
  CLI::App* batch_cmd = app.add_subcommand(
      "batch",
      "run every task of a manifest (JSON Lines), N at a time, each under the same supervision "
      "as run/exec, into DIR/<id>/; resumable, shardable (--shard K/N), with a summary");
  cli::AddBatchOptions(batch_cmd, batch);

  cli::DiffArgs diff_args;
  CLI::App* diff_cmd = app.add_subcommand(
      "diff", "what one run did that another did not, from their events files (exit 1 if any)");
  cli::AddDiffOptions(diff_cmd, diff_args);

  cli::PolicyArgs policy_args;
  cli::AddPolicyCommand(app, policy_args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    cli::ExecJsonUsageError(argc, argv, e.what());  // `exec --json` says it as JSON too
    return UsageError(app, e, argc, argv, {run_cmd, learn_cmd});
  }

  if (*run_cmd) return cli::RunCommand(run).status;
  if (*exec_cmd) return cli::Exec(exec);
  if (*learn_cmd) return cli::Learn(learn);
  if (*observe_cmd) return cli::Observe(observe);
  if (*selftest_cmd) return cli::Selftest(selftest);
  if (*watch_cmd) return cli::WatchCommand(watch_endpoint, watch_denied, watch_token_file);
  if (*verify_cmd) return cli::Verify(verify);
  if (*report_cmd) return cli::Report(report_args);
  if (*stats_cmd) return cli::Stats(stats);
  if (*diff_cmd) return cli::Diff(diff_args);
  if (*batch_cmd) return cli::Batch(batch);
  if (std::optional<int> status = cli::RunPolicyCommand(policy_args)) return *status;
  return cli::kExitUsage;
}
