#include "cli/learn_command.h"

#include "report/output_file.h"

#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "cli/exit_codes.h"
#include "cli/run_options.h"
#include "policy/loader.h"
#include "policy/presets.h"
#include "report/analysis.h"
#include "report/learn.h"

namespace cli {
namespace {

std::string Today() {
  time_t now = time(nullptr);
  tm t{};
  gmtime_r(&now, &t);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &t);
  return buf;
}

// Checks that the draft loads, then writes it. Returns an exit status.
int WriteDraft(const nlohmann::json& draft, const std::string& output, const report::Learner& l,
               bool quiet) {
  std::string text = draft.dump(2) + "\n";
  try {
    policy::LoadPolicyText(text, "draft", policy::DefaultVariables());
  } catch (const policy::PolicyError& e) {
    Error(fmt::format("the draft does not load (a bug in learn; please report): {}", e.what()));
    return kExitInternal;
  }
  std::size_t files = draft.contains("files") ? draft["files"]["rules"].size() : 0;
  std::size_t nets = draft.contains("network") && draft["network"].contains("rules")
                         ? draft["network"]["rules"].size()
                         : 0;
  if (!quiet) {
    std::fprintf(stderr,
                 "tracejail: draft from %d run(s): %zu file rule(s), %zu network rule(s)%s\n",
                 l.runs(), files, nets, output.empty() ? "" : (" in " + output).c_str());
  }
  for (const auto& e : l.escapes()) {
    Error("escape attempt seen and NOT allowed by the draft: " + e);
  }
  if (std::optional<std::string> failed = report::WriteOutput(output, text, 0644)) {
    Error(*failed);
    return kExitInternal;
  }
  return 0;
}

bool IsPresetName(const std::string& s) { return policy::PresetText(s).has_value(); }

// What a policy written in /tmp says to extend `base`: a preset by name, a file by its absolute
// path (a relative one would be taken relative to /tmp).
std::string BaseForExtends(const std::string& base) {
  if (IsPresetName(base)) return base;
  char real[PATH_MAX];
  return realpath(base.c_str(), real) != nullptr ? std::string(real) : base;
}

// A policy in a private temporary file, removed with this object.
class TempPolicy {
 public:
  explicit TempPolicy(const std::string& text) {
    char tmpl[] = "/tmp/tracejail-learn-policy-XXXXXX.json";
    int fd = mkstemps(tmpl, 5);
    if (fd < 0) {
      error_ = std::strerror(errno);
      return;
    }
    path_ = tmpl;
    std::size_t done = 0;
    while (done < text.size()) {
      ssize_t n = write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error_ = fmt::format("{}: {}", path_, std::strerror(errno));
        break;
      }
      done += static_cast<std::size_t>(n);
    }
    if (close(fd) != 0 && error_.empty())
      error_ = fmt::format("{}: {}", path_, std::strerror(errno));
  }
  TempPolicy(const TempPolicy&) = delete;
  TempPolicy& operator=(const TempPolicy&) = delete;
  ~TempPolicy() {
    if (!path_.empty()) unlink(path_.c_str());
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_, error_;
};

}  // namespace

void AddLearnOptions(CLI::App* cmd, LearnArgs& args) {
  cmd->add_option("-o,--output", args.output, "write the draft policy here (default: stdout)");
  cmd->add_option("--base", args.base,
                  "what the draft extends: a level or a policy file (default: standard)");
  cmd->add_option("--runs", args.runs, "run the command N times and merge what they needed")
      ->check(CLI::Range(1, 100));
  // One value per occurrence, as for run (cli/run_options.cc): "--" ends tracejail's options.
  cmd->add_option("--env", args.run.env, "set KEY=VALUE in the command's environment")
      ->allow_extra_args(false);
  cmd->add_option("--keep-env", args.run.keep_env, "pass NAME through from tracejail's environment")
      ->allow_extra_args(false);
  cmd->add_option("--events", args.run.events_file,
                  "also keep the last run's events here (JSON Lines)");
  cmd->add_flag("--allow-degraded", args.run.allow_degraded,
                "run even when an isolation layer of the base is unavailable here");
  cmd->add_flag("--live{all}", args.run.live, "show each decision as it happens (all or denied)")
      ->check(CLI::IsMember({"all", "denied"}));
  // -o is the draft here: the trace file has only its long name.
  AddTraceFileOption(cmd, args.run.trace_file, /*short_o=*/false);
  AddTraceSetOptions(cmd, args.run.trace_exprs);
  AddMessageOptions(cmd, args.run.quiet, args.run.verbose);
  cmd->add_option("command", args.run.command, "command and arguments (after --)");
}

