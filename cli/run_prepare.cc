#include "cli/run_prepare.h"

#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "base/escape.h"
#include "cli/common.h"
#include "cli/exit_codes.h"
#include "cli/run_options.h"
#include "tracer/seccomp_filter.h"

namespace cli {
namespace {

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

}  // namespace

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

namespace {

// The stream server and what stderr says about it; its sink publishes what the file records.
void StartStream(const RunArgs& args, const RunPlan& plan, PreparedRun& run,
                 std::vector<report::EventLog::Sink>& sinks) {
  report::StreamOptions stream_options;
  if (run.stream_token) stream_options.token = run.stream_token->token();
  stream_options.stall_limit = std::chrono::seconds(args.stream_stall);
  run.stream = std::make_unique<report::StreamServer>(plan.stream_endpoint, stream_options);
  const report::StreamServer& stream = *run.stream;
  if (!run.stream_token) {
    if (!args.quiet) {  // -q: the caller named the socket; nothing else needs saying
      Error("streaming events on " + stream.Describe() + " (tracejail watch " + stream.Describe() +
            ")");
    }
  } else {
    // Said even with -q: where the token is (needed to subscribe) and what a tcp stream risks.
    // Where the token is, never the token itself: stderr may be a shared log.
    std::string file = base::EscapeBytes(run.stream_token->path());
    Error(fmt::format("streaming events on {} (tracejail watch {} --token-file {})",
                      stream.Describe(), stream.Describe(), file));
    Error(run.stream_token->generated()
              ? fmt::format("the stream's token is in {} (mode 600, removed when the run "
                            "ends); a subscriber sends \"AUTH <token>\" first",
                            file)
              : fmt::format("the stream's token is the one in {}", file));
    Error(
        "warning: every user of this machine can connect to a tcp stream: only the token "
        "keeps them from the events (paths, argv, addresses); unix:PATH is protected by "
        "file permissions and is the safer choice");
    if (!report::IsLoopbackAddress(plan.stream_endpoint.host)) {
      Error(
          "warning: the stream is not on a loopback address: anyone who can reach it can "
          "try to connect, and the token and the events cross the network unencrypted");
    }
  }
  report::StreamServer* server = run.stream.get();
  sinks.push_back([server](const std::string& line, const nlohmann::json&, bool in_file) {
    if (in_file) server->Publish(line);
  });
}

}  // namespace

void ProtectOutput(const std::string& path, std::vector<std::string>& protected_paths) {
  if (path.empty()) return;
  std::error_code ec;
  std::string canonical = std::filesystem::weakly_canonical(path, ec).string();
  struct stat st {};
  if (stat(canonical.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) {
    return;  // /dev/null (under any name)
  }
  protected_paths.push_back(canonical);
}

void OpenLog(const RunArgs& args, const RunPlan& plan, PreparedRun& run) {
  std::vector<report::EventLog::Sink> sinks;
  if (!args.stream.empty()) StartStream(args, plan, run, sinks);
  if (args.explain) {
    run.explain = std::make_shared<ExplainView>();
    sinks.push_back([explain = run.explain](const std::string& line, const nlohmann::json& record,
                                            bool in_file) { (*explain)(line, record, in_file); });
  }
  if (plan.live) {
    try {
      run.live = std::make_shared<LiveTerminal>(plan.live_filter, plan.trace_set, args.trace_file);
    } catch (const std::runtime_error& e) {
      throw RunFailure(kExitInternal, fmt::format("trace file (-o): {}", e.what()));
    }
    sinks.push_back([live = run.live](const std::string& line, const nlohmann::json& record,
                                      bool in_file) { (*live)(line, record, in_file); });
  }
  if (args.events_file.empty() && sinks.empty()) return;
  report::EventLogOptions log_options;
  log_options.fold = !args.raw_events;
  if (!args.events_key.empty()) {
    std::string why;
    std::optional<std::string> key = ReadKeyFile(args.events_key, why);
    if (!key) throw RunFailure(kExitUsage, "--events-key " + why);
    log_options.key = std::move(*key);
  }
  run.log = std::make_unique<report::EventLog>(args.events_file, std::move(sinks), log_options);
}

namespace {

// What the supervisor watches besides the calls: limits, the cgroup, mounts, terminals, and the
// files of tracejail's own output, which the command may not touch.
void FillWatch(const RunArgs& args, const RunPlan& plan, const std::string& same_cpu_off,
               PreparedRun& run) {
  tracer::Watch& watch = run.watch;
  watch.limits = run.policy->limits;
  watch.cgroup = run.isolation.cgroup.get();
  watch.own_mounts = run.isolation.view.own_mounts;
  watch.ns_proc_pids = run.isolation.view.ns_proc_pids;
  watch.tmpfs_dir = run.isolation.tmpfs_dir;
  watch.landlock = run.spec.sandbox.landlock_handled != 0;
  watch.same_cpu_off = same_cpu_off;
  watch.kill_grace_s = ParseGrace(args.kill_grace).value_or(2.0);
  watch.caller_terminals = CallerTerminals();
  watch.keep_terminal = args.tty;
  watch.denial_notes = args.verbose ? report::kVerboseDenials : report::kFirstDenials;
  tracer::ParseStackMode(args.stack, watch.stack);  // checked by the option (cli/run_options.cc)
  watch.artifacts.collect_dir = run.collect_dir.get();
  watch.artifacts.collect_max =
      policy::ParseLimitText(policy::LimitUnit::kBytes, args.collect_max).value.value_or(0);
  watch.live_allowed = run.live != nullptr && plan.live_filter == report::LiveFilter::kAll;
  for (const std::string& output :
       {args.events_file, args.result_file, args.events_key, args.trace_file,
        plan.stream_endpoint.unix_socket ? plan.stream_endpoint.path : "",
        run.stream_token ? run.stream_token->path() : "",
        run.stream_token ? run.stream_token->dir() : ""}) {
    ProtectOutput(output, watch.protected_paths);
  }
  if (!args.collect_dir.empty()) {
    std::error_code ec;
    std::string dir = std::filesystem::weakly_canonical(args.collect_dir, ec).string();
    watch.protected_paths.push_back(dir == "/" ? dir : dir + "/");
  }
}

}  // namespace

// --collect DIR: made (mode 700) when missing, opened as the directory itself (never through a
// symlink); the copies are made in it at the end of the run.
static base::UniqueFd OpenCollectDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw RunFailure(kExitUsage, fmt::format("--collect {}: cannot be made: {}",
                                             base::EscapeBytes(dir), std::strerror(errno)));
  }
  base::UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid() || faccessat(fd.get(), ".", W_OK, 0) != 0) {
    throw RunFailure(
        kExitUsage,
        fmt::format("--collect {}: {} (give a directory tracejail may write, or a "
                    "new name)",
                    base::EscapeBytes(dir),
                    errno == ELOOP || errno == ENOTDIR ? "not a directory" : std::strerror(errno)));
  }
  return fd;
}

