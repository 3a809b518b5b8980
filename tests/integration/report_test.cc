// End to end: a run that does forbidden things, then `tracejail report` and `tracejail verify`
// on its events file alone.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace {

// Runs `tracejail ARGS...` (a subcommand, not `run` unless given), capturing the output.
harness::Result Tracejail(const std::vector<std::string>& args) { return harness::Tool(args); }

std::string EventsOf(const harness::TempDir& dir, const std::vector<std::string>& command,
                     const std::vector<std::string>& extra = {}) {
  std::string events = dir.path() + "/events.jsonl";
  std::vector<std::string> args{"run", "--no-summary", "--events", events};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("--");
  args.insert(args.end(), command.begin(), command.end());
  Tracejail(args);
  return events;
}

}  // namespace

TEST_CASE("report: an escape attempt outranks denied reads", "[report]") {
  harness::TempDir dir;
  std::string events = EventsOf(dir, {"/bin/sh", "-c",
                                      "cat /etc/shadow; cat /etc/shadow; cat /etc/gshadow; " +
                                          harness::Sample("escape_ptrace")});
  auto text = Tracejail({"report", events});
  CHECK(text.status == 0);
  CHECK(text.out.find("Risk: high") != std::string::npos);
  CHECK(text.out.find("[looks like an escape]") != std::string::npos);
  CHECK(text.out.find("openat deny /etc/shadow (read)") != std::string::npos);
  CHECK(text.out.find("(x2)") != std::string::npos);
  CHECK(text.out.find("hash chain intact") != std::string::npos);

  auto json = Tracejail({"report", events, "--format", "json"});
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["risk"] == "high");
  CHECK(j["integrity"]["ok"] == true);
  CHECK(j["files"]["/etc/shadow"]["denied"] == 2);
  REQUIRE(j["denials"].size() == 3);
  CHECK(j["denials"][0]["looks_like_escape"] == true);
  CHECK(j["denials"][0]["tip"]["escapes"]["ptrace"]["action"] == "allow");
}

TEST_CASE("report: ordinary denials alone are medium, a clean run is low", "[report]") {
  harness::TempDir dir;
  auto medium = Tracejail({"report", EventsOf(dir, {"/bin/cat", "/etc/shadow"})});
  CHECK(medium.out.find("Risk: medium") != std::string::npos);
  harness::TempDir dir2;
  auto low = Tracejail({"report", EventsOf(dir2, {"/bin/true"}), "--format", "json"});
  CHECK(nlohmann::json::parse(low.out)["risk"] == "low");
}

TEST_CASE("report: a kill is critical and the markdown escapes tracee text", "[report]") {
  harness::TempDir dir;
  std::string name = dir.path() + "/x*_[y](z)";
  std::ofstream(name) << "secret";
  std::string policy = dir.File("kill.json", R"({"version": 1, "extends": "standard",
    "files": {"rules": [{"path": ")" + dir.path() +
                                                 R"(", "access": ["read"], "action": "kill"}]}})");
  std::string events = EventsOf(dir, {"/bin/cat", name}, {"--policy", policy});
  auto md = Tracejail({"report", events, "--format", "markdown"});
  CHECK(md.out.find("**Risk: critical**") != std::string::npos);
  CHECK(md.out.find("x\\*\\_\\[y\\]\\(z\\)") != std::string::npos);
  CHECK(md.out.find("x*_[y](z)") == std::string::npos);
}

TEST_CASE("verify: the events file of a real run is intact, an edited one is not", "[report]") {
  harness::TempDir dir;
  std::string events = EventsOf(dir, {"/bin/sh", "-c", "cat /etc/shadow; /bin/true"});
  CHECK(Tracejail({"verify", events}).status == 0);
  std::ifstream in(events);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto pos = text.find("/etc/shadow");
  REQUIRE(pos != std::string::npos);
  text.replace(pos, 11, "/etc/passwd");
  std::ofstream(events, std::ios::trunc) << text;
  auto v = Tracejail({"verify", events});
  CHECK(v.status == 123);
  CHECK(v.out.find("chain broken") != std::string::npos);
  CHECK(Tracejail({"report", events}).out.find("HASH CHAIN BROKEN") != std::string::npos);
}

