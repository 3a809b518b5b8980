// Lanes: one tracer thread per CPU, each pinned to its CPU with the tracees it owns (issue 20,
// docs/performance.md "A supervisor for parallel programs"). What is pure about them lives here
// and is unit-tested (lanes_test.cc): the switch, and where a task that may move should go.
//
// On by default (TRACEJAIL_LANES=off turns them off): the supervisor's decisions still run one
// at a time under one lock; what runs in parallel is the waiting, the kernel's work of each
// stop, and the tracees, each beside the tracer thread that serves it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace tracer {

inline constexpr int kMaxLanes = 64;

struct LaneConfig {
  int lanes = kMaxLanes;    // 0: off; otherwise at most this many (one per allowed CPU)
  bool every_stop = false;  // hand a movable task to the next lane at every seccomp stop
};

// TRACEJAIL_LANES: unset, "" or "auto": one lane per allowed CPU; "off": one tracer thread;
// N (2..kMaxLanes): at most N. TRACEJAIL_LANES_HANDOVER: unset or "balance": moves only to
// even out the lanes; "every": at every stop a task may move (the stress tests' switch).
// nullopt and `error` set for anything else.
std::optional<LaneConfig> ParseLaneConfig(const char* lanes, const char* handover,
                                          std::string& error);

// A task that may move is at a seccomp stop in lane `from`. `busy[i]`: how many of lane i's
// tasks stopped recently (the task itself counted in its lane). The lane it should go to, or
// nullopt to stay: it moves only when that leaves the lanes more even (its lane has at least
// two busy tasks and the least busy lane at least two fewer).
std::optional<std::size_t> PickLane(const std::vector<int>& busy, std::size_t from);

}  // namespace tracer
