#include "report/analysis.h"
#include "base/escape.h"
#include "report/attack.h"
#include "report/event_reader.h"
#include "report/explain.h"
#include "report/json_text.h"
#include "report/record.h"

#include <algorithm>
#include <array>
#include <functional>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

namespace report {
namespace {

std::string Joined(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : std::string(sep)) + item;
  return out;
}

constexpr std::array<std::string_view, 4> kRiskNames{"low", "medium", "high", "critical"};

// Markdown: tracee text must not become markup. Escapes the characters Markdown acts on.
std::string Md(std::string_view raw) {
  const std::string s = base::DisplayText(raw);
  std::string out;
  for (char c : s) {
    if (std::string_view("\\`*_{}[]()<>#+-.!|~").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// How many events a record stands for: a folded record ("repeat") its count, any other one.
std::uint64_t Occurrences(const Event& e) { return e.repeat ? e.repeat->count : 1; }

// A Markdown code span of `text`, verbatim: fenced by one backtick more than the longest run
// inside it (CommonMark), padded where it starts or ends with one. Nothing inside is escaped,
// since a code span would show the escapes.
std::string MdCode(std::string_view text) {
  // Line breaks would end the span's paragraph and controls would reach a terminal showing the
  // file: a tip or rule has none, but a crafted file may, and DisplayText writes them as text.
  std::size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(longest + 1, '`');
  const bool pad = !text.empty() && (text.front() == '`' || text.back() == '`');
  std::string body = base::DisplayText(text);
  return fence + (pad ? " " : "") + body + (pad ? " " : "") + fence;
}

void AddPathUse(Analysis& a, const Event& e, bool denied) {
  const std::uint64_t n = Occurrences(e);
  if (!e.args.is_object()) return;
  for (const auto& [key, value] : e.args.items()) {
    std::optional<PathArg> path = AsPathArg(value);
    if (!path || !path->resolved) continue;
    ResourceUse& use = a.files[*path->resolved];
    use.kinds[path->access] += n;
    if (denied) use.denied += n;
  }
  // Endpoints by their shape (a decoded address names its family), whatever the argument's name.
  for (const auto& [key, value] : e.args.items()) {
    std::optional<AddressArg> addr = AsAddressArg(value);
    if (!addr) continue;
    std::string where = addr->address ? fmt::format("{}:{}", *addr->address, addr->port.value_or(0))
                        : addr->path  ? "unix:" + *addr->path
                        : addr->abstract ? "unix:@" + *addr->abstract
                                         : addr->family.value_or("");
    ResourceUse& use = a.endpoints[where];
    use.kinds[e.syscall ? e.syscall->name : "?"] += n;
    if (denied) use.denied += n;
  }
}

// The capabilities a log_end says the command held, as the report shows them.
std::string CapabilitiesText(const Capabilities& caps) {
  if (caps.inherit) return "inherited from the caller (less CAP_SYS_PTRACE)";
  std::string names;
  for (const auto& c : caps.names) names += (names.empty() ? "" : " ") + c;
  return names.empty() ? "none" : names;
}

}  // namespace

std::string_view Name(Risk r) { return kRiskNames.at(static_cast<std::size_t>(r)); }

std::string CountsText(const std::map<std::string, std::uint64_t>& counts, std::string_view times) {
  std::string out;
  for (const auto& [k, n] : counts)
    out += fmt::format("{}{} {}{}", out.empty() ? "" : ", ", k, times, n);
  return out;
}

std::vector<std::pair<std::string, std::uint64_t>> TopCounts(
    const std::map<std::string, std::uint64_t>& counts, std::size_t n) {
  std::vector<std::pair<std::string, std::uint64_t>> v(counts.begin(), counts.end());
  std::stable_sort(v.begin(), v.end(), [](auto& x, auto& y) { return x.second > y.second; });
  if (v.size() > n) v.resize(n);
  return v;
}

struct Analyzer::State {
  Analysis a;
  std::uint64_t escapes = 0, critical = 0, kills = 0, denied = 0, suspicious = 0, limits = 0;
  std::map<std::string, std::uint64_t> escape_kinds;
  // Denials already listed, by message and rule: one lookup per record, not a scan.
  std::unordered_map<std::string, std::size_t> listed;
  // Executed files already listed, by kind, path and hash.
  std::unordered_map<std::string, std::size_t> executed;
};

Analyzer::Analyzer() : s_(std::make_unique<State>()) {}
Analyzer::~Analyzer() = default;

void Analyzer::Add(const nlohmann::json& record) {
  std::string why;
  if (std::optional<Record> r = ToRecord(record, why)) Add(*r);
}

void Analyzer::Add(const Record& record) {
  Analysis& a = s_->a;
  if (const auto* end = std::get_if<LogEnd>(&record)) {
    if (end->capabilities) a.capabilities = CapabilitiesText(*end->capabilities);
    if (end->policy) a.policy = *end->policy;
    return;
  }
  const Event* event = AsEvent(record);
  if (event == nullptr) {  // a stream notice saved with the records: counted, nothing more
    const std::string type(TypeName(record));
    ++a.records;
    ++a.occurrences;
    ++a.by_type[type];
    if (a.timeline.size() < kMaxTimeline) a.timeline.push_back({0, 0, type, "", ""});
    return;
  }
  const Event& e = *event;
  const std::uint64_t n = Occurrences(e);
  const std::string type(policy::Name(e.type));
  const std::string severity(policy::Name(e.severity));
  ++a.records;
  a.occurrences += n;
  a.by_type[type] += n;
  const std::vector<std::string> attack = AttackOf(e);
  for (const auto& id : attack) a.attack[id] += n;
  if (!a.started && e.time > 0) a.started = e.time;
  if (a.timeline.size() < kMaxTimeline) {
    a.timeline.push_back({e.time, e.pid, type, severity, e.message});
  }
  const int pid = e.pid;
  using policy::EventType;
  const LifecycleArgs args = IsLifecycle(e) ? LifecycleArgsOf(e) : LifecycleArgs{};
  if (e.type == EventType::kProcessStart && !args.thread) {
    ProcessNode& p = a.processes[pid];
    p.pid = pid;
    p.parent = args.parent_pid;
    return;
  }
  if (e.type == EventType::kFileDropped) {
    if (a.dropped.size() < kMaxArtifacts) {
      if (std::optional<Artifact> f = DroppedOf(e)) a.dropped.push_back(std::move(*f));
    } else {
      ++a.artifacts_left_out;
    }
    return;
  }
  if (e.type == EventType::kProcessExec) {
    for (Artifact& x : ExecutedOf(e)) {
      auto [at, fresh] =
          s_->executed.try_emplace(x.kind + '\0' + x.path + '\0' + x.sha256, a.executed.size());
      if (!fresh) {
        a.executed[at->second].count += n;
      } else if (a.executed.size() < kMaxArtifacts) {
        a.executed.push_back(std::move(x));
      } else {
        s_->executed.erase(at);
        ++a.artifacts_left_out;
      }
    }
    std::string line = args.exe;
    for (const auto& arg : args.argv) line += " " + arg;
    a.processes[pid].pid = pid;
    a.processes[pid].execs.push_back(line);
    if (a.command.empty()) {
      for (const auto& arg : args.argv) a.command += (a.command.empty() ? "" : " ") + arg;
    }
    return;
  }
  if (e.type == EventType::kProcessExit) {
    if (args.thread) return;
    ProcessNode& p = a.processes[pid];
    p.pid = pid;
    if (args.exit_code) p.exit_code = *args.exit_code;
    p.signal = args.signal.value_or("");
    return;
  }
  const std::string syscall = e.syscall ? e.syscall->name : "";
  if (!syscall.empty()) a.syscalls[syscall] += n;
  const policy::Action effective = Effective(e);
  const bool is_denial = effective != policy::Action::kAllow;
  AddPathUse(a, e, is_denial);
  const bool escape = e.type == EventType::kEscapeAttempt;
  const bool suspicious = e.type == EventType::kSuspiciousBehavior;
  if (!is_denial && !escape && !suspicious) return;
  if (escape) {
    s_->escapes += n;
    s_->escape_kinds[syscall.empty() ? e.message : syscall] += n;
  }
  // A limit that stopped the program is containment working, not an attack on the sandbox.
  const bool limit = IsLimit(e);
  if (limit) s_->limits += n;
  if (e.severity == policy::Severity::kCritical) s_->critical += n;
  if (effective == policy::Action::kKill && !limit) s_->kills += n;
  if (suspicious) s_->suspicious += n;
  if (is_denial && !limit) s_->denied += n;
  std::string what = e.message;
  std::string rule = e.rule;
  auto [same, fresh] = s_->listed.try_emplace(what + '\0' + rule, a.denials.size());
  if (!fresh) {
    a.denials[same->second].repeats += n;
    return;
  }
  Denial d{e.seq,
           type,
           severity,
           syscall,
           std::move(what),
           std::move(rule),
           escape,
           e.tip.is_null() ? std::string() : DumpJson(e.tip, -1),
           n};
  if (const Technique* t = TechniqueOf(e)) d.technique = std::string(t->id);
  d.attack = attack;
  d.called_from = CalledFrom(e.stack);
  a.denials.push_back(std::move(d));
}

Analysis Analyzer::Finish() {
  Analysis& a = s_->a;
  s_->listed.clear();
  const State& c = *s_;
  // Risk from the worst thing that happened, not from how many things happened.
  std::string kinds;
  for (const auto& [k, n] : c.escape_kinds) kinds += (kinds.empty() ? "" : ", ") + k;
  if (c.critical > 0 || c.kills > 0) {
    a.risk = Risk::kCritical;
    if (c.critical > 0) {
      a.reasons.push_back(
          fmt::format("{} critical event(s): an attempt that only makes sense to "
                      "break out of a sandbox",
                      c.critical));
    }
    if (c.kills > 0)
      a.reasons.push_back(fmt::format("{} call(s) so serious the policy kills", c.kills));
  } else if (c.escapes > 0) {
    a.risk = Risk::kHigh;
    a.reasons.push_back(
        fmt::format("{} escape attempt(s) ({}): one outranks any number of "
                    "ordinary denials",
                    c.escapes, kinds));
  } else if (c.denied > 0 || c.suspicious > 0 || c.limits > 0) {
    a.risk = Risk::kMedium;
    if (c.denied > 0 || c.suspicious > 0) {
      a.reasons.push_back(fmt::format(
          "{} denied access(es) to files or addresses, no escape attempt: the program reached "
          "for something the policy keeps out",
          c.denied));
    }
    if (c.limits > 0) {
      a.reasons.push_back(fmt::format(
          "{} resource limit(s) hit: the program was contained, and may be runaway or hostile",
          c.limits));
    }
  } else {
    a.reasons.push_back("nothing was denied and nothing tried to leave the sandbox");
  }
  std::stable_sort(a.denials.begin(), a.denials.end(), [](const Denial& x, const Denial& y) {
    return x.looks_like_escape > y.looks_like_escape;
  });
  return std::move(a);
}

std::string CalledFrom(const nlohmann::json& stack) {
  if (!stack.is_object()) return "";
  // "file:line in function" of a frame, when its fields have the right types ("" when not).
  auto where = [](const nlohmann::json& f) -> std::string {
    if (!f.is_object() || !f.contains("file") || !f["file"].is_string()) return "";
    std::string out = f["file"].get<std::string>();
    if (f.contains("line") && f["line"].is_number_integer()) {
      out += ":" + std::to_string(f["line"].get<std::int64_t>());
    }
    if (f.contains("function") && f["function"].is_string()) {
      out += " in " + f["function"].get<std::string>();
    }
    return out;
  };
  if (auto it = stack.find("python"); it != stack.end() && it->is_array() && !it->empty()) {
    return where(it->front());
  }
  if (auto it = stack.find("frames"); it != stack.end() && it->is_array()) {
    for (const auto& f : *it) {
      if (f.is_object() && f.contains("line")) return where(f);
    }
  }
  return "";
}

Analysis Analyze(const std::vector<nlohmann::json>& events) {
  Analyzer analyzer;
  for (const auto& e : events) analyzer.Add(e);
  return analyzer.Finish();
}

Analysis AnalyzeFile(std::istream& in, EventsScan& scan) {
  Analyzer analyzer;
  scan = ForEachTypedRecord(in, [&analyzer](Record&& record) { analyzer.Add(record); });
  return analyzer.Finish();
}

std::string RenderText(const Analysis& a) {
  std::string out;
  RenderText(a, out, {});
  return out;
}

void RenderText(const Analysis& a, std::string& out, const Spill& spill) {
  out += fmt::format("Risk: {}\n", Name(a.risk));
  for (const auto& r : a.reasons) out += "  because " + base::DisplayText(r) + "\n";
  if (!a.capabilities.empty()) {
    out += "Capabilities in force: " + base::DisplayText(a.capabilities) + "\n";
  }
  out += a.occurrences == a.records
             ? fmt::format("\nEvents: {}\n", a.records)
             : fmt::format("\nEvents: {} ({} records: repeats folded)\n", a.occurrences, a.records);
  for (const auto& [type, n] : a.by_type) {
    out += fmt::format("  {:<24} {}\n", base::DisplayText(type), n);
  }
  out += "\nDenied:\n";
  if (a.denials.empty()) out += "  nothing\n";
  for (const auto& d : a.denials) {
    out += fmt::format("  #{} {} {}{}: {}\n      rule: {}\n", d.seq, d.type,
                       d.looks_like_escape ? "[looks like an escape] " : "",
                       d.repeats > 1 ? fmt::format("(x{})", d.repeats) : "",
                       base::DisplayText(d.what), base::DisplayText(d.rule));
    if (!d.called_from.empty()) {
      out += "      called from: " + base::DisplayText(d.called_from) + "\n";
    }
    if (!d.attack.empty()) out += "      ATT&CK: " + Joined(d.attack, " ") + "\n";
    if (!d.tip.empty()) {
      out += fmt::format("      {}: {}\n",
                         d.looks_like_escape ? "allow only if intended (it is an escape primitive)"
                                             : "if intended, allow with",
                         TipForDisplay(d.tip));
    }
    MaybeSpill(out, spill);
  }
  if (!a.attack.empty()) {
    out += "\nMITRE ATT&CK:\n";
    for (const auto& [id, n] : a.attack) {
      out += fmt::format("  {:<10} {:<6} {}\n", base::DisplayText(id), n,
                         base::DisplayText(AttackName(id)));
    }
  }
  for (const auto& [title, resources] :
       {std::pair{"Files", &a.files}, std::pair{"Endpoints", &a.endpoints}}) {
    out += fmt::format("\n{}:\n", title);
    for (const auto& [name, use] : *resources) {
      out += fmt::format("  {}  ({}{})\n", base::DisplayText(name),
                         base::DisplayText(CountsText(use.kinds, "x")),
                         use.denied ? fmt::format("; {} denied", use.denied) : "");
      MaybeSpill(out, spill);
    }
  }
  for (const auto& [title, list] :
       {std::pair{"Executed (sha256, size, mode, path)", &a.executed},
        std::pair{"Dropped (created, changed or removed)", &a.dropped}}) {
    if (list->empty()) continue;
    out += fmt::format("\n{}:\n", title);
    for (const Artifact& x : *list) {
      out += "  " + ArtifactLine(x) + "\n";
      MaybeSpill(out, spill);
    }
  }
  if (a.artifacts_left_out > 0) {
    out += fmt::format("  ... and {} more not listed\n", a.artifacts_left_out);
  }
  out += "\nTop syscalls:\n";
  for (const auto& [name, n] : TopCounts(a.syscalls, 10)) {
    out += fmt::format("  {:<20} {}\n", base::DisplayText(name), n);
  }
  out += "\nProcess tree:\n";
  // Linear in the processes whatever the tree's shape: children indexed once, walked with an
  // explicit stack, and indentation capped (a 25,000-deep fork chain would otherwise print
  // gigabytes of spaces and recurse as deep). Processes in a parent cycle (a crafted file) are
  // shown as roots, once.
  constexpr std::size_t kMaxIndent = 32;
  std::map<int, std::vector<int>> children;
  for (const auto& [pid, node] : a.processes) {
    if (node.parent != pid && a.processes.contains(node.parent)) {
      children[node.parent].push_back(pid);
    }
  }
  std::set<int> shown;
  auto show_tree = [&](int root) {
    std::vector<std::pair<int, std::size_t>> stack{{root, 0}};
    while (!stack.empty()) {
      auto [pid, depth] = stack.back();
      stack.pop_back();
      if (!shown.insert(pid).second) continue;
      const ProcessNode& p = a.processes.at(pid);
      std::string status = p.exit_code         ? fmt::format("exit {}", *p.exit_code)
                           : !p.signal.empty() ? base::DisplayText(p.signal)
                                               : "running at the end";
      std::string indent(std::min(depth, kMaxIndent) * 2, ' ');
      std::string level = depth > kMaxIndent ? fmt::format("(depth {}) ", depth) : "";
      out += fmt::format("  {}{}{} [{}]\n", indent, level, pid, status);
      MaybeSpill(out, spill);
      for (const auto& ex : p.execs) {
        out += fmt::format("  {}  exec {}\n", indent, base::DisplayText(ex));
      }
      if (auto it = children.find(pid); it != children.end()) {
        for (auto c = it->second.rbegin(); c != it->second.rend(); ++c) {
          stack.emplace_back(*c, depth + 1);
        }
      }
    }
  };
  for (const auto& [pid, node] : a.processes) {
    if (!a.processes.contains(node.parent) || node.parent == pid) show_tree(pid);
  }
  for (const auto& [pid, node] : a.processes) {
    if (!shown.contains(pid)) show_tree(pid);
  }
}

std::string RenderMarkdown(const Analysis& a) {
  std::string out;
  RenderMarkdown(a, out, {});
  return out;
}

void RenderMarkdown(const Analysis& a, std::string& out, const Spill& spill) {
  out += fmt::format("# tracejail report\n\n**Risk: {}**\n\n", Name(a.risk));
  for (const auto& r : a.reasons) out += "- " + Md(r) + "\n";
  if (!a.capabilities.empty()) out += "\nCapabilities in force: " + Md(a.capabilities) + "\n";
  out += "\n## Events\n\n| type | count |\n|---|---|\n";
  for (const auto& [type, n] : a.by_type) out += fmt::format("| {} | {} |\n", Md(type), n);
  out += "\n## Denied\n\n";
  if (a.denials.empty()) out += "Nothing was denied.\n";
  for (const auto& d : a.denials) {
    out += fmt::format("- **{}**{}{}: {}  \n  rule {}\n", Md(d.type),
                       d.looks_like_escape ? " (looks like an escape)" : "",
                       d.repeats > 1 ? fmt::format(" ×{}", d.repeats) : "", Md(d.what),
                       MdCode(d.rule));
    // A code span shows its text as is: the tip pastes into a policy without edits.
    if (!d.called_from.empty()) out += fmt::format("  called from {}\n", Md(d.called_from));
    if (!d.tip.empty()) out += fmt::format("  allow with: {}\n", MdCode(TipForDisplay(d.tip)));
    if (!d.attack.empty()) out += fmt::format("  ATT&CK: {}\n", Md(Joined(d.attack, " ")));
    MaybeSpill(out, spill);
  }
  if (!a.attack.empty()) {
    out += "\n## MITRE ATT&CK\n\n| technique | name | events |\n|---|---|---|\n";
    for (const auto& [id, n] : a.attack) {
      out += fmt::format("| {} | {} | {} |\n", Md(id), Md(std::string(AttackName(id))), n);
    }
  }
  for (const auto& [heading, resources] :
       {std::pair{"## Files\n\n| path | accesses | denied |", &a.files},
        std::pair{"## Endpoints\n\n| endpoint | calls | denied |", &a.endpoints}}) {
    out += fmt::format("\n{}\n|---|---|---|\n", heading);
    for (const auto& [name, use] : *resources) {
      // ", " and " ×N" hold no Markdown punctuation, so escaping the joined text is the same
      // as escaping each access kind.
      out +=
          fmt::format("| {} | {} | {} |\n", Md(name), Md(CountsText(use.kinds, "×")), use.denied);
      MaybeSpill(out, spill);
    }
  }
  for (const auto& [heading, list] :
       {std::pair{"## Executed", &a.executed}, std::pair{"## Dropped", &a.dropped}}) {
    if (list->empty()) continue;
    out += fmt::format(
        "\n{}\n\n| path | kind | sha256 | size | mode | note |\n|---|---|---|---|---|---|\n",
        heading);
    for (const Artifact& x : *list) {
      const std::string kind = ArtifactKindText(x);
      const std::string note = ArtifactNoteText(x);
      out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", Md(x.path), Md(kind),
                         x.sha256.empty() ? "" : MdCode(x.sha256),
                         x.size ? std::to_string(*x.size) : "", Md(x.mode), Md(note));
      MaybeSpill(out, spill);
    }
  }
  out += "\n## Processes\n\n";
  for (const auto& [pid, p] : a.processes) {
    out += fmt::format("- {} (parent {}){}\n", pid, p.parent,
                       p.exit_code         ? fmt::format(", exit {}", *p.exit_code)
                       : !p.signal.empty() ? ", " + p.signal
                                           : "");
    for (const auto& ex : p.execs) out += "  - exec " + Md(ex) + "\n";
    MaybeSpill(out, spill);
  }
}

void RunStats::Add(const std::string& file, const Analysis& a) {
  ++runs_;
  ++risks_[std::string(Name(a.risk))];
  for (const auto& [t, n] : a.by_type) types_[t] += n;
  for (const auto& [c, n] : a.syscalls) syscalls_[c] += n;
  for (const auto& d : a.denials) {
    denied_rules_[d.rule] += d.repeats;
    denials_ += d.repeats;
  }
  for (const auto& [path, use] : a.files) {
    if (use.denied > 0) denied_files_[path] += use.denied;
  }
  std::uint64_t denials = 0;
  for (const auto& d : a.denials) denials += d.repeats;
  for (const auto& [id, n] : a.attack) {
    ++technique_runs_[id];
    technique_events_[id] += n;
  }
  per_run_.push_back(
      {{"file", file}, {"risk", Name(a.risk)}, {"events", a.occurrences}, {"denials", denials}});
}

namespace {

// The runs far above the median in `key` (events, denials): more than 3 times it and at least
// 20 more, the furthest first, at most 10.
nlohmann::json Outliers(const nlohmann::json& per_run, const char* key) {
  std::vector<std::uint64_t> values;
  for (const auto& r : per_run) values.push_back(r.value(key, std::uint64_t{0}));
  nlohmann::json out = nlohmann::json::array();
  if (values.size() < 3) return out;  // no "others" to stand out from
  std::vector<std::uint64_t> sorted = values;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(sorted.size() / 2),
                   sorted.end());
  const std::uint64_t median = sorted[sorted.size() / 2];
  std::vector<std::size_t> far;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] > 3 * median && values[i] >= median + 20) far.push_back(i);
  }
  std::stable_sort(far.begin(), far.end(),
                   [&](std::size_t x, std::size_t y) { return values[x] > values[y]; });
  if (far.size() > 10) far.resize(10);
  for (std::size_t i : far) {
    out.push_back(
        {{"file", per_run[i]["file"]}, {"what", key}, {"value", values[i]}, {"median", median}});
  }
  return out;
}

}  // namespace

