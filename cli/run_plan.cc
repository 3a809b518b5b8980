#include "cli/run_plan.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/escape.h"
#include "cli/command_path.h"
#include "cli/common.h"
#include "cli/exit_codes.h"
#include "cli/live.h"
#include "policy/capabilities.h"
#include "policy/loader.h"
#include "policy/presets.h"

namespace cli {
namespace {

constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

std::string EnvValue(const std::vector<std::string>& env, const std::string& name) {
  std::string value;
  for (const auto& kv : env) {
    if (kv.starts_with(name + "=")) value = kv.substr(name.size() + 1);
  }
  return value;
}

policy::Policy LoadPolicy(const RunArgs& args, const policy::Variables& vars) {
  try {
    if (!args.policy_file.empty()) return policy::LoadPolicyFile(args.policy_file, vars);
    if (!args.level.empty()) {
      if (auto p = policy::LoadPreset(args.level, vars)) return std::move(*p);
      // A bad word on the command line (120), as for `policy show`: not a bad policy file.
      throw RunFailure(kExitUsage, UnknownLevel(args.level));
    }
    return policy::LoadDefaultPolicy(vars);
  } catch (const policy::PolicyError& e) {
    throw RunFailure(kExitPolicy, e.what());
  }
}

// --cap-drop, then --cap-add, change the policy's capability set. Returns an error or empty.
std::string ApplyCapFlags(const RunArgs& args, policy::Policy& p) {
  if (args.cap_add.empty() && args.cap_drop.empty()) return {};
  policy::CapSet set = p.isolation.capabilities.value_or(policy::kAllCaps);
  for (const auto* names : {&args.cap_drop, &args.cap_add}) {
    bool add = names == &args.cap_add;
    for (const std::string& name : *names) {
      policy::CapSet bits = 0;
      if (name == "ALL" || name == "all") {
        bits = policy::kAllCaps;
      } else if (auto cap = policy::CapFromName(name)) {
        bits = policy::CapBit(*cap);
      } else {
        return fmt::format(
            "--cap-{}: unknown capability \"{}\" (names as in capabilities(7), "
            "with or without CAP_, or ALL: {})",
            add ? "add" : "drop", name, fmt::join(policy::AllCapNames(), " "));
      }
      set = add ? (set | bits) : (set & ~bits);
    }
  }
  p.isolation.capabilities = set;
  return {};
}

// Command-line limits override the policy's. Returns an error message or empty.
std::string ApplyLimitFlags(const RunArgs& args, policy::Policy& p) {
  for (const auto& [kind, text] : args.limit_flags) {
    const auto& info = policy::InfoOf(kind);
    policy::ParsedLimit parsed = policy::ParseLimitText(info.unit, text);
    if (!parsed.error.empty()) return fmt::format("--{}: {}", info.key, parsed.error);
    p.limits.Set(kind, parsed.value);
  }
  return {};
}

// exec's default wall-clock timeout (RunArgs::default_timeout_ms): when the policy has none, or
// a preset's is longer. A policy file's own timeout and --timeout (even "off") win. Returns "".
std::string ApplyDefaultTimeout(const RunArgs& args, policy::Policy& p) {
  if (args.default_timeout_ms == 0 || args.limit_flags.contains(policy::LimitKind::kTimeout)) {
    return {};
  }
  std::optional<std::uint64_t> timeout = p.limits.Get(policy::LimitKind::kTimeout);
  if (!timeout || (args.policy_file.empty() && *timeout > args.default_timeout_ms)) {
    p.limits.Set(policy::LimitKind::kTimeout, args.default_timeout_ms);
  }
  return {};
}

std::string Absolute(const std::string& path) {
  if (path.starts_with("/")) return path;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

}  // namespace

void CheckOutputs(const RunArgs& args, RunPlan& plan) {
  if (!args.live.empty() && !ParseLiveFilter(args.live, plan.live_filter)) {
    throw RunFailure(kExitUsage, fmt::format("--live={}: expected all or denied", args.live));
  }
  report::ParsedTraceSet trace = report::ParseTraceSet(args.trace_exprs);
  if (!trace.error.empty()) {
    std::string near = trace.unknown.empty() ? "" : Nearest(trace.unknown, report::TraceSetWords());
    throw RunFailure(kExitUsage, near.empty() ? trace.error
                                              : fmt::format("{}: did you mean {}?", trace.error,
                                                            base::DisplayText(near)));
  }
  plan.trace_set = std::move(trace.set);
  // strace's -o and -e trace= show the trace: here they turn the live view on.
  plan.live = !args.live.empty() || !args.trace_file.empty() || !args.trace_exprs.empty();
  std::string stream_error;
  if (!args.stream.empty() &&
      !report::ParseStreamEndpoint(args.stream, plan.stream_endpoint, stream_error)) {
    throw RunFailure(kExitUsage, "--stream " + stream_error);
  }
  plan.tcp_stream = !args.stream.empty() && !plan.stream_endpoint.unix_socket;
  if (!plan.tcp_stream && (!args.stream_token_file.empty() || args.stream_allow_remote)) {
    throw RunFailure(
        kExitUsage,
        fmt::format(
            "{} is for --stream tcp:ADDRESS:PORT (a unix stream is protected by its "
            "socket's permissions and has no token)",
            args.stream_token_file.empty() ? "--stream-allow-remote" : "--stream-token-file"));
  }
  if (plan.tcp_stream && !args.stream_allow_remote &&
      !report::IsLoopbackAddress(plan.stream_endpoint.host)) {
    throw RunFailure(
        kExitUsage,
        fmt::format(
            "--stream {}: not a loopback address: anyone who can reach this host could try to "
            "connect, and the token and the events would cross the network unencrypted. Use "
            "tcp:127.0.0.1:PORT (or unix:PATH, forwarded over ssh), or --stream-allow-remote",
            args.stream));
  }
}

std::vector<std::string> ChildEnvironment(const RunArgs& args, bool clean,
                                          const std::string& workdir) {
  std::vector<std::string> env;
  if (clean) {
    // A scrubbed environment: only what programs need to start, plus what the user asks for.
    env = {std::string("PATH=") + kDefaultPath, "LANG=C.UTF-8"};
    for (const char* name : {"HOME", "TERM"}) {
      if (const char* v = std::getenv(name)) env.push_back(fmt::format("{}={}", name, v));
    }
    for (const auto& name : args.keep_env) {
      if (const char* v = std::getenv(name.c_str())) env.push_back(fmt::format("{}={}", name, v));
    }
  } else {
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  }
  if (!workdir.empty()) {
    std::erase_if(env, [](const std::string& kv) { return kv.starts_with("TMPDIR="); });
    env.push_back("TMPDIR=" + workdir);
  }
  for (const auto& kv : args.env) env.push_back(kv);
  return env;
}

policy::Policy LoadRunPolicy(const RunArgs& args, const policy::Variables& vars) {
  policy::Policy p = LoadPolicy(args, vars);
  for (const auto& apply : {ApplyLimitFlags, ApplyDefaultTimeout, ApplyCapFlags}) {
    if (std::string e = apply(args, p); !e.empty()) throw RunFailure(kExitUsage, e);
  }
  return p;
}

namespace {

constexpr std::uintmax_t kMaxWorkdirFile = 64 << 20;
constexpr std::uintmax_t kMaxWorkdirFiles = 256 << 20;

// exec's files and every --file NAME=FILE, read; a usage error says which one is wrong and why.
std::vector<std::pair<std::string, std::string>> WorkdirFiles(const RunArgs& args) {
  std::vector<std::pair<std::string, std::string>> files = args.workdir_files;
  std::uintmax_t total = 0;
  for (const auto& spec : args.files) {
    auto eq = spec.find('=');
    std::string name = spec.substr(0, eq), from = spec.substr(eq + 1);
    auto fail = [&](const std::string& why) {
      throw RunFailure(kExitUsage, fmt::format("--file {}: {}", base::EscapeBytes(spec), why));
    };
    if (name == "." || name == ".." || name.find('/') != std::string::npos) {
      fail("NAME is one name in the work dir (no '/', not \".\" or \"..\")");
    }
    for (const auto& [had, content] : files) {
      if (had == name) fail(fmt::format("the work dir already gets a file named {}", name));
    }
    std::ifstream in(from, std::ios::binary);
    std::error_code ec;
    if (!in || std::filesystem::is_directory(from, ec)) {
      fail(fmt::format("cannot read {}: {}", base::EscapeBytes(from),
                       in ? "it is a directory" : std::strerror(errno)));
    }
    std::string content;
    char chunk[65536];
    while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
      content.append(chunk, static_cast<std::size_t>(in.gcount()));
      if (content.size() > kMaxWorkdirFile) fail("larger than 64 MiB");
    }
    if (in.bad()) fail(fmt::format("reading {} failed", base::EscapeBytes(from)));
    total += content.size();
    if (total > kMaxWorkdirFiles) fail("the files together are larger than 256 MiB");
    files.emplace_back(std::move(name), std::move(content));
  }
  return files;
}

}  // namespace

RunPlan PlanRun(const RunArgs& args) {
  if (args.command.empty()) {
    throw RunFailure(kExitUsage,
                     "no command given (usage: tracejail run [OPTIONS] -- CMD [ARG...])");
  }
  RunPlan plan;
  CheckOutputs(args, plan);
  plan.vars = policy::DefaultVariables();
  // This load learns what isolation the policy wants (it decides the work dir, which the final
  // load substitutes for ${WORKDIR}).
  policy::Policy first = LoadRunPolicy(args, plan.vars);
  plan.workdir_files = WorkdirFiles(args);
  plan.wants_workdir =
      first.isolation.private_workdir || args.start_in_workdir || !args.files.empty();
  plan.clean_environment = first.isolation.clean_environment;
  plan.mode = args.mode == "audit" ? tracer::Mode::kAudit : tracer::Mode::kEnforce;

  // The work dir changes only TMPDIR, so PATH is known before it exists.
  std::string path_var = EnvValue(ChildEnvironment(args, plan.clean_environment, ""), "PATH");
  CommandLookup found = FindCommand(args.command[0], path_var.empty() ? kDefaultPath : path_var);
  if (found.error == ENOENT) {
    // A name with a slash is a path, as for execvp: no PATH search happened.
    throw RunFailure(kExitNotFound, args.command[0].find('/') != std::string::npos
                                        ? fmt::format("{}: no such file", args.command[0])
                                        : fmt::format("{}: command not found (searched PATH={})",
                                                      args.command[0], path_var));
  }
  if (found.error != 0) {
    throw RunFailure(kExitNotExecutable, fmt::format("{}: cannot execute: {}", args.command[0],
                                                     std::strerror(found.error)));
  }
  plan.exe = Absolute(found.path);
  char real[PATH_MAX];
  if (realpath(found.path.c_str(), real) != nullptr) plan.vars["COMMAND"] = real;
  return plan;
}

std::string PlannedOutputs(const RunArgs& args, const RunPlan& plan) {
  std::vector<std::string> outputs;
  if (!args.events_file.empty()) outputs.push_back("events " + base::EscapeBytes(args.events_file));
  if (!args.result_file.empty()) outputs.push_back("result " + base::EscapeBytes(args.result_file));
  if (plan.live) {
    std::string shows = args.live == "denied" ? "denials" : "all decisions";
    for (const std::string& e : args.trace_exprs) shows += ", -e " + base::DisplayText(e);
    outputs.push_back(fmt::format(
        "live view ({}) on {}", shows,
        args.trace_file.empty() ? std::string("stderr") : base::EscapeBytes(args.trace_file)));
  }
  if (!args.stream.empty()) outputs.push_back("stream " + args.stream);
  return outputs.empty() ? std::string("summary only")
                         : fmt::format("{}", fmt::join(outputs, ", "));
}

}  // namespace cli
