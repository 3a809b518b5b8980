#include "cli/policy_command.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "base/escape.h"
#include "cli/common.h"
#include "cli/exit_codes.h"
#include "cli/learn_command.h"
#include "policy/explain.h"
#include "policy/loader.h"
#include "policy/oci.h"
#include "policy/presets.h"
#include "report/event_reader.h"
#include "report/output_file.h"
#include "report/policy_replay.h"
#include "tracer/seccomp_filter.h"

namespace cli {
namespace {

int ShowPreset(const std::string& name) {
  if (name == "list") {
    for (const auto& p : policy::Presets())
      std::printf("%-9s %s\n", std::string(p.name).c_str(), std::string(p.summary).c_str());
    return 0;
  }
  auto text = policy::PresetText(name);
  if (!text) {
    Error(UnknownLevel(name));
    return kExitUsage;
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
      // Every error of the file at once, then how many: five typos are fixed in one pass.
      for (const std::string& line : e.errors()) std::fprintf(stderr, "%s\n", line.c_str());
      std::size_t count = e.errors().size();
      if (count > 1) std::fprintf(stderr, "%s: %zu errors\n", f.c_str(), count);
      status = kExitPolicy;
    }
  }
  return status;
}

// Loads `spec` (a preset or a file) and hands it to `f`, which returns the exit status.
template <typename F>
int WithPolicy(const std::string& spec, F&& f) {
  std::optional<policy::Policy> p;
  try {
    p = policy::LoadPolicySpec(spec, policy::DefaultVariables());
  } catch (const policy::PolicyError& e) {
    Error(e.what());
    return kExitPolicy;
  }
  return f(*p);
}

int WriteConversion(const policy::Conversion& c, const std::string& out_path) {
  for (const auto& note : c.notes) std::fprintf(stderr, "tracejail: note: %s\n", note.c_str());
  std::string text = c.document.dump(2) + "\n";
  if (std::optional<std::string> failed = report::WriteOutput(out_path, text, 0644)) {
    Error(*failed);
    return kExitInternal;
  }
  return 0;
}

int ImportOci(const std::string& file, const std::string& out_path) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    Error(fmt::format("cannot read {}: {}", file, std::strerror(errno)));
    return kExitPolicy;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return WriteConversion(policy::ImportOci(ss.str(), file), out_path);
  } catch (const policy::PolicyError& e) {
    Error(e.what());
    return kExitPolicy;
  }
}

int Compile(const PolicyArgs& args) {
  return WithPolicy(args.spec, [&](const policy::Policy& p) {
    syscalls::SyscallIndex index;
    tracer::FilterPlan plan = tracer::MakePlan(p, index);
    std::string text =
        args.compile_pfc ? tracer::DescribeFilter(plan, index) : tracer::DescribePlan(plan, index);
    std::fputs(text.c_str(), stdout);
    return 0;
  });
}

// The first program the recording executed (for ${COMMAND}), or "".
std::string FirstProgram(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::string exe;
  report::ForEachTypedRecord(in, [&exe](report::Record&& r) {
    const report::Event* e = report::AsEvent(r);
    if (exe.empty() && e != nullptr && e->type == policy::EventType::kProcessExec) {
      exe = report::LifecycleArgsOf(*e).exe;
    }
  });
  return exe;
}

int TestPolicy(const PolicyArgs& args) {
  const std::string& file = args.test_events;
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    Error(fmt::format("policy test: cannot read {}: {}", base::EscapeBytes(file),
                      std::strerror(errno)));
    return kExitUsage;
  }
  policy::Variables vars = policy::DefaultVariables();
  if (std::string exe = FirstProgram(file); !exe.empty()) vars["COMMAND"] = exe;
  for (const auto& v : args.test_vars) {
    const auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0) {
      Error(fmt::format("policy test: --var {}: expected NAME=VALUE", base::EscapeBytes(v)));
      return kExitUsage;
    }
    vars[v.substr(0, eq)] = v.substr(eq + 1);
  }
  std::optional<policy::Policy> p;
  try {
    p = policy::LoadPolicySpec(args.spec, vars);
  } catch (const policy::PolicyError& e) {
    Error(e.what());
    return kExitPolicy;
  }
  report::PolicyReplay replay(*p);
  report::EventsScan scan =
      report::ForEachTypedRecord(in, [&replay](report::Record&& r) { replay.Add(r); });
  if (scan.skipped > 0) {
    std::fputs(report::DescribeProblems(file, scan).c_str(), stderr);
    Error(
        fmt::format("policy test: {} is not a whole events file ({} of {} lines are not "
                    "records); test against whole files (tracejail verify {})",
                    base::EscapeBytes(file), scan.skipped, scan.lines, base::EscapeBytes(file)));
    return kExitBadInput;
  }
  const report::ReplayResult r = replay.Finish();
  const std::string name = base::EscapeBytes(args.spec), shown = base::EscapeBytes(file);
  const std::string text =
      args.test_json ? report::ReplayJson(r, name, shown)
                               .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
                           "\n"
                     : report::RenderReplayText(r, name, shown, args.test_all);
  if (std::optional<std::string> failed = report::WriteOutput("", text)) {
    Error(*failed);
    return kExitInternal;
  }
  return r.would_deny() ? 1 : 0;
}

}  // namespace

