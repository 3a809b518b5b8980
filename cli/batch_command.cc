#include "cli/batch_command.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "base/escape.h"
#include "base/unique_fd.h"
#include "cli/batch_manifest.h"
#include "cli/batch_outputs.h"
#include "cli/common.h"
#include "cli/exit_codes.h"
#include "report/analysis.h"
#include "report/output_file.h"

namespace cli {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

int AvailableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

std::string Duration(double seconds) {
  auto s = static_cast<long>(seconds + 0.5);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

// The last non-empty line of tracejail's own messages for a task, for a failure's reason.
std::string LastLogLine(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line, last;
  std::size_t read = 0;
  while (std::getline(in, line) && read < (1 << 20)) {
    read += line.size() + 1;
    if (!line.empty()) last = line;
  }
  if (last.size() > 300) last = last.substr(0, 300) + "...";
  return base::EscapeText(last);
}

struct Running {
  std::size_t task;  // index into the shard's tasks
  Clock::time_point started;
};

class Batcher {
 public:
  Batcher(const BatchArgs& args, std::vector<BatchTask> tasks, std::string self)
      : args_(args), tasks_(std::move(tasks)), self_(std::move(self)) {
    records_.resize(tasks_.size());
    tty_ = !args.quiet && isatty(STDERR_FILENO) == 1;
  }

  // Runs what is left to run; the status Batch returns.
  int Run() {
    const int jobs = args_.jobs > 0 ? args_.jobs : AvailableCpus();
    std::deque<std::size_t> queue;
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      TaskRecord& r = records_[i];
      r.id = tasks_[i].id;
      r.line = tasks_[i].line;
      if (!tasks_[i].error.empty()) {
        r.state = TaskRecord::State::kInvalid;
        r.why = tasks_[i].error;
        Finished(i);
        continue;
      }
      const std::string dir = Dir(i);
      std::error_code ec;
      if (fs::exists(dir, ec)) {
        report::Analysis analysis;
        CheckTaskDir(dir, r, analysis);
        if (r.state == TaskRecord::State::kComplete) {
          r.skipped = true;
          if (!fs::exists(dir + "/report.html", ec)) (void)WriteTaskReports(dir, analysis);
          Finished(i);
          continue;
        }
        if (!args_.quiet) Say(fmt::format("batch: {}: redone: {}", r.id, r.why));
      }
      queue.push_back(i);
    }
    if (!args_.quiet && skipped_ > 0) {
      Say(fmt::format("{} task(s) already complete in {}: skipped", skipped_,
                      base::EscapeBytes(args_.out)));
    }
    sigset_t mask, old;
    sigemptyset(&mask);
    for (int sig : {SIGCHLD, SIGINT, SIGTERM, SIGHUP}) sigaddset(&mask, sig);
    sigprocmask(SIG_BLOCK, &mask, &old);
    base::UniqueFd sfd(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sfd.valid()) {
      sigprocmask(SIG_SETMASK, &old, nullptr);
      Error(fmt::format("batch: signalfd: {}", std::strerror(errno)));
      return kExitInternal;
    }
    while (!queue.empty() || !running_.empty()) {
      while (!interrupted_ && !queue.empty() && static_cast<int>(running_.size()) < jobs) {
        Start(queue.front(), old);
        queue.pop_front();
      }
      if (running_.empty()) break;
      Progress();
      pollfd pfd{sfd.get(), POLLIN, 0};
      (void)poll(&pfd, 1, tty_ ? 1000 : -1);
      signalfd_siginfo info{};
      while (read(sfd.get(), &info, sizeof info) == sizeof info) {
        if (info.ssi_signo != SIGCHLD && interrupted_ == 0) {
          interrupted_ = static_cast<int>(info.ssi_signo);
          // Each run ends its own tree and writes what it saw; nothing new starts.
          for (const auto& [pid, run] : running_) kill(pid, SIGTERM);
        }
      }
      Reap();
    }
    sigprocmask(SIG_SETMASK, &old, nullptr);
    for (std::size_t i : queue) {
      records_[i].state = TaskRecord::State::kMissing;
      records_[i].why = "not run: the batch was interrupted";
    }
    if (tty_) std::fputs("\r\033[K", stderr);
    return interrupted_;
  }

  const std::vector<TaskRecord>& records() const { return records_; }

 private:
  std::string Dir(std::size_t i) const { return args_.out + "/" + tasks_[i].id; }

  void Say(const std::string& line) {
    if (tty_) std::fputs("\r\033[K", stderr);
    Error(line);
  }

  // Prepares the task's directory and starts its run.
  void Start(std::size_t i, const sigset_t& child_mask) {
    BatchTask task = tasks_[i];
    const std::string dir = Dir(i);
    std::error_code ec;
    fs::remove_all(dir, ec);  // a half-written record is redone from nothing
    if (!fs::create_directory(dir, ec) && ec)
      return Fail(i, "cannot create " + dir + ": " + ec.message());
    fs::permissions(dir, fs::perms::owner_all, ec);
    auto write = [&](const std::string& path, const std::string& content) {
      std::optional<std::string> failed = report::WriteOutput(path, content, 0600);
      if (failed) Fail(i, *failed);
      return !failed;
    };
    std::string source;
    if (!task.lang.empty()) {
      source = task.code_file;
      if (source.empty()) {
        source = dir + "/" + SourceName(task.lang);
        if (!write(source, task.code)) return;
      }
    }
    if (!task.files.empty()) fs::create_directory(dir + "/files", ec);
    for (auto& f : task.files) {
      if (!f.path.empty()) continue;
      f.path = dir + "/files/" + f.name;
      if (!write(f.path, f.content)) return;
    }
    std::vector<std::string> argv = TaskArgv(task, self_, dir, source);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    const std::string log = dir + "/tracejail.log";
    base::UniqueFd log_fd(open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    base::UniqueFd null_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!log_fd.valid() || !null_fd.valid()) {
      return Fail(i, fmt::format("cannot open {}: {}", log, std::strerror(errno)));
    }
    pid_t pid = fork();
    if (pid < 0) return Fail(i, fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) {
      // Async-signal-safe calls only. The run gets the signal mask the batch had.
      dup2(null_fd.get(), STDIN_FILENO);
      dup2(log_fd.get(), STDOUT_FILENO);
      dup2(log_fd.get(), STDERR_FILENO);
      sigprocmask(SIG_SETMASK, &child_mask, nullptr);
      execv(cargv[0], cargv.data());
      _exit(kExitInternal);
    }
    running_[pid] = {i, Clock::now()};
  }

  void Fail(std::size_t i, const std::string& why) {
    records_[i].state = TaskRecord::State::kFailed;
    records_[i].why = why;
    Finished(i);
  }

  void Reap() {
    for (;;) {
      int status = 0;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0) return;
      auto it = running_.find(pid);
      if (it == running_.end()) continue;
      auto [i, started] = it->second;
      running_.erase(it);
      durations_ += std::chrono::duration<double>(Clock::now() - started).count();
      ++timed_;
      const std::string dir = Dir(i);
      report::Analysis analysis;
      TaskRecord& r = records_[i];
      CheckTaskDir(dir, r, analysis);
      if (r.state == TaskRecord::State::kComplete) {
        if (std::optional<std::string> failed = WriteTaskReports(dir, analysis)) {
          Say(fmt::format("warning: {}: the reports could not be written: {}", r.id, *failed));
        }
      } else {
        std::string said = LastLogLine(dir + "/tracejail.log");
        if (interrupted_ != 0) r.why = "interrupted: " + r.why;
        if (!said.empty()) r.why += " (tracejail.log: " + said + ")";
        if (WIFSIGNALED(status))
          r.why += fmt::format(" [tracejail died of signal {}]", WTERMSIG(status));
      }
      Finished(i);
    }
  }

