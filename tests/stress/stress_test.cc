// Stress tests of the core loop (issue: the core loop never loses a process): the same workload
// hundreds of times, with the same-CPU pin on and off. Every run must print the program's
// output and exit with the program's status; one that reports success without having run, or
// hangs, fails here. Bounded by the run count, never by time (CTest's TIMEOUT is the backstop).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "../integration/harness.h"

namespace {

constexpr int kRuns = 200;

struct Tally {
  int failures = 0;
  std::string first;  // the first failure in full
};

void Repeat(const std::vector<std::string>& tracejail_args, const std::vector<std::string>& command,
            const std::string& want_out, int want_status) {
  Tally tally;
  for (int i = 0; i < kRuns; ++i) {
    harness::Options o;
    o.tracejail_args = tracejail_args;
    o.events = false;
    harness::Result r = harness::Run(command, o);
    if (r.out != want_out || r.status != want_status) {
      if (tally.failures++ == 0) {
        tally.first = "run " + std::to_string(i) + ": status " + std::to_string(r.status) +
                      ", stdout \"" + r.out + "\", stderr: " + r.err;
      }
    }
  }
  INFO("first failure: " << tally.first);
  CHECK(tally.failures == 0);
}

}  // namespace

TEST_CASE("the shell workload, same-CPU pin on", "[stress]") {
  Repeat({"--level", "none", "--same-cpu", "auto"}, {harness::Sample("stress_script.sh")},
         "PYRAN\n", 0);
}

TEST_CASE("the shell workload, same-CPU pin off", "[stress]") {
  Repeat({"--level", "none", "--same-cpu", "off"}, {harness::Sample("stress_script.sh")}, "PYRAN\n",
         0);
}

TEST_CASE("threads, forks, exec from a thread, signals, quick exits, pin on", "[stress]") {
  Repeat({"--level", "standard", "--same-cpu", "auto"}, {harness::Sample("stress_mix")}, "MIX 11\n",
         7);
}

TEST_CASE("threads, forks, exec from a thread, signals, quick exits, pin off", "[stress]") {
  Repeat({"--level", "standard", "--same-cpu", "off"}, {harness::Sample("stress_mix")}, "MIX 11\n",
         7);
}