nlohmann::json RunStats::Json() const {
  auto top = [](const std::map<std::string, std::uint64_t>& m, std::size_t n) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& [k, c] : TopCounts(m, n)) j.push_back({{"name", k}, {"count", c}});
    return j;
  };
  nlohmann::json s;
  s["schema_version"] = kSchemaVersion;
  s["runs"] = runs_;
  s["risk"] = risks_;
  s["events_by_type"] = types_;
  s["denials"] = denials_;
  s["top_denied_rules"] = top(denied_rules_, 10);
  s["top_denied_files"] = top(denied_files_, 10);
  s["top_syscalls"] = top(syscalls_, 10);
  nlohmann::json techniques = nlohmann::json::array();
  for (const auto& [id, runs] : technique_runs_) {
    std::string name;
    for (const auto& t : AttackNames()) {
      if (t.id == id) name = t.name;
    }
    techniques.push_back(
        {{"id", id}, {"name", name}, {"runs", runs}, {"events", technique_events_.at(id)}});
  }
  std::stable_sort(techniques.begin(), techniques.end(),
                   [](const nlohmann::json& x, const nlohmann::json& y) {
                     return x["runs"].get<std::uint64_t>() > y["runs"].get<std::uint64_t>();
                   });
  s["techniques"] = std::move(techniques);
  nlohmann::json outliers = Outliers(per_run_, "events");
  for (auto& o : Outliers(per_run_, "denials")) outliers.push_back(std::move(o));
  s["outliers"] = std::move(outliers);
  s["per_run"] = per_run_;
  return s;
}

