// tracer/event_sink.h: the supervisor emits every event through its EventSink, so a test can
// capture them without the real EventLog. Runs /bin/true under the supervisor.
#include <unistd.h>

#include <algorithm>
#include <string>

#include <catch2/catch.hpp>

#include "fakes.h"
#include "policy/loader.h"
#include "syscalls/table.h"
#include "tracer/seccomp_filter.h"
#include "tracer/supervisor.h"

TEST_CASE("The supervisor emits a run's lifecycle through its EventSink", "[supervisor-sink]") {
  const policy::Policy policy = policy::LoadDefaultPolicy({{"CWD", "/"},
                                                           {"WORKDIR", "/tmp"},
                                                           {"HOME", "/root"},
                                                           {"TMPDIR", "/tmp"},
                                                           {"COMMAND", "/bin/true"}});
  syscalls::SyscallIndex index;
  tracer::LaunchSpec spec;
  spec.exe = "/bin/true";
  spec.argv = {"true"};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.filter = tracer::BuildFilter(tracer::MakePlan(policy, index), index);
  tjtest::CaptureSink sink;
  tracer::Supervisor supervisor(policy, tracer::Mode::kEnforce, &sink, tracer::Watch{});
  const tracer::RunResult result = supervisor.Run(spec);
  CHECK(result.internal_error.empty());
  REQUIRE(sink.events.size() >= 3);
  CHECK(result.events == static_cast<std::uint64_t>(
                             std::count_if(sink.events.begin(), sink.events.end(),
                                           [](const report::Event& e) { return !e.live_only; })));
  const report::Event& start = sink.events.front();
  CHECK(start.type == policy::EventType::kProcessStart);
  CHECK(start.message == "process " + std::to_string(start.pid) + " started by tracejail");
  CHECK(start.seq == 1);
  CHECK(std::any_of(sink.events.begin(), sink.events.end(), [](const report::Event& e) {
    return e.type == policy::EventType::kProcessExec;
  }));
  const report::Event& end = sink.events.back();
  CHECK(end.type == policy::EventType::kProcessExit);
  CHECK(end.pid == start.pid);
  CHECK(end.message == std::to_string(start.pid) + " exited with 0");
  CHECK(result.exit_code == 0);
  for (std::size_t i = 1; i < sink.events.size(); ++i) {
    CHECK(sink.events[i].seq == sink.events[i - 1].seq + 1);
  }
}
