// The same-CPU pin (tracer/same_cpu.h): a run shares tracejail's CPU while nothing in it wants
// a second one, gives the CPUs back for parallel work or when asked about them, and says so in
// the result. Synchronised on the programs' own output and exit, never on time.

#include <catch2/catch.hpp>

#include "harness.h"

namespace {

// False (and the test skips) when the tests may use only one CPU: nothing to share then.
bool TwoCpus() { return harness::TwoCpus("there is nothing to share"); }

// Runs `command` with --result; returns the result's "scheduling" object.
nlohmann::json Scheduling(const std::vector<std::string>& command, harness::Result& r,
                          std::vector<std::string> extra = {}) {
  harness::TempDir dir;
  std::string result = dir.path() + "/result.json";
  harness::Options o;
  o.tracejail_args = {"--result", result};
  o.tracejail_args.insert(o.tracejail_args.end(), extra.begin(), extra.end());
  r = harness::Run(command, o);
  auto doc = nlohmann::json::parse(harness::Slurp(result), nullptr, false);
  return doc.is_object() && doc.contains("scheduling") ? doc["scheduling"] : nlohmann::json();
}

}  // namespace

TEST_CASE("same CPU: a serial run shares tracejail's CPU, and the result names it") {
  if (!TwoCpus()) return;
  harness::Result r;
  // The program reads its own allowed CPUs from /proc (no affinity call, so nothing releases).
  nlohmann::json s = Scheduling({"/bin/grep", "Cpus_allowed_list", "/proc/self/status"}, r);
  INFO(r.err << r.out);
  REQUIRE(r.status == 0);
  REQUIRE(s.is_object());
  REQUIRE(s["same_cpu"].is_number_integer());
  // One task: nothing can release the pin (no parallel work, no affinity call).
  CHECK_FALSE(s.contains("released_after_s"));
  CHECK(r.out == "Cpus_allowed_list:\t" + std::to_string(s["same_cpu"].get<int>()) + "\n");
}

TEST_CASE("same CPU: a program that asks for its CPUs gets them all back first") {
  if (!TwoCpus()) return;
  harness::Result native = harness::RunNative({"/usr/bin/nproc"});
  harness::Result r;
  nlohmann::json s = Scheduling({"/usr/bin/nproc"}, r);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out == native.out);  // sched_getaffinity sees what it would natively
  REQUIRE(s.is_object());
  CHECK(s.contains("released_after_s"));
  CHECK(s["why"] == "the program called sched_getaffinity");
  // Its children inherit the CPUs: a second process after the release sees them too.
  harness::Result two;
  Scheduling({"/bin/sh", "-c", "nproc; grep Cpus_allowed_list /proc/self/status"}, two);
  harness::Result two_native =
      harness::RunNative({"/bin/sh", "-c", "nproc; grep Cpus_allowed_list /proc/self/status"});
  CHECK(two.out == two_native.out);
}

TEST_CASE("same CPU: parallel work gets its CPUs back") {
  if (!TwoCpus()) return;
  harness::Result r;
  // two_cpus ends only once its two threads have reported two different CPUs, which the pin
  // would never allow: its exit is the proof that the pin was given up.
  nlohmann::json s = Scheduling({harness::Sample("two_cpus")}, r);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::StartsWith("TWO CPUS "));
  REQUIRE(s.is_object());
  CHECK(s.contains("released_after_s"));
  CHECK_THAT(s["why"].get<std::string>(), Catch::Contains("parallel work"));
}

TEST_CASE("same CPU: --same-cpu off leaves the scheduling to the kernel") {
  harness::Result r;
  nlohmann::json s =
      Scheduling({"/bin/grep", "Cpus_allowed_list", "/proc/self/status"}, r, {"--same-cpu", "off"});
  harness::Result native =
      harness::RunNative({"/bin/grep", "Cpus_allowed_list", "/proc/self/status"});
  REQUIRE(r.status == 0);
  CHECK(r.out == native.out);
  REQUIRE(s.is_object());
  CHECK(s["same_cpu"].is_null());
  CHECK(s["why"] == "turned off (--same-cpu off)");
}
