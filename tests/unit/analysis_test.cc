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

namespace {

nlohmann::json Denied(int i, const std::string& path) {
  return {{"type", "permission_denied"},
          {"severity", "medium"},
          {"seq", i + 1},
          {"time", 1.0 + i},
          {"pid", 100},
          {"syscall", {{"name", "openat"}}},
          {"args", {{"pathname", {{"raw", path}, {"resolved", path}, {"access", "read"}}}}},
          {"decision", {{"action", "deny"}, {"rule", "standard:9#/files/rules/0"}}},
          {"tip", {{"files", {{"rules", {{{"path", path}, {"action", "allow"}}}}}}}},
          {"message", "openat deny " + path}};
}

// Every renderer, once into one string and once spilled in pieces.
std::vector<std::pair<std::string, std::string>> BothWays(const report::Analysis& a) {
  std::vector<std::pair<std::string, std::string>> out;
  auto spilled = [&](auto render) {
    std::string whole, piece;
    render(piece, report::Spill([&whole](std::string& chunk) {
             whole += chunk;
             chunk.clear();
           }));
    return whole + piece;
  };
  out.emplace_back(report::RenderText(a), spilled([&](std::string& s, const report::Spill& sp) {
                     report::RenderText(a, s, sp);
                   }));
  out.emplace_back(report::RenderMarkdown(a), spilled([&](std::string& s, const report::Spill& sp) {
                     report::RenderMarkdown(a, s, sp);
                   }));
  out.emplace_back(report::RenderHtml(a, "t"),
                   spilled([&](std::string& s, const report::Spill& sp) {
                     report::RenderHtml(a, "t", "", s, sp);
                   }));
  out.emplace_back(report::RenderSarif(a, "intact"),
                   spilled([&](std::string& s, const report::Spill& sp) {
                     report::RenderSarif(a, "intact", s, sp);
                   }));
  out.emplace_back(report::RenderJson(a), spilled([&](std::string& s, const report::Spill& sp) {
                     report::RenderJson(a, nlohmann::json::object(), 0, s, sp);
                   }));
  return out;
}

}  // namespace

TEST_CASE("analysis: reports written in pieces equal reports written whole", "[analysis]") {
  // Enough distinct denials that every renderer spills several times.
  std::vector<nlohmann::json> events;
  for (int i = 0; i < 30000; ++i) events.push_back(Denied(i, "/secret/file" + std::to_string(i)));
  report::Analysis a = report::Analyze(events);
  REQUIRE(a.denials.size() == 30000);
  for (const auto& [whole, pieces] : BothWays(a)) {
    CHECK(whole.size() > report::kSpillBytes);
    CHECK(whole == pieces);
  }
  // The JSON ones are one document each, with every denial and its tip.
  nlohmann::json json = nlohmann::json::parse(report::RenderJson(a));
  CHECK(json["denials"].size() == 30000);
  CHECK(json["denials"][7]["tip"]["files"]["rules"][0]["path"] == "/secret/file7");
  nlohmann::json sarif = nlohmann::json::parse(report::RenderSarif(a, "broken"));
  CHECK(sarif["runs"][0]["results"].size() == 30000);
  CHECK(sarif["runs"][0]["properties"]["integrity"] == "broken");
}

TEST_CASE("analysis: the timeline keeps a bounded number of marks and says so", "[analysis]") {
  std::vector<nlohmann::json> events;
  const std::size_t n = report::kMaxTimeline + 500;
  for (std::size_t i = 0; i < n; ++i) events.push_back(Denied(static_cast<int>(i), "/same"));
  report::Analysis a = report::Analyze(events);
  CHECK(a.records == n);
  CHECK(a.timeline.size() == report::kMaxTimeline);
  // Identical denials are one row with a count.
  REQUIRE(a.denials.size() == 1);
  CHECK(a.denials[0].repeats == n);
  CHECK(report::RenderHtml(a, "t").find("first " + std::to_string(report::kMaxTimeline) + " of " +
                                        std::to_string(n)) != std::string::npos);
}

TEST_CASE("analysis: control and bidi characters in a crafted file never reach the reader",
          "[analysis][escape]") {
  // A forged events file can hold any valid JSON string; the writer's own files never do.
  const std::string evil =
      "/x\x1b]0;pwned\x07\xe2\x80\xae"
      "cod.exe\x9b";
  nlohmann::json e = Denied(0, evil);
  e["message"] = "openat deny " + evil;
  e["decision"]["rule"] = "rule\x1b[2J";
  e["type"] = "permission_denied";
  report::Analysis a = report::Analyze({e});
  for (const std::string& text :
       {report::RenderText(a), report::RenderMarkdown(a), report::RenderHtml(a, "t")}) {
    CHECK(text.find('\x1b') == std::string::npos);
    CHECK(text.find('\x07') == std::string::npos);
    CHECK(text.find("\xe2\x80\xae") == std::string::npos);  // RIGHT-TO-LEFT OVERRIDE
    CHECK(text.find("\\x1b") != std::string::npos);         // shown, not hidden
  }
  CHECK(report::RenderText(a).find("\\u{202e}cod.exe") != std::string::npos);
}

