#include "cli/explain_view.h"

#include <fmt/format.h>

#include "policy/names.h"
#include "report/event_reader.h"

namespace cli {
namespace {

constexpr std::size_t kExamples = 3;

}  // namespace

void ExplainView::operator()(const std::string& /*line*/, const nlohmann::json& record,
                             bool in_file) {
  if (!in_file) return;  // live-only records are allowed decisions
  std::string why;
  const std::optional<report::Record> r = report::ToRecord(record, why);
  if (const report::Event* e = r ? report::AsEvent(*r) : nullptr) Add(*e);
}

void ExplainView::Add(const report::Event& e) {
  const report::Technique* t = report::TechniqueOf(e);
  if (t == nullptr) return;
  std::vector<report::PathArg> paths;
  if (e.args.is_object()) {
    for (const auto& [key, value] : e.args.items()) {
      if (auto p = report::AsPathArg(value)) paths.push_back(std::move(*p));
    }
  }
  // Show the alias next to what it named, when the path was not what it said.
  std::string what = e.message;
  for (const report::PathArg& p : paths) {
    if (p.raw && *p.raw != p.resolved.value_or("")) {
      what = fmt::format("{} \"{}\" names {}", e.syscall ? e.syscall->name : "?", *p.raw,
                         p.resolved.value_or("?"));
      break;
    }
  }
  // Which race a flood of denials on this target would be.
  if (t->id == "path-rule" || t->id == "path-dotdot" || t->id == "net-rule" ||
      t->id == "alias-net") {
    std::string race = t->id == "path-dotdot" ? "path-cwd-race"
                       : t->id == "path-rule" ? "race-pointer"
                                              : "race-sockaddr";
    std::string target = e.message;
    for (const report::PathArg& p : paths) {
      if (p.resolved) target = *p.resolved;
    }
    std::lock_guard lock(mu_);
    ++attempts_[race + "\t" + target];
  }
  std::string example = fmt::format(
      "#{} {} {} -> {}{}", e.seq, policy::Name(e.type), what, policy::Name(report::Effective(e)),
      e.error != 0 ? " " + policy::ErrnoName(e.error) : std::string());
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
