#include "cli/diff_command.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>

#include <fmt/format.h>

#include "base/escape.h"
#include "cli/common.h"
#include "cli/exit_codes.h"
#include "report/event_reader.h"
#include "report/output_file.h"
#include "report/run_diff.h"

namespace cli {
namespace {

// The profile of one events file, or nullopt after saying why (unreadable, or lines that are
// not records: a diff of part of a file would report differences that are not there).
std::optional<report::RunProfile> ProfileOf(const std::string& file, int& status) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    Error(fmt::format("diff: cannot read {}: {}", base::EscapeBytes(file), std::strerror(errno)));
    status = kExitUsage;
    return std::nullopt;
  }
  report::RunProfiler profiler;
  report::EventsScan scan =
      report::ForEachTypedRecord(in, [&](report::Record&& r) { profiler.Add(r); });
  if (scan.skipped > 0) {
    std::fputs(report::DescribeProblems(file, scan).c_str(), stderr);
    Error(
        fmt::format("diff: {} is not a whole events file ({} of {} lines are not records); "
                    "compare whole files (tracejail verify {})",
                    base::EscapeBytes(file), scan.skipped, scan.lines, base::EscapeBytes(file)));
    status = kExitBadInput;
    return std::nullopt;
  }
  return profiler.Finish();
}

}  // namespace

void AddDiffOptions(CLI::App* cmd, DiffArgs& args) {
  cmd->add_option("a", args.a, "the first run's events file (JSON Lines): \"-\" lines")->required();
  cmd->add_option("b", args.b, "the second run's events file: \"+\" lines")->required();
  cmd->add_flag("--json", args.json, "print JSON");
}

int Diff(const DiffArgs& args) {
  int status = 0;
  std::optional<report::RunProfile> a = ProfileOf(args.a, status);
  if (!a) return status;
  std::optional<report::RunProfile> b = ProfileOf(args.b, status);
  if (!b) return status;
  const report::RunDiff d = report::DiffRuns(*a, *b);
  const std::string a_name = base::EscapeBytes(args.a), b_name = base::EscapeBytes(args.b);
  const std::string text =
      args.json ? report::DiffJson(d, a_name, b_name)
                          .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
                      "\n"
                : report::RenderDiffText(d, a_name, b_name);
  if (std::optional<std::string> failed = report::WriteOutput("", text)) {
    Error(*failed);
    return kExitInternal;
  }
  return d.different() ? 1 : 0;
}

}  // namespace cli
