// report/analysis.cc on shapes a program (or a forger) can give an events file: the process
// tree of a deep fork chain prints in space linear in the processes, and processes whose
// parents form a cycle are shown once each.
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "report/analysis.h"

namespace {

nlohmann::json Start(int pid, int parent) {
  return {{"type", "process_start"},
          {"pid", pid},
          {"args", {{"parent_pid", parent}, {"thread", false}}}};
}

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("analysis: a 20000-deep fork chain prints a process tree linear in size", "[analysis]") {
  constexpr int kDepth = 20000;
  std::vector<nlohmann::json> events;
  for (int i = 0; i < kDepth; ++i) events.push_back(Start(1000 + i, 999 + i));
  std::string text = report::RenderText(report::Analyze(events));
  // Indentation is capped: each process is one line of bounded width.
  CHECK(text.size() < static_cast<std::size_t>(kDepth) * 120);
  CHECK(Count(text, "[running at the end]") == kDepth);
  CHECK(text.find("(depth 19999) 20999") != std::string::npos);
}

TEST_CASE("analysis: processes whose parents form a cycle are shown once each", "[analysis]") {
  std::vector<nlohmann::json> events = {Start(5, 6), Start(6, 5), Start(7, 7), Start(8, 1)};
  std::string text = report::RenderText(report::Analyze(events));
  for (const char* pid : {"  5 [", "6 [", "7 [", "8 ["}) {
    CAPTURE(pid);
    CHECK(Count(text, pid) == 1);
  }
}
