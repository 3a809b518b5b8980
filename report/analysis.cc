#include "report/analysis.h"
#include "report/escape.h"
#include "report/event_reader.h"
#include "report/explain.h"

#include <algorithm>
#include <array>
#include <functional>
#include <set>

#include <fmt/format.h>

namespace report {
namespace {

constexpr std::array<std::string_view, 4> kRiskNames{"low", "medium", "high", "critical"};

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Markdown: tracee text must not become markup. Escapes the characters Markdown acts on.
std::string Md(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\`*_{}[]()<>#+-.!|~").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// How many events a record stands for: a folded record ("repeat") its count, any other one.
std::uint64_t Occurrences(const nlohmann::json& e) {
  auto it = e.find("repeat");
  if (it == e.end() || !it->is_object()) return 1;
  auto count = it->find("count");
  return count != it->end() && count->is_number_unsigned() && count->get<std::uint64_t>() > 0
             ? count->get<std::uint64_t>()
             : 1;
}

// A Markdown code span of `text`, verbatim: fenced by one backtick more than the longest run
// inside it (CommonMark), padded where it starts or ends with one. Nothing inside is escaped,
// since a code span would show the escapes.
std::string MdCode(std::string_view text) {
  std::size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(longest + 1, '`');
  const bool pad = !text.empty() && (text.front() == '`' || text.back() == '`');
  // Line breaks would end the span's paragraph: a tip or rule has none, but a crafted file may.
  std::string body(text);
  std::replace(body.begin(), body.end(), '\n', ' ');
  return fence + (pad ? " " : "") + body + (pad ? " " : "") + fence;
}

void AddPathUse(Analysis& a, const nlohmann::json& e, bool denied) {
  const std::uint64_t n = Occurrences(e);
  const nlohmann::json& args = e.value("args", nlohmann::json::object());
  for (const auto& [key, value] : args.items()) {
    if (!value.is_object() || !value.contains("resolved")) continue;
    ResourceUse& use = a.files[Str(value, "resolved")];
    use.kinds[Str(value, "access")] += n;
    if (denied) use.denied += n;
  }
  for (const char* key : {"addr", "dest_addr", "msg", "msgvec"}) {
    auto it = args.find(key);
    if (it == args.end() || !it->is_object()) continue;
    std::string where = it->contains("address")
                            ? fmt::format("{}:{}", Str(*it, "address"), it->value("port", 0))
                        : it->contains("path")     ? "unix:" + Str(*it, "path")
                        : it->contains("abstract") ? "unix:@" + Str(*it, "abstract")
                                                   : Str(*it, "family");
    ResourceUse& use = a.endpoints[where];
    use.kinds[e.contains("syscall") ? Str(e["syscall"], "name") : "?"] += n;
    if (denied) use.denied += n;
  }
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

Analysis Analyze(const std::vector<nlohmann::json>& events) {
  Analysis a;
  std::uint64_t escapes = 0, critical = 0, kills = 0, denied = 0, suspicious = 0, limits = 0;
  std::map<std::string, std::uint64_t> escape_kinds;
  // Denials already listed, by message and rule: one lookup per record, not a scan.
  std::map<std::pair<std::string, std::string>, std::size_t> listed;
  for (const auto& e : events) {
    std::string type = Str(e, "type");
    if (type == "log_end") {
      const nlohmann::json caps = e.value("capabilities", nlohmann::json());
      if (caps.is_string() && caps.get<std::string>() == "inherit") {
        a.capabilities = "inherited from the caller (less CAP_SYS_PTRACE)";
      } else if (caps.is_array()) {
        std::string names;
        for (const auto& c : caps) {
          if (c.is_string()) names += (names.empty() ? "" : " ") + c.get<std::string>();
        }
        a.capabilities = names.empty() ? "none" : names;
      }
      continue;
    }
    const std::uint64_t n = Occurrences(e);
    ++a.records;
    a.occurrences += n;
    a.by_type[type] += n;
    a.timeline.push_back(
        {e.value("time", 0.0), e.value("pid", 0), type, Str(e, "severity"), Str(e, "message")});
    int pid = e.value("pid", 0);
    const nlohmann::json& args = e.value("args", nlohmann::json::object());
    if (type == "process_start" && !args.value("thread", false)) {
      ProcessNode& p = a.processes[pid];
      p.pid = pid;
      p.parent = args.value("parent_pid", 0);
      continue;
    }
    if (type == "process_exec") {
      std::string line = Str(args, "exe");
      for (const auto& arg : args.value("argv", nlohmann::json::array())) {
        if (arg.is_string()) line += " " + arg.get<std::string>();
      }
      a.processes[pid].pid = pid;
      a.processes[pid].execs.push_back(line);
      continue;
    }
    if (type == "process_exit") {
      if (args.value("thread", false)) continue;
      ProcessNode& p = a.processes[pid];
      p.pid = pid;
      if (args.contains("exit_code")) p.exit_code = args["exit_code"].get<int>();
      p.signal = Str(args, "signal");
      continue;
    }
    std::string syscall = e.contains("syscall") ? Str(e["syscall"], "name") : "";
    if (!syscall.empty()) a.syscalls[syscall] += n;
    const nlohmann::json& decision = e.value("decision", nlohmann::json::object());
    std::string action = Str(decision, "action");
    std::string would = Str(decision, "would");
    std::string effective = would.empty() ? action : would;
    bool is_denial = effective == "deny" || effective == "kill";
    AddPathUse(a, e, is_denial);
    if (!is_denial && type != "escape_attempt" && type != "suspicious_behavior") continue;
    std::string severity = Str(e, "severity");
    if (type == "escape_attempt") {
      escapes += n;
      std::string msg = Str(e, "message");
      escape_kinds[syscall.empty() ? msg : syscall] += n;
    }
    // A limit that stopped the program is containment working, not an attack on the sandbox.
    bool limit = type == "resource_limit_exceeded" || type == "timeout_exceeded";
    if (limit) limits += n;
    if (severity == "critical") critical += n;
    if (effective == "kill" && !limit) kills += n;
    if (type == "suspicious_behavior") suspicious += n;
    if (is_denial && !limit) denied += n;
    Denial d{e.value("seq", std::uint64_t{0}),
             type,
             severity,
             syscall,
             Str(e, "message"),
             Str(decision, "rule"),
             type == "escape_attempt",
             e.value("tip", nlohmann::json())};
    if (const Technique* t = Explain(e)) d.technique = std::string(t->id);
    auto [same, fresh] = listed.try_emplace({d.what, d.rule}, a.denials.size());
    if (!fresh) {
      a.denials[same->second].repeats += n;
    } else {
      d.repeats = n;
      a.denials.push_back(std::move(d));
    }
  }
  // Risk from the worst thing that happened, not from how many things happened.
  std::string kinds;
  for (const auto& [k, n] : escape_kinds) kinds += (kinds.empty() ? "" : ", ") + k;
  if (critical > 0 || kills > 0) {
    a.risk = Risk::kCritical;
    if (critical > 0) {
      a.reasons.push_back(
          fmt::format("{} critical event(s): an attempt that only makes sense to "
                      "break out of a sandbox",
                      critical));
    }
    if (kills > 0)
      a.reasons.push_back(fmt::format("{} call(s) so serious the policy kills", kills));
  } else if (escapes > 0) {
    a.risk = Risk::kHigh;
    a.reasons.push_back(
        fmt::format("{} escape attempt(s) ({}): one outranks any number of "
                    "ordinary denials",
                    escapes, kinds));
  } else if (denied > 0 || suspicious > 0 || limits > 0) {
    a.risk = Risk::kMedium;
    if (denied > 0 || suspicious > 0) {
      a.reasons.push_back(fmt::format(
          "{} denied access(es) to files or addresses, no escape attempt: the program reached "
          "for something the policy keeps out",
          denied));
    }
    if (limits > 0) {
      a.reasons.push_back(fmt::format(
          "{} resource limit(s) hit: the program was contained, and may be runaway or hostile",
          limits));
    }
  } else {
    a.reasons.push_back("nothing was denied and nothing tried to leave the sandbox");
  }
  std::stable_sort(a.denials.begin(), a.denials.end(), [](const Denial& x, const Denial& y) {
    return x.looks_like_escape > y.looks_like_escape;
  });
  return a;
}

std::string RenderText(const Analysis& a) {
  std::string out = fmt::format("Risk: {}\n", Name(a.risk));
  for (const auto& r : a.reasons) out += "  because " + r + "\n";
  if (!a.capabilities.empty()) out += "Capabilities in force: " + a.capabilities + "\n";
  out += a.occurrences == a.records
             ? fmt::format("\nEvents: {}\n", a.records)
             : fmt::format("\nEvents: {} ({} records: repeats folded)\n", a.occurrences, a.records);
  for (const auto& [type, n] : a.by_type) out += fmt::format("  {:<24} {}\n", type, n);
  out += "\nDenied:\n";
  if (a.denials.empty()) out += "  nothing\n";
  for (const auto& d : a.denials) {
    out += fmt::format("  #{} {} {}{}: {}\n      rule: {}\n", d.seq, d.type,
                       d.looks_like_escape ? "[looks like an escape] " : "",
                       d.repeats > 1 ? fmt::format("(x{})", d.repeats) : "", d.what, d.rule);
    if (!d.tip.is_null()) {
      out += fmt::format("      {}: {}\n",
                         d.looks_like_escape ? "allow only if intended (it is an escape primitive)"
                                             : "if intended, allow with",
                         JsonForDisplay(d.tip));
    }
  }
  for (const auto& [title, resources] :
       {std::pair{"Files", &a.files}, std::pair{"Endpoints", &a.endpoints}}) {
    out += fmt::format("\n{}:\n", title);
    for (const auto& [name, use] : *resources) {
      out += fmt::format("  {}  ({}{})\n", name, CountsText(use.kinds, "x"),
                         use.denied ? fmt::format("; {} denied", use.denied) : "");
    }
  }
  out += "\nTop syscalls:\n";
  for (const auto& [name, n] : TopCounts(a.syscalls, 10)) {
    out += fmt::format("  {:<20} {}\n", name, n);
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
                           : !p.signal.empty() ? p.signal
                                               : "running at the end";
      std::string indent(std::min(depth, kMaxIndent) * 2, ' ');
      std::string level = depth > kMaxIndent ? fmt::format("(depth {}) ", depth) : "";
      out += fmt::format("  {}{}{} [{}]\n", indent, level, pid, status);
      for (const auto& ex : p.execs) out += fmt::format("  {}  exec {}\n", indent, ex);
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
  return out;
}

std::string RenderMarkdown(const Analysis& a) {
  std::string out = fmt::format("# tracejail report\n\n**Risk: {}**\n\n", Name(a.risk));
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
    if (!d.tip.is_null()) out += fmt::format("  allow with: {}\n", MdCode(JsonForDisplay(d.tip)));
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
    }
  }
  out += "\n## Processes\n\n";
  for (const auto& [pid, p] : a.processes) {
    out += fmt::format("- {} (parent {}){}\n", pid, p.parent,
                       p.exit_code         ? fmt::format(", exit {}", *p.exit_code)
                       : !p.signal.empty() ? ", " + p.signal
                                           : "");
    for (const auto& ex : p.execs) out += "  - exec " + Md(ex) + "\n";
  }
  return out;
}

nlohmann::json AggregateRuns(const std::vector<std::pair<std::string, Analysis>>& runs) {
  nlohmann::json s;
  s["runs"] = runs.size();
  std::map<std::string, std::uint64_t> risks, types, syscalls, denied_rules, denied_files;
  std::uint64_t denials = 0;
  nlohmann::json per_run = nlohmann::json::array();
  for (const auto& [file, a] : runs) {
    ++risks[std::string(Name(a.risk))];
    for (const auto& [t, n] : a.by_type) types[t] += n;
    for (const auto& [c, n] : a.syscalls) syscalls[c] += n;
    for (const auto& d : a.denials) {
      denied_rules[d.rule] += d.repeats;
      denials += d.repeats;
    }
    for (const auto& [path, use] : a.files) {
      if (use.denied > 0) denied_files[path] += use.denied;
    }
    per_run.push_back({{"file", file}, {"risk", Name(a.risk)}, {"events", a.occurrences}});
  }
  auto top = [](const std::map<std::string, std::uint64_t>& m, std::size_t n) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& [k, c] : TopCounts(m, n)) j.push_back({{"name", k}, {"count", c}});
    return j;
  };
  s["risk"] = risks;
  s["events_by_type"] = types;
  s["denials"] = denials;
  s["top_denied_rules"] = top(denied_rules, 10);
  s["top_denied_files"] = top(denied_files, 10);
  s["top_syscalls"] = top(syscalls, 10);
  s["per_run"] = per_run;
  return s;
}

