// report/render_html.cc: the self-contained HTML report. Every string in an Analysis can come
// from a crafted events file, so each one is filled with markup, quotes, terminal controls and
// bidi overrides: the page must keep only its own tags (a small allowlist, balanced, no script,
// no event-handler attribute), show the hostile text escaped and visible, and still carry the
// header fields (title, risk, reasons, capabilities, warning) and every section.
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "report/analysis.h"
#include "report/explain.h"

namespace {

// Markup that would run or restyle something, a quote that would end an attribute, a terminal
// escape, BEL, a RIGHT-TO-LEFT OVERRIDE and a C1 CSI.
const std::string kEvil =
    "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;\x1b[2J\x07"
    "\xe2\x80\xae"
    "gpj.exe\xc2\x9b";

std::size_t Count(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string_view::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

// The page's tags, checked: only known elements, no attribute that runs code, every element
// closed in order (void and self-closed ones aside), and no '>' or '<' in the text between tags.
// Returns "" or what is wrong.
std::string CheckMarkup(std::string_view html) {
  static const std::set<std::string, std::less<>> kElements{
      "html",  "head", "meta", "title", "style", "body",    "h1",      "h2",   "p",
      "span",  "ul",   "li",   "code",  "svg",   "text",    "rect",    "line", "circle",
      "table", "tr",   "th",   "td",    "br",    "details", "summary", "b"};
  static const std::set<std::string, std::less<>> kVoid{"meta", "br"};
  std::vector<std::string> open;
  std::size_t i = 0;
  if (html.starts_with("<!DOCTYPE html>")) i = std::string_view("<!DOCTYPE html>").size();
  while (i < html.size()) {
    std::size_t lt = html.find('<', i);
    std::string_view text = html.substr(i, lt == std::string_view::npos ? lt : lt - i);
    if (text.find('>') != std::string_view::npos) {
      return "a '>' in text: " + std::string(text.substr(0, 80));
    }
    if (lt == std::string_view::npos) break;
    std::size_t gt = html.find('>', lt);
    if (gt == std::string_view::npos) return "a tag that never ends";
    std::string_view tag = html.substr(lt + 1, gt - lt - 1);
    i = gt + 1;
    if (tag.find('<') != std::string_view::npos) return "a '<' inside a tag: " + std::string(tag);
    bool closing = tag.starts_with("/");
    if (closing) tag.remove_prefix(1);
    bool self_closed = tag.ends_with("/");
    std::string name(tag.substr(0, tag.find_first_of(" /")));
    if (kElements.count(name) == 0) return "an unexpected element <" + name + ">";
    // Attributes: name="value" pairs; none may be an event handler.
    std::string attrs(tag.substr(name.size()));
    for (std::size_t at = attrs.find(' '); at != std::string::npos; at = attrs.find(' ', at + 1)) {
      std::size_t q = std::count(attrs.begin(), attrs.begin() + static_cast<long>(at), '"');
      if (q % 2 == 0 && attrs.compare(at + 1, 2, "on") == 0) {
        return "an event-handler attribute in <" + std::string(tag) + ">";
      }
    }
    if (std::count(attrs.begin(), attrs.end(), '"') % 2 != 0) {
      return "unbalanced quotes in <" + std::string(tag) + ">";
    }
    if (closing) {
      if (open.empty() || open.back() != name) {
        return "</" + name + "> closes <" + (open.empty() ? std::string("nothing") : open.back()) +
               ">";
      }
      open.pop_back();
    } else if (!self_closed && kVoid.count(name) == 0) {
      open.push_back(name);
    }
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  return "";
}

report::Analysis HostileAnalysis() {
  report::Analysis a;
  a.risk = report::Risk::kCritical;
  a.reasons = {"reason " + kEvil};
  a.capabilities = "CAP_KILL " + kEvil;
  a.by_type = {{"type" + kEvil, 3}, {"permission_denied", 1}};
  a.syscalls = {{"openat" + kEvil, 7}, {"read", 2}};
  report::Denial d;
  d.seq = 12;
  d.type = "escape_attempt" + kEvil;
  d.severity = "critical";
  d.syscall = "ptrace";
  d.what = "what " + kEvil;
  d.rule = "rule " + kEvil;
  d.looks_like_escape = true;
  nlohmann::json tip = {{"files", {{"rules", {{{"path", "/x</code>" + kEvil}}}}}}};
  d.tip = tip.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  d.repeats = 4;
  d.technique = std::string(report::Techniques().front().id);
  a.denials.push_back(d);
  a.files["/file" + kEvil] = {{{"read", 2}}, 1};
  a.endpoints["unix:/run/" + kEvil] = {{{"connect", 1}}, 1};
  report::ProcessNode p;
  p.pid = 100;
  p.parent = 1;
  p.execs = {"/bin/sh " + kEvil};
  p.signal = "SIGKILL" + kEvil;
  a.processes[100] = p;
  a.timeline = {{1.0, 100, "process_start", "info", "start " + kEvil},
                {2.5, 100, "escape_attempt", "critical", "timeline " + kEvil}};
  a.records = 2;
  a.occurrences = 2;
  return a;
}

}  // namespace

TEST_CASE("render_html: hostile strings in every field stay text and never markup",
          "[render_html][escape]") {
  report::Analysis a = HostileAnalysis();
  std::string html = report::RenderHtml(a, "title " + kEvil, "warning " + kEvil);
  INFO(html.substr(0, 400));
  CHECK(CheckMarkup(html) == "");
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("onerror=alert(2)>") == std::string::npos);
  // Shown escaped instead, once per field that held it: the title twice (title and heading), the
  // warning, reason, capabilities, two bar labels, the denial's type, text and rule, a file, an
  // endpoint, an exec, a signal and the two timeline marks (the tip's copy is JSON-escaped).
  CHECK(Count(html,
              "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;&lt;img src=x "
              "onerror=alert(2)&gt;&amp;amp;") == 16);
  // Terminal controls and bidi overrides are visible as escapes, never raw.
  for (std::string_view raw : {"\x1b", "\x07", "\xe2\x80\xae", "\xc2\x9b"}) {
    CAPTURE(raw);
    CHECK(html.find(raw) == std::string::npos);
  }
  CHECK(html.find("\\x1b[2J\\x07\\u{202e}gpj.exe\\u{009b}") != std::string::npos);
}

TEST_CASE("render_html: the header carries the title and risk and reasons and capabilities",
          "[render_html]") {
  report::Analysis a;
  a.risk = report::Risk::kHigh;
  a.reasons = {"2 escape attempts", "a kill rule ended the tree"};
  a.capabilities = "CAP_CHOWN CAP_KILL";
  std::string html = report::RenderHtml(a, "run-42.jsonl", "hash chain BROKEN at line 7");
  CHECK(CheckMarkup(html) == "");
  CHECK(html.starts_with("<!DOCTYPE html>"));
  CHECK(html.ends_with("</html>\n"));
  CHECK(html.find("<meta charset=\"utf-8\">") != std::string::npos);
  CHECK(html.find("<title>tracejail report: run-42.jsonl</title>") != std::string::npos);
  CHECK(html.find("<h1>tracejail report: run-42.jsonl</h1>") != std::string::npos);
  CHECK(html.find("<span class=\"risk high\">risk: high</span>") != std::string::npos);
  CHECK(html.find("<li>2 escape attempts</li><li>a kill rule ended the tree</li>") !=
        std::string::npos);
  CHECK(html.find("Capabilities in force: <code>CAP_CHOWN CAP_KILL</code>") != std::string::npos);
  CHECK(html.find("<p class=\"escape\">hash chain BROKEN at line 7</p>") != std::string::npos);
  // Self-contained: nothing is fetched and nothing runs.
  for (std::string_view outside : {"<script", "src=", "href=", "@import", "url("}) {
    CAPTURE(outside);
    CHECK(html.find(outside) == std::string::npos);
  }
  // No warning and no capabilities: neither line is drawn.
  a.capabilities.clear();
  std::string plain = report::RenderHtml(a, "run-42.jsonl");
  CHECK(plain.find("class=\"escape\"") == std::string::npos);
  CHECK(plain.find("Capabilities in force") == std::string::npos);
}

TEST_CASE("render_html: every risk level names its own style class", "[render_html]") {
  for (report::Risk r :
       {report::Risk::kLow, report::Risk::kMedium, report::Risk::kHigh, report::Risk::kCritical}) {
    report::Analysis a;
    a.risk = r;
    std::string html = report::RenderHtml(a, "t");
    std::string name(report::Name(r));
    CAPTURE(name);
    CHECK(html.find("<span class=\"risk " + name + "\">risk: " + name + "</span>") !=
          std::string::npos);
    // The class has a colour in the page's own style sheet.
    CHECK(html.find("." + name + "{background:") != std::string::npos);
  }
}

TEST_CASE("render_html: an empty analysis says there were no events and no denials",
          "[render_html]") {
  report::Analysis a;
  std::string html = report::RenderHtml(a, "empty");
  CHECK(CheckMarkup(html) == "");
  CHECK(html.find("<h2>Timeline</h2><p>No events.</p>") != std::string::npos);
  CHECK(html.find("<p>Nothing was denied.</p>") != std::string::npos);
  CHECK(html.find("What was tried") == std::string::npos);
  for (std::string_view section :
       {"<h2>Events by type</h2>", "<h2>Top syscalls</h2>", "<h2>Denied</h2>", "<h2>Files</h2>",
        "<h2>Endpoints</h2>", "<h2>Processes</h2>"}) {
    CAPTURE(section);
    CHECK(Count(html, section) == 1);
  }
}

TEST_CASE("render_html: a denial row shows its count and rule and tip and its technique",
          "[render_html]") {
  report::Analysis a;
  report::Denial d;
  d.seq = 9;
  d.type = "permission_denied";
  d.severity = "medium";
  d.what = "openat /etc/shadow";
  d.rule = "standard:9#/files/rules/0 (secrets)";
  d.tip = R"({"files":{"rules":[{"path":"/etc/shadow","action":"allow"}]}})";
  d.repeats = 3;
  const report::Technique& t = report::Techniques().front();
  d.technique = std::string(t.id);
  a.denials = {d, d};  // the same technique twice is explained once
  a.denials[1].seq = 10;
  a.denials[1].repeats = 1;
  std::string html = report::RenderHtml(a, "t");
  CHECK(CheckMarkup(html) == "");
  CHECK(html.find("Nothing was denied") == std::string::npos);
  CHECK(
      html.find("<td>9</td><td class=\"\">permission_denied</td><td>openat /etc/shadow ×3</td>") !=
      std::string::npos);
  CHECK(html.find("<td>10</td><td class=\"\">permission_denied</td><td>openat /etc/shadow</td>") !=
        std::string::npos);
  CHECK(Count(html, "<code>standard:9#/files/rules/0 (secrets)</code>") == 2);
  // The tip is the JSON to paste, its quotes escaped for the page.
  CHECK(html.find("<code>{&quot;files&quot;:{&quot;rules&quot;:[{&quot;action&quot;:&quot;allow"
                  "&quot;,&quot;path&quot;:&quot;/etc/shadow&quot;}]}}</code>") !=
        std::string::npos);
  CHECK(Count(html, "<details class=\"technique\">") == 1);
  CHECK(html.find("<summary><b>" + std::string(t.id) + "</b>") != std::string::npos);
  // An escape-looking denial is marked so.
  a.denials[0].looks_like_escape = true;
  std::string marked = report::RenderHtml(a, "t");
  CHECK(marked.find("<td class=\"escape\">permission_denied (looks like an escape)</td>") !=
        std::string::npos);
}

TEST_CASE("render_html: resources and processes and the timeline are all drawn", "[render_html]") {
  report::Analysis a;
  a.files["/etc/passwd"] = {{{"read", 2}, {"write", 1}}, 1};
  a.endpoints["127.0.0.1:80"] = {{{"connect", 3}}, 0};
  report::ProcessNode parent{100, 1, {"/bin/sh -c x"}, 0, ""};
  report::ProcessNode child{101, 100, {}, std::nullopt, "SIGKILL"};
  a.processes = {{100, parent}, {101, child}};
  a.by_type = {{"permission_denied", 4}};
  a.syscalls = {{"openat", 10}, {"connect", 3}};
  a.timeline = {{0.5, 100, "process_start", "info", "start"},
                {1.5, 101, "permission_denied", "high", "denied"}};
  a.records = 2;
  std::string html = report::RenderHtml(a, "t");
  CHECK(CheckMarkup(html) == "");
  CHECK(
      html.find("<tr><td><code>/etc/passwd</code></td><td>read ×2, write ×1</td><td>1</td></tr>") !=
      std::string::npos);
  CHECK(html.find("<tr><td><code>127.0.0.1:80</code></td><td>connect ×3</td><td>0</td></tr>") !=
        std::string::npos);
  CHECK(html.find("<tr><td>100</td><td>1</td><td><code>/bin/sh -c x</code><br></td><td>exit "
                  "0</td></tr>") != std::string::npos);
  CHECK(html.find("<tr><td>101</td><td>100</td><td></td><td>SIGKILL</td></tr>") !=
        std::string::npos);
  // One row per process in the timeline, one mark per record; the denial in its severity's
  // colour (high), the lifecycle mark small and grey.
  CHECK(html.find(">pid 100</text>") != std::string::npos);
  CHECK(html.find(">pid 101</text>") != std::string::npos);
  CHECK(Count(html, "<circle ") == 2);
  CHECK(html.find("r=\"6\" fill=\"#d32f2f\"><title>permission_denied: denied</title>") !=
        std::string::npos);
  CHECK(html.find("r=\"3\" fill=\"#90a4ae\"><title>process_start: start</title>") !=
        std::string::npos);
  // The span is the records' time range.
  CHECK(html.find(">1.000 s</text>") != std::string::npos);
  // Bars: the largest count gets the full width, the others in proportion.
  CHECK(html.find(">openat</text><rect x=\"180\" y=\"2\" width=\"360.0\"") != std::string::npos);
  CHECK(html.find(">connect</text><rect x=\"180\" y=\"24\" width=\"108.0\"") != std::string::npos);
  CHECK(html.find("The timeline shows the first") == std::string::npos);
}

TEST_CASE("render_html: the header says what ran when under which policy and that the chain held",
          "[render_html]") {
  report::Analysis a;
  a.command = "sh -c <b>x</b>";
  a.started = 1796614812.25;  // 2026-12-07T03:40:12.250Z
  a.policy = "standard";
  a.timeline.push_back({1796614812.25, 7, "permission_denied", "medium", "openat deny /x"});
  a.records = 1;
  std::string html;
  report::RenderHtml(a, "run.jsonl", "", html, {}, "hash chain intact (3 records)");
  CHECK(CheckMarkup(html) == "");
  CHECK(html.find("<tr><th>command</th><td><code>sh -c &lt;b&gt;x&lt;/b&gt;</code></td></tr>") !=
        std::string::npos);
  CHECK(html.find("<tr><th>started</th><td>2026-12-07T03:40:12.250Z</td></tr>") !=
        std::string::npos);
  CHECK(html.find("<tr><th>policy</th><td>standard</td></tr>") != std::string::npos);
  CHECK(html.find("<tr><th>events file</th><td>hash chain intact (3 records)</td></tr>") !=
        std::string::npos);
  // The timeline says what its marks mean.
  CHECK(html.find("<p class=\"legend\">") != std::string::npos);
  CHECK(html.find("process start, exec, exit") != std::string::npos);
  // No table without rows or headings (there was a stray empty one before Files).
  CHECK(html.find("<table></table>") == std::string::npos);
  CHECK(html.find("<table><h2>") == std::string::npos);
  // A chain that failed is said in red instead, never as "intact".
  std::string broken;
  report::RenderHtml(a, "run.jsonl", "The events file failed verification: line 2", broken, {},
                     "2 problems");
  CHECK(broken.find("<tr><th>events file</th>") == std::string::npos);
  CHECK(broken.find("<p class=\"escape\">The events file failed verification: line 2</p>") !=
        std::string::npos);
}