TEST_CASE("analysis: a denial says where it was called from, Python frames first", "[analysis]") {
  const nlohmann::json native = {
      {"frames",
       {{{"pc", "0x1"}, {"function", "connect"}},
        {{"pc", "0x2"}, {"function", "do_connect"}, {"file", "/srv/a.c"}, {"line", 14}}}}};
  CHECK(report::CalledFrom(native) == "/srv/a.c:14 in do_connect");
  nlohmann::json python = native;
  python["python"] = {{{"file", "main.py"}, {"line", 2}, {"function", "<module>"}},
                      {{"file", "lib.py"}, {"line", 9}, {"function", "f"}}};
  CHECK(report::CalledFrom(python) == "main.py:2 in <module>");
  // Forged shapes give less, never an exception.
  CHECK(report::CalledFrom(nlohmann::json::array()).empty());
  CHECK(report::CalledFrom({{"python", {{{"file", 3}}}}}).empty());
  CHECK(report::CalledFrom({{"frames", {{{"line", "x"}}}}}).empty());
  CHECK(report::CalledFrom({{"python", {{{"file", "x.py"}, {"line", "7"}}}}}) == "x.py");

  nlohmann::json e = Denied(0, "/etc/shadow");
  e["stack"] = python;
  const report::Analysis a = report::Analyze({e});
  REQUIRE(a.denials.size() == 1);
  CHECK(a.denials[0].called_from == "main.py:2 in <module>");
  CHECK(report::RenderText(a).find("called from: main.py:2 in <module>\n") != std::string::npos);
  CHECK(report::RenderMarkdown(a).find("called from main\\.py:2 in \\<module\\>") !=
        std::string::npos);
}

TEST_CASE("analysis: stats across runs lists techniques by runs and the runs far above the median",
          "[analysis][stats]") {
  report::RunStats stats;
  auto run = [](std::uint64_t events, std::uint64_t denials, std::vector<std::string> attack) {
    report::Analysis a;
    a.occurrences = events;
    if (denials > 0) {
      report::Denial d;
      d.rule = "r";
      d.repeats = denials;
      a.denials.push_back(d);
    }
    for (const auto& id : attack) a.attack[id] = 2;
    return a;
  };
  stats.Add("a", run(10, 0, {"T1003.008"}));
  stats.Add("b", run(12, 1, {"T1003.008", "T1059.006"}));
  stats.Add("c", run(11, 0, {}));
  stats.Add("d", run(500, 0, {}));  // 500 events against a median of 12: an outlier
  stats.Add("e", run(9, 40, {}));   // 40 denials against a median of 0: an outlier
  stats.Add("f", run(30, 0, {}));   // 30: not 3 times the median
  stats.Add("g", run(13, 2, {}));   // 2 denials: not 20 more than the median
  nlohmann::json s = stats.Json();
  REQUIRE(s["techniques"].size() == 2);
  CHECK(s["techniques"][0]["id"] == "T1003.008");  // the most runs first
  CHECK(s["techniques"][0]["runs"] == 2);
  CHECK(s["techniques"][0]["events"] == 4);
  CHECK_FALSE(s["techniques"][0]["name"].get<std::string>().empty());
  CHECK(s["techniques"][1]["id"] == "T1059.006");
  std::vector<std::pair<std::string, std::string>> outliers;
  for (const auto& o : s["outliers"]) outliers.emplace_back(o["file"], o["what"]);
  CHECK(outliers ==
        std::vector<std::pair<std::string, std::string>>{{"d", "events"}, {"e", "denials"}});
  CHECK(s["outliers"][0]["median"] == 12);
  CHECK_THAT(report::RenderStatsText(s), Catch::Contains("d: 500 events (median 12)"));
  CHECK_THAT(report::RenderStatsText(s), Catch::Contains("T1003.008"));
  // Two runs have no "others" to stand out from.
  report::RunStats two;
  two.Add("x", run(1, 0, {}));
  two.Add("y", run(1000, 0, {}));
  CHECK(two.Json()["outliers"].empty());
}
