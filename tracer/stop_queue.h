// Stops collected but not handled yet, in order. `ready`: stops waitpid reported that the loop
// takes before waiting again (the fairness drain, thawed stops). `parked`: stops of tasks held
// stopped while another task's anchored or held call runs (the freezer), released in the order
// they came when that call is over. Pure bookkeeping: unit-tested (stop_queue_test.cc).
#pragma once

#include <sys/types.h>

#include <deque>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace tracer {

class StopQueue {
 public:
  using Stop = std::pair<pid_t, int>;  // (tid, wait status)

  bool HasReady() const { return !ready_.empty(); }
  Stop PopReady() {
    Stop s = ready_.front();
    ready_.pop_front();
    return s;
  }
  void PushReady(pid_t tid, int status) { ready_.emplace_back(tid, status); }
  const std::deque<Stop>& ready() const { return ready_; }
  void ClearReady() { ready_.clear(); }

  // `tid` is held for `freezer`'s call.
  void Freeze(pid_t tid, pid_t freezer) { frozen_[tid] = freezer; }
  // Stops of frozen tasks already collected wait with the others (parked, in the same order).
  void ParkFrozenReady();
  bool AnyFrozen() const { return !frozen_.empty(); }
  bool IsParked(pid_t tid) const;
  bool HasParked() const { return !parked_.empty(); }
  // A stop of a frozen task, or of a task the table does not know yet that shares a frozen
  // table (`shares(freezer, tid)`): parked, true. A stop of a freezer is never parked.
  template <typename Shares>
  bool Park(pid_t tid, int status, Shares&& shares) {
    if (frozen_.empty()) return false;
    auto it = frozen_.find(tid);
    if (it == frozen_.end()) {
      for (const auto& [frozen, freezer] : frozen_) {
        if (tid == freezer) return false;  // the call that holds them goes on
        if (shares(freezer, tid)) {
          it = frozen_.emplace(tid, freezer).first;
          break;
        }
      }
      if (it == frozen_.end()) return false;
    }
    parked_.emplace_back(tid, status);
    return true;
  }
  // `freezer`'s call is over: the tasks it held go on, their parked stops handled next, in the
  // order they came.
  void Thaw(pid_t freezer);
  void ThawAll();  // when the tree is being killed
  std::unordered_set<pid_t> Freezers() const;

 private:
  std::deque<Stop> ready_;                   // oldest first
  std::deque<Stop> parked_;                  // in the order they came
  std::unordered_map<pid_t, pid_t> frozen_;  // frozen task -> the task whose call holds it
};

}  // namespace tracer
