#include "cli/report_command.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include <fmt/format.h>

#include "base/escape.h"
#include "cli/common.h"
#include "cli/exit_codes.h"
#include "report/analysis.h"
#include "report/event_reader.h"
#include "report/hash_chain.h"
#include "report/output_file.h"
#include "report/renderers.h"

namespace cli {

void AddVerifyOptions(CLI::App* cmd, VerifyArgs& args) {
  cmd->add_option("events", args.file, "events file (JSON Lines)")->required();
  cmd->add_option("--expect", args.expect,
                  "the chain's final hash as the run's result recorded it "
                  "(events_chain.final_hash): proves this is that run's file, whole")
      ->check([](const std::string& v) {
        return v.size() == 64 && v.find_first_not_of("0123456789abcdef") == std::string::npos
                   ? std::string()
                   : std::string("expected 64 lowercase hex digits");
      });
  cmd->add_option("--key", args.key_file,
                  "the key FILE the run was given with --events-key (HMAC-SHA-256 chain)");
}

int Verify(const VerifyArgs& args) {
  const std::string& file = args.file;
  const std::string& expect = args.expect;
  const std::string& key_file = args.key_file;
  report::ChainHash hash;
  if (!key_file.empty()) {
    std::string why;
    std::optional<std::string> key = ReadKeyFile(key_file, why);
    if (!key) {
      Error("--key " + why);
      return kExitUsage;
    }
    hash = report::ChainHash(std::move(*key));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    Error(fmt::format("cannot read {}: {}", base::EscapeBytes(file), std::strerror(errno)));
    return kExitUsage;
  }
  report::VerifyResult r = report::VerifyChain(in, hash);
  if (!expect.empty() && r.final_hash != expect) {
    r.problems.push_back(fmt::format(
        "the chain ends in {}, not in the expected {}: this is not the file that run wrote, or "
        "it was rewritten whole",
        r.final_hash.empty() ? std::string("nothing") : r.final_hash, expect));
  }
  const std::string shown = base::EscapeBytes(file);
  if (r.ok()) {
    std::printf("%s: ok, %zu records, hash chain intact (%s%s)\n", shown.c_str(), r.lines,
                std::string(hash.name()).c_str(), expect.empty() ? "" : ", final hash as expected");
    return 0;
  }
  for (const auto& p : r.problems) std::printf("%s: %s\n", shown.c_str(), p.c_str());
  std::printf("%s: TAMPERED or incomplete (%zu problem%s)\n", shown.c_str(), r.problems.size(),
              r.problems.size() == 1 ? "" : "s");
  return kExitVerifyFailed;
}

void AddReportOptions(CLI::App* cmd, ReportArgs& args) {
  std::string formats;
  for (const auto& r : report::Renderers()) {
    formats += fmt::format("{}{}", formats.empty() ? "" : ", ", r.name);
  }
  cmd->add_option("events", args.file, "events file (JSON Lines)");
  cmd->add_option("--format", args.format, "one of " + formats + " (default text)")
      ->check(CLI::IsMember(report::RendererNames()));
  cmd->add_option("-o,--output", args.output, "write here instead of stdout");
  cmd->add_flag("--list-formats", args.list_formats, "print the formats, one per line, and exit");
}

int Report(const ReportArgs& args) {
  if (args.list_formats) {
    for (const auto& r : report::Renderers()) {
      std::printf("%s\t%s\n", std::string(r.name).c_str(), std::string(r.summary).c_str());
    }
    return 0;
  }
  if (args.file.empty()) {
    Error("report needs an events file: tracejail report EVENTS.jsonl [--format FORMAT]");
    return kExitUsage;
  }
  const report::Renderer* renderer = report::FindRenderer(args.format);
  if (renderer == nullptr) {  // the option's check already refuses it
    Error(fmt::format("unknown report format \"{}\"", base::EscapeBytes(args.format)));
    return kExitUsage;
  }
  const std::string& file = args.file;
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    Error(fmt::format("cannot read {}: {}", base::EscapeBytes(file), std::strerror(errno)));
    return kExitUsage;
  }
  report::EventsScan scan;
  report::Analysis analysis = report::AnalyzeFile(in, scan);
  in.clear();
  in.seekg(0);
  report::VerifyResult chain = report::VerifyChain(in);
  report::ReportInput input{
      .analysis = analysis,
      .title = file,
      .chain_ok = chain.ok(),
      .integrity = chain.ok()
                       ? fmt::format("hash chain intact ({} records)", chain.lines)
                       : fmt::format("HASH CHAIN BROKEN ({} problems; run tracejail verify {})",
                                     chain.problems.size(), base::EscapeBytes(file)),
      .chain_problems = chain.problems};
  // Written as it is rendered: a report of a large run is never whole in memory.
  report::OutputFile output;
  (void)output.Open(args.output);  // a failure is kept: Close reports it
  std::string text;
  renderer->render(input, text, output.AsSpill());
  (void)output.Write(text);
  std::optional<std::string> failed = output.Close();
  std::fputs(report::DescribeProblems(file, scan).c_str(), stderr);
  if (failed) {
    Error(*failed);
    return kExitInternal;
  }
  // The report covers the records that could be read; the status says some could not.
  return scan.skipped == 0 ? 0 : kExitBadInput;
}

void AddStatsOptions(CLI::App* cmd, StatsArgs& args) {
  cmd->add_option("inputs", args.inputs,
                  "events files, or directories of *.jsonl (and of runs' directories, as "
                  "tracejail batch writes them: DIR/<id>/events.jsonl)")
      ->required();
  cmd->add_flag("--json", args.json, "print JSON");
}

int Stats(const StatsArgs& args) {
  const std::vector<std::string>& inputs = args.inputs;
  const bool json = args.json;
  std::vector<std::string> files;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (std::filesystem::is_directory(in, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(in, ec)) {
        if (entry.path().extension() == ".jsonl") {
          files.push_back(entry.path().string());
        } else if (std::filesystem::path run = entry.path() / "events.jsonl";
                   entry.is_directory(ec) && std::filesystem::is_regular_file(run, ec)) {
          files.push_back(run.string());  // `tracejail batch`'s DIR/<id>/events.jsonl
        }
      }
    } else if (std::filesystem::exists(in, ec)) {
      files.push_back(in);
    } else {
      Error(fmt::format("{}: no such file or directory", base::EscapeBytes(in)));
      return kExitUsage;
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    Error("no events files (*.jsonl) found");
    return kExitUsage;
  }
  report::RunStats runs;
  bool skipped = false;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      Error(fmt::format("cannot read {}: {}", base::EscapeBytes(f), std::strerror(errno)));
      return kExitUsage;
    }
    report::EventsScan scan;
    report::Analysis analysis = report::AnalyzeFile(in, scan);
    std::fputs(report::DescribeProblems(f, scan).c_str(), stderr);
    skipped = skipped || scan.skipped > 0;
    runs.Add(f, analysis);
  }
  nlohmann::json stats = runs.Json();
  std::string text =
      json ? stats.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"
           : report::RenderStatsText(stats);
  if (std::optional<std::string> failed = report::WriteOutput("", text)) {
    Error(*failed);
    return kExitInternal;
  }
  return skipped ? kExitBadInput : 0;
}

}  // namespace cli
