#include "cli/run_command.h"

#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/command_path.h"
#include "cli/exit_codes.h"
#include "cli/explain_view.h"
#include "cli/live.h"
#include "cli/run_options.h"
#include "cli/stream_token.h"
#include "policy/capabilities.h"
#include "policy/loader.h"
#include "policy/presets.h"
#include "report/escape.h"
#include "report/event_log.h"
#include "report/output_file.h"
#include "report/stream_server.h"
#include "tracer/isolation.h"
#include "tracer/seccomp_filter.h"
#include "tracer/supervisor.h"
#include "tracer/unique_fd.h"

namespace cli {

namespace {

constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

void OnSignal(int sig) { tracer::Supervisor::RequestForward(sig); }

void InstallForwarding() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: waitpid returns EINTR and the loop forwards
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaction(sig, &sa, nullptr);
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

std::string EnvValue(const std::vector<std::string>& env, const std::string& name) {
  std::string value;
  for (const auto& kv : env) {
    if (kv.starts_with(name + "=")) value = kv.substr(name.size() + 1);
  }
  return value;
}

std::optional<policy::Policy> LoadPolicy(const RunArgs& args, const policy::Variables& vars) {
  try {
    if (!args.policy_file.empty()) return policy::LoadPolicyFile(args.policy_file, vars);
    if (!args.level.empty()) {
      if (auto p = policy::LoadPreset(args.level, vars)) return p;
      std::string names;
      for (const auto& preset : policy::Presets()) {
        names += (names.empty() ? "" : ", ") + std::string(preset.name);
      }
      Error(fmt::format("unknown level \"{}\" (levels: {})", args.level, names));
      return std::nullopt;
    }
    return policy::LoadDefaultPolicy(vars);
  } catch (const policy::PolicyError& e) {
    Error(e.what());
    return std::nullopt;
  }
}

// The terminals tracejail was started from: its stdin, stdout, stderr and controlling terminal.
std::vector<dev_t> CallerTerminals() {
  std::vector<dev_t> out;
  struct stat st {};
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    if (isatty(fd) == 1 && fstat(fd, &st) == 0) out.push_back(st.st_rdev);
  }
  int tty = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (tty >= 0) {
    if (fstat(tty, &st) == 0) out.push_back(st.st_rdev);
    close(tty);
  }
  return out;
}

// The IPv4 and IPv6 addresses of this host's interfaces (a listener on 0.0.0.0 answers on all).
std::vector<policy::SocketAddress> LocalAddresses() {
  std::vector<policy::SocketAddress> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    policy::SocketAddress a;
    a.family = i->ifa_addr->sa_family;
    if (a.family == AF_INET && (i->ifa_flags & IFF_BROADCAST) != 0 && i->ifa_broadaddr != nullptr) {
      // The subnet's broadcast address reaches this host's listeners too.
      policy::SocketAddress b = a;
      std::memcpy(b.ip.data(), &reinterpret_cast<const sockaddr_in*>(i->ifa_broadaddr)->sin_addr,
                  4);
      out.push_back(b);
    }
    if (a.family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      std::memcpy(a.ip.data(), &in->sin_addr, 4);
    } else if (a.family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      std::memcpy(a.ip.data(), &in6->sin6_addr, 16);
    } else {
      continue;
    }
    out.push_back(a);
  }
  freeifaddrs(list);
  return out;
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

double Seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

// Everything but the captured output: status, times (RUSAGE_CHILDREN covers every process of
// the tree, since tracejail reaps orphans as a subreaper), counts.
void FillResult(const tracer::RunResult& r, const timespec& start, const timespec& end,
                report::ExecutionResult& exec) {
  exec.wall_time_s = static_cast<double>(end.tv_sec - start.tv_sec) +
                     static_cast<double>(end.tv_nsec - start.tv_nsec) / 1e9;
  rusage ru{};
  if (getrusage(RUSAGE_CHILDREN, &ru) == 0) {
    exec.cpu_user_s = Seconds(ru.ru_utime);
    exec.cpu_system_s = Seconds(ru.ru_stime);
    exec.peak_rss_bytes = static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;
  }
  exec.peak_memory_bytes = r.peak_memory;
  exec.processes = r.processes;
  exec.syscalls_flagged = r.flagged;
  exec.syscalls_denied = r.denied;
  exec.events = r.events;
  exec.scheduling = r.scheduling;
  exec.limits_hit = nlohmann::json::array();
  for (const auto& hit : r.limits_hit) {
    exec.limits_hit.push_back(
        {{"limit", policy::InfoOf(hit.kind).key}, {"observed", hit.observed}});
  }
  if (r.interrupted != 0) exec.interrupted = r.interrupted;
  if (r.term_signal != 0) exec.signal = r.term_signal;
  if (r.term_signal == 0 && !r.spawn_error && r.internal_error.empty()) {
    exec.exit_code = r.exit_code;
  }
  if (r.spawn_error || !r.internal_error.empty()) {
    exec.status = report::RunStatus::kInternalError;
    if (!r.internal_error.empty()) exec.error = r.internal_error;
  } else if (r.timed_out) {
    exec.status = report::RunStatus::kTimedOut;
  } else if (r.killed_by_policy) {
    exec.status = report::RunStatus::kKilledByPolicy;
  } else if (!r.limits_hit.empty()) {
    exec.status = report::RunStatus::kLimitExceeded;
  } else if (r.term_signal != 0) {
    exec.status = report::RunStatus::kKilledBySignal;
  } else {
    exec.status = r.exit_code == 0 ? report::RunStatus::kOk : report::RunStatus::kRuntimeError;
  }
}

int ExitStatusOf(const tracer::RunResult& r) {
  if (!r.internal_error.empty())
    return kExitInternal;  // never the command's: it may not have ended
  if (r.timed_out) return kExitTimedOut;
  if (r.killed_by_policy) return kExitKilledByPolicy;
  if (r.term_signal != 0) return 128 + r.term_signal;
  return r.exit_code;
}

std::string Absolute(const std::string& path) {
  if (path.starts_with("/")) return path;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

}  // namespace

RunOutcome RunCommand(const RunArgs& args) {
  RunOutcome out;
  if (args.command.empty()) {
    Error("no command given (usage: tracejail run [OPTIONS] -- CMD [ARG...])");
    out.status = kExitUsage;
    return out;
  }
  // First load: what isolation the policy wants (it decides the work dir, which the final
  // load substitutes for ${WORKDIR}).
  policy::Variables vars = policy::DefaultVariables();
  std::optional<policy::Policy> first = LoadPolicy(args, vars);
  if (!first) {
    out.status = kExitPolicy;
    return out;
  }
  for (const auto& apply : {ApplyLimitFlags, ApplyCapFlags}) {
    if (std::string e = apply(args, *first); !e.empty()) {
      Error(e);
      out.status = kExitUsage;
      return out;
    }
  }
  std::unique_ptr<tracer::WorkDir> workdir;
  try {
    if (first->isolation.private_workdir || args.start_in_workdir) {
      workdir = tracer::WorkDir::Create();
    }
  } catch (const std::exception& e) {
    Error(e.what());
    out.status = kExitInternal;
    return out;
  }
  std::string wd = workdir ? workdir->path() : "";
  out.workdir = wd;

  tracer::LaunchSpec spec;
  spec.env = ChildEnvironment(args, first->isolation.clean_environment, wd);
  std::string path_var = EnvValue(spec.env, "PATH");
  CommandLookup found = FindCommand(args.command[0], path_var.empty() ? kDefaultPath : path_var);
  if (found.error == ENOENT) {
    Error(fmt::format("{}: command not found (searched PATH={})", args.command[0], path_var));
    out.status = kExitNotFound;
    return out;
  }
  if (found.error != 0) {
    Error(fmt::format("{}: cannot execute: {}", args.command[0], std::strerror(found.error)));
    out.status = kExitNotExecutable;
    return out;
  }
  spec.exe = Absolute(found.path);
  spec.argv = args.command;
  for (const auto& [name, content] : args.workdir_files) {
    spec.sandbox.files.emplace_back(wd + "/" + name, content);
  }

  char real[PATH_MAX];
  if (realpath(found.path.c_str(), real) != nullptr) vars["COMMAND"] = real;
  if (workdir) vars["WORKDIR"] = vars["TMPDIR"] = wd;
  std::optional<policy::Policy> policy = LoadPolicy(args, vars);
  if (!policy) {
    out.status = kExitPolicy;
    return out;
  }
  ApplyLimitFlags(args, *policy);
  ApplyCapFlags(args, *policy);
  policy->local_addresses = LocalAddresses();
  spec.sandbox.new_session = !args.tty;
  tracer::Mode mode = args.mode == "audit" ? tracer::Mode::kAudit : tracer::Mode::kEnforce;

  tracer::IsolationOptions iso_options;
  iso_options.allow_degraded = args.allow_degraded;
  iso_options.workdir = wd;
  iso_options.enforce = mode == tracer::Mode::kEnforce;
  char cwd[PATH_MAX];
  // In a user namespace the caller's directory belongs to another user: start in the work dir.
  bool in_workdir =
      args.start_in_workdir || (!wd.empty() && policy->isolation.Has(policy::Namespace::kUser));
  iso_options.cwd = in_workdir ? wd : (getcwd(cwd, sizeof cwd) ? cwd : "/");
  report::LiveFilter live_filter = report::LiveFilter::kAll;
  report::StreamEndpoint stream_endpoint;
  std::string stream_error;
  if (!args.live.empty() && !ParseLiveFilter(args.live, live_filter)) {
    Error(fmt::format("--live={}: expected all or denied", args.live));
    out.status = kExitUsage;
    return out;
  }
  if (!args.stream.empty() &&
      !report::ParseStreamEndpoint(args.stream, stream_endpoint, stream_error)) {
    Error("--stream " + stream_error);
    out.status = kExitUsage;
    return out;
  }
  bool tcp_stream = !args.stream.empty() && !stream_endpoint.unix_socket;
  if (!tcp_stream && (!args.stream_token_file.empty() || args.stream_allow_remote)) {
    Error(fmt::format(
        "{} is for --stream tcp:ADDRESS:PORT (a unix stream is protected by its "
        "socket's permissions and has no token)",
        args.stream_token_file.empty() ? "--stream-allow-remote" : "--stream-token-file"));
    out.status = kExitUsage;
    return out;
  }
  if (tcp_stream && !args.stream_allow_remote && !report::IsLoopbackAddress(stream_endpoint.host)) {
    Error(fmt::format(
        "--stream {}: not a loopback address: anyone who can reach this host could try to "
        "connect, and the token and the events would cross the network unencrypted. Use "
        "tcp:127.0.0.1:PORT (or unix:PATH, forwarded over ssh), or --stream-allow-remote",
        args.stream));
    out.status = kExitUsage;
    return out;
  }
  // What tracejail creates here (the token file, its directory) is removed when the run ends.
  std::unique_ptr<StreamTokenFile> stream_token;
  if (tcp_stream) {
    std::string why;
    stream_token = StreamTokenFile::Prepare(args.stream_token_file, why);
    if (!stream_token) {
      Error("--stream-token-file " + why);
      out.status = kExitUsage;
      return out;
    }
  }
  tracer::PreparedIsolation isolation;
  tracer::SyscallIndex index;
  std::string same_cpu_off;
  std::unique_ptr<report::StreamServer> stream;
  std::shared_ptr<LiveTerminal> live;
  std::shared_ptr<ExplainView> explain;
  std::unique_ptr<report::EventLog> log;
  try {
    isolation = tracer::PrepareIsolation(*policy, iso_options, spec.sandbox);
    tracer::FilterPlan plan = tracer::MakePlan(*policy, index, mode == tracer::Mode::kAudit);
    same_cpu_off = args.same_cpu == "off" ? "turned off (--same-cpu off)"
                                          : tracer::TraceAffinity(plan, *policy);
    spec.filter = tracer::BuildFilter(plan, index);
    std::vector<report::EventLog::Sink> sinks;
    if (!args.stream.empty()) {
      report::StreamOptions stream_options;
      if (stream_token) stream_options.token = stream_token->token();
      stream = std::make_unique<report::StreamServer>(stream_endpoint, stream_options);
      if (!stream_token) {
        Error("streaming events on " + stream->Describe() + " (tracejail watch " +
              stream->Describe() + ")");
      } else {
        // Where the token is, never the token itself: stderr may be a shared log.
        std::string file = report::EscapeBytes(stream_token->path());
        Error(fmt::format("streaming events on {} (tracejail watch {} --token-file {})",
                          stream->Describe(), stream->Describe(), file));
        Error(stream_token->generated()
                  ? fmt::format("the stream's token is in {} (mode 600, removed when the run "
                                "ends); a subscriber sends \"AUTH <token>\" first",
                                file)
                  : fmt::format("the stream's token is the one in {}", file));
        Error(
            "warning: every user of this machine can connect to a tcp stream: only the token "
            "keeps them from the events (paths, argv, addresses); unix:PATH is protected by "
            "file permissions and is the safer choice");
        if (!report::IsLoopbackAddress(stream_endpoint.host)) {
          Error(
              "warning: the stream is not on a loopback address: anyone who can reach it can "
              "try to connect, and the token and the events cross the network unencrypted");
        }
      }
      report::StreamServer* server = stream.get();
      sinks.push_back([server](const std::string& line, const nlohmann::json&, bool in_file) {
        if (in_file) server->Publish(line);
      });
    }
    if (args.explain) {
      explain = std::make_shared<ExplainView>();
      sinks.push_back([explain](const std::string& line, const nlohmann::json& record,
                                bool in_file) { (*explain)(line, record, in_file); });
    }
    if (!args.live.empty()) {
      live = std::make_shared<LiveTerminal>(live_filter);
      sinks.push_back([live](const std::string& line, const nlohmann::json& record, bool in_file) {
        (*live)(line, record, in_file);
      });
    }
    if (!args.events_file.empty() || !sinks.empty()) {
      report::EventLogOptions log_options;
      log_options.fold = !args.raw_events;
      if (!args.events_key.empty()) {
        std::string why;
        std::optional<std::string> key = ReadKeyFile(args.events_key, why);
        if (!key) {
          Error("--events-key " + why);
          out.status = kExitUsage;
          return out;
        }
        log_options.key = std::move(*key);
      }
      log = std::make_unique<report::EventLog>(args.events_file, std::move(sinks), log_options);
    }
  } catch (const tracer::IsolationError& e) {
    Error(e.what());
    out.status = kExitUnavailable;
    return out;
  } catch (const std::exception& e) {
    Error(e.what());
    out.status = kExitInternal;
    return out;
  }
  for (const auto& w : isolation.warnings) Error("warning: " + w);

  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    Error(fmt::format("prctl(PR_SET_CHILD_SUBREAPER) failed: {}", std::strerror(errno)));
    out.status = kExitInternal;
    return out;
  }