nlohmann::json AggregateRuns(const std::vector<std::pair<std::string, Analysis>>& runs) {
  RunStats stats;
  for (const auto& [file, a] : runs) stats.Add(file, a);
  return stats.Json();
}

std::string RenderStatsText(const nlohmann::json& s) {
  std::string out = fmt::format("Runs: {}\nRisk:", s["runs"].get<std::uint64_t>());
  for (const auto& [k, v] : s["risk"].items()) {
    out += fmt::format(" {} {}", base::DisplayText(k), v.get<std::uint64_t>());
  }
  out += fmt::format("\nDenials: {}\nEvents by type:\n", s["denials"].get<std::uint64_t>());
  for (const auto& [k, v] : s["events_by_type"].items()) {
    out += fmt::format("  {:<24} {}\n", base::DisplayText(k), v.get<std::uint64_t>());
  }
  if (s.contains("techniques") && !s["techniques"].empty()) {
    out += "\nATT&CK techniques (runs showing each):\n";
    for (const auto& t : s["techniques"]) {
      out += fmt::format("  {:>6}  {} {}\n", t["runs"].get<std::uint64_t>(),
                         base::DisplayText(t["id"].get<std::string>()),
                         base::DisplayText(t["name"].get<std::string>()));
    }
  }
  if (s.contains("outliers") && !s["outliers"].empty()) {
    out += "\nOutliers (far above the median run):\n";
    for (const auto& o : s["outliers"]) {
      out +=
          fmt::format("  {}: {} {} (median {})\n", base::DisplayText(o["file"].get<std::string>()),
                      o["value"].get<std::uint64_t>(), o["what"].get<std::string>(),
                      o["median"].get<std::uint64_t>());
    }
  }
  for (const char* key : {"top_denied_rules", "top_denied_files", "top_syscalls"}) {
    out += std::string("\n") + key + ":\n";
    for (const auto& e : s[key]) {
      out += fmt::format("  {:>6}  {}\n", e["count"].get<std::uint64_t>(),
                         base::DisplayText(e["name"].get<std::string>()));
    }
  }
  return out;
}

