// The supervisor's poll-before-sleep policy (tracer/spin_policy.h).
#include "tracer/spin_policy.h"

#include <catch2/catch.hpp>

TEST_CASE("SpinPolicy polls only after a quick wait, and never on one CPU", "[spin]") {
  tracer::SpinPolicy two(50e-6, 2);
  CHECK(two.Budget() == 0);  // nothing known yet: sleep
  two.Record(10e-6);         // a quick stop: the tree is making calls in quick succession
  CHECK(two.Budget() == 50e-6);
  two.Record(50e-6);  // exactly the budget still counts as quick
  CHECK(two.Budget() == 50e-6);
  two.Record(2e-3);  // the program computed for 2 ms: polling would have been wasted
  CHECK(two.Budget() == 0);
  two.Record(1e-5);
  CHECK(two.Budget() == 50e-6);

  tracer::SpinPolicy one(50e-6, 1);  // polling would keep the tracee from the only CPU
  one.Record(1e-6);
  CHECK(one.Budget() == 0);
  tracer::SpinPolicy none(50e-6, 0);  // the affinity could not be read
  none.Record(1e-6);
  CHECK(none.Budget() == 0);
}