  // Counts a task that has its outcome, and says it: a line each when stderr is not a
  // terminal; on a terminal only what went wrong (the progress line has the rest).
  void Finished(std::size_t i) {
    const TaskRecord& r = records_[i];
    ++done_;
    if (r.skipped) ++skipped_;
    if (r.state != TaskRecord::State::kComplete) ++failed_;
    denials_ += r.denials;
    if (args_.quiet || r.skipped) return;
    if (r.state != TaskRecord::State::kComplete) {
      Say(fmt::format("batch: [{}/{}] {}: {}: {}", done_, tasks_.size(), r.id,
                      r.state == TaskRecord::State::kFailed ? "FAILED" : "INVALID", r.why));
    } else if (!tty_) {
      Error(fmt::format("batch: [{}/{}] {}: {}, exit {}, {} denial(s), risk {}, {:.2f} s", done_,
                        tasks_.size(), r.id, r.status, r.exit_code, r.denials, r.risk,
                        r.wall_time_s));
    }
  }

  void Progress() {
    if (!tty_) return;
    std::string eta = "?";
    std::size_t left = tasks_.size() - done_;
    if (timed_ > 0) {
      int jobs = std::max<int>(1, static_cast<int>(running_.size()));
      eta = Duration(durations_ / static_cast<double>(timed_) * static_cast<double>(left) / jobs);
    }
    std::fprintf(stderr,
                 "\r\033[Kbatch: %zu/%zu done, %zu running, %llu failed, %llu denials, ETA %s",
                 done_, tasks_.size(), running_.size(), static_cast<unsigned long long>(failed_),
                 static_cast<unsigned long long>(denials_), eta.c_str());
    std::fflush(stderr);
  }

