// Every renderer against a fixed events file: the output must equal the reviewed golden file
// (tests/data/golden; regenerate with tests/data/regen-golden.sh after an intended change).
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "harness.h"

namespace {}  // namespace

TEST_CASE("golden: every report format of a fixed events file", "[report][golden]") {
  const std::string data = TEST_DATA_DIR;
  for (const char* format : {"text", "markdown", "json", "html", "sarif"}) {
    CAPTURE(format);
    harness::TempDir out;
    std::string produced = out.path() + "/report";
    auto r =
        harness::Tool({"report", "events-fixture.jsonl", "--format", format, "-o", produced}, data);
    REQUIRE(r.status == 0);
    std::string golden = harness::Slurp(data + "/golden/report." + format);
    REQUIRE_FALSE(golden.empty());
    CHECK(harness::Slurp(produced) == golden);
  }
}
