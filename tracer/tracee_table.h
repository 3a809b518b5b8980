// The tracee table: every task the supervisor traces, by thread id, and what is learnt of it
// lazily (its thread group, its executable). Only bookkeeping: adding a task, forgetting one,
// an exec by a non-leader thread taking its leader's id. Unit-tested (tracee_table_test.cc).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tracer/tracee.h"

namespace tracer {

class TraceeTable {
 public:
  using Map = std::unordered_map<pid_t, Tracee>;

  // The entry of `tid`, added (with its memory reader) when it is new: then `added` is true.
  struct Got {
    Tracee& tracee;
    bool added;
  };
  Got Get(pid_t tid) {
    auto [it, inserted] = tracees_.try_emplace(tid);
    if (inserted) Init(it->second, tid);
    return {it->second, inserted};
  }
  Tracee* Find(pid_t tid) {
    auto it = tracees_.find(tid);
    return it == tracees_.end() ? nullptr : &it->second;
  }
  bool contains(pid_t tid) const { return tracees_.contains(tid); }
  std::size_t size() const { return tracees_.size(); }
  bool empty() const { return tracees_.empty(); }
  void erase(pid_t tid) { tracees_.erase(tid); }
  void clear() { tracees_.clear(); }
  Map::iterator begin() { return tracees_.begin(); }
  Map::iterator end() { return tracees_.end(); }
  Map::const_iterator begin() const { return tracees_.begin(); }
  Map::const_iterator end() const { return tracees_.end(); }

  std::vector<pid_t> Tids() const;
  // One thread id per thread group (its tgid when known), for a walk over processes.
  std::vector<pid_t> Processes() const;

  // At the exec event of `t`: a non-leader thread `former` exec'd and now has the leader's id
  // (t.tid). Its entry is forgotten; the exec check it armed is the one to use (else t's).
  // `t` becomes the leader of a new image (its exec check disarmed, its memory reader new).
  ExecCheck TakeExec(Tracee& t, pid_t former);

  // Its thread group (read from /proc once) and its executable (escaped, read once).
  static pid_t TgidOf(Tracee& t);
  static const std::string& ExeOf(Tracee& t);

 private:
  static void Init(Tracee& t, pid_t tid);
  Map tracees_;
};

}  // namespace tracer
