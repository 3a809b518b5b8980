// The subcommands that read events files back: `tracejail verify` (the hash chain), `report`
// (one run, in any format of report/renderers.h) and `stats` (many runs).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace cli {

struct VerifyArgs {
  std::string file;
  std::string expect;    // --expect: the final hash the result recorded
  std::string key_file;  // --key: HMAC chain
};
void AddVerifyOptions(CLI::App* cmd, VerifyArgs& args);
int Verify(const VerifyArgs& args);

struct ReportArgs {
  std::string file;
  std::string format = "text";
  std::string output;  // -o; stdout when empty
  bool list_formats = false;
};
void AddReportOptions(CLI::App* cmd, ReportArgs& args);
int Report(const ReportArgs& args);

struct StatsArgs {
  std::vector<std::string> inputs;
  bool json = false;
};
void AddStatsOptions(CLI::App* cmd, StatsArgs& args);
int Stats(const StatsArgs& args);

}  // namespace cli
