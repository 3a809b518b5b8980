// What tracer/supervisor.cc and its companions (supervisor_lanes.cc) share and nothing else
// uses: the tick, the poll budget, small /proc helpers.
#pragma once

#include <sys/types.h>

namespace tracer {

// The tick's SIGALRM handler (every lane's timer, and the wake-up one lane sends another):
// on the thread in Supervisor::Run it asks for the tick (timeout, limits, forwarded signals);
// on another lane's thread it only ends its waitpid (EINTR) and asks for that lane's nudge.
void OnSupervisorTick(int);
// The calling lane's tick came since the last call (and is taken).
bool TakeLaneTick();
inline constexpr long kSupervisorTickNs = 100'000'000;  // limits are checked ten times a second
// The longest poll for the next stop before sleeping (tracer/spin_policy.h): the cost of about
// two stops on the machine measured in docs/performance.md.
inline constexpr double kSupervisorSpinSeconds = 50e-6;
// How many CPUs the calling thread may run on.
int SupervisorCpus();
// Whether a task exists and has not yet exited (a zombie has: state Z or X).
bool TaskAliveNow(pid_t tid);

}  // namespace tracer
