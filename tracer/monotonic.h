// Seconds on CLOCK_MONOTONIC, for the supervisor's deadlines and measurements.
#pragma once

#include <time.h>

namespace tracer {

inline double Monotonic() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace tracer
