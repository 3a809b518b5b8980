// Runs the supervisor and the tree on one CPU while that costs the tree nothing.
//
// Every flagged call is a round trip: the tracee stops, the supervisor wakes, decides, resumes
// it. On two CPUs each leg is a cross-CPU wake-up (an inter-processor interrupt; on a virtual
// machine a trip through the hypervisor); on one CPU it is a plain context switch, which cuts
// the cost of a stop by about a third (docs/performance.md). The price is parallelism, so the
// pin lasts only while nothing in the tree wants a second CPU:
// - the supervisor pins itself to the CPU it runs on before it forks the command, which
//   inherits the pin, and so does everything the command starts;
// - every tick it reads how long the tree's tasks (and the supervisor) waited on that CPU's run
//   queue (/proc/TID/schedstat); more than kMaxWaitShare of the interval, or more than
//   kMaxTasks tasks, gives every task its CPUs back for the rest of the run;
// - a program that asks for or sets its CPU affinity (sched_getaffinity, sched_setaffinity:
//   nproc, Go's and OpenMP's runtimes, taskset) gets its CPUs back before the call runs, so what
//   it sees and does is what it would see and do natively.
// What stays visible while pinned: sched_getcpu() always names the one CPU, and
// /proc/PID/status lists one CPU in Cpus_allowed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tracer {

// The run-queue wait (second field) of a /proc/TID/schedstat line, in nanoseconds.
std::optional<std::uint64_t> ParseRunDelay(std::string_view schedstat);

// Did the tasks wait for the CPU long enough, over an interval, that they would have run in
// parallel on more CPUs?
inline constexpr double kMaxWaitShare = 0.10;
inline constexpr std::size_t kMaxTasks = 32;
inline bool Contended(std::uint64_t waited_ns, double interval_s) {
  return interval_s > 0 && static_cast<double>(waited_ns) > kMaxWaitShare * interval_s * 1e9;
}

class SameCpu {
 public:
  SameCpu() = default;
  SameCpu(const SameCpu&) = delete;
  SameCpu& operator=(const SameCpu&) = delete;
  ~SameCpu();  // gives the supervisor thread its CPUs back

  // Pins the calling thread to the CPU it is on, when it may use two or more; otherwise records
  // why not. `why_off` non-empty: not wanted (the reason is reported).
  void Start(double now, const std::string& why_off = {});
  bool active() const { return active_; }

  // Gives the supervisor and every task in `tids` their CPUs back; later tasks inherit them.
  void Release(const std::vector<pid_t>& tids, double now, std::string why);
  // Once a tick while active: samples the tasks' run-queue waits; releases when contended.
  void Tick(const std::vector<pid_t>& tids, double now);
  // A task first seen after the release that still has the one-CPU mask (it was cloned by a
  // parent that had not been given its CPUs back yet) gets them too.
  void Adopt(pid_t tid);
  // A tracee set an affinity of its own: tasks it starts keep what they inherit.
  void TreeSetAffinity() { tree_set_ = true; }

  // {"same_cpu": N, "released_after_s": T, "why": "..."} or {"same_cpu": null, "why": "..."}.
  nlohmann::json Describe() const;

 private:
  bool active_ = false;
  bool pinned_ = false;  // the supervisor thread is pinned (restore in the destructor)
  bool tree_set_ = false;
  int cpu_ = -1;
  std::vector<unsigned char> original_;  // the supervisor's mask before the pin (cpu_set_t)
  double start_ = 0, released_ = -1, last_tick_ = 0;
  std::string why_;
  std::map<pid_t, std::uint64_t> delays_;  // last run-queue wait seen per task
};

}  // namespace tracer
