// The limits the supervisor watches on its tick and in signal-delivery stops: the wall-clock
// timeout, the cgroup's OOM kills and refused forks, the tmpfs work dir's free space, SIGXCPU
// and SIGXFSZ (once per task each), and the grace after a forwarded SIGINT/SIGTERM/SIGHUP.
// It only observes and reports (LimitReport, tracer/event_draft.h); the supervisor records the
// events and kills the tree. The clock is passed in: the decisions are unit-tested
// (tests/unit/limit_watcher_test.cc).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "policy/limits.h"
#include "tracer/cgroup.h"
#include "tracer/event_draft.h"
#include "tracer/tracee.h"

namespace tracer {

class LimitWatcher {
 public:
  LimitWatcher(const policy::Limits& limits, Cgroup* cgroup, std::string tmpfs_dir,
               double kill_grace_s)
      : limits_(limits),
        cgroup_(cgroup),
        tmpfs_dir_(std::move(tmpfs_dir)),
        kill_grace_s_(kill_grace_s) {}

  const policy::Limits& limits() const { return limits_; }

  // The run starts at `now` (monotonic seconds): the timeout counts from here.
  void Start(double now);
  // The timeout is reached (reported once): the whole tree must be killed.
  std::optional<LimitReport> CheckTimeout(double now, std::size_t tasks);
  bool timed_out() const { return timed_out_; }

  // A signal was forwarded to the command: false when there is no grace (kill now).
  bool StartGrace(double now);
  // The grace after a forwarded signal is over (the tree is still running).
  bool GraceOver(double now) const { return kill_at_ > 0 && now >= kill_at_; }

  // At the command's exec: the tmpfs work dir, as the command's root shows it (it exists in
  // its mount namespace only), stays in view for the disk check.
  void WatchWorkdir(pid_t command);
  // The cgroup's OOM kills and refused forks, the work dir's free space: what is new.
  void CheckKernel(std::vector<LimitReport>& out);
  // A signal-delivery stop of `t` for `sig`: SIGXCPU and SIGXFSZ, the first of each per task.
  std::optional<LimitReport> SignalLimit(Tracee& t, int sig);

 private:
  const policy::Limits limits_;
  Cgroup* cgroup_;
  std::string tmpfs_dir_;
  double kill_grace_s_;
  double start_ = 0;     // monotonic seconds
  double deadline_ = 0;  // monotonic seconds; 0: no timeout
  bool timed_out_ = false;
  double kill_at_ = 0;  // monotonic seconds: the grace after a forwarded signal ends
  std::uint64_t oom_seen_ = 0, forks_refused_seen_ = 0;
  bool disk_reported_ = false;
  base::UniqueFd workdir_fd_;
};

// CPU time of a thread group as the scheduler counts it (what RLIMIT_CPU is checked against).
double ProcessCpuSeconds(pid_t pid);

}  // namespace tracer