  report::ExecutionResult& exec = out.exec;
  exec.execution_id = report::NewExecutionId();
  exec.command = args.command;
  exec.policy = policy->name;
  exec.mode = args.mode;
  exec.events_file = args.events_file;
  exec.limits = policy::LimitsToJson(policy->limits);
  exec.layers = isolation.LayersJson();
  exec.warnings = isolation.warnings;
  // Output goes through tracejail only when it must be captured: otherwise the command keeps
  // tracejail's own stdout and stderr (a terminal stays a terminal).
  auto output_cap = policy->limits.Get(policy::LimitKind::kOutput);
  std::unique_ptr<tracer::OutputCapture> capture;
  try {
    if (!args.result_file.empty() || args.quiet || args.capture) {
      capture = std::make_unique<tracer::OutputCapture>(
          output_cap ? static_cast<std::size_t>(*output_cap) : SIZE_MAX, !args.quiet);
      spec.stdout_fd = capture->child_stdout();
      spec.stderr_fd = capture->child_stderr();
    }
  } catch (const std::exception& e) {
    Error(e.what());
    out.status = kExitInternal;
    return out;
  }
  if (stream && args.stream_wait > 0) {
    Error(fmt::format("waiting for {} subscriber(s) on {}", args.stream_wait, stream->Describe()));
    stream->WaitForSubscribers(args.stream_wait);
  }
  // From here on a signal to tracejail is the run's (forwarded, then the tree is killed); until
  // here it ends tracejail before anything was started.
  InstallForwarding();
  tracer::Watch watch;
  watch.limits = policy->limits;
  watch.cgroup = isolation.cgroup.get();
  watch.own_mounts = isolation.view.own_mounts;
  watch.ns_proc_pids = isolation.view.ns_proc_pids;
  watch.tmpfs_dir = isolation.tmpfs_dir;
  watch.landlock = spec.sandbox.landlock_handled != 0;
  watch.same_cpu_off = same_cpu_off;
  watch.kill_grace_s = ParseGrace(args.kill_grace).value_or(2.0);
  watch.caller_terminals = CallerTerminals();
  watch.keep_terminal = args.tty;
  watch.live_allowed = live != nullptr && live_filter == report::LiveFilter::kAll;
  for (const std::string& output :
       {args.events_file, args.result_file, args.events_key,
        stream_endpoint.unix_socket ? stream_endpoint.path : "",
        stream_token ? stream_token->path() : "", stream_token ? stream_token->dir() : ""}) {
    std::error_code ec;
    if (!output.empty()) {
      watch.protected_paths.push_back(std::filesystem::weakly_canonical(output, ec).string());
    }
  }