void PrepareRun(const RunArgs& args, const RunPlan& plan, PreparedRun& run) {
  if (!args.collect_dir.empty()) run.collect_dir = OpenCollectDir(args.collect_dir);
  try {
    if (plan.wants_workdir) run.workdir = tracer::WorkDir::Create();
  } catch (const std::exception& e) {
    throw RunFailure(kExitInternal, e.what());
  }
  const std::string wd = run.workdir_path();
  tracer::LaunchSpec& spec = run.spec;
  spec.env = ChildEnvironment(args, plan.clean_environment, wd);
  spec.exe = plan.exe;
  spec.argv = args.command;
  for (const auto& [name, content] : plan.workdir_files) {
    spec.sandbox.files.emplace_back(wd + "/" + name, content);
  }
  policy::Variables vars = plan.vars;
  if (run.workdir) vars["WORKDIR"] = vars["TMPDIR"] = wd;
  run.policy = LoadRunPolicy(args, vars);
  policy::Policy& policy = *run.policy;
  policy.local_addresses = LocalAddresses();
  spec.sandbox.new_session = !args.tty;

  tracer::IsolationOptions iso_options;
  iso_options.allow_degraded = args.allow_degraded;
  iso_options.workdir = wd;
  iso_options.enforce = plan.mode == tracer::Mode::kEnforce;
  // maximum's user namespace makes root's command another user than the caller (an ordinary
  // user is itself there, but maximum reads nothing outside the work dir): start in the work dir.
  bool in_workdir = args.start_in_workdir || !args.files.empty() ||
                    (!wd.empty() && policy.isolation.Has(policy::Namespace::kUser));
  char cwd[PATH_MAX];
  iso_options.cwd = in_workdir ? wd : (getcwd(cwd, sizeof cwd) ? cwd : "/");
  if (plan.tcp_stream) {
    std::string why;
    run.stream_token = StreamTokenFile::Prepare(args.stream_token_file, why);
    if (!run.stream_token) throw RunFailure(kExitUsage, "--stream-token-file " + why);
  }
  std::string same_cpu_off;
  std::string lanes_off;
  try {
    run.isolation = tracer::PrepareIsolation(policy, iso_options, spec.sandbox);
    syscalls::SyscallIndex index;
    tracer::FilterPlan filter = tracer::MakePlan(policy, index, plan.mode == tracer::Mode::kAudit);
    same_cpu_off = args.same_cpu == "off" ? "turned off (--same-cpu off)"
                                          : tracer::TraceAffinity(filter, policy);
    lanes_off = tracer::ParkingAllowed(filter, policy);
    spec.filter = tracer::BuildFilter(filter, index);
    OpenLog(args, plan, run);
  } catch (const RunFailure&) {
    throw;
  } catch (const tracer::IsolationError& e) {
    throw RunFailure(kExitUnavailable, e.what());
  } catch (const std::exception& e) {
    throw RunFailure(kExitInternal, e.what());
  }
  for (const auto& w : run.isolation.warnings) Error("warning: " + w);

  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    throw RunFailure(kExitInternal,
                     fmt::format("prctl(PR_SET_CHILD_SUBREAPER) failed: {}", std::strerror(errno)));
  }
  // Output goes through tracejail only when it must be captured: otherwise the command keeps
  // tracejail's own stdout and stderr (a terminal stays a terminal).
  auto output_cap = policy.limits.Get(policy::LimitKind::kOutput);
  try {
    if (!args.result_file.empty() || args.hide_output || args.capture) {
      run.capture = std::make_unique<tracer::OutputCapture>(
          output_cap ? static_cast<std::size_t>(*output_cap) : SIZE_MAX, !args.hide_output);
      spec.stdout_fd = run.capture->child_stdout();
      spec.stderr_fd = run.capture->child_stderr();
    }
  } catch (const std::exception& e) {
    throw RunFailure(kExitInternal, e.what());
  }
  FillWatch(args, plan, same_cpu_off, run);
  run.watch.lanes_off = lanes_off;
}

}  // namespace cli
