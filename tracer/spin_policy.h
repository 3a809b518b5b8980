// Whether the supervisor polls for the tree's next stop before it sleeps in waitpid().
//
// A stop costs a sleep and a wake-up on each side. When the supervisor sleeps, the tracee's stop
// has to wake it on another CPU: an inter-processor interrupt, and on a virtual machine a trip
// through the hypervisor (docs/performance.md). Polling with WNOHANG for a few tens of
// microseconds after resuming a tracee takes that wake-up out of calls that come in quick
// succession (a loop of opens: -20% per call measured here), at the price of that much CPU time
// per wait. So the policy polls only while the tree is making calls in quick succession: after a
// wait that ended within the budget. One long wait (the program computing, or blocked in I/O)
// turns polling off until a wait is short again, so an idle or compute-bound tree costs at most
// one budget of polling per transition. With a single CPU, polling would only delay the tracee
// it waits for: never.
#pragma once

namespace tracer {

class SpinPolicy {
 public:
  // `budget_s`: the longest poll; `cpus`: how many CPUs the supervisor may run on.
  SpinPolicy(double budget_s, int cpus) : budget_(cpus >= 2 ? budget_s : 0) {}

  // Seconds to poll before blocking; 0 blocks at once.
  double Budget() const { return quick_ ? budget_ : 0; }

  // How long the last wait took, from its start to the stop it returned.
  void Record(double waited_s) { quick_ = waited_s <= budget_; }

 private:
  double budget_;
  bool quick_ = false;
};

}  // namespace tracer
