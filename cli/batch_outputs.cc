#include "cli/batch_outputs.h"

#include <sys/stat.h>

#include <fstream>
#include <map>

#include <fmt/format.h>

#include "base/escape.h"
#include "base/version.h"
#include "report/hash_chain.h"
#include "report/output_file.h"
#include "report/record_fields.h"
#include "report/renderers.h"

namespace cli {
namespace {

constexpr off_t kMaxResult = 64 << 20;  // a result holds captured output, capped well below

// Why the file at `path` cannot be the result, or the parsed result.
std::optional<nlohmann::json> ReadResult(const std::string& path, std::string& why) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    why = "no result.json (the run did not finish)";
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode) || st.st_size > kMaxResult) {
    why = "result.json is not a regular file of at most 64 MiB";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  nlohmann::json result = nlohmann::json::parse(in, nullptr, false);
  if (result.is_discarded() || !result.is_object() || !result.contains("status") ||
      !result["status"].is_string()) {
    why = "result.json is cut short or not a result";
    return std::nullopt;
  }
  return result;
}

// A number member of `j`, or 0: a result read back is not trusted to have every member in its
// place (strings: report::StringMember).
double Number(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

}  // namespace

std::string_view Name(TaskRecord::State s) {
  switch (s) {
    case TaskRecord::State::kComplete:
      return "complete";
    case TaskRecord::State::kFailed:
      return "failed";
    case TaskRecord::State::kInvalid:
      return "invalid";
    case TaskRecord::State::kMissing:
      return "missing";
  }
  return "?";
}

void CheckTaskDir(const std::string& dir, TaskRecord& record, report::Analysis& analysis) {
  record.state = TaskRecord::State::kFailed;
  std::optional<nlohmann::json> result = ReadResult(dir + "/result.json", record.why);
  if (!result) return;
  record.status = (*result)["status"].get<std::string>();
  if (record.status == "internal_error") {
    std::string error = report::StringMember(*result, "error");
    record.why = "tracejail failed: " + (error.empty() ? std::string("(no reason given)") : error);
    return;
  }
  auto chain_it = result->find("events_chain");
  const std::string chain = chain_it != result->end() && chain_it->is_object()
                                ? report::StringMember(*chain_it, "final_hash")
                                : "";
  if (chain.empty() || report::StringMember(*chain_it, "algorithm") != "sha256") {
    record.why = "the result names no (unkeyed) events chain";
    return;
  }
  std::ifstream events(dir + "/events.jsonl", std::ios::binary);
  if (!events) {
    record.why = "no events.jsonl";
    return;
  }
  report::VerifyResult verified = report::VerifyChain(events);
  if (!verified.ok()) {
    record.why = "the events' hash chain does not verify: " + verified.problems.front();
    return;
  }
  if (verified.final_hash != chain) {
    record.why = "the events file is not the one the result names (its chain ends elsewhere)";
    return;
  }
  events.clear();
  events.seekg(0);
  report::EventsScan scan;
  analysis = report::AnalyzeFile(events, scan);
  record.state = TaskRecord::State::kComplete;
  record.why.clear();
  record.exit_code = static_cast<int>(Number(*result, "exit_code"));
  record.wall_time_s = Number(*result, "wall_time_s");
  record.events = analysis.occurrences;
  record.denials = 0;
  for (const auto& d : analysis.denials) record.denials += d.repeats;
  record.risk = std::string(report::Name(analysis.risk));
}

std::optional<std::string> WriteTaskReports(const std::string& dir,
                                            const report::Analysis& analysis) {
  for (const char* format : {"text", "html"}) {
    const report::Renderer* renderer = report::FindRenderer(format);
    report::ReportInput input{.analysis = analysis,
                              .title = dir + "/events.jsonl",
                              .chain_ok = true,
                              .integrity = "hash chain intact",
                              .chain_problems = {}};
    report::OutputFile output;
    (void)output.Open(fmt::format("{}/report.{}", dir, format[0] == 't' ? "txt" : "html"), 0644);
    std::string text;
    renderer->render(input, text, output.AsSpill());
    (void)output.Write(text);
    if (std::optional<std::string> failed = output.Close()) return failed;
  }
  return std::nullopt;
}

