#include "tracer/stop_queue.h"

#include <algorithm>

namespace tracer {

void StopQueue::ParkFrozenReady() {
  for (auto it = ready_.begin(); it != ready_.end();) {
    if (frozen_.contains(it->first)) {
      parked_.push_back(*it);
      it = ready_.erase(it);
    } else {
      ++it;
    }
  }
}

bool StopQueue::IsParked(pid_t tid) const {
  return std::any_of(parked_.begin(), parked_.end(),
                     [tid](const Stop& s) { return s.first == tid; });
}

void StopQueue::Thaw(pid_t freezer) {
  if (frozen_.empty()) return;
  std::deque<Stop> thawed, still;
  for (auto& entry : parked_) {
    auto it = frozen_.find(entry.first);
    (it == frozen_.end() || it->second == freezer ? thawed : still).push_back(entry);
  }
  parked_ = std::move(still);
  std::erase_if(frozen_, [freezer](const auto& f) { return f.second == freezer; });
  for (auto it = thawed.rbegin(); it != thawed.rend(); ++it) ready_.push_front(*it);
}

void StopQueue::ThawAll() {
  for (auto it = parked_.rbegin(); it != parked_.rend(); ++it) ready_.push_front(*it);
  parked_.clear();
  frozen_.clear();
}

std::unordered_set<pid_t> StopQueue::Freezers() const {
  std::unordered_set<pid_t> out;
  for (const auto& [frozen, freezer] : frozen_) out.insert(freezer);
  return out;
}

}  // namespace tracer