  const BatchArgs& args_;
  std::vector<BatchTask> tasks_;
  std::string self_;
  std::vector<TaskRecord> records_;
  std::map<pid_t, Running> running_;
  bool tty_ = false;
  int interrupted_ = 0;
  std::size_t done_ = 0, skipped_ = 0;
  std::uint64_t failed_ = 0, denials_ = 0;
  double durations_ = 0;
  std::size_t timed_ = 0;
};

// summary(.shard-K-of-N).json and index(...).html in `out`, from `records`; nullopt or what
// failed.
std::optional<std::string> WriteSummary(const BatchArgs& args, const std::string& suffix,
                                        const std::vector<TaskRecord>& records) {
  report::RunStats stats;
  for (const auto& r : records) {
    if (r.state != TaskRecord::State::kComplete) continue;
    std::ifstream in(args.out + "/" + r.id + "/events.jsonl", std::ios::binary);
    report::EventsScan scan;
    stats.Add(r.id, report::AnalyzeFile(in, scan));
  }
  nlohmann::json summary = BatchSummary(args.manifest, args.shard, records, stats.Json());
  std::string json = summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (auto failed = report::WriteOutput(args.out + "/summary" + suffix + ".json", json, 0644)) {
    return failed;
  }
  return report::WriteOutput(args.out + "/index" + suffix + ".html", BatchIndexHtml(summary), 0644);
}

// --merge: each task's directory found in `out` or copied there from a --from directory.
std::vector<TaskRecord> Merge(const BatchArgs& args, const std::vector<BatchTask>& tasks) {
  std::vector<TaskRecord> records;
  for (const auto& t : tasks) {
    TaskRecord r;
    r.id = t.id;
    r.line = t.line;
    if (!t.error.empty()) {
      r.state = TaskRecord::State::kInvalid;
      r.why = t.error;
      records.push_back(r);
      continue;
    }
    const std::string dir = args.out + "/" + t.id;
    report::Analysis analysis;
    std::error_code ec;
    if (fs::exists(dir, ec)) CheckTaskDir(dir, r, analysis);
    for (std::size_t k = 0; k < args.from.size() && r.state != TaskRecord::State::kComplete; ++k) {
      const std::string there = args.from[k] + "/" + t.id;
      TaskRecord candidate = r;
      report::Analysis theirs;
      if (!fs::exists(there, ec)) continue;
      CheckTaskDir(there, candidate, theirs);
      if (candidate.state != TaskRecord::State::kComplete) {
        r = candidate;
        continue;
      }
      fs::remove_all(dir, ec);
      fs::copy(there, dir, fs::copy_options::recursive, ec);
      if (ec) {
        r.state = TaskRecord::State::kFailed;
        r.why = fmt::format("copying {} failed: {}", there, ec.message());
        continue;
      }
      CheckTaskDir(dir, r, analysis);
    }
    if (r.state == TaskRecord::State::kComplete) {
      if (!fs::exists(dir + "/report.html", ec)) (void)WriteTaskReports(dir, analysis);
    } else if (r.why.empty()) {
      r.state = TaskRecord::State::kMissing;
      r.why = "no shard's output holds this task";
    }
    records.push_back(r);
  }
  return records;
}

}  // namespace

void AddBatchOptions(CLI::App* cmd, BatchArgs& args) {
  cmd->add_option("manifest", args.manifest,
                  "the tasks, as JSON Lines: {\"id\": ..., \"command\": [...] or \"lang\" and "
                  "\"code\", \"level\" or \"policy\", \"limits\", \"files\", \"env\"} "
                  "(docs/scale.md)")
      ->required();
  cmd->add_option("--out", args.out,
                  "the output directory: DIR/<id>/ per task, DIR/summary.json, DIR/index.html")
      ->required();
  cmd->add_option("-j,--jobs", args.jobs, "tasks at once (default: the CPUs)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--shard", args.shard,
                  "K/N: run only the K-th of N disjoint slices of the manifest (K from 0; "
                  "SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)");
  cmd->add_flag("--merge", args.merge,
                "run nothing: gather the tasks' directories into --out (from --from DIRs) and "
                "write the summary of the whole manifest");
  cmd->add_option("--from", args.from, "with --merge: a shard's output directory (repeatable)");
  cmd->add_flag("-q,--quiet", args.quiet, "no progress, only errors");
}