std::string RenderJson(const Analysis& a, const nlohmann::json& extra, int depth) {
  std::string out;
  RenderJson(a, extra, depth, out, {});
  return out;
}

void RenderJson(const Analysis& a, const nlohmann::json& extra, int depth, std::string& out,
                const Spill& spill) {
  JsonText w(out, depth, spill);
  w.Open('{');
  w.Value(kSchemaVersion, "schema_version");
  w.Value(Name(a.risk), "risk");
  w.Value(a.reasons, "reasons");
  if (!a.capabilities.empty()) w.Value(a.capabilities, "capabilities");
  w.Value(a.occurrences, "events");
  w.Value(a.records, "records");
  w.Value(a.by_type, "by_type");
  w.Value(a.attack, "attack");
  w.Open('[', "denials");
  for (const auto& d : a.denials) {
    nlohmann::json denial = {
        {"seq", d.seq},
        {"type", d.type},
        {"severity", d.severity},
        {"syscall", d.syscall},
        {"what", d.what},
        {"rule", d.rule},
        {"looks_like_escape", d.looks_like_escape},
        {"repeats", d.repeats},
        {"technique", d.technique},
        {"attack", d.attack},
        {"tip", d.tip.empty() ? nlohmann::json() : nlohmann::json::parse(d.tip)}};
    if (!d.called_from.empty()) denial["called_from"] = d.called_from;  // only with a stack
    w.Value(denial);
  }
  w.Close();
  w.Open('{', "files");
  for (const auto& [path, use] : a.files) {
    w.Value({{"accesses", use.kinds}, {"denied", use.denied}}, path);
  }
  w.Close();
  w.Open('{', "endpoints");
  for (const auto& [where, use] : a.endpoints) {
    w.Value({{"calls", use.kinds}, {"denied", use.denied}}, where);
  }
  w.Close();
  for (const auto& [key, list] :
       {std::pair{"executed", &a.executed}, std::pair{"dropped", &a.dropped}}) {
    // Only when the events record them: a report of an older run is as it was.
    if (list->empty()) continue;
    w.Open('[', key);
    for (const Artifact& x : *list) {
      nlohmann::json j = ToJson(x);
      if (x.count > 1) j["count"] = x.count;
      w.Value(j);
    }
    w.Close();
  }
  w.Value(a.syscalls, "syscalls");
  w.Open('[', "processes");
  for (const auto& [pid, p] : a.processes) {
    nlohmann::json n = {{"pid", pid}, {"parent", p.parent}, {"execs", p.execs}};
    if (p.exit_code) n["exit_code"] = *p.exit_code;
    if (!p.signal.empty()) n["signal"] = p.signal;
    w.Value(n);
  }
  w.Close();
  for (const auto& [key, value] : extra.items()) w.Value(value, key);
  w.Close();
}

std::string TipForDisplay(const std::string& tip) {
  return base::JsonForDisplay(nlohmann::json::parse(tip));
}

}  // namespace report