int Learn(LearnArgs& args) {
  RunArgs& run = args.run;
  if (run.command.empty()) {
    Error("no command given (usage: tracejail learn [-o POLICY.json] -- CMD [ARG...])");
    return kExitUsage;
  }
  run.mode = "audit";
  run.summary = false;
  if (IsPresetName(args.base)) {
    run.level = args.base;
  } else {
    run.policy_file = args.base;
  }
  report::LearnOptions options;
  options.base = args.base;
  // A base with a network namespace (strict, maximum) would fail every connection whatever the
  // policy allows: the program would stop at its first one and nothing past it be learnt. The
  // runs use the base without it; the draft leaves it out only if it learns network rules.
  std::optional<TempPolicy> without_net;
  try {
    policy::Policy base = policy::LoadPolicySpec(args.base, policy::DefaultVariables());
    if (base.isolation.Has(policy::Namespace::kNet)) {
      std::vector<std::string> names;
      for (const auto& info : policy::kNamespaceInfo) {
        if (info.ns != policy::Namespace::kNet && base.isolation.Has(info.ns)) {
          names.emplace_back(info.name);
        }
      }
      nlohmann::json doc = {{"version", 1},
                            {"name", "learn: " + args.base + " without its network namespace"},
                            {"extends", BaseForExtends(args.base)},
                            {"isolation", {{"namespaces", names}}}};
      without_net.emplace(doc.dump(2) + "\n");
      if (!without_net->ok()) {
        Error(fmt::format("cannot write a temporary policy: {}", without_net->error()));
        return kExitInternal;
      }
      run.level.clear();
      run.policy_file = without_net->path();
      options.namespaces_without_net = names;
      std::fprintf(stderr,
                   "tracejail: learn runs without the network namespace of %s, so that its "
                   "connections are seen; the draft leaves it out only if it learns network "
                   "rules\n",
                   args.base.c_str());
    }
  } catch (const policy::PolicyError& e) {
    Error(e.what());
    return kExitPolicy;
  }
  std::string keep_events = run.events_file;
  report::Learner learner;
  int last_status = 0;
  for (int i = 0; i < args.runs; ++i) {
    char tmpl[] = "/tmp/tracejail-learn-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) {
      Error(fmt::format("cannot create a temporary events file: {}", std::strerror(errno)));
      return kExitInternal;
    }
    close(fd);
    std::string events = tmpl;
    run.events_file = (i + 1 == args.runs && !keep_events.empty()) ? keep_events : events;
    RunOutcome outcome = RunCommand(run);
    if (!outcome.ran) {
      unlink(events.c_str());
      return outcome.status;
    }
    if (outcome.exec.status == report::RunStatus::kInternalError) {
      // The run's record is incomplete: a draft from it could miss what the program needed.
      unlink(events.c_str());
      Error(fmt::format("learn run {} of {} failed inside tracejail; no draft was written", i + 1,
                        args.runs));
      return outcome.status;
    }
    last_status = outcome.status;
    policy::Variables vars = policy::DefaultVariables();
    if (!outcome.workdir.empty()) vars["WORKDIR"] = vars["TMPDIR"] = outcome.workdir;
    learner.BeginRun(vars);
    std::ifstream in(run.events_file, std::ios::binary);
    const report::EventsScan read = report::ForEachTypedRecord(in, [&learner](report::Record&& r) {
      if (const report::Event* e = report::AsEvent(r)) learner.Add(*e);
    });
    unlink(events.c_str());
    if (read.skipped > 0) {
      // tracejail wrote this file itself: a record it cannot read back is a fault, and a draft
      // without it could miss what the program needed.
      std::fputs(report::DescribeProblems(run.events_file, read).c_str(), stderr);
      Error(
          fmt::format("learn run {} of {}: the events file could not be read back whole; no "
                      "draft was written",
                      i + 1, args.runs));
      return kExitInternal;
    }
    if (!run.quiet) {
      std::fprintf(stderr, "tracejail: learn run %d of %d: %s (%s)\n", i + 1, args.runs,
                   std::string(report::Name(outcome.exec.status)).c_str(),
                   outcome.exec.exit_code ? fmt::format("exit {}", *outcome.exec.exit_code).c_str()
                                          : "signal");
    }
    if (outcome.exec.interrupted) {
      // ^C ends a server being learnt: the draft covers the runs so far; no further run starts.
      if (i + 1 < args.runs) {
        Error(fmt::format("interrupted: the draft covers {} of {} runs", i + 1, args.runs));
      }
      break;
    }
  }
  std::string command;
  for (const auto& a : run.command) command += (command.empty() ? "" : " ") + a;
  options.command = command;
  options.date = Today();
  int status = WriteDraft(learner.Draft(options), args.output, learner, run.quiet);
  if (status == 0 && last_status != 0 && !run.quiet) {
    Error(
        fmt::format("note: the command itself exited with status {}; the draft covers what it "
                    "did before that",
                    last_status));
  }
  return status;
}

int MergeDrafts(const std::vector<std::string>& drafts, const std::string& output) {
  report::Learner learner;
  report::LearnOptions options;
  std::string commands;
  for (const auto& file : drafts) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto doc = nlohmann::json::parse(ss.str(), nullptr, false);
    if (!in || doc.is_discarded() || !doc.is_object()) {
      Error(fmt::format("{}: not a readable JSON policy", file));
      return kExitPolicy;
    }
    std::string base = doc.value("extends", "standard");
    if (file == drafts.front()) {
      options.base = base;
    } else if (base != options.base) {
      Error(fmt::format("{} extends {}, but {} extends {}: merge drafts of one base", file, base,
                        drafts.front(), options.base));
      return kExitPolicy;
    }
    learner.AddDraft(doc);
    static const std::regex cmd_re("of `([^`]*)`");
    std::smatch m;
    std::string desc = doc.value("description", "");
    if (std::regex_search(desc, m, cmd_re) && commands.find(m[1].str()) == std::string::npos) {
      commands += (commands.empty() ? "" : "`, `") + m[1].str();
    }
  }
  options.command = commands;
  options.date = Today();
  return WriteDraft(learner.Draft(options), output, learner, false);
}

}  // namespace cli