std::string RenderStatsText(const nlohmann::json& s) {
  std::string out = fmt::format("Runs: {}\nRisk:", s["runs"].get<std::uint64_t>());
  for (const auto& [k, v] : s["risk"].items()) {
    out += fmt::format(" {} {}", k, v.get<std::uint64_t>());
  }
  out += fmt::format("\nDenials: {}\nEvents by type:\n", s["denials"].get<std::uint64_t>());
  for (const auto& [k, v] : s["events_by_type"].items()) {
    out += fmt::format("  {:<24} {}\n", k, v.get<std::uint64_t>());
  }
  for (const char* key : {"top_denied_rules", "top_denied_files", "top_syscalls"}) {
    out += std::string("\n") + key + ":\n";
    for (const auto& e : s[key]) {
      out += fmt::format("  {:>6}  {}\n", e["count"].get<std::uint64_t>(),
                         e["name"].get<std::string>());
    }
  }
  return out;
}

nlohmann::json RenderJson(const Analysis& a) {
  nlohmann::json j;
  j["risk"] = Name(a.risk);
  j["reasons"] = a.reasons;
  if (!a.capabilities.empty()) j["capabilities"] = a.capabilities;
  j["events"] = a.occurrences;
  j["records"] = a.records;
  j["by_type"] = a.by_type;
  nlohmann::json denials = nlohmann::json::array();
  for (const auto& d : a.denials) {
    denials.push_back({{"seq", d.seq},
                       {"type", d.type},
                       {"severity", d.severity},
                       {"syscall", d.syscall},
                       {"what", d.what},
                       {"rule", d.rule},
                       {"looks_like_escape", d.looks_like_escape},
                       {"repeats", d.repeats},
                       {"technique", d.technique},
                       {"tip", d.tip}});
  }
  j["denials"] = denials;
  for (const auto& [path, use] : a.files) {
    j["files"][path] = {{"accesses", use.kinds}, {"denied", use.denied}};
  }
  for (const auto& [where, use] : a.endpoints) {
    j["endpoints"][where] = {{"calls", use.kinds}, {"denied", use.denied}};
  }
  j["syscalls"] = a.syscalls;
  nlohmann::json procs = nlohmann::json::array();
  for (const auto& [pid, p] : a.processes) {
    nlohmann::json n = {{"pid", pid}, {"parent", p.parent}, {"execs", p.execs}};
    if (p.exit_code) n["exit_code"] = *p.exit_code;
    if (!p.signal.empty()) n["signal"] = p.signal;
    procs.push_back(n);
  }
  j["processes"] = procs;
  return j;
}

std::vector<nlohmann::json> ReadEvents(std::istream& in, std::size_t& bad) {
  EventsRead read = ReadEventsFile(in);
  bad += read.problems.size();
  return std::move(read.records);
}

}  // namespace report
