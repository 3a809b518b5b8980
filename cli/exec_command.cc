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
#include "report/record.h"

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
constexpr std::uint64_t kDefaultTimeoutMs = 60'000;

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

// What exec's JSON error says in "error", by tracejail's exit status (cli/exit_codes.h).
std::string_view ErrorKind(int status) {
  switch (status) {
    case kExitUsage:
      return "usage";
    case kExitPolicy:
      return "policy";
    case kExitUnavailable:
      return "unavailable";
    case kExitNotExecutable:
      return "not_executable";
    case kExitNotFound:
      return "not_found";
    default:
      return "internal";
  }
}

// exec --json when nothing ran: the error as one JSON document on stdout, the shape of
// docs/schema/exec.schema.json. Returns `status`.
int JsonError(int status, const std::string& message) {
  nlohmann::ordered_json doc = {{"schema_version", report::kSchemaVersion},
                                {"error", ErrorKind(status)},
                                {"message", message},
                                {"exit_code", status}};
  std::string text =
      doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  return status;
}

// A usage error found here: said on stderr, and as JSON with --json.
int UsageError(const ExecArgs& args, const std::string& message) {
  Error(message);
  return args.json ? JsonError(kExitUsage, message) : kExitUsage;
}

}  // namespace

void ExecJsonUsageError(int argc, char** argv, const std::string& message) {
  int i = 1;
  while (i < argc && argv[i][0] == '-') ++i;  // tracejail's own options come before "exec"
  if (i >= argc || std::string_view(argv[i]) != "exec") return;
  for (++i; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--json") {
      JsonError(kExitUsage, message);
      return;
    }
  }
}

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
    return UsageError(args, fmt::format("unknown language \"{}\" (python, sh, bash)", args.lang));
  }
  std::string code = args.code;
  if (args.source.empty() && code.empty()) {
    return UsageError(args, "no code given: pass -c CODE, a FILE, or - to read stdin");
  }
  if (!args.source.empty()) {
    std::string error;
    auto text = ReadSource(args.source, error);
    if (!text) return UsageError(args, error);
    code = *text;
  }
  RunArgs& run = args.run;
  run.start_in_workdir = true;
  run.capture = true;
  run.workdir_files = {{std::string(lang->file), code}};
  run.command = {std::string(lang->interpreter)};
  if (!lang->flags.empty()) run.command.emplace_back(lang->flags);
  run.command.emplace_back(lang->file);
  // A snippet never runs unbounded: kDefaultTimeoutMs unless the policy says otherwise
  // (RunArgs::default_timeout_ms) or --timeout does.
  run.default_timeout_ms = kDefaultTimeoutMs;
  if (args.json) {
    run.hide_output = true;
    run.summary = false;
  }
  TempEvents temp;
  bool summary = run.summary;
  if (run.events_file.empty()) {
    run.events_file = temp.path();
    run.summary = false;  // printed below, without the temporary file's name
  }

  RunOutcome outcome = RunCommand(run);
  if (!outcome.ran) return args.json ? JsonError(outcome.status, outcome.error) : outcome.status;
  std::ifstream in(run.events_file, std::ios::binary);
  report::EventsScan scan;
  report::Analysis analysis = report::AnalyzeFile(in, scan);
  if (run.events_file == temp.path()) {
    outcome.exec.events_file.clear();
    if (summary && !args.json && !run.quiet) {
      std::fputs(report::Summary(outcome.exec).c_str(), stderr);
    }
  }
  if (args.json) {
    // {"schema_version": 1, "result": ..., "report": ...}, the report written as it is rendered
    // (it can be large).
    report::OutputFile output;
    (void)output.Open("");  // a failure is kept: Close reports it
    std::string text =
        fmt::format("{{\n  \"schema_version\": {},\n  \"result\": ", report::kSchemaVersion);
    report::JsonText(text, 1).Value(report::ToJson(outcome.exec));
    text += ",\n  \"report\": ";
    report::RenderJson(analysis, nlohmann::json::object(), 1, text, output.AsSpill());
    text += "\n}\n";
    (void)output.Write(text);
    if (std::optional<std::string> failed = output.Close()) {
      Error(*failed);
      return kExitInternal;
    }
  } else if (!run.quiet) {
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
