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
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/exec_command.h"
#include "cli/exit_codes.h"
#include "cli/learn_command.h"
#include "cli/live.h"
#include "cli/report_command.h"
#include "cli/run_command.h"
#include "cli/run_options.h"
#include "cli/selftest_command.h"
#include "policy/explain.h"
#include "policy/loader.h"
#include "policy/oci.h"
#include "policy/presets.h"
#include "report/analysis.h"
#include "report/escape.h"
#include "report/event_log.h"
#include "report/event_reader.h"
#include "report/hash_chain.h"
#include "report/output_file.h"
#include "report/result.h"
#include "tracer/launcher.h"
#include "tracer/seccomp_filter.h"
#include "tracer/supervisor.h"

namespace {

using cli::Error;

int ShowPreset(const std::string& name) {
  if (name == "list") {
    for (const auto& p : policy::Presets())
      std::printf("%-9s %s\n", std::string(p.name).c_str(), std::string(p.summary).c_str());
    return 0;
  }
  auto text = policy::PresetText(name);
  if (!text) {
    Error(fmt::format("unknown level \"{}\" (try: tracejail policy show list)", name));
    return cli::kExitUsage;
  }
  std::cout << *text << "\n";
  return 0;
}

int CheckPolicies(const std::vector<std::string>& files) {
  policy::Variables vars = policy::DefaultVariables();
  int status = 0;
  for (const auto& f : files) {
    try {
      policy::Policy p = policy::LoadPolicyFile(f, vars);
      std::string chain;
      for (const auto& c : p.chain) chain += (chain.empty() ? "" : " -> ") + c;
      std::printf("%s: ok (%zu file rules, %zu network rules, %zu syscall rules; %s)\n", f.c_str(),
                  p.path_rules.size(), p.net_rules.size(), p.syscall_rules.size(), chain.c_str());
    } catch (const policy::PolicyError& e) {
      std::fprintf(stderr, "%s\n", e.what());
      status = cli::kExitPolicy;
    }
  }
  return status;
}

template <typename F>
int WithPolicy(const std::string& spec, F&& f) {
  try {
    f(policy::LoadPolicySpec(spec, policy::DefaultVariables()));
    return 0;
  } catch (const policy::PolicyError& e) {
    Error(e.what());
    return cli::kExitPolicy;
  }
}

int WriteConversion(const policy::Conversion& c, const std::string& out_path) {
  for (const auto& note : c.notes) std::fprintf(stderr, "tracejail: note: %s\n", note.c_str());
  std::string text = c.document.dump(2) + "\n";
  if (std::optional<std::string> failed = report::WriteOutput(out_path, text, 0644)) {
    Error(*failed);
    return cli::kExitInternal;
  }
  return 0;
}

int ImportOci(const std::string& file, const std::string& out_path) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    Error(fmt::format("cannot read {}: {}", file, std::strerror(errno)));
    return cli::kExitPolicy;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return WriteConversion(policy::ImportOci(ss.str(), file), out_path);
  } catch (const policy::PolicyError& e) {
    Error(e.what());
    return cli::kExitPolicy;
  }
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
  app.set_version_flag("--version", "tracejail 0.1.0");

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

  CLI::App* policy_cmd = app.add_subcommand("policy", "inspect and check policies");
  policy_cmd->require_subcommand(1);
  std::string show_name = std::string(policy::kDefaultPreset);
  CLI::App* show_cmd = policy_cmd->add_subcommand("show", "print a preset or list them");
  show_cmd->add_option("level", show_name, "none, basic, standard, strict, maximum, or 'list'");
  std::vector<std::string> check_files;
  CLI::App* check_cmd = policy_cmd->add_subcommand("check", "validate policy files");
  check_cmd->add_option("files", check_files, "policy files")->required();
  std::string explain_spec;
  CLI::App* explain_cmd =
      policy_cmd->add_subcommand("explain", "say in plain words what a policy allows and denies");
  explain_cmd->add_option("policy", explain_spec, "preset name or policy file")->required();
  std::string compile_spec;
  bool compile_pfc = false;
  bool compile_dump = true;
  CLI::App* compile_cmd =
      policy_cmd->add_subcommand("compile", "show the seccomp filter plan of a policy");
  compile_cmd->add_option("policy", compile_spec, "preset name or policy file")->required();
  compile_cmd->add_flag("--dump", compile_dump, "print the plan (the default)");
  compile_cmd->add_flag("--pfc", compile_pfc, "print libseccomp's pseudo filter code instead");
  std::string import_file, convert_out;
  CLI::App* import_cmd =
      policy_cmd->add_subcommand("import-oci", "convert a Docker/OCI seccomp profile to a policy");
  import_cmd->add_option("profile", import_file, "OCI seccomp profile (JSON)")->required();
  import_cmd->add_option("-o,--output", convert_out, "write here instead of stdout");
  std::vector<std::string> merge_files;
  std::string merge_out;
  CLI::App* merge_cmd =
      policy_cmd->add_subcommand("merge", "merge learnt drafts (of one base) into one draft");
  merge_cmd->add_option("drafts", merge_files, "draft policy files")->required();
  merge_cmd->add_option("-o,--output", merge_out, "write here instead of stdout");
  std::string export_spec;
  CLI::App* export_cmd =
      policy_cmd->add_subcommand("export-oci", "convert a policy to a Docker/OCI seccomp profile");
  export_cmd->add_option("policy", export_spec, "preset name or policy file")->required();
  export_cmd->add_option("-o,--output", convert_out, "write here instead of stdout");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    Error(e.what());
    std::fprintf(stderr, "Run with --help for usage.\n");
    return cli::kExitUsage;
  }

  if (*run_cmd) return cli::RunCommand(run).status;
  if (*exec_cmd) return cli::Exec(exec);
  if (*learn_cmd) return cli::Learn(learn);
  if (*selftest_cmd) return cli::Selftest(selftest);
  if (*watch_cmd) return cli::WatchCommand(watch_endpoint, watch_denied, watch_token_file);
  if (*merge_cmd) return cli::MergeDrafts(merge_files, merge_out);
  if (*verify_cmd) return cli::Verify(verify);
  if (*report_cmd) return cli::Report(report_args);
  if (*stats_cmd) return cli::Stats(stats);
  if (*show_cmd) return ShowPreset(show_name);
  if (*check_cmd) return CheckPolicies(check_files);
  if (*import_cmd) return ImportOci(import_file, convert_out);
  if (*export_cmd) {
    int status = 0;
    int rc = WithPolicy(export_spec, [&](const policy::Policy& p) {
      status = WriteConversion(policy::ExportOci(p), convert_out);
    });
    return rc != 0 ? rc : status;
  }
  if (*explain_cmd)
    return WithPolicy(explain_spec, [](const policy::Policy& p) {
      std::fputs(policy::DescribePolicy(p).c_str(), stdout);
    });
  if (*compile_cmd)
    return WithPolicy(compile_spec, [&](const policy::Policy& p) {
      syscalls::SyscallIndex index;
      tracer::FilterPlan plan = tracer::MakePlan(p, index);
      std::string text =
          compile_pfc ? tracer::DescribeFilter(plan, index) : tracer::DescribePlan(plan, index);
      std::fputs(text.c_str(), stdout);
    });
  return cli::kExitUsage;
}