int Batch(const BatchArgs& args) {
  std::string error;
  std::optional<Shard> shard;
  if (!args.shard.empty()) {
    shard = ParseShard(args.shard, error);
    if (!shard) {
      Error(error);
      return kExitUsage;
    }
    if (args.merge) {
      Error("--merge summarizes the whole manifest: it takes no --shard");
      return kExitUsage;
    }
  }
  if (!args.from.empty() && !args.merge) {
    Error("--from goes with --merge");
    return kExitUsage;
  }
  std::ifstream in(args.manifest, std::ios::binary);
  std::error_code ec;
  if (!in || fs::is_directory(args.manifest, ec)) {
    Error(fmt::format("cannot read the manifest {}: {}", base::EscapeBytes(args.manifest),
                      in ? "it is a directory" : std::strerror(errno)));
    return kExitUsage;
  }
  std::vector<BatchTask> tasks;
  try {
    std::string base = fs::absolute(args.manifest, ec).parent_path().string();
    tasks = ParseManifest(in, base);
  } catch (const std::exception& e) {
    Error(fmt::format("the manifest {}: {}", base::EscapeBytes(args.manifest), e.what()));
    return kExitUsage;
  }
  if (tasks.empty()) {
    Error(fmt::format("the manifest {} holds no task", base::EscapeBytes(args.manifest)));
    return kExitUsage;
  }
  if (shard) std::erase_if(tasks, [&](const BatchTask& t) { return !shard->Holds(t.index); });
  fs::create_directories(args.out, ec);
  if (!fs::is_directory(args.out, ec)) {
    Error(fmt::format("cannot create the output directory {}: {}", base::EscapeBytes(args.out),
                      ec ? ec.message() : "a file is in the way"));
    return kExitUsage;
  }
  const std::string suffix = shard ? fmt::format(".shard-{}-of-{}", shard->k, shard->n) : "";
  // Two batches writing one directory would redo each other's tasks: a run of the whole
  // manifest and --merge hold the directory alone, shards share it with other shards, each
  // shard alone.
  std::vector<std::pair<std::string, int>> wanted = {{".batch.lock", shard ? LOCK_SH : LOCK_EX}};
  if (shard) wanted.emplace_back(".batch" + suffix + ".lock", LOCK_EX);
  std::vector<base::UniqueFd> locks;
  for (const auto& [name, mode] : wanted) {
    std::string path = args.out + "/" + name;
    base::UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd.valid()) {
      Error(fmt::format("cannot open {}: {}", base::EscapeBytes(path), std::strerror(errno)));
      return kExitUsage;
    }
    if (flock(fd.get(), mode | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK) {
        // A filesystem without locks (some network ones): said, and the batch goes on.
        Error(fmt::format("warning: cannot lock {} ({}): make sure no other batch writes there",
                          base::EscapeBytes(path), std::strerror(errno)));
        continue;
      }
      Error(
          fmt::format("another tracejail batch is writing {} ({}): wait for it to end, or use "
                      "another --out",
                      base::EscapeBytes(args.out),
                      shard ? "the whole manifest, a --merge or this same shard"
                            : "the whole manifest, a --merge or a shard"));
      return kExitUsage;
    }
    locks.push_back(std::move(fd));
  }
  std::vector<TaskRecord> records;
  int interrupted = 0;
  if (args.merge) {
    records = Merge(args, tasks);
  } else {
    std::string self = fs::read_symlink("/proc/self/exe", ec).string();
    if (self.empty()) {
      Error("cannot find tracejail's own binary (/proc/self/exe): is /proc mounted?");
      return kExitInternal;
    }
    Batcher batcher(args, std::move(tasks), self);
    interrupted = batcher.Run();
    records = batcher.records();
  }
  if (std::optional<std::string> failed = WriteSummary(args, suffix, records)) {
    Error(*failed);
    return kExitInternal;
  }
  std::map<TaskRecord::State, std::size_t> count;
  for (const auto& r : records) ++count[r.state];
  if (!args.quiet) {
    Error(
        fmt::format("batch: {} task(s): {} complete, {} failed, {} invalid{}; {}/summary{}.json, "
                    "{}/index{}.html",
                    records.size(), count[TaskRecord::State::kComplete],
                    count[TaskRecord::State::kFailed], count[TaskRecord::State::kInvalid],
                    count[TaskRecord::State::kMissing] > 0
                        ? fmt::format(", {} missing", count[TaskRecord::State::kMissing])
                        : "",
                    base::EscapeBytes(args.out), suffix, base::EscapeBytes(args.out), suffix));
  }
  if (interrupted != 0) return 128 + interrupted;
  return count[TaskRecord::State::kComplete] == records.size() ? 0 : 1;
}

}  // namespace cli
