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

int Verify(const std::string& file, const std::string& expect, const std::string& key_file) {
  report::ChainHash hash;
  if (!key_file.empty()) {
    std::string why;
    std::optional<std::string> key = cli::ReadKeyFile(key_file, why);
    if (!key) {
      Error("--key " + why);
      return cli::kExitUsage;
    }
    hash = report::ChainHash(std::move(*key));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    Error(fmt::format("cannot read {}: {}", file, std::strerror(errno)));
    return cli::kExitUsage;
  }
  report::VerifyResult r = report::VerifyChain(in, hash);
  if (!expect.empty() && r.final_hash != expect) {
    r.problems.push_back(fmt::format(
        "the chain ends in {}, not in the expected {}: this is not the file that run wrote, or "
        "it was rewritten whole",
        r.final_hash.empty() ? std::string("nothing") : r.final_hash, expect));
  }
  const std::string shown = report::EscapeBytes(file);
  if (r.ok()) {
    std::printf("%s: ok, %zu records, hash chain intact (%s%s)\n", shown.c_str(), r.lines,
                std::string(hash.name()).c_str(), expect.empty() ? "" : ", final hash as expected");
    return 0;
  }
  for (const auto& p : r.problems) std::printf("%s: %s\n", shown.c_str(), p.c_str());
  std::printf("%s: TAMPERED or incomplete (%zu problem%s)\n", shown.c_str(), r.problems.size(),
              r.problems.size() == 1 ? "" : "s");
  return cli::kExitVerifyFailed;
}

int Report(const std::string& file, const std::string& format, const std::string& out_path) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    Error(fmt::format("cannot read {}: {}", file, std::strerror(errno)));
    return cli::kExitUsage;
  }
  report::EventsRead read = report::ReadEventsFile(in);
  std::vector<nlohmann::json>& events = read.records;
  in.clear();
  in.seekg(0);
  report::VerifyResult chain = report::VerifyChain(in);
  report::Analysis analysis = report::Analyze(events);
  std::string text;
  std::string integrity =
      chain.ok() ? fmt::format("hash chain intact ({} records)", chain.lines)
                 : fmt::format("HASH CHAIN BROKEN ({} problems; run tracejail verify {})",
                               chain.problems.size(), file);
  if (format == "json") {
    nlohmann::json j = report::RenderJson(analysis);
    j["integrity"] = {{"ok", chain.ok()}, {"problems", chain.problems}};
    text = j.dump(2) + "\n";
  } else if (format == "html") {
    text = report::RenderHtml(analysis, file);
    if (!chain.ok()) {
      text.insert(text.find("<h2>Timeline"),
                  "<p class=\"escape\">The events file failed verification: " + integrity + "</p>");
    }
  } else if (format == "sarif") {
    nlohmann::json j = report::RenderSarif(analysis);
    j["runs"][0]["properties"]["integrity"] = chain.ok() ? "intact" : "broken";
    text = j.dump(2) + "\n";
  } else if (format == "markdown") {
    text = report::RenderMarkdown(analysis) + "\n_Events file: " + integrity + "._\n";
  } else {
    text = report::RenderText(analysis) + "\nEvents file: " + integrity + "\n";
  }
  std::fputs(report::DescribeProblems(file, read.problems).c_str(), stderr);
  if (std::optional<std::string> failed = report::WriteOutput(out_path, text)) {
    Error(*failed);
    return cli::kExitInternal;
  }
  // The report covers the records that could be read; the status says some could not.
  return read.problems.empty() ? 0 : cli::kExitBadInput;
}

int Stats(const std::vector<std::string>& inputs, bool json) {
  std::vector<std::string> files;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (std::filesystem::is_directory(in, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(in, ec)) {
        if (entry.path().extension() == ".jsonl") files.push_back(entry.path().string());
      }
    } else if (std::filesystem::exists(in, ec)) {
      files.push_back(in);
    } else {
      Error(fmt::format("{}: no such file or directory", in));
      return cli::kExitUsage;
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    Error("no events files (*.jsonl) found");
    return cli::kExitUsage;
  }
  std::vector<std::pair<std::string, report::Analysis>> runs;
  bool skipped = false;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    report::EventsRead read = report::ReadEventsFile(in);
    std::fputs(report::DescribeProblems(f, read.problems).c_str(), stderr);
    skipped = skipped || !read.problems.empty();
    runs.emplace_back(f, report::Analyze(read.records));
  }
  nlohmann::json stats = report::AggregateRuns(runs);
  std::string text =
      json ? stats.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"
           : report::RenderStatsText(stats);
  if (std::optional<std::string> failed = report::WriteOutput("", text)) {
    Error(*failed);
    return cli::kExitInternal;
  }
  return skipped ? cli::kExitBadInput : 0;
}

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

  std::string verify_file;
  CLI::App* verify_cmd =
      app.add_subcommand("verify", "check an events file's hash chain for tampering");
  verify_cmd->add_option("events", verify_file, "events file (JSON Lines)")->required();
  std::string verify_expect, verify_key;
  verify_cmd
      ->add_option("--expect", verify_expect,
                   "the chain's final hash as the run's result recorded it "
                   "(events_chain.final_hash): proves this is that run's file, whole")
      ->check([](const std::string& v) {
        return v.size() == 64 && v.find_first_not_of("0123456789abcdef") == std::string::npos
                   ? std::string()
                   : std::string("expected 64 lowercase hex digits");
      });
  verify_cmd->add_option("--key", verify_key,
                         "the key FILE the run was given with --events-key (HMAC-SHA-256 chain)");

  std::string report_file, report_format = "text", report_out;
  CLI::App* report_cmd = app.add_subcommand("report", "a forensic report from an events file");
  report_cmd->add_option("events", report_file, "events file (JSON Lines)")->required();
  report_cmd->add_option("--format", report_format, "text (default), markdown, json, html, sarif")
      ->check(CLI::IsMember({"text", "markdown", "json", "html", "sarif"}));
  report_cmd->add_option("-o,--output", report_out, "write here instead of stdout");

  std::vector<std::string> stats_inputs;
  bool stats_json = false;
  CLI::App* stats_cmd = app.add_subcommand("stats", "statistics across many runs' events files");
  stats_cmd->add_option("inputs", stats_inputs, "events files, or directories of *.jsonl")
      ->required();
  stats_cmd->add_flag("--json", stats_json, "print JSON");

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
  if (*watch_cmd) return cli::Watch(watch_endpoint, watch_denied, watch_token_file);
  if (*merge_cmd) return cli::MergeDrafts(merge_files, merge_out);
  if (*verify_cmd) return Verify(verify_file, verify_expect, verify_key);
  if (*report_cmd) return Report(report_file, report_format, report_out);
  if (*stats_cmd) return Stats(stats_inputs, stats_json);
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
      std::fputs(policy::Explain(p).c_str(), stdout);
    });
  if (*compile_cmd)
    return WithPolicy(compile_spec, [&](const policy::Policy& p) {
      tracer::SyscallIndex index;
      tracer::FilterPlan plan = tracer::MakePlan(p, index);
      std::string text =
          compile_pfc ? tracer::DescribeFilter(plan, index) : tracer::DescribePlan(plan, index);
      std::fputs(text.c_str(), stdout);
    });
  return cli::kExitUsage;
}
