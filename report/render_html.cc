// The self-contained HTML report: inline CSS and SVG, no scripts, no external assets. Every
// string that came from the tracee goes through Html() (it was already escaped for terminals
// when the event was written; HTML needs its own escaping on top).
#include <algorithm>
#include <ctime>
#include <map>
#include <set>

#include <fmt/format.h>

#include "base/escape.h"
#include "base/version.h"
#include "report/analysis.h"
#include "report/attack.h"
#include "report/explain.h"
#include "report/json_text.h"

namespace report {

std::string Html(std::string_view raw) {
  // Controls and bidi overrides would still reorder or hide text on the page.
  const std::string s = base::DisplayText(raw);
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// ATT&CK ids with their names as a tooltip. No links: the page references nothing outside
// itself (ids read from a file were checked by the reader, and are escaped anyway).
std::string AttackLinks(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) {
    out += fmt::format("{}<abbr title=\"{}\">{}</abbr>", out.empty() ? "" : " ",
                       Html(AttackName(id)), Html(id));
  }
  return out;
}

std::string AttackTag(const std::string& id) { return "external/mitre-attack/" + id; }

// A mark's colour by severity (and lifecycle events': small and grey), also the legend's table.
constexpr std::pair<std::string_view, std::string_view> kSeverityColors[] = {
    {"critical", "#8e0000"}, {"high", "#d32f2f"}, {"medium", "#f57c00"},
    {"low", "#fbc02d"},      {"info", "#607d8b"},
};
constexpr std::string_view kLifecycleColor = "#90a4ae";

std::string SeverityColor(std::string_view severity) {
  for (const auto& [name, color] : kSeverityColors) {
    if (name == severity) return std::string(color);
  }
  return "#607d8b";
}

// "2026-12-07T03:40:12.345Z" for a time in seconds since the epoch.
std::string IsoTime(double t) {
  const auto whole = static_cast<std::time_t>(t);
  std::tm tm{};
  if (gmtime_r(&whole, &tm) == nullptr) return fmt::format("{:.3f}", t);
  const int ms = static_cast<int>((t - static_cast<double>(whole)) * 1000.0);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, std::clamp(ms, 0, 999));
}

// What the timeline's marks mean.
std::string TimelineLegend() {
  std::string out = "<p class=\"legend\">";
  auto item = [&out](std::string_view color, std::string_view what) {
    out += fmt::format("<span style=\"color:{}\">&#9679;</span> {} &nbsp; ", color, what);
  };
  item(kLifecycleColor, "process start, exec, exit");
  for (const auto& [name, color] : kSeverityColors) item(color, name);
  return out + "(one row per process; hover a mark for the event)</p>";
}

// A horizontal bar chart as inline SVG.
std::string Bars(const std::vector<std::pair<std::string, std::uint64_t>>& rows) {
  std::uint64_t max = 1;
  for (const auto& [k, v] : rows) max = std::max(max, v);
  int height = static_cast<int>(rows.size()) * 22 + 4;
  std::string svg = fmt::format(
      "<svg class=\"chart\" width=\"560\" height=\"{}\" role=\"img\" "
      "xmlns=\"http://www.w3.org/2000/svg\">",
      height);
  int y = 2;
  for (const auto& [label, value] : rows) {
    double w = 360.0 * static_cast<double>(value) / static_cast<double>(max);
    svg += fmt::format(
        "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text>"
        "<rect x=\"180\" y=\"{}\" width=\"{:.1f}\" height=\"16\" fill=\"#1976d2\"/>"
        "<text x=\"{:.1f}\" y=\"{}\" font-size=\"12\">{}</text>",
        y + 13, Html(label), y, std::max(w, 1.0), 186 + w, y + 13, value);
    y += 22;
  }
  return svg + "</svg>";
}

