// `tracejail observe` attaches to and detaches from the same multi-threaded process many times
// (threads busy in flagged calls, the main thread blocked in read): it must never be lost,
// killed, left stopped, or see a call fail. Bounded by the round count, never by time.
#include <signal.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "../integration/harness.h"
#include "../integration/observe_harness.h"

TEST_CASE("observe attaches to and detaches from a multi-threaded process many times",
          "[observe]") {
  const char* text = std::getenv("TRACEJAIL_STRESS_RUNS");
  int rounds = text != nullptr ? std::atoi(text) / 4 : 50;
  if (rounds < 1) rounds = 1;
  harness::Driven p({"/dev/null", "0", "4"});
  REQUIRE(p.ready());
  int failures = 0;
  std::string first;
  for (int i = 0; i < rounds; ++i) {
    harness::Observing o({"observe", "-p", std::to_string(p.pid()), "--no-summary"});
    // Detached by SIGINT or SIGTERM, while the threads are in and out of their calls.
    int status = o.attached() ? o.Stop(i % 2 == 0 ? SIGINT : SIGTERM) : -1;
    char answer = p.Do('o');
    if (!o.attached() || status != 0 || answer != 'o') {
      if (failures++ == 0) {
        first = "round " + std::to_string(i) + ": status " + std::to_string(status) + ", answer " +
                std::string(1, answer) + ", stderr: " + o.err();
      }
      if (answer != 'o') break;  // the process is gone or stuck: nothing more to learn
    }
  }
  INFO("first failure: " << first);
  CHECK(failures == 0);
  CHECK(p.Quit() == 7);  // 3: a thread saw open or close fail
}

TEST_CASE("observe --duration detaches from a multi-threaded process mid-call many times",
          "[observe]") {
  const char* text = std::getenv("TRACEJAIL_STRESS_RUNS");
  int rounds = text != nullptr ? std::atoi(text) / 8 : 25;
  if (rounds < 1) rounds = 1;
  harness::Driven p({"/dev/null", "0", "4"});
  REQUIRE(p.ready());
  int failures = 0;
  std::string first;
  for (int i = 0; i < rounds; ++i) {
    harness::Observing o(
        {"observe", "-p", std::to_string(p.pid()), "--duration", "20ms", "--no-summary"});
    int status = o.attached() ? o.Wait() : -1;
    char answer = p.Do('o');
    if (status != 0 || answer != 'o') {
      if (failures++ == 0) {
        first = "round " + std::to_string(i) + ": status " + std::to_string(status) + ", answer " +
                std::string(1, answer) + ", stderr: " + o.err();
      }
      if (answer != 'o') break;
    }
  }
  INFO("first failure: " << first);
  CHECK(failures == 0);
  CHECK(p.Quit() == 7);
}