void AddPolicyCommand(CLI::App& app, PolicyArgs& args) {
  CLI::App* policy_cmd = app.add_subcommand("policy", "inspect and check policies");
  policy_cmd->require_subcommand(1);
  args.show_name = std::string(policy::kDefaultPreset);
  args.show = policy_cmd->add_subcommand("show", "print a preset or list them");
  args.show->add_option("level", args.show_name,
                        "none, basic, standard, strict, maximum, or 'list'");
  args.check = policy_cmd->add_subcommand("check", "validate policy files");
  args.check->add_option("files", args.check_files, "policy files")->required();
  args.explain =
      policy_cmd->add_subcommand("explain", "say in plain words what a policy allows and denies");
  args.explain->add_option("policy", args.spec, "preset name or policy file")->required();
  args.compile = policy_cmd->add_subcommand("compile", "show the seccomp filter plan of a policy");
  args.compile->add_option("policy", args.spec, "preset name or policy file")->required();
  args.compile->add_flag("--dump", args.compile_dump, "print the plan (the default)");
  args.compile->add_flag("--pfc", args.compile_pfc,
                         "print libseccomp's pseudo filter code instead");
  args.import_oci =
      policy_cmd->add_subcommand("import-oci", "convert a Docker/OCI seccomp profile to a policy");
  args.import_oci->add_option("profile", args.import_file, "OCI seccomp profile (JSON)")
      ->required();
  args.import_oci->add_option("-o,--output", args.output, "write here instead of stdout");
  args.merge =
      policy_cmd->add_subcommand("merge", "merge learnt drafts (of one base) into one draft");
  args.merge->add_option("drafts", args.merge_files, "draft policy files")->required();
  args.merge->add_option("-o,--output", args.output, "write here instead of stdout");
  args.export_oci =
      policy_cmd->add_subcommand("export-oci", "convert a policy to a Docker/OCI seccomp profile");
  args.export_oci->add_option("policy", args.spec, "preset name or policy file")->required();
  args.export_oci->add_option("-o,--output", args.output, "write here instead of stdout");
  args.test = policy_cmd->add_subcommand(
      "test",
      "replay a recording (an events file of run --mode audit or learn) through a policy: what it "
      "would allow, deny and kill, without running anything (exit 1 if anything is denied)");
  args.test->add_option("policy", args.spec, "preset name or policy file")->required();
  args.test->add_option("events", args.test_events, "events file (JSON Lines)")->required();
  args.test->add_option("--var", args.test_vars,
                        "NAME=VALUE for ${NAME} in the policy (WORKDIR, COMMAND, HOME...); "
                        "COMMAND defaults to the recording's first program");
  args.test->add_flag("--all", args.test_all, "list the allowed calls too");
  args.test->add_flag("--json", args.test_json, "print JSON");
}

std::optional<int> RunPolicyCommand(const PolicyArgs& args) {
  if (*args.show) return ShowPreset(args.show_name);
  if (*args.check) return CheckPolicies(args.check_files);
  if (*args.import_oci) return ImportOci(args.import_file, args.output);
  if (*args.merge) return MergeDrafts(args.merge_files, args.output);
  if (*args.export_oci) {
    return WithPolicy(args.spec, [&](const policy::Policy& p) {
      return WriteConversion(policy::ExportOci(p), args.output);
    });
  }
  if (*args.explain) {
    return WithPolicy(args.spec, [](const policy::Policy& p) {
      std::fputs(policy::DescribePolicy(p).c_str(), stdout);
      return 0;
    });
  }
  if (*args.compile) return Compile(args);
  if (*args.test) return TestPolicy(args);
  return std::nullopt;
}

}  // namespace cli
