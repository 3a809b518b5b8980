// Runs the supervisor and the tree on one CPU while that costs the tree nothing.
//
// Every flagged call is a round trip: the tracee stops, the supervisor wakes, decides, resumes
// it. On two CPUs each leg is a cross-CPU wake-up (an inter-processor interrupt; on a virtual
// machine a trip through the hypervisor); on one CPU it is a plain context switch, which cuts
// the cost of a stop by about a third (docs/performance.md). The price is parallelism, so the
// pin lasts only while nothing in the tree wants a second CPU:
// - the supervisor pins itself to the CPU it runs on before it forks the command, which
//   inherits the pin, and so does everything the command starts;
// - every tick it reads how long each of the tree's tasks ran (/proc/TID/schedstat); when two
//   or more each ran more than kBusyShare of the interval, they would have run in parallel on
//   more CPUs, and every task gets its CPUs back for the rest of the run; so it does as soon
//   as the tree has more than kMaxTasks tasks (the supervisor checks as each task appears, so a
//   tick never reads more than kMaxTasks schedstat files). (Run-queue waits are no measure: on one
//   CPU the tracee and the supervisor wait for each other at every stop, by design.) A process
//   outside the tree that competes for the CPU is the load balancer's to move: it can, ours
//   cannot;
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

// The time on the CPU (first field) of a /proc/TID/schedstat line, in nanoseconds.
std::optional<std::uint64_t> ParseRunTime(std::string_view schedstat);

// Given how long each task ran during an interval: how many ran more than kBusyShare of it.
// Two or more would have run in parallel on more CPUs.
inline constexpr double kBusyShare = 0.20;
inline constexpr std::size_t kMaxTasks = 32;
inline std::size_t BusyTasks(const std::vector<std::uint64_t>& ran_ns, double interval_s) {
  std::size_t busy = 0;
  for (std::uint64_t ns : ran_ns) {
    if (interval_s > 0 && static_cast<double>(ns) > kBusyShare * interval_s * 1e9) ++busy;
  }
  return busy;
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
  int cpu() const { return cpu_; }
  // The CPUs tracejail could use before the pin (empty when it never pinned).
  std::vector<int> AllowedCpus() const;

  // Gives the supervisor and every task in `tids` their CPUs back; later tasks inherit them.
  void Release(const std::vector<pid_t>& tids, double now, std::string why);
  // Once a tick while active: samples how long each task ran; releases for parallel work.
  // `lanes` (with the supervisor's lanes: each task's lane, as `tids`): only two busy tasks of
  // one lane are parallel work the pin holds back (tasks of different lanes run on different
  // CPUs already, and one that may move is moved at its next stop).
  void Tick(const std::vector<pid_t>& tids, double now, const std::vector<std::size_t>& lanes = {});
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
  std::map<pid_t, std::uint64_t> ran_;  // time on the CPU per task at the last tick
};

}  // namespace tracer
