// tracer/tracee_table.h and tracer/stop_queue.h: the supervisor's bookkeeping of tasks and of
// stops waiting to be handled, without a tracee.
#include <unistd.h>

#include <algorithm>
#include <vector>

#include <catch2/catch.hpp>

#include "tracer/stop_queue.h"
#include "tracer/tracee_table.h"

namespace {

using tracer::StopQueue;
using tracer::TraceeTable;

std::vector<pid_t> Sorted(std::vector<pid_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("TraceeTable adds a task once and forgets it", "[tracee-table]") {
  TraceeTable table;
  auto first = table.Get(100);
  CHECK(first.added);
  CHECK(first.tracee.tid == 100);
  CHECK(first.tracee.mem != nullptr);
  first.tracee.tgid = 100;
  auto again = table.Get(100);
  CHECK_FALSE(again.added);
  CHECK(&again.tracee == &first.tracee);
  CHECK(table.contains(100));
  CHECK(table.Find(100) == &first.tracee);
  CHECK(table.Find(101) == nullptr);
  table.erase(100);
  CHECK(table.empty());
  CHECK(table.Find(100) == nullptr);
}

TEST_CASE("TraceeTable lists tasks and one id per thread group", "[tracee-table]") {
  TraceeTable table;
  table.Get(10).tracee.tgid = 10;
  table.Get(11).tracee.tgid = 10;  // a thread of 10
  table.Get(12).tracee.tgid = 12;
  table.Get(13);  // thread group not known yet: counts as its own
  CHECK(Sorted(table.Tids()) == std::vector<pid_t>{10, 11, 12, 13});
  CHECK(Sorted(table.Processes()) == std::vector<pid_t>{10, 12, 13});
  CHECK(table.size() == 4);
}

TEST_CASE("TraceeTable: a thread that execs takes its leader's id and its exec check",
          "[tracee-table]") {
  TraceeTable table;
  tracer::Tracee& leader = table.Get(20).tracee;
  leader.tgid = 20;
  leader.exe = "/bin/old";
  leader.exec.armed = false;
  tracer::Tracee& thread = table.Get(21).tracee;
  thread.tgid = 20;
  thread.exec.armed = true;
  thread.exec.expect_path = "/bin/new";
  const auto* old_mem = leader.mem.get();
  tracer::ExecCheck origin = table.TakeExec(leader, 21);
  CHECK(origin.armed);
  CHECK(origin.expect_path == "/bin/new");
  CHECK_FALSE(table.contains(21));
  CHECK(leader.tgid == 20);
  CHECK(leader.exe.empty());
  CHECK_FALSE(leader.exec.armed);
  CHECK(leader.mem != nullptr);
  CHECK(leader.mem.get() != old_mem);
}

TEST_CASE("TraceeTable: the leader that execs keeps its own exec check", "[tracee-table]") {
  TraceeTable table;
  tracer::Tracee& t = table.Get(30).tracee;
  t.exec.armed = true;
  t.exec.expect_path = "/usr/bin/tool";
  tracer::ExecCheck origin = table.TakeExec(t, 30);
  CHECK(origin.armed);
  CHECK(origin.expect_path == "/usr/bin/tool");
  CHECK_FALSE(t.exec.armed);
  CHECK(t.tgid == 30);
  CHECK(table.contains(30));
  // A former id the table never knew: the task's own check.
  t.exec.armed = true;
  CHECK(table.TakeExec(t, 31).armed);
}

TEST_CASE("TraceeTable reads the thread group and the executable of a live task once",
          "[tracee-table]") {
  TraceeTable table;
  tracer::Tracee& self = table.Get(getpid()).tracee;
  CHECK(TraceeTable::TgidOf(self) == getpid());
  CHECK_FALSE(TraceeTable::ExeOf(self).empty());
  self.exe = "kept";
  CHECK(TraceeTable::ExeOf(self) == "kept");
}

TEST_CASE("StopQueue hands out ready stops oldest first", "[stop-queue]") {
  StopQueue q;
  CHECK_FALSE(q.HasReady());
  q.PushReady(1, 10);
  q.PushReady(2, 20);
  REQUIRE(q.HasReady());
  CHECK(q.PopReady() == StopQueue::Stop{1, 10});
  CHECK(q.PopReady() == StopQueue::Stop{2, 20});
  CHECK_FALSE(q.HasReady());
}

TEST_CASE("StopQueue parks the stops of frozen tasks and thaws them first in order",
          "[stop-queue]") {
  StopQueue q;
  auto never = [](pid_t, pid_t) { return false; };
  CHECK_FALSE(q.Park(5, 1, never));  // nothing frozen
  q.PushReady(7, 70);                // a stop collected before the freeze
  q.PushReady(9, 90);                // another task's
  q.Freeze(7, 1);
  q.Freeze(8, 1);
  q.ParkFrozenReady();
  CHECK(q.IsParked(7));
  CHECK_FALSE(q.IsParked(8));
  CHECK(q.Park(8, 80, never));
  CHECK_FALSE(q.Park(1, 10, never));  // the freezer's own stop goes on
  CHECK_FALSE(q.Park(6, 60, never));  // not frozen, shares nothing
  CHECK(q.Freezers().size() == 1);
  q.Thaw(1);
  CHECK_FALSE(q.AnyFrozen());
  CHECK_FALSE(q.HasParked());
  CHECK(q.PopReady() == StopQueue::Stop{7, 70});
  CHECK(q.PopReady() == StopQueue::Stop{8, 80});
  CHECK(q.PopReady() == StopQueue::Stop{9, 90});
}

TEST_CASE("StopQueue parks a new task that shares a frozen table", "[stop-queue]") {
  StopQueue q;
  q.Freeze(3, 1);
  auto shares = [](pid_t freezer, pid_t task) { return freezer == 1 && task == 4; };
  CHECK(q.Park(4, 40, shares));
  CHECK(q.IsParked(4));
  // Another freezer's tasks stay parked when the first one thaws.
  q.Freeze(12, 11);
  CHECK(q.Park(12, 120, shares));
  q.Thaw(1);
  CHECK(q.IsParked(12));
  CHECK(q.PopReady() == StopQueue::Stop{4, 40});
  CHECK_FALSE(q.HasReady());
  q.ThawAll();
  CHECK_FALSE(q.AnyFrozen());
  CHECK(q.PopReady() == StopQueue::Stop{12, 120});
}
