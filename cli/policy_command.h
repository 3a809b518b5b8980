// `tracejail policy show|check|explain|compile|import-oci|export-oci|merge|test`: inspecting,
// checking, converting and testing policies (against a recording) without running anything.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace cli {

struct PolicyArgs {
  CLI::App *show = nullptr, *check = nullptr, *explain = nullptr, *compile = nullptr,
           *import_oci = nullptr, *export_oci = nullptr, *merge = nullptr, *test = nullptr;
  std::string show_name;
  std::vector<std::string> check_files;
  std::string spec;  // explain, compile, export-oci: a preset name or a policy file
  bool compile_pfc = false;
  bool compile_dump = true;
  std::string import_file;
  std::vector<std::string> merge_files;
  std::string output;  // -o: import-oci, export-oci, merge
  // test: replay EVENTS through the policy (spec)
  std::string test_events;
  std::vector<std::string> test_vars;  // --var NAME=VALUE
  bool test_json = false;
  bool test_all = false;  // --all: list the allowed calls too
};

// Adds `policy` and its subcommands to `app`, parsing into `args`.
void AddPolicyCommand(CLI::App& app, PolicyArgs& args);
// The exit status of the policy subcommand that was given, or nullopt when none was.
std::optional<int> RunPolicyCommand(const PolicyArgs& args);

}  // namespace cli