TEST_CASE("report: the HTML report is self-contained and escapes tracee text", "[report][html]") {
  harness::TempDir dir;
  std::string name = dir.path() + "/<script>alert(1)</script>";
  std::filesystem::create_directory(dir.path() + "/<script>alert(1)<");  // the "/" splits it
  std::ofstream(name) << "secret";
  std::string policy = dir.File("deny.json", R"({"version": 1, "extends": "standard",
    "files": {"rules": [{"path": ")" + dir.path() +
                                                 R"(", "access": ["read"], "action": "deny"}]}})");
  std::string events = EventsOf(dir, {"/bin/cat", name}, {"--policy", policy});
  auto html = Tracejail({"report", events, "--format", "html"});
  CHECK(html.status == 0);
  CHECK(html.out.starts_with("<!DOCTYPE html>"));
  CHECK(html.out.find("<script") == std::string::npos);
  CHECK(html.out.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(html.out.find("src=") == std::string::npos);  // no external assets
  CHECK(html.out.find("href=") == std::string::npos);
  CHECK(html.out.find("risk: medium") != std::string::npos);
  CHECK(html.out.find("<svg class=\"timeline\"") != std::string::npos);
  // The header: what ran, when, under which policy, and that the chain held.
  CHECK(html.out.find("<tr><th>command</th><td><code>") != std::string::npos);
  CHECK(html.out.find("<tr><th>started</th><td>20") != std::string::npos);
  CHECK(html.out.find("<tr><th>policy</th><td>standard</td></tr>") != std::string::npos);
  CHECK(html.out.find("<tr><th>events file</th><td>hash chain intact (") != std::string::npos);
}

TEST_CASE("report: SARIF 2.1.0 points each denial at the policy rule that fired", "[report]") {
  harness::TempDir dir;
  std::string secret = dir.File("secret", "x");
  std::string policy = dir.File("p.json",
                                "{\"version\": 1, \"extends\": \"standard\",\n"
                                "  \"files\": {\"rules\": [\n"
                                "    {\"path\": \"" +
                                    secret +
                                    "\", \"access\": [\"read\"], \"action\": \"deny\"}\n"
                                    "  ]}}\n");
  std::string events = EventsOf(dir, {"/bin/cat", secret}, {"--policy", policy});
  auto sarif = nlohmann::json::parse(Tracejail({"report", events, "--format", "sarif"}).out);
  CHECK(sarif["version"] == "2.1.0");
  const auto& run = sarif["runs"][0];
  CHECK(run["tool"]["driver"]["name"] == "tracejail");
  REQUIRE(run["results"].size() == 1);
  const auto& result = run["results"][0];
  CHECK(result["level"] == "warning");
  const auto& loc = result["locations"][0]["physicalLocation"];
  CHECK(loc["artifactLocation"]["uri"] == policy);
  CHECK(loc["region"]["startLine"] == 3);
  CHECK(result["ruleId"] == run["tool"]["driver"]["rules"][0]["id"]);
}

TEST_CASE("stats: statistics across several runs", "[report]") {
  harness::TempDir runs;
  harness::TempDir a, b, c;
  std::string e1 = EventsOf(a, {"/bin/cat", "/etc/shadow"});
  std::string e2 = EventsOf(b, {"/bin/true"});
  std::string e3 = EventsOf(c, {harness::Sample("escape_ptrace")});
  for (const auto& [src, name] : std::vector<std::pair<std::string, std::string>>{
           {e1, "1.jsonl"}, {e2, "2.jsonl"}, {e3, "3.jsonl"}}) {
    std::ifstream in(src);
    std::ofstream(runs.path() + "/" + name) << in.rdbuf();
  }
  auto out = Tracejail({"stats", runs.path(), "--json"});
  CHECK(out.status == 0);
  auto s = nlohmann::json::parse(out.out);
  CHECK(s["runs"] == 3);
  CHECK(s["risk"]["medium"] == 1);
  CHECK(s["risk"]["low"] == 1);
  CHECK(s["risk"]["high"] == 1);
  CHECK(s["denials"] == 2);
  CHECK(s["top_denied_files"][0]["name"] == "/etc/shadow");
}

TEST_CASE("report: the HTML report renders in headless Chromium without console errors",
          "[report][html][chromium]") {
  if (access("/usr/bin/chromium", X_OK) != 0) {
    FAIL("chromium is not installed: scripts/install-deps.sh installs it");
  }
  harness::TempDir dir;
  std::string events =
      EventsOf(dir, {"/bin/sh", "-c", "cat /etc/shadow; " + harness::Sample("escape_ptrace")});
  std::string html = dir.path() + "/report.html";
  REQUIRE(Tracejail({"report", events, "--format", "html", "-o", html}).status == 0);
  std::string png = dir.path() + "/report.png";
  harness::Result chromium = harness::HeadlessChromium(
      "file://" + html, {"--window-size=1100,1400", "--screenshot=" + png}, dir.path());
  INFO("chromium output: " << chromium.out << chromium.err);
  CHECK(chromium.status == 0);
  // Page errors and console messages are logged as CONSOLE(...) lines.
  CHECK(chromium.err.find("CONSOLE") == std::string::npos);
  std::ifstream img(png, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(img)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() > 20000);  // a rendered page, not a blank one
  CHECK(bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
}