// The timeline: one row per process, one mark per event, coloured by severity.
std::string Timeline(const Analysis& a) {
  if (a.timeline.empty()) return "<p>No events.</p>";
  std::string note;
  if (a.records > a.timeline.size()) {
    note = fmt::format("<p>The timeline shows the first {} of {} records.</p>", a.timeline.size(),
                       a.records);
  }
  double t0 = a.timeline.front().time, t1 = t0;
  std::map<int, int> rows;
  for (const auto& e : a.timeline) {
    t0 = std::min(t0, e.time);
    t1 = std::max(t1, e.time);
    rows.emplace(e.pid, static_cast<int>(rows.size()));
  }
  double span = std::max(t1 - t0, 1e-6);
  int height = static_cast<int>(rows.size()) * 24 + 30;
  std::string svg = fmt::format(
      "<svg class=\"timeline\" width=\"900\" height=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">"
      "<text x=\"0\" y=\"{}\" font-size=\"11\">0 s</text>"
      "<text x=\"820\" y=\"{}\" font-size=\"11\">{:.3f} s</text>",
      height, height - 4, height - 4, span);
  for (const auto& [pid, row] : rows) {
    int y = row * 24 + 12;
    svg += fmt::format(
        "<text x=\"0\" y=\"{}\" font-size=\"11\">pid {}</text>"
        "<line x1=\"80\" y1=\"{}\" x2=\"880\" y2=\"{}\" stroke=\"#ccc\"/>",
        y + 4, pid, y, y);
  }
  for (const auto& e : a.timeline) {
    double x = 80 + 800 * (e.time - t0) / span;
    int y = rows[e.pid] * 24 + 12;
    bool lifecycle = e.type.starts_with("process_");
    svg += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{}\" r=\"{}\" fill=\"{}\"><title>{}: {}</title></circle>", x, y,
        lifecycle ? 3 : 6, lifecycle ? std::string(kLifecycleColor) : SeverityColor(e.severity),
        Html(e.type), Html(e.text));
  }
  return svg + "</svg>" + TimelineLegend() + note;
}

}  // namespace

std::string RenderHtml(const Analysis& a, const std::string& title, const std::string& warning) {
  std::string out;
  RenderHtml(a, title, warning, out, {});
  return out;
}

