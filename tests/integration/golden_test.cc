// Every renderer against a fixed events file: the output must equal the reviewed golden file
// (tests/data/golden; regenerate with tests/data/regen-golden.sh after an intended change).
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace {

// The SARIF driver's version is tracejail's (project() in CMakeLists.txt): the golden files say
// @TRACEJAIL_VERSION@ there, so a version bump does not touch them (regen-golden.sh writes it).
std::string WithoutVersion(std::string text) {
  const std::string version = "\"version\": \"" TRACEJAIL_VERSION "\"";
  for (std::size_t at = text.find(version); at != std::string::npos; at = text.find(version, at)) {
    text.replace(at, version.size(), "\"version\": \"@TRACEJAIL_VERSION@\"");
  }
  return text;
}

}  // namespace

TEST_CASE("golden: every report format of a fixed events file", "[report][golden]") {
  const std::string data = TEST_DATA_DIR;
  // The formats come from tracejail's own table (report/renderers.h): a new format without a
  // reviewed golden file fails here.
  auto listed = harness::Tool({"report", "--list-formats"}, data);
  REQUIRE(listed.status == 0);
  std::vector<std::string> formats;
  std::istringstream lines(listed.out);
  for (std::string line; std::getline(lines, line);)
    formats.push_back(line.substr(0, line.find('\t')));
  REQUIRE(formats.size() >= 5);
  for (const std::string& format : formats) {
    CAPTURE(format);
    harness::TempDir out;
    std::string produced = out.path() + "/report";
    auto r =
        harness::Tool({"report", "events-fixture.jsonl", "--format", format, "-o", produced}, data);
    REQUIRE(r.status == 0);
    std::string golden = harness::Slurp(data + "/golden/report." + format);
    REQUIRE_FALSE(golden.empty());
    CHECK(WithoutVersion(harness::Slurp(produced)) == golden);
  }
}
