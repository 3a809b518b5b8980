// A report::Record from a hand-written JSON record, for unit tests that feed readers; the test
// fails (REQUIRE) when the JSON is not a record, with the reader's reason.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "report/event_reader.h"

namespace test {

inline report::Record R(const nlohmann::json& j) {
  std::string why;
  std::optional<report::Record> r = report::ToRecord(j, why);
  INFO(why);
  REQUIRE(r);
  return *r;
}

}  // namespace test