void RenderHtml(const Analysis& a, const std::string& title, const std::string& warning,
                std::string& out, const Spill& spill, const std::string& integrity) {
  out += fmt::format(
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>tracejail report: {}</title><style>"
      "body{{font-family:sans-serif;margin:2em;max-width:1000px;color:#222}}"
      "h1{{font-size:1.5em}} .risk{{display:inline-block;padding:.3em .8em;border-radius:4px;"
      "color:#fff;font-weight:bold}} .low{{background:#388e3c}} .medium{{background:#f57c00}}"
      " .high{{background:#d32f2f}} .critical{{background:#8e0000}}"
      "table{{border-collapse:collapse;margin:.5em 0}} td,th{{border:1px solid #ddd;padding:.3em"
      " .6em;text-align:left;font-size:.9em}} code{{background:#f4f4f4;padding:0 .2em;"
      "word-break:break-all}} .escape{{color:#d32f2f;font-weight:bold}}</style></head><body>"
      "<h1>tracejail report: {}</h1>",
      Html(title), Html(title));
  // What ran, when, under which policy (the first exec, the first record, log_end's policy).
  out += "<table class=\"run\">";
  auto row = [&out](std::string_view name, const std::string& value) {
    if (!value.empty()) out += fmt::format("<tr><th>{}</th><td>{}</td></tr>", name, value);
  };
  row("command", a.command.empty() ? "" : "<code>" + Html(a.command) + "</code>");
  row("started", a.started ? Html(IsoTime(*a.started)) : "");
  row("policy", Html(a.policy));
  row("events file", warning.empty() ? Html(integrity) : "");
  out += "</table>";
  out +=
      fmt::format("<p><span class=\"risk {}\">risk: {}</span></p><ul>", Name(a.risk), Name(a.risk));
  for (const auto& r : a.reasons) out += "<li>" + Html(r) + "</li>";
  out += "</ul>";
  if (!a.capabilities.empty()) {
    out += "<p>Capabilities in force: <code>" + Html(a.capabilities) + "</code></p>";
  }
  if (!warning.empty()) out += "<p class=\"escape\">" + Html(warning) + "</p>";
  out += "<h2>Timeline</h2>" + Timeline(a);
  MaybeSpill(out, spill);
  out += "<h2>Events by type</h2>" + Bars(std::vector<std::pair<std::string, std::uint64_t>>(
                                         a.by_type.begin(), a.by_type.end()));
  out += "<h2>Top syscalls</h2>" + Bars(TopCounts(a.syscalls, 10));
  out += "<h2>Denied</h2>";
  if (a.denials.empty()) out += "<p>Nothing was denied.</p>";
  out +=
      "<table><tr><th>#</th><th>type</th><th>what</th><th>technique</th><th>ATT&amp;CK</th>"
      "<th>rule</th><th>to allow it</th></tr>";
  std::vector<std::string> techniques;  // in the order first seen
  for (const auto& d : a.denials) {
    out += fmt::format(
        "<tr><td>{}</td><td class=\"{}\">{}{}</td><td>{}{}</td><td>{}</td><td>{}</td>"
        "<td><code>{}</code></td><td><code>{}</code></td></tr>",
        d.seq, d.looks_like_escape ? "escape" : "", Html(d.type),
        d.looks_like_escape ? " (looks like an escape)" : "", Html(d.what),
        d.repeats > 1 ? fmt::format(" ×{}", d.repeats) : "", Html(d.technique),
        AttackLinks(d.attack), Html(d.rule), d.tip.empty() ? "" : Html(TipForDisplay(d.tip)));
    MaybeSpill(out, spill);
    if (!d.technique.empty() &&
        std::find(techniques.begin(), techniques.end(), d.technique) == techniques.end()) {
      techniques.push_back(d.technique);
    }
  }
  out += "</table>";
  if (!techniques.empty()) {
    // What each technique is and what stopped it (report/explain.h); <details> needs no script.
    out += "<h2>What was tried, and what stopped it</h2>";
    for (const auto& id : techniques) {
      for (const auto& t : Techniques()) {
        if (t.id != id) continue;
        out += fmt::format(
            "<details class=\"technique\"><summary><b>{}</b>: {}</summary><p><b>Technique.</b> "
            "{}</p><p><b>Defence.</b> {}</p></details>",
            Html(t.id), Html(t.title), Html(t.technique), Html(t.defence));
      }
    }
  }
  if (!a.attack.empty()) {
    out +=
        "<h2>MITRE ATT&amp;CK</h2><table><tr><th>technique</th><th>name</th><th>events</th>"
        "</tr>";
    for (const auto& [id, n] : a.attack) {
      out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", AttackLinks({id}),
                         Html(AttackName(id)), n);
    }
    out += "</table>";
  }
  for (const auto& [heading, resources] :
       {std::pair{"Files</h2><table><tr><th>path</th><th>accesses</th>", &a.files},
        std::pair{"Endpoints</h2><table><tr><th>endpoint</th><th>calls</th>", &a.endpoints}}) {
    out += fmt::format("<h2>{}<th>denied</th></tr>", heading);
    for (const auto& [name, use] : *resources) {
      out += fmt::format("<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>", Html(name),
                         Html(CountsText(use.kinds, "×")), use.denied);
      MaybeSpill(out, spill);
    }
    out += "</table>";
  }
  for (const auto& [heading, list] :
       {std::pair{"Executed", &a.executed}, std::pair{"Dropped", &a.dropped}}) {
    if (list->empty()) continue;
    out += fmt::format(
        "<h2>{}</h2><table><tr><th>path</th><th>kind</th><th>sha256</th><th>size</th>"
        "<th>mode</th><th>note</th></tr>",
        heading);
    for (const Artifact& x : *list) {
      const std::string kind = ArtifactKindText(x);
      const std::string note = ArtifactNoteText(x);
      out += fmt::format(
          "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td>"
          "<td>{}</td></tr>",
          Html(x.path), Html(kind), Html(x.sha256), x.size ? std::to_string(*x.size) : "",
          Html(x.mode), Html(note));
      MaybeSpill(out, spill);
    }
    out += "</table>";
  }
  out +=
      "<h2>Processes</h2><table><tr><th>pid</th><th>parent</th><th>executed</th>"
      "<th>end</th></tr>";
  for (const auto& [pid, p] : a.processes) {
    std::string execs;
    for (const auto& ex : p.execs) execs += "<code>" + Html(ex) + "</code><br>";
    std::string end = p.exit_code ? fmt::format("exit {}", *p.exit_code) : Html(p.signal);
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", pid, p.parent,
                       execs, end);
    MaybeSpill(out, spill);
  }
  out += "</table></body></html>\n";
}

