#include "cli/exec_command.h"

#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "cli/exit_codes.h"
#include "cli/run_options.h"
#include "report/analysis.h"
#include "report/json_text.h"
#include "report/output_file.h"

namespace cli {
namespace {

struct Language {
  std::string_view name;
  std::string_view interpreter;  // looked up on the run's PATH
  std::string_view file;         // the code's name in the work dir
  std::string_view flags;        // before the file; empty for none
};

// -I: isolated mode, no user site-packages or PYTHON* variables from anywhere.
constexpr std::array<Language, 4> kLanguages{{
    {"python", "python3", "main.py", "-I"},
    {"python3", "python3", "main.py", "-I"},
    {"sh", "sh", "main.sh", ""},
    {"bash", "bash", "main.sh", ""},
}};

constexpr std::size_t kMaxCode = 4 * 1024 * 1024;

std::optional<std::string> ReadSource(const std::string& source, std::string& error) {
  std::string text;
  if (source == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    std::ifstream in(source, std::ios::binary);
    if (!in) {
      error = fmt::format("cannot read {}: {}", source, std::strerror(errno));
      return std::nullopt;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  if (text.size() > kMaxCode) {
    error = fmt::format("{} is {} bytes; exec takes at most {} bytes of code",
                        source == "-" ? "stdin" : source, text.size(), kMaxCode);
    return std::nullopt;
  }
  return text;
}

// A temporary events file for the report, removed afterwards.
class TempEvents {
 public:
  TempEvents() {
    std::string tmpl = "/tmp/tracejail-events-XXXXXX";
    int fd = mkstemp(tmpl.data());
    if (fd >= 0) {
      close(fd);
      path_ = tmpl;
    }
  }
  ~TempEvents() {
    if (!path_.empty()) unlink(path_.c_str());
  }
  TempEvents(const TempEvents&) = delete;
  TempEvents& operator=(const TempEvents&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

void AddExecOptions(CLI::App* cmd, ExecArgs& args) {
  AddRunOptions(cmd, args.run);
  std::vector<std::string> names;
  for (const auto& l : kLanguages) names.emplace_back(l.name);
  cmd->add_option("--lang", args.lang, "python, sh or bash")
      ->required()
      ->check(CLI::IsMember(names));
  auto* code = cmd->add_option("-c,--code", args.code, "the code to run");
  cmd->add_option("source", args.source, "a file with the code, or - for stdin")->excludes(code);
  cmd->add_flag("--json", args.json,
                "print the result and the security report as one JSON document on stdout "
                "(the program's output is captured in it, not passed through)");
}

int Exec(ExecArgs& args) {
  const Language* lang = nullptr;
  for (const auto& l : kLanguages) {
    if (l.name == args.lang) lang = &l;
  }
  if (lang == nullptr) {
    Error(fmt::format("unknown language \"{}\" (python, sh, bash)", args.lang));
    return kExitUsage;
  }
  std::string code = args.code;
  if (args.source.empty() && code.empty()) {
    Error("no code given: pass -c CODE, a FILE, or - to read stdin");
    return kExitUsage;
  }
  if (!args.source.empty()) {
    std::string error;
    auto text = ReadSource(args.source, error);
    if (!text) {
      Error(error);
      return kExitUsage;
    }
    code = *text;
  }
  RunArgs& run = args.run;
  run.start_in_workdir = true;
  run.capture = true;
  run.workdir_files = {{std::string(lang->file), code}};
  run.command = {std::string(lang->interpreter)};
  if (!lang->flags.empty()) run.command.emplace_back(lang->flags);
  run.command.emplace_back(lang->file);
  if (args.json) {
    run.quiet = true;
    run.summary = false;
  }
  TempEvents temp;
  bool summary = run.summary;
  if (run.events_file.empty()) {
    run.events_file = temp.path();
    run.summary = false;  // printed below, without the temporary file's name
  }

  RunOutcome outcome = RunCommand(run);
  if (!outcome.ran) return outcome.status;
  std::ifstream in(run.events_file, std::ios::binary);
  report::EventsScan scan;
  report::Analysis analysis = report::AnalyzeFile(in, scan);
  if (run.events_file == temp.path()) {
    outcome.exec.events_file.clear();
    if (summary && !args.json) std::fputs(report::Summary(outcome.exec).c_str(), stderr);
  }
  if (args.json) {
    // {"result": ..., "report": ...}, the report written as it is rendered (it can be large).
    report::OutputFile output;
    (void)output.Open("");  // a failure is kept: Close reports it
    std::string text = "{\n  \"result\": ";
    report::JsonText(text, 1).Value(report::ToJson(outcome.exec));
    text += ",\n  \"report\": ";
    report::RenderJson(analysis, nlohmann::json::object(), 1, text, output.AsSpill());
    text += "\n}\n";
    (void)output.Write(text);
    if (std::optional<std::string> failed = output.Close()) {
      Error(*failed);
      return kExitInternal;
    }
  } else {
    std::string text;
    report::RenderText(analysis, text, [](std::string& chunk) {
      std::fwrite(chunk.data(), 1, chunk.size(), stderr);
      chunk.clear();
    });
    std::fwrite(text.data(), 1, text.size(), stderr);
  }
  // tracejail wrote the file itself: a line it cannot read back is its own fault, said loudly.
  std::fputs(report::DescribeProblems(run.events_file, scan).c_str(), stderr);
  return scan.skipped == 0 ? outcome.status : kExitInternal;
}

}  // namespace cli
