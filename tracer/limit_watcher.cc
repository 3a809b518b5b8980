#include "tracer/limit_watcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "syscalls/xlat.h"

namespace tracer {

namespace xlat = syscalls::xlat;

// The sum of every thread's /proc/PID/task/TID/schedstat run time. (The utime/stime of
// /proc/PID/stat are tick samples and can read 10% low under load.)
double ProcessCpuSeconds(pid_t pid) {
  std::uint64_t ns = 0;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
    std::ifstream in(task.path() / "schedstat");
    std::uint64_t run = 0;
    if (in >> run) ns += run;
  }
  if (ns > 0) return static_cast<double>(ns) / 1e9;
  // No schedstat (CONFIG_SCHED_INFO off): utime + stime from /proc/PID/stat.
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat;
  std::getline(in, stat);
  std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::atof(field.c_str());
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void LimitWatcher::Start(double now) {
  start_ = now;
  if (auto timeout = limits_.Get(policy::LimitKind::kTimeout)) {
    deadline_ = start_ + static_cast<double>(*timeout) / 1000.0;
  }
}

std::optional<LimitReport> LimitWatcher::CheckTimeout(double now, std::size_t tasks) {
  if (deadline_ <= 0 || timed_out_ || now < deadline_) return std::nullopt;
  timed_out_ = true;
  double elapsed = now - start_;
  return LimitReport{policy::EventType::kTimeoutExceeded,
                     policy::LimitKind::kTimeout,
                     TimeoutObserved(elapsed, tasks),
                     {{"elapsed_s", elapsed}, {"tasks", tasks}}};
}

bool LimitWatcher::StartGrace(double now) {
  if (kill_grace_s_ <= 0) return false;
  kill_at_ = now + kill_grace_s_;
  return true;
}

void LimitWatcher::WatchWorkdir(pid_t command) {
  if (tmpfs_dir_.empty()) return;
  std::string dir = fmt::format("/proc/{}/root{}", command, tmpfs_dir_);
  workdir_fd_.Reset(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
}

void LimitWatcher::CheckKernel(std::vector<LimitReport>& out) {
  if (cgroup_ != nullptr) {
    std::uint64_t oom = cgroup_->OomKills();
    if (oom > oom_seen_) {
      auto peak = cgroup_->PeakMemory();
      out.push_back({policy::EventType::kResourceLimitExceeded,
                     policy::LimitKind::kMemory,
                     OomObserved(oom - oom_seen_, peak),
                     {{"oom_kills", oom}, {"peak_bytes", peak ? nlohmann::json(*peak) : nullptr}}});
      oom_seen_ = oom;
    }
    std::uint64_t refused = cgroup_->ForksRefused();
    if (refused > 0 && forks_refused_seen_ == 0) {
      std::uint64_t now = cgroup_->Processes();
      out.push_back({policy::EventType::kResourceLimitExceeded,
                     policy::LimitKind::kProcesses,
                     ForksRefusedObserved(now),
                     {{"refused", refused}, {"tasks", now}}});
    }
    forks_refused_seen_ = refused;
  }
  if (workdir_fd_.valid() && !disk_reported_) {
    struct statfs sf {};
    if (fstatfs(workdir_fd_.get(), &sf) == 0 && sf.f_bavail == 0) {
      disk_reported_ = true;
      std::uint64_t used = static_cast<std::uint64_t>(sf.f_blocks) * sf.f_bsize;
      out.push_back({policy::EventType::kResourceLimitExceeded,
                     policy::LimitKind::kDisk,
                     DiskFullObserved(used),
                     {{"workdir", tmpfs_dir_}, {"used_bytes", used}}});
    }
  }
}

std::optional<LimitReport> LimitWatcher::SignalLimit(Tracee& t, int sig) {
  if (!((sig == SIGXCPU && !t.cpu_reported) || (sig == SIGXFSZ && !t.fsize_reported))) {
    return std::nullopt;
  }
  bool cpu = sig == SIGXCPU;
  (cpu ? t.cpu_reported : t.fsize_reported) = true;
  LimitReport r{policy::EventType::kResourceLimitExceeded,
                cpu ? policy::LimitKind::kCpu : policy::LimitKind::kFileSize,
                std::string(kFileSizeSignalObserved),
                {{"signal", xlat::Signal(static_cast<std::uint64_t>(sig))}}};
  if (cpu) {
    double used = ProcessCpuSeconds(t.tid);
    r.observed = CpuSignalObserved(used);
    r.details["cpu_s"] = used;
  }
  return r;
}

}  // namespace tracer