  timespec start{}, end{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  tracer::RunResult result;
  try {
    tracer::Supervisor supervisor(*policy, mode, log.get(), watch);
    supervisor.Run(spec, capture.get());
    if (capture) {
      capture->Finish();
      exec.stdout_capture = capture->out();
      exec.stderr_capture = capture->err();
      for (const auto* c : {&capture->out(), &capture->err()}) {
        if (!c->truncated) continue;
        supervisor.LimitExceeded(
            policy::LimitKind::kOutput,
            fmt::format("{} wrote {} bytes; the first {} were kept",
                        c == &capture->out() ? "stdout" : "stderr", c->bytes, c->text.size()),
            {{"stream", c == &capture->out() ? "stdout" : "stderr"}, {"bytes", c->bytes}});
      }
    }
    result = supervisor.result();
  } catch (const std::exception& e) {
    Error(e.what());
    out.status = kExitInternal;
    return out;
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  out.ran = true;
  FillResult(result, start, end, exec);
  if (log) {
    report::LogEnd outcome;
    outcome.run_status = std::string(report::Name(exec.status));
    outcome.capabilities =
        spec.sandbox.restrict_caps
            ? report::Capabilities{.names = policy::CapNames(spec.sandbox.keep_caps)}
            : report::Capabilities{.inherit = true};
    if (!result.internal_error.empty()) outcome.internal_error = result.internal_error;
    if (exec.interrupted) {
      const char* abbrev = sigabbrev_np(*exec.interrupted);
      outcome.interrupted_by = abbrev ? fmt::format("SIG{}", abbrev) : "?";
    }
    log->Close(std::move(outcome));
    exec.event_records = log->written();
    if (!args.events_file.empty()) {
      exec.events_final_hash = log->final_hash();
      exec.events_chain = std::string(log->chain_name());
    }
    if (std::optional<std::string> failure = log->Failure()) {
      // Never "ok" with a partial record: the run's outcome is what tracejail could not keep.
      exec.events_lost = std::max<std::uint64_t>(log->lost(), 1);  // at least the one that failed
      exec.status = report::RunStatus::kInternalError;
      if (result.internal_error.empty()) {
        result.internal_error = "the events could not be recorded (" + *failure + ")";
      }
      exec.error = result.internal_error;
    }
  }
  if (live) live->Finish();
  if (stream) {
    stream->Close();
    report::StreamStats stats = stream->Stats();
    exec.stream = {{"endpoint", stream->Describe()},
                   {"subscribers", stats.subscribers},
                   {"unauthenticated", stats.unauthenticated},
                   {"refused_full", stats.refused_full}};
    if (stats.unauthenticated > 0) {
      Error(fmt::format(
          "warning: {} connection(s) to the stream were closed without a valid token (they got "
          "no events)",
          stats.unauthenticated));
    }
  }
  if (explain) explain->Print(stderr);
  out.status = ExitStatusOf(result);
  if (result.spawn_error) {
    exec.error = result.spawn_error->Describe(spec);
    Error(exec.error);
    out.status = result.spawn_error->stage != tracer::SpawnError::kExecve ? kExitInternal
                 : result.spawn_error->error == ENOENT                    ? kExitNotFound
                                                                          : kExitNotExecutable;
  }
  if (!result.internal_error.empty()) {
    Error("internal error: " + result.internal_error +
          "; the process tree was killed and the run's outcome is unknown");
  }
  if (result.killed_by_policy) Error("the process tree was killed by policy");
  if (result.timed_out) Error("the process tree was killed: wall-clock timeout");
  if (!args.result_file.empty()) {
    // A command name or output that is not UTF-8 is written with U+FFFD, never an abort.
    std::string text =
        report::ToJson(exec).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (std::optional<std::string> failed = report::WriteOutput(args.result_file, text)) {
      Error("result file: " + *failed);
      out.status = kExitInternal;
      return out;
    }
  }
  if (args.summary) std::fputs(report::Summary(exec).c_str(), stderr);
  return out;
}

}  // namespace cli