std::string RenderSarif(const Analysis& a, std::string_view integrity) {
  std::string out;
  RenderSarif(a, integrity, out, {});
  return out;
}

void RenderSarif(const Analysis& a, std::string_view integrity, std::string& out,
                 const Spill& spill) {
  JsonText w(out, 0, spill);
  w.Open('{');
  w.Value("https://json.schemastore.org/sarif-2.1.0.json", "$schema");
  w.Value("2.1.0", "version");
  w.Open('[', "runs");
  w.Open('{');
  w.Open('{', "tool");
  w.Open('{', "driver");
  w.Value("tracejail", "name");
  w.Value(base::kVersion, "version");
  w.Open('[', "rules");
  // One rule per rule id, tagged with the ATT&CK techniques of all its denials (the GitHub
  // code scanning convention "external/mitre-attack/T1611").
  std::vector<std::string_view> rules;
  std::map<std::string_view, std::set<std::string>> tags;
  for (const auto& d : a.denials) {
    auto [it, fresh] = tags.try_emplace(d.rule);
    if (fresh) rules.push_back(d.rule);
    for (const auto& id : d.attack) it->second.insert(id);
  }
  for (std::string_view rule : rules) {
    nlohmann::json r = {
        {"id", rule},
        {"shortDescription", {{"text", "tracejail policy rule " + std::string(rule)}}}};
    if (!tags[rule].empty()) {
      nlohmann::json t = nlohmann::json::array();
      for (const auto& id : tags[rule]) t.push_back(AttackTag(id));
      r["properties"] = {{"tags", t}};
    }
    w.Value(r);
  }
  w.Close();
  w.Close();
  w.Close();
  w.Open('[', "results");
  for (const auto& d : a.denials) {
    std::string level = d.severity == "critical" || d.severity == "high" ? "error"
                        : d.severity == "medium"                         ? "warning"
                                                                         : "note";
    // "file.json:12#/files/rules/3 (id)" points into the policy file at line 12; a preset
    // ("standard:9#...") into the preset printed by `tracejail policy show`.
    std::string file = d.rule.substr(0, d.rule.find('#'));
    int line = 1;
    if (auto colon = file.rfind(':'); colon != std::string::npos) {
      line = std::atoi(file.c_str() + colon + 1);
      file.resize(colon);
    }
    if (file.find('/') == std::string::npos && file.find(".json") == std::string::npos) {
      file = "tracejail-preset:" + file;
    }
    nlohmann::json result = {
        {"ruleId", d.rule},
        {"level", level},
        {"message",
         {{"text", fmt::format("{}: {}{}", d.type, d.what,
                               d.repeats > 1 ? fmt::format(" (x{})", d.repeats) : "")}}},
        {"locations",
         {{{"physicalLocation",
            {{"artifactLocation", {{"uri", file}}},
             {"region", {{"startLine", std::max(line, 1)}}}}}}}},
        {"properties",
         {{"seq", d.seq}, {"syscall", d.syscall}, {"looksLikeEscape", d.looks_like_escape}}}};
    if (!d.tip.empty()) result["properties"]["tip"] = nlohmann::json::parse(d.tip);
    if (!d.attack.empty()) {
      nlohmann::json t = nlohmann::json::array();
      for (const auto& id : d.attack) t.push_back(AttackTag(id));
      result["properties"]["tags"] = t;
      result["properties"]["attack"] = d.attack;
    }
    w.Value(result);
  }
  w.Close();
  w.Value({{"risk", Name(a.risk)}, {"reasons", a.reasons}, {"integrity", integrity}}, "properties");
  w.Close();
  w.Close();
  w.Close();
  out += '\n';
}

}  // namespace report