nlohmann::json BatchSummary(const std::string& manifest, const std::string& shard,
                            const std::vector<TaskRecord>& tasks, const nlohmann::json& stats) {
  std::map<std::string, std::uint64_t> states, statuses;
  for (auto s : {TaskRecord::State::kComplete, TaskRecord::State::kFailed,
                 TaskRecord::State::kInvalid, TaskRecord::State::kMissing}) {
    states[std::string(Name(s))] = 0;
  }
  std::uint64_t denials = 0;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& t : tasks) {
    ++states[std::string(Name(t.state))];
    nlohmann::json j{{"id", t.id}, {"line", t.line}, {"state", Name(t.state)}};
    if (t.state == TaskRecord::State::kComplete) {
      ++statuses[t.status];
      denials += t.denials;
      j.update({{"status", t.status},
                {"exit_code", t.exit_code},
                {"wall_time_s", t.wall_time_s},
                {"events", t.events},
                {"denials", t.denials},
                {"risk", t.risk},
                {"dir", t.id}});
    } else {
      j["why"] = t.why;
    }
    list.push_back(std::move(j));
  }
  nlohmann::json s;
  s["schema_version"] = 1;
  s["tracejail"] = base::kVersion;
  s["manifest"] = manifest;
  if (!shard.empty()) s["shard"] = shard;
  s["tasks_total"] = tasks.size();
  s["states"] = states;
  s["statuses"] = statuses;
  s["denials"] = denials;
  s["stats"] = stats;
  s["tasks"] = std::move(list);
  return s;
}

std::string BatchIndexHtml(const nlohmann::json& summary) {
  using report::Html;
  auto text = [](const nlohmann::json& v) {
    return v.is_string() ? v.get<std::string>() : v.dump();
  };
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'\">"
      "<title>tracejail batch: {}</title><style>body{{font-family:sans-serif;margin:2em}}"
      "table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;"
      "text-align:left}}.failed,.invalid,.missing{{background:#fdd}}.high,.critical{{color:#b00;"
      "font-weight:bold}}</style></head><body>\n<h1>tracejail batch</h1>\n<p>Manifest: <code>{}"
      "</code>{}</p>\n",
      Html(text(summary["manifest"])), Html(text(summary["manifest"])),
      summary.contains("shard") ? " &middot; shard " + Html(text(summary["shard"])) : "");
  out += "<h2>Tasks</h2>\n<p id=\"states\">";
  for (const auto& [state, n] : summary["states"].items()) {
    out += fmt::format("<span class=\"state\">{}: <b>{}</b></span> ", Html(state), n.dump());
  }
  out += fmt::format("&middot; denials: <b>{}</b></p>\n", summary["denials"].dump());
  const nlohmann::json& stats = summary["stats"];
  if (stats.contains("risk")) {
    out += "<p id=\"risk\">Risk:";
    for (const auto& [risk, n] : stats["risk"].items()) {
      out += fmt::format(" <span class=\"{}\">{} {}</span>", Html(risk), Html(risk), n.dump());
    }
    out += "</p>\n";
  }
  for (const auto& [key, title] :
       {std::pair{"techniques", "ATT&amp;CK techniques"}, std::pair{"outliers", "Outliers"},
        std::pair{"top_denied_rules", "Most denied rules"}}) {
    if (!stats.contains(key) || stats[key].empty()) continue;
    out += fmt::format("<h2>{}</h2>\n<ul id=\"{}\">\n", title, key);
    for (const auto& e : stats[key]) {
      if (std::string_view(key) == "techniques") {
        out += fmt::format("<li>{} {}: {} task(s)</li>\n", Html(text(e["id"])),
                           Html(text(e["name"])), e["runs"].dump());
      } else if (std::string_view(key) == "outliers") {
        out += fmt::format("<li>{}: {} {} (median {})</li>\n", Html(text(e["file"])),
                           e["value"].dump(), Html(text(e["what"])), e["median"].dump());
      } else {
        out += fmt::format("<li>{}: {}</li>\n", Html(text(e["name"])), e["count"].dump());
      }
    }
    out += "</ul>\n";
  }
  out +=
      "<h2>Every task</h2>\n<table id=\"tasks\"><thead><tr><th>id</th><th>state</th>"
      "<th>status</th><th>exit</th><th>denials</th><th>risk</th><th>seconds</th><th>report</th>"
      "</tr></thead><tbody>\n";
  for (const auto& t : summary["tasks"]) {
    const std::string state = text(t["state"]);
    std::string report;
    if (state == "complete") {
      // An id is letters, digits, '.', '_' and '-' (batch_manifest.h): a safe relative link.
      report = fmt::format("<a href=\"{0}/report.html\">report</a>", Html(text(t["dir"])));
    } else {
      report = Html(text(t.value("why", nlohmann::json(""))));
    }
    out += fmt::format(
        "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>\n",
        Html(state), Html(text(t["id"])), Html(state),
        Html(t.contains("status") ? text(t["status"]) : ""),
        t.contains("exit_code") ? t["exit_code"].dump() : "",
        t.contains("denials") ? t["denials"].dump() : "",
        Html(t.contains("risk") ? text(t["risk"]) : ""),
        Html(t.contains("risk") ? text(t["risk"]) : ""),
        t.contains("wall_time_s") ? fmt::format("{:.2f}", t["wall_time_s"].get<double>()) : "",
        report);
  }
  out += "</tbody></table>\n</body></html>\n";
  return out;
}

}  // namespace cli
