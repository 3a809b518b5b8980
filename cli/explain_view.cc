#include "cli/explain_view.h"

#include <fmt/format.h>

namespace cli {
namespace {

constexpr std::size_t kExamples = 3;

}  // namespace

void ExplainView::operator()(const std::string& /*line*/, const nlohmann::json& record,
                             bool in_file) {
  if (!in_file) return;  // live-only records are allowed decisions
  const report::Technique* t = report::TechniqueOf(record);
  if (t == nullptr) return;
  const auto& d = record.value("decision", nlohmann::json::object());
  // Show the alias next to what it named, when the path was not what it said.
  std::string what = record.value("message", "");
  const auto args_it = record.find("args");
  const nlohmann::json& args =
      args_it != record.end() && args_it->is_object() ? *args_it : nlohmann::json::object();
  for (const auto& [key, value] : args.items()) {
    if (value.is_object() && value.contains("raw") && value["raw"] != value.value("resolved", "")) {
      what = fmt::format("{} \"{}\" names {}", record["syscall"].value("name", "?"),
                         value["raw"].get<std::string>(), value.value("resolved", "?"));
      break;
    }
  }
  // Which race a flood of denials on this target would be.
  if (t->id == "path-rule" || t->id == "path-dotdot" || t->id == "net-rule" ||
      t->id == "alias-net") {
    std::string race = t->id == "path-dotdot" ? "path-cwd-race"
                       : t->id == "path-rule" ? "race-pointer"
                                              : "race-sockaddr";
    std::string target = record.value("message", "");
    for (const auto& [key, value] : args.items()) {
      if (value.is_object() && value.contains("resolved")) target = value.value("resolved", "");
    }
    std::lock_guard lock(mu_);
    ++attempts_[race + "\t" + target];
  }
  std::string example =
      fmt::format("#{} {} {} -> {}{}", record.value("seq", 0), record.value("type", "?"), what,
                  d.value("would", d.value("action", "?")),
                  d.contains("errno") ? " " + d["errno"].get<std::string>() : std::string());
  std::lock_guard lock(mu_);
  for (auto& g : groups_) {
    if (g.technique == t) {
      ++g.count;
      if (g.examples.size() < kExamples) g.examples.push_back(std::move(example));
      return;
    }
  }
  groups_.push_back({t, 1, {std::move(example)}});
}

namespace {

constexpr std::size_t kRaceAttempts = 32;  // denials of one target that suggest a race

}  // namespace

void ExplainView::Print(std::FILE* out) const {
  std::lock_guard lock(mu_);
  if (groups_.empty()) {
    fmt::print(out,
               "tracejail: --explain: nothing was denied or attempted that needs explaining\n");
    return;
  }
  fmt::print(out, "tracejail: what the program tried, and what stopped it (--explain)\n");
  for (const auto& g : groups_) {
    fmt::print(out, "\n  [{}] {} ({} event{})\n", g.technique->id, g.technique->title, g.count,
               g.count == 1 ? "" : "s");
    for (const auto& e : g.examples) fmt::print(out, "    {}\n", e);
    if (g.count > g.examples.size()) {
      fmt::print(out, "    ... and {} more\n", g.count - g.examples.size());
    }
    fmt::print(out, "{}", report::FormatTechnique(*g.technique, "    "));
  }
  for (const auto& [key, count] : attempts_) {
    if (count < kRaceAttempts) continue;
    std::string id = key.substr(0, key.find('\t'));
    std::string target = key.substr(key.find('\t') + 1);
    for (const auto& t : report::Techniques()) {
      if (t.id != id) continue;
      fmt::print(out, "\n  [{}] {} ({} denials of {})\n", t.id, t.title, count, target);
      fmt::print(out,
                 "    So many attempts on one denied target are the signature of a race: the "
                 "calls that were\n    allowed ran on exactly what was checked (their events, "
                 "if any, say race \"pinned\").\n");
      fmt::print(out, "{}", report::FormatTechnique(t, "    "));
    }
  }
}

}  // namespace cli
